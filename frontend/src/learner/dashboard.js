// The learner's home (#/learn): where I am, Continue, the twelve weeks as a track, the
// track choice, my class (join by invite code) and my questions with their answers.
import { api } from "../lib/api.js";
import { h, mount } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { notify } from "../lib/notices.js";
import { navigate } from "../lib/router.js";
import { refresh, session } from "../lib/session.js";
import { liveness, loadProgress, outline, scenePath, setTrack, track, TRACKS, weekDoc, weekDone, weekReached } from "./data.js";
import { pollNow, questionList } from "./questions.js";
import { errorView } from "./common.js";

/** Where Continue goes: the pause state if any, else the current cycle. */
export async function continuePath(progress) {
  const pause = progress.pause_state;
  if (pause) {
    if (pause.scene === "intro" || pause.scene === "reflection") return scenePath(pause.week, 1, pause.scene);
    try {
      const week = await weekDoc(pause.week);
      const cycle = week.cycles.find((c) => c.id === pause.cycle);
      if (cycle) {
        if (TRACKS.includes(pause.track)) setTrack(pause.track);
        const scene = pause.scene === "feedback" ? "coding" : pause.scene;
        return scenePath(pause.week, cycle.position, scene);
      }
    } catch {
      // Fall back to the current cycle.
    }
  }
  if (progress.finished) return "/learn/finale";
  return `/learn/week/${progress.current.week}`;
}

function sceneLabel(scene) {
  const key = `scene.${scene}`;
  const label = t(key);
  return label === key ? scene : label;
}

function weekTrack(pack, progress) {
  const current = progress.current.week;
  return h(
    "ol",
    { class: "week-track" },
    pack.weeks.map((week) => {
      const done = weekDone(progress, week);
      const open = weekReached(progress, week.number);
      const state = done ? "done" : week.number === current && !progress.finished ? "current" : open ? "open" : "locked";
      const status = done ? t("dash.weekDone") : state === "current" ? t("dash.weekCurrent") : state === "locked" ? t("dash.weekLocked") : "";
      const dots = h(
        "span",
        { class: "cycle-dots", "aria-hidden": "true" },
        week.cycles.map((c) => h("span", { class: ["cycle-dot", progress.completed.includes(c.id) && "done"] })),
      );
      const doneCount = week.cycles.filter((c) => progress.completed.includes(c.id)).length;
      const label = [
        h("span", { class: "week-number", text: String(week.number) }),
        h("span", { class: "week-title" }, h("span", { class: "sr-only", text: `${t("dash.week", { week: week.number })}: ` }), week.title),
        dots,
        h("span", { class: "week-status", text: `${status}${status ? " · " : ""}${doneCount}/${week.cycles.length}` }),
      ];
      return h(
        "li",
        { class: ["week-step", `is-${state}`], "aria-current": state === "current" ? "step" : null },
        open ? h("a", { href: `#/learn/week/${week.number}`, class: "week-link" }, label) : h("span", { class: "week-link" }, label),
      );
    }),
  );
}

function trackChooser(onChange) {
  const fieldset = h(
    "fieldset",
    { class: "track-choice" },
    h("legend", { text: t("dash.track") }),
    h("p", { class: "hint", id: "track-help", text: t("dash.trackHelp") }),
    h(
      "div",
      { class: "row" },
      TRACKS.map((value) => {
        const id = `track-${value}`;
        const input = h("input", { type: "radio", name: "track", id, value, checked: track() === value, "aria-describedby": "track-help" });
        input.addEventListener("change", () => {
          if (input.checked) onChange(value);
        });
        return h("label", { class: "choice", for: id }, input, h("span", { text: t(`track.${value}`) }));
      }),
    ),
  );
  return fieldset;
}

function classCard(current) {
  const error = h("p", { class: "form-error", role: "alert" });
  const input = h("input", { id: "invite-code", name: "invite_code", required: true, maxlength: 32, autocomplete: "off", spellcheck: "false", class: "invite-input" });
  const button = h("button", { type: "submit", class: "primary", text: t("dash.join") });
  const form = h(
    "form",
    { class: "join-form" },
    h("div", { class: "field" }, h("label", { for: "invite-code", text: current.class ? t("dash.switchClass") : t("dash.inviteCode") }), input),
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      const answer = await api("/api/classes/join", { method: "POST", body: { invite_code: input.value.trim() } });
      await refresh();
      notify(t("dash.joined", { name: answer.class.name }), { kind: "success" });
      navigate("/learn");
    } catch (problem) {
      error.textContent = problem.message;
      button.disabled = false;
      input.focus();
    }
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "class-heading" },
    h("h2", { id: "class-heading", text: t("dash.class") }),
    h("p", { class: current.class ? "in-class" : "muted", text: current.class ? t("dash.inClass", { name: current.class.name }) : t("dash.noClass") }),
    current.class ? h("details", { class: "switch-class" }, h("summary", { text: t("dash.switchClass") }), form) : form,
  );
}

export async function dashboardView({ view }) {
  const live = liveness();
  let pack;
  let progress;
  let week;
  let reflections;
  try {
    [pack, progress] = await Promise.all([outline(), loadProgress()]);
    [week, reflections] = await Promise.all([
      weekDoc(progress.current.week),
      api("/api/reflections/mine").then((a) => a.reflections).catch(() => []),
    ]);
  } catch (error) {
    if (live()) mount(view, errorView(error));
    return undefined;
  }
  if (!live()) return undefined;
  const current = session();
  const cycleCount = week.cycles.length;
  const currentCycle = week.cycles.find((c) => c.id === progress.current.cycle_id) ?? week.cycles[0];
  const total = pack.weeks.reduce((n, w) => n + w.cycles.length, 0);
  const started = progress.completed.length > 0 || progress.intros_seen.length > 0 || progress.pause_state;
  const pause = progress.pause_state;
  let pauseText = null;
  if (pause) pauseText = t("dash.pausedAt", { week: pause.week, where: sceneLabel(pause.scene) });

  const continueButton = h("button", {
    type: "button",
    class: "primary big",
    id: "continue",
    text: progress.finished ? t("dash.finale") : started ? t("dash.continue") : t("dash.start"),
  });
  continueButton.addEventListener("click", async () => {
    continueButton.disabled = true;
    navigate(await continuePath(progress));
  });

  const meter = h("progress", { id: "course-meter", max: total, value: progress.completed.length, "aria-describedby": "course-meter-text" });
  const questions = questionList();
  const onQuestions = (event) => questions.update(event.detail);
  document.addEventListener("eduverse:questions", onQuestions);

  const reflectionLinks = reflections.length
    ? h(
        "ul",
        { class: "plain-list" },
        reflections.map((r) => h("li", {}, h("a", { href: `#/learn/week/${r.week}/reflection`, text: t("dash.reflection", { week: r.week }) }))),
      )
    : null;

  mount(
    view,
    h(
      "div",
      { class: "dashboard" },
      h(
        "section",
        { class: "card hero", "aria-labelledby": "dash-heading" },
        h("div", { class: "hero-art", "aria-hidden": "true" }, h("span", { class: "hero-week", text: String(progress.current.week) })),
        h(
          "div",
          { class: "hero-text" },
          h("h1", { id: "dash-heading", text: t("dash.title", { name: current.user.name }) }),
          h("p", { class: "muted", text: pack.title }),
          progress.finished
            ? h("p", { class: "current-week", text: t("dash.finished") })
            : [
                h("p", { class: "current-week", text: t("dash.weekTitle", { week: week.number, title: week.title }) }),
                h("p", { class: "current-cycle", text: t("dash.cycle", { position: currentCycle.position, count: cycleCount, title: currentCycle.title }) }),
              ],
          pauseText ? h("p", { class: "muted paused-at", text: pauseText }) : null,
          h("div", { class: "row" }, continueButton, h("a", { href: "#/growth", class: "button ghost", text: t("dash.growthLink") })),
        ),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "progress-heading" },
        h("h2", { id: "progress-heading", text: t("dash.progress") }),
        h("div", { class: "meter-row" }, h("label", { for: "course-meter", class: "sr-only", text: t("dash.progress") }), meter, h("span", { id: "course-meter-text", text: t("dash.completed", { done: progress.completed.length, total }) })),
        h("h3", { text: t("dash.weeks") }),
        weekTrack(pack, progress),
        reflectionLinks,
      ),
      h(
        "div",
        { class: "dash-columns" },
        h(
          "section",
          { class: "card", "aria-labelledby": "track-heading" },
          h("h2", { id: "track-heading", class: "sr-only", text: t("dash.track") }),
          trackChooser((value) => {
            setTrack(value);
            notify(`${t("dash.track")}: ${t(`track.${value}`)}`, { kind: "success", timeout: 2500 });
          }),
        ),
        classCard(current),
      ),
      h("section", { class: "card", "aria-labelledby": "questions-heading" }, h("h2", { id: "questions-heading", text: t("dash.questions") }), questions.el),
    ),
  );
  // The list comes from the same poll as the notices, so answers are announced once.
  api("/api/questions/mine")
    .then((a) => live() && questions.update(a.questions))
    .catch(() => {});
  pollNow();
  return () => document.removeEventListener("eduverse:questions", onQuestions);
}
