// The learner's questions: a poll of GET /api/questions/mine every 20 s while a learner is
// logged in (a notice when a new answer arrives), and the list on the dashboard with the
// answered-but-unread ones highlighted. Everything typed by anyone is shown as text.
import { api } from "../lib/api.js";
import { formatTime, h, mount } from "../lib/dom.js";
import { locale, t } from "../lib/i18n.js";
import { notify } from "../lib/notices.js";
import { navigate } from "../lib/router.js";

const POLL_MS = 20_000;
let timer = null;
let announced = new Set();
let running = false;

function answerKey(q) {
  return `${q.id}@${q.answered_at ?? ""}`;
}

function unread(q) {
  return Boolean(q.answer) && !q.notified;
}

async function poll() {
  if (running || document.hidden) return;
  running = true;
  try {
    const { questions } = await api("/api/questions/mine");
    const fresh = questions.filter((q) => unread(q) && !announced.has(answerKey(q)));
    for (const q of fresh) announced.add(answerKey(q));
    if (fresh.length === 1) {
      const text = fresh[0].answer.length > 120 ? `${fresh[0].answer.slice(0, 117)}…` : fresh[0].answer;
      notify(t("q.newAnswer", { text }), { kind: "success", timeout: 15000, action: { label: t("q.open"), run: () => navigate("/learn") } });
    } else if (fresh.length > 1) {
      notify(t("q.newAnswers", { count: fresh.length }), { kind: "success", timeout: 15000, action: { label: t("q.open"), run: () => navigate("/learn") } });
    }
    document.dispatchEvent(new CustomEvent("eduverse:questions", { detail: questions }));
  } catch (error) {
    if (error?.status !== 401) console.warn("questions", error?.message);
  } finally {
    running = false;
  }
}

export function startQuestionPoll() {
  if (timer) return;
  announced = new Set();
  timer = setInterval(poll, POLL_MS);
  poll();
}

export function stopQuestionPoll() {
  clearInterval(timer);
  timer = null;
}

/** Ask for the list now (after asking, or when the dashboard opens). */
export function pollNow() {
  return poll();
}

function sceneName(scene) {
  const key = `scene.${scene}`;
  const label = t(key);
  return label === key ? scene || "—" : label;
}

/** The dashboard's list. Returns {el, update(questions)}. */
export function questionList() {
  const list = h("ul", { class: "question-list" });
  const empty = h("p", { class: "muted", text: t("dash.noQuestions") });
  const el = h("div", { class: "questions" }, empty, list);

  function item(q) {
    const isNew = unread(q);
    const li = h(
      "li",
      { class: ["question", isNew && "is-new", q.answer ? "answered" : "waiting"], dataset: { question: q.id } },
      h(
        "p",
        { class: "question-meta" },
        isNew ? h("span", { class: "badge badge-new", text: t("q.new") }) : null,
        h("span", { class: "muted", text: t("q.context", { week: q.context.week, scene: sceneName(q.context.scene) }) }),
        h("span", { class: "muted", text: ` · ${t("q.asked", { when: formatTime(q.created_at, locale()) })}` }),
      ),
      h("p", { class: "question-text", text: q.text }),
      q.answer
        ? h("div", { class: "question-answer" }, h("strong", { text: `${t("q.answer")}: ` }), h("span", { class: "answer-text", text: q.answer }))
        : h("p", { class: "muted", text: t("q.waiting") }),
      isNew
        ? h("button", {
            type: "button",
            class: "link",
            text: t("q.markSeen"),
            onclick: async (event) => {
              const button = event.currentTarget;
              button.disabled = true;
              try {
                const answer = await api(`/api/questions/${encodeURIComponent(q.id)}/seen`, { method: "POST" });
                const replacement = item(answer.question);
                replacement.setAttribute("tabindex", "-1");
                li.replaceWith(replacement);
                replacement.focus();
              } catch (error) {
                notify(error.message, { kind: "error" });
                button.disabled = false;
              }
            },
          })
        : null,
    );
    return li;
  }

  function update(questions) {
    empty.hidden = questions.length > 0;
    mount(list, questions.map(item));
  }
  return { el, update };
}
