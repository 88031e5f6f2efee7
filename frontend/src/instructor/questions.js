// The questions inbox of one class: every question with the scene it was asked from (week,
// cycle, scene, character, excerpt), who asked (names from the member list) and an answer
// box. Unanswered first by default (or only unanswered, or newest first). New questions
// arrive from the monitor feed (polled with its ETag) and are added on top without
// disturbing an answer being typed.
import { api } from "../lib/api.js";
import { formatTime, h, mount } from "../lib/dom.js";
import { locale, t } from "../lib/i18n.js";
import { notify } from "../lib/notices.js";
import { watchFeed } from "./feed.js";
import {
  characterName,
  classApi,
  classHeader,
  cycleLabel,
  nextId,
  packOutline,
  routeGuard,
  setTitle,
  showLoadError,
  tn,
} from "./shared.js";

const POLL = 5000;
const SCENES = ["intro", "lecture", "task", "briefing", "coding", "feedback", "reflection", "finale", "sandbox"];

function sceneName(scene) {
  if (!scene) return "—";
  return SCENES.includes(scene) ? t(`ins.scene.${scene}`) : scene;
}

function byNewest(a, b) {
  return Date.parse(b.created_at) - Date.parse(a.created_at);
}

export async function questionsView(ctx) {
  const { params, view } = ctx;
  const current = routeGuard();
  const classId = params.id;
  let detail;
  let questions;
  let outline;
  try {
    [detail, questions] = await Promise.all([
      api(classApi(classId)),
      api(classApi(classId, "/questions")).then((d) => d.questions),
    ]);
    outline = await packOutline(detail.class.pack_id);
  } catch (error) {
    if (current()) showLoadError(view, error);
    return undefined;
  }
  const classroom = detail.class;
  if (!current()) return undefined;
  setTitle(t("ins.questions.title"), classroom.name);
  let alive = true;
  const names = new Map(detail.members.map((m) => [m.id, m.name]));
  /** id → {question, card, setQuestion(q)} */
  const cards = new Map();
  let lastNewest = questions[0]?.created_at ?? null;
  let reloading = false;

  const { header, setUnanswered } = classHeader(classroom, "questions", t("ins.questions.title"));
  const filter = h(
    "select",
    { id: "ins-q-filter" },
    h("option", { value: "open-first", text: t("ins.questions.filter.openFirst") }),
    h("option", { value: "open", text: t("ins.questions.filter.open") }),
    h("option", { value: "all", text: t("ins.questions.filter.all") }),
  );
  const summary = h("p", { class: "ins-summary", role: "status" });
  const list = h("ol", { class: "ins-question-list", "aria-labelledby": "ins-q-list-title" });
  const empty = h("p", { class: "card ins-empty", hidden: true });

  mount(
    view,
    h(
      "div",
      { class: "ins-page ins-questions" },
      header,
      h(
        "div",
        { class: "ins-q-toolbar" },
        h("div", { class: "field ins-inline-field" }, h("label", { for: filter.id, text: t("ins.questions.show") }), filter),
        summary,
      ),
      h("h2", { id: "ins-q-list-title", class: "ins-sr-only", text: t("ins.questions.list") }),
      list,
      empty,
    ),
  );

  function studentName(id) {
    return names.get(id) ?? t("ins.questions.formerMember");
  }

  function makeCard(question) {
    const headingId = nextId("q");
    const textareaId = nextId("answer");
    const status = h("span", { class: "badge ins-q-status" });
    const answerText = h("p", { class: "ins-q-answer-text" });
    const answerTime = h("p", { class: "muted ins-q-answer-time" });
    const answerBlock = h(
      "div",
      { class: "ins-q-answer", hidden: true },
      h("h3", { text: t("ins.questions.yourAnswer") }),
      answerText,
      answerTime,
    );
    const textarea = h("textarea", { id: textareaId, name: "answer", maxlength: 8000, rows: 4 });
    const label = h("label", { for: textareaId });
    const error = h("p", { class: "form-error", role: "alert" });
    const send = h("button", { type: "submit", class: "primary" });
    const form = h("form", { class: "ins-q-form" }, h("div", { class: "field" }, label, textarea), error, send);
    const where = h("dl", { class: "ins-q-context" });
    const card = h(
      "article",
      { class: "card ins-question", "aria-labelledby": headingId, dataset: { question: question.id } },
      h(
        "header",
        { class: "ins-q-head" },
        h("h3", { id: headingId, class: "ins-q-from", text: studentName(question.student_id) }),
        status,
        h("time", { class: "muted", datetime: question.created_at, text: formatTime(question.created_at, locale()) }),
      ),
      h("section", { class: "ins-q-where", "aria-label": t("ins.questions.context") }, h("h4", { text: t("ins.questions.context") }), where),
      h("div", { class: "ins-q-body" }, h("h4", { text: t("ins.questions.question") }), h("p", { class: "ins-q-text", text: question.text })),
      answerBlock,
      form,
    );
    const c = question.context ?? {};
    const ctxRows = [
      [t("ins.questions.week"), String(c.week ?? "—")],
      [t("ins.questions.cycle"), c.cycle ? cycleLabel(outline, c.cycle) : "—"],
      [t("ins.questions.scene"), sceneName(c.scene)],
      [t("ins.questions.character"), c.character ? characterName(outline, c.character) : "—"],
    ];
    mount(
      where,
      ctxRows.map(([term, value]) => h("div", {}, h("dt", { text: term }), h("dd", { text: value }))),
      c.excerpt ? h("div", { class: "ins-q-excerpt-row" }, h("dt", { text: t("ins.questions.excerpt") }), h("dd", {}, h("blockquote", { class: "ins-q-excerpt", text: c.excerpt }))) : null,
    );

    const entry = { question, card: h("li", {}, card) };
    entry.setQuestion = (q) => {
      entry.question = q;
      card.dataset.state = q.resolved ? "answered" : "open";
      status.textContent = q.resolved ? t("ins.questions.answered") : t("ins.questions.open");
      status.classList.toggle("ins-open", !q.resolved);
      answerBlock.hidden = !q.answer;
      answerText.textContent = q.answer ?? "";
      answerTime.textContent = q.answered_at ? t("ins.questions.answeredAt", { time: formatTime(q.answered_at, locale()) }) : "";
      label.textContent = q.answer ? t("ins.questions.updateLabel") : t("ins.questions.answerLabel");
      send.textContent = q.answer ? t("ins.questions.update") : t("ins.questions.send");
    };
    entry.setQuestion(question);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      send.disabled = true;
      try {
        const answer = await api(`/api/questions/${encodeURIComponent(entry.question.id)}/answer`, {
          method: "POST",
          body: { answer: textarea.value },
        });
        if (!alive) return;
        entry.setQuestion(answer.question);
        textarea.value = "";
        notify(t("ins.questions.sent", { name: studentName(answer.question.student_id) }), { kind: "success" });
        updateSummary();
      } catch (problem) {
        error.textContent = problem.message;
        textarea.focus();
      } finally {
        send.disabled = false;
      }
    });
    cards.set(question.id, entry);
    return entry;
  }

  function visible(entry) {
    return filter.value !== "open" || !entry.question.resolved;
  }

  function sorted() {
    const all = [...cards.values()].sort((a, b) => byNewest(a.question, b.question));
    if (filter.value === "all") return all;
    return [...all.filter((e) => !e.question.resolved), ...all.filter((e) => e.question.resolved)];
  }

  function render() {
    const entries = sorted().filter(visible);
    list.replaceChildren(...entries.map((e) => e.card));
    updateSummary();
  }

  function updateSummary() {
    const all = [...cards.values()];
    const open = all.filter((e) => !e.question.resolved).length;
    summary.textContent = tn("ins.questions.summary", all.length, { open });
    summary.dataset.open = String(open);
    setUnanswered(open);
    const shown = list.children.length;
    empty.hidden = shown > 0;
    empty.textContent = all.length ? t("ins.questions.allAnswered") : t("ins.questions.none");
  }

  for (const q of questions) makeCard(q);
  render();
  filter.addEventListener("change", render);

  async function reload() {
    if (reloading) return;
    reloading = true;
    try {
      const fresh = (await api(classApi(classId, "/questions"))).questions;
      if (!alive) return;
      if (fresh.some((q) => !names.has(q.student_id))) {
        const members = await api(classApi(classId, "/members")).catch(() => null);
        for (const m of members?.members ?? []) names.set(m.id, m.name);
      }
      const added = [];
      for (const q of fresh) {
        const entry = cards.get(q.id);
        if (entry) {
          if (entry.question.answer !== q.answer || entry.question.resolved !== q.resolved) entry.setQuestion(q);
        } else added.push(makeCard(q));
      }
      // Questions deleted elsewhere (the class was cleared) disappear; new ones go on top,
      // without moving the cards already shown (one of them may hold a half-typed answer).
      const ids = new Set(fresh.map((q) => q.id));
      for (const [id, entry] of cards) {
        if (!ids.has(id)) {
          entry.card.remove();
          cards.delete(id);
        }
      }
      added.sort((a, b) => byNewest(b.question, a.question));
      for (const entry of added) list.prepend(entry.card);
      if (added.length) notify(tn("ins.questions.arrived", added.length));
      updateSummary();
    } catch {
      // Tried again on the next feed change.
    } finally {
      reloading = false;
    }
  }

  const feed = watchFeed(classId, {
    interval: () => POLL,
    onFeed(data) {
      if (!alive) return;
      const newer = data.newest_question_at && (!lastNewest || Date.parse(data.newest_question_at) > Date.parse(lastNewest));
      const open = [...cards.values()].filter((e) => !e.question.resolved).length;
      if (newer || data.unanswered_questions !== open) {
        lastNewest = data.newest_question_at;
        reload();
      }
    },
  });

  return () => {
    alive = false;
    feed.stop();
  };
}
