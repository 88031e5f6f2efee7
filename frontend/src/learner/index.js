// The learner's side of the app: the dashboard, the scene flow of each week (story scenes,
// lecture, coding, feedback, reflection), the growth page, and the question-answer poll.
import { t } from "../lib/i18n.js";
import { route } from "../lib/router.js";
import { onSessionChange } from "../lib/session.js";
import "./strings.js";
import { dashboardView } from "./dashboard.js";
import { cycleView, finaleView, introView, reflectionView, weekEntryView } from "./flow.js";
import { growthView } from "./growth.js";
import { startQuestionPoll, stopQuestionPoll } from "./questions.js";

export function learnerNav() {
  return [
    { path: "/learn", label: t("nav.dashboard") },
    { path: "/growth", label: t("nav.growth") },
  ];
}

export function registerLearnerRoutes() {
  const student = { role: "student" };
  route("/learn", dashboardView, student);
  route("/learn/finale", finaleView, student);
  route("/learn/week/:week", weekEntryView, student);
  route("/learn/week/:week/intro", introView, student);
  route("/learn/week/:week/reflection", reflectionView, student);
  route("/learn/week/:week/cycle/:cycle/:scene", cycleView, student);
  route("/growth", growthView, student);

  // While a learner is logged in, anywhere in the app, new answers are announced.
  onSessionChange((current) => {
    if (current?.user?.role === "student") startQuestionPoll();
    else stopQuestionPoll();
  });
}
