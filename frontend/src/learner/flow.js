// The scene flow of a week: intro (once per week) → for each cycle: task → briefing →
// lecture → coding intro (first time only) → coding → feedback → … → weekly reflection.
// Every scene change is saved as the pause state, so Continue resumes there.
import { api } from "../lib/api.js";
import { h, mount } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { notify } from "../lib/notices.js";
import { navigate } from "../lib/router.js";
import { codingContent } from "./coding.js";
import { errorView, sceneFrame } from "./common.js";
import {
  castMember,
  liveness,
  loadProgress,
  outline,
  reached,
  savedFeedback,
  savePause,
  scenePath,
  track,
  weekDoc,
  weekReached,
} from "./data.js";
import { lectureContent } from "./lecture.js";
import { reflectionForm } from "./reflection.js";
import { storyScene } from "./stage.js";

export const CYCLE_SCENES = ["task", "briefing", "lecture", "coding-intro", "coding", "feedback"];

function currentPath(progress) {
  return `/learn/week/${progress.current.week}`;
}

function markIntroSeen(week) {
  return api("/api/progress/intro-seen", { method: "POST", body: { week } }).catch(() => {});
}

/** Load what a week's page needs; null when it redirected (locked or unknown week). */
async function loadWeek(params, live) {
  const number = Number.parseInt(params.week, 10);
  const [pack, progress] = await Promise.all([outline(), loadProgress()]);
  if (!live()) return null;
  if (!Number.isInteger(number) || number < 1 || number > pack.weeks.length || !weekReached(progress, number)) {
    notify(t("common.locked"), { timeout: 5000 });
    navigate(currentPath(progress), { replace: true });
    return null;
  }
  const week = await weekDoc(number);
  if (!live()) return null;
  return { pack, progress, week };
}

/** {pack, progress, week} for a view, or null: after showing the error, after sending the
 * learner away from a week not reached, or when the learner has already left the view. */
async function weekOrError(params, view) {
  const live = liveness();
  try {
    return await loadWeek(params, live);
  } catch (error) {
    if (live()) mount(view, errorView(error));
    return null;
  }
}

function lastCycle(week) {
  return week.cycles[week.cycles.length - 1];
}

/** Where a cycle's success leads: the next cycle of the week, else the week's reflection. */
function afterCycle(week, cycle) {
  const following = week.cycles.find((c) => c.position === cycle.position + 1);
  return following ? scenePath(week.number, following.position, "task") : scenePath(week.number, 1, "reflection");
}

function excerptOf(text) {
  return String(text ?? "").slice(0, 400);
}

function focusHeading(view) {
  const heading = view.querySelector(".vn-title, h1");
  heading?.focus({ preventScroll: false });
}

// -- #/learn/week/:week ---------------------------------------------------------------------------
export async function weekEntryView({ params, view }) {
  const data = await weekOrError(params, view);
  if (!data) return;
  const { progress, week } = data;
  if (!progress.intros_seen.includes(week.number)) {
    navigate(scenePath(week.number, 1, "intro"), { replace: true });
    return;
  }
  const here = progress.current;
  const position = week.number === here.week && !progress.finished ? here.position : 1;
  navigate(scenePath(week.number, position, "task"), { replace: true });
}

// -- #/learn/week/:week/intro ---------------------------------------------------------------------
export async function introView({ params, view }) {
  const data = await weekOrError(params, view);
  if (!data) return undefined;
  const { week } = data;
  const intro = week.intro;
  const stage = storyScene({ kind: "intro", character: intro.character, title: intro.title, subtitle: intro.subtitle, html: intro.content });
  mount(
    view,
    sceneFrame({
      week,
      cycle: null,
      scene: "intro",
      content: stage.el,
      back: { go: () => navigate("/learn") },
      next: {
        go: async () => {
          await markIntroSeen(week.number);
          navigate(scenePath(week.number, 1, "task"));
        },
      },
      ask: () => ({ week: week.number, cycle: null, scene: "intro", character: intro.character.id ?? "", excerpt: excerptOf(stage.text) }),
    }),
  );
  focusHeading(view);
  savePause(week.number, week.cycles[0].id, "intro");
  return () => stage.stop();
}

// -- #/learn/week/:week/cycle/:cycle/:scene -------------------------------------------------------
export async function cycleView({ params, view }) {
  const data = await weekOrError(params, view);
  if (!data) return undefined;
  const { pack, progress, week } = data;
  const position = Number.parseInt(params.cycle, 10);
  const cycle = week.cycles.find((c) => c.position === position);
  const scene = params.scene;
  if (!cycle || !CYCLE_SCENES.includes(scene)) {
    navigate(`/learn/week/${week.number}`, { replace: true });
    return undefined;
  }
  if (!reached(progress, week.number, position, cycle.id)) {
    notify(t("common.locked"), { timeout: 5000 });
    navigate(scenePath(progress.current.week, progress.current.position, "task"), { replace: true });
    return undefined;
  }
  const trackName = track();
  const trackData = cycle.tracks[trackName] ?? cycle.tracks.beginner ?? Object.values(cycle.tracks)[0];
  const feedback = savedFeedback(week.number, cycle.id);
  const go = (s) => () => navigate(scenePath(week.number, position, s));
  const codingNext = progress.coding_intro_seen || !pack.coding_intro ? "coding" : "coding-intro";
  const backFromTask =
    position === 1
      ? { label: t("scene.intro"), go: () => navigate(scenePath(week.number, 1, "intro")) }
      : { go: () => navigate(scenePath(week.number, position - 1, "coding")) };
  const frame = (options) =>
    sceneFrame({ week, cycle, scene, hasFeedback: Boolean(feedback), withTrack: ["task", "briefing", "coding"].includes(scene), ...options });
  let stop = () => {};
  let pauseScene = scene;
  let pauseCycle = cycle.id;
  let pauseWeek = week.number;

  if (scene === "task" || scene === "briefing" || scene === "coding-intro") {
    const story = scene === "coding-intro" ? pack.coding_intro : trackData[scene];
    if (!story) {
      navigate(scenePath(week.number, position, "coding"), { replace: true });
      return undefined;
    }
    const stage = storyScene({ kind: "office", character: story.character, title: story.title, subtitle: story.subtitle, html: story.content });
    stop = () => stage.stop();
    const nav = {
      task: { back: backFromTask, next: { go: go("briefing") } },
      briefing: { back: { go: go("task") }, next: { go: go("lecture") } },
      "coding-intro": {
        back: { go: go("lecture") },
        next: {
          go: async () => {
            await api("/api/progress/coding-intro-seen", { method: "POST", body: {} }).catch(() => {});
            navigate(scenePath(week.number, position, "coding"));
          },
        },
      },
    }[scene];
    mount(
      view,
      frame({
        content: stage.el,
        ...nav,
        ask: () => ({ week: week.number, cycle: cycle.id, scene, character: story.character.id ?? "", excerpt: excerptOf(stage.text) }),
      }),
    );
  } else if (scene === "lecture") {
    const lecture = lectureContent(cycle.lecture);
    stop = () => lecture.stop();
    mount(
      view,
      frame({
        content: lecture.el,
        back: { go: go("briefing") },
        next: { label: t("lecture.toCode"), go: go(codingNext) },
        ask: () => ({ week: week.number, cycle: cycle.id, scene, character: cycle.lecture.character.id ?? "", excerpt: excerptOf(lecture.stage.text) }),
      }),
    );
    lecture.attached();
  } else if (scene === "coding") {
    const coding = codingContent({
      pack,
      progress,
      week,
      cycle,
      trackData,
      onSubmitted: () => navigate(scenePath(week.number, position, "feedback")),
    });
    stop = () => coding.stop();
    const done = progress.completed.includes(cycle.id);
    mount(
      view,
      frame({
        content: coding.el,
        back: { go: go("lecture") },
        next: done ? { label: position < week.cycles.length ? t("fb.nextCycle") : t("fb.toReflection"), go: () => navigate(afterCycle(week, cycle)) } : null,
        ask: () => ({ week: week.number, cycle: cycle.id, scene, character: trackData.task.character.id ?? "", excerpt: excerptOf(coding.editor.getCode()) }),
      }),
    );
    requestAnimationFrame(() => coding.editor.view.requestMeasure());
  } else if (scene === "feedback") {
    if (!feedback) {
      mount(
        view,
        frame({
          content: h("div", { class: "card" }, h("h1", { tabindex: "-1", text: t("scene.feedback") }), h("p", { text: t("fb.missing") })),
          back: { go: go("coding") },
          next: null,
        }),
      );
      focusHeading(view);
      return undefined;
    }
    const passed = feedback.outcome === "passed";
    const speaker = castMember(pack, feedback.feedback.character) ?? { name: feedback.feedback.character_name, role: "", portrait: null };
    const badge = {
      kind: passed ? "ok" : feedback.outcome === "failed" ? "warn" : "bad",
      text: passed ? t("fb.passed") : feedback.outcome === "failed" ? t("fb.failed") : t("fb.error"),
    };
    const extra = [
      feedback.counted === false ? h("p", { class: "notice-inline warn", text: t("fb.notCounted") }) : null,
      !passed && feedback.newHint ? h("p", { class: "notice-inline", text: t("fb.newHint") }) : null,
      feedback.stdout
        ? h("details", { class: "fb-output" }, h("summary", { text: t("fb.output") }), h("pre", { class: "terminal", text: feedback.stdout }))
        : null,
    ];
    const stage = storyScene({
      kind: passed ? "success" : "failure",
      character: { ...speaker, name: feedback.feedback.character_name || speaker.name },
      title: feedback.feedback.title,
      subtitle: feedback.feedback.subtitle,
      html: feedback.feedback.content,
      badge,
      extra,
    });
    stop = () => stage.stop();
    let nextStep;
    if (passed) {
      const target = feedback.next;
      const nextCycle = target && target.week === week.number ? week.cycles.find((c) => c.id === target.cycle_id) : null;
      const path = nextCycle && nextCycle.position !== position ? scenePath(week.number, nextCycle.position, "task") : afterCycle(week, cycle);
      const toReflection = path.endsWith("/reflection");
      nextStep = { label: toReflection ? t("fb.toReflection") : t("fb.nextCycle"), go: () => navigate(path) };
      if (toReflection) {
        pauseScene = "reflection";
        pauseCycle = lastCycle(week).id;
      } else if (nextCycle) {
        pauseScene = "task";
        pauseCycle = nextCycle.id;
      }
    } else {
      nextStep = { label: t("fb.retry"), go: go("coding") };
      pauseScene = "coding";
    }
    mount(
      view,
      frame({
        content: stage.el,
        back: { go: go("coding") },
        next: nextStep,
        ask: () => ({ week: week.number, cycle: cycle.id, scene, character: feedback.feedback.character, excerpt: excerptOf(stage.text) }),
      }),
    );
    view.querySelector(".scene-page")?.setAttribute("data-outcome", feedback.outcome);
  }
  focusHeading(view);
  if (scene === "coding-intro") pauseScene = "coding";
  savePause(pauseWeek, pauseCycle, pauseScene);
  return stop;
}

// -- #/learn/week/:week/reflection ----------------------------------------------------------------
export async function reflectionView({ params, view }) {
  const live = liveness();
  let data;
  let existing = null;
  try {
    data = await loadWeek(params, live);
    if (!data) return undefined;
    const mine = await api("/api/reflections/mine");
    existing = mine.reflections.find((r) => r.week === data.week.number) ?? null;
  } catch (error) {
    if (live()) mount(view, errorView(error));
    return undefined;
  }
  if (!live()) return undefined;
  const { pack, progress, week } = data;
  const allPassed = week.cycles.every((c) => progress.completed.includes(c.id));
  const last = lastCycle(week);
  const nextWeek = pack.weeks.find((w) => w.number === week.number + 1);
  const after = h("div", { class: "row after-reflection", hidden: !existing });
  function showAfter() {
    after.hidden = false;
    mount(
      after,
      nextWeek && weekReached(progress, nextWeek.number)
        ? h("a", { class: "button primary", href: `#/learn/week/${nextWeek.number}`, text: t("refl.nextWeek", { week: nextWeek.number }) })
        : progress.finished
          ? h("a", { class: "button primary", href: "#/learn/finale", text: t("dash.finale") })
          : null,
      h("a", { class: "button ghost", href: "#/growth", text: t("dash.growthLink") }),
    );
  }
  if (existing) showAfter();
  const content = allPassed
    ? h("div", {}, reflectionForm({ week, existing, onSaved: () => showAfter() }), after)
    : h("p", { class: "card", text: t("refl.notYet") });
  mount(
    view,
    h(
      "div",
      { class: "reflection-page" },
      h("div", { class: "vn vn-reflection vn-banner" }, h("div", { class: "vn-banner-text" }, h("h1", { tabindex: "-1", text: t("refl.title", { week: week.number, title: week.title }) }))),
      sceneFrame({
        week,
        cycle: null,
        scene: "reflection",
        content,
        back: { go: () => navigate(scenePath(week.number, last.position, "coding")) },
        next: null,
        ask: () => ({ week: week.number, cycle: null, scene: "reflection", character: "", excerpt: "" }),
      }),
    ),
  );
  view.querySelector(".reflection-page h1")?.focus();
  if (allPassed) savePause(week.number, last.id, "reflection");
  return undefined;
}

// -- #/learn/finale -------------------------------------------------------------------------------
export async function finaleView({ view }) {
  const live = liveness();
  let pack;
  let progress;
  try {
    [pack, progress] = await Promise.all([outline(), loadProgress()]);
  } catch (error) {
    if (live()) mount(view, errorView(error));
    return undefined;
  }
  if (!live()) return undefined;
  if (!progress.finished || !pack.finale) {
    navigate(currentPath(progress), { replace: true });
    return undefined;
  }
  const finale = pack.finale;
  const stage = storyScene({ kind: "finale", character: finale.character, title: finale.title, subtitle: finale.subtitle, html: finale.content });
  mount(view, h("div", { class: "scene-page scene-finale" }, stage.el, h("div", { class: "scene-actions" }, h("a", { class: "button primary", href: "#/learn", text: t("finale.back") }))));
  focusHeading(view);
  return () => stage.stop();
}
