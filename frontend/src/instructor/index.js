// The instructor's side: classes, the live monitor, the questions inbox and the report.
// Each view returns a cleanup that stops its polls and charts when the route changes.
import "./strings.js";
import { t } from "../lib/i18n.js";
import { route } from "../lib/router.js";
import { classesView } from "./classes.js";
import { monitorView } from "./monitor.js";
import { questionsView } from "./questions.js";
import { reportView } from "./report.js";

export function instructorNav() {
  return [{ path: "/instructor", label: t("ins.nav.classes") }];
}

/** The view, plus giving the window title back when the route is left. */
function titled(view) {
  return async (ctx) => {
    const cleanup = await view(ctx);
    return () => {
      if (typeof cleanup === "function") cleanup();
      document.title = t("app.name");
    };
  };
}

export function registerInstructorRoutes() {
  const only = { role: "instructor" };
  route("/instructor", titled(classesView), only);
  route("/instructor/class/:id", titled(monitorView), only);
  route("/instructor/class/:id/questions", titled(questionsView), only);
  route("/instructor/class/:id/report", titled(reportView), only);
}
