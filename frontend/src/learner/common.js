// Pieces every learner page uses: the error card, the scene frame (where am I, the
// cycle's steps, the track, Ask a question, Back/Next).
import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { rerender } from "../lib/router.js";
import { askButton } from "./ask.js";
import { scenePath, setTrack, track, TRACKS } from "./data.js";

export function errorView(error) {
  return h(
    "div",
    { class: "card error-card", role: "alert" },
    h("p", { text: t("common.loadFailed", { message: error?.message ?? String(error) }) }),
    h("button", { type: "button", text: t("common.retry"), onclick: () => rerender() }),
  );
}

export function sceneLabel(scene) {
  const key = `scene.${scene}`;
  const label = t(key);
  return label === key ? scene : label;
}

const STEPS = ["task", "briefing", "lecture", "coding", "feedback"];

function steps(week, cycle, scene, hasFeedback) {
  const here = scene === "coding-intro" ? "coding" : scene;
  return h(
    "nav",
    { class: "steps-nav", "aria-label": t("scene.steps") },
    h(
      "ol",
      { class: "steps" },
      STEPS.map((step) => {
        const current = step === here;
        const available = step !== "feedback" || hasFeedback || current;
        const label = sceneLabel(step);
        return h(
          "li",
          { class: ["step", current && "is-current"] },
          available
            ? h("a", { href: `#${scenePath(week.number, cycle.position, step)}`, "aria-current": current ? "step" : null, text: label })
            : h("span", { class: "step-off", text: label }),
        );
      }),
    ),
  );
}

function trackSelect(onChange) {
  const select = h(
    "select",
    { id: "track-select", class: "compact" },
    TRACKS.map((value) => h("option", { value, selected: track() === value, text: t(`track.${value}`) })),
  );
  select.addEventListener("change", () => {
    setTrack(select.value);
    onChange?.(select.value);
    rerender();
  });
  return h("div", { class: "track-select" }, h("label", { for: "track-select", text: t("dash.track") }), select);
}

/**
 * Frame a scene. Options: week (document), cycle (or null), scene, content (node),
 * back/next ({label?, go()} or null), ask () => context, hasFeedback, withTrack,
 * onTrack(value).
 */
export function sceneFrame({ week, cycle, scene, content, back, next, ask, hasFeedback = false, withTrack = false, onTrack, extraActions }) {
  const where = () =>
    [t("dash.week", { week: week.number }), cycle ? t("scene.cycleOf", { position: cycle.position, count: week.cycles.length }) : null, sceneLabel(scene)]
      .filter(Boolean)
      .join(" · ");
  const crumbs = h(
    "nav",
    { class: "crumbs", "aria-label": t("scene.position") },
    h(
      "ol",
      {},
      h("li", {}, h("a", { href: "#/learn", text: t("nav.dashboard") })),
      h("li", {}, h("a", { href: `#/learn/week/${week.number}`, text: t("dash.weekTitle", { week: week.number, title: week.title }) })),
      cycle ? h("li", {}, h("span", { text: `${t("scene.cycleOf", { position: cycle.position, count: week.cycles.length })}: ${cycle.title}` })) : null,
    ),
  );
  const backButton = back
    ? h("button", { type: "button", class: "scene-back", text: `← ${back.label ?? t("common.back")}`, onclick: back.go })
    : null;
  const nextButton = next
    ? h("button", { type: "button", class: "primary scene-next", text: `${next.label ?? t("common.next")} →`, onclick: next.go })
    : null;
  return h(
    "div",
    { class: ["scene-page", `scene-${scene}`], dataset: { scene } },
    h(
      "div",
      { class: "scene-top" },
      crumbs,
      h("div", { class: "scene-tools" }, withTrack ? trackSelect(onTrack) : null, ask ? askButton(ask, where) : null),
    ),
    cycle ? steps(week, cycle, scene, hasFeedback) : null,
    content,
    h("div", { class: "scene-actions" }, backButton, h("span", { class: "spacer" }), extraActions ?? null, nextButton),
  );
}
