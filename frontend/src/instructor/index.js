// Instructor views (placeholder until the instructor area lands).
import { h, mount } from "../lib/dom.js";
import { route } from "../lib/router.js";

export function instructorNav() {
  return [{ path: "/instructor", label: "Classes" }];
}

export function registerInstructorRoutes() {
  route("/instructor", async ({ view, session }) => {
    mount(view, h("h1", { text: session.user.name }));
  }, { role: "instructor" });
}
