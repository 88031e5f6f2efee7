// Learner views (placeholder until the learner area lands).
import { h, mount } from "../lib/dom.js";
import { route } from "../lib/router.js";

export function learnerNav() {
  return [{ path: "/learn", label: "Dashboard" }];
}

export function registerLearnerRoutes() {
  route("/learn", async ({ view, session }) => {
    mount(view, h("h1", { text: session.user.name }));
  }, { role: "student" });
}
