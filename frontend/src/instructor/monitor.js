// The live monitor of one class: every student with an online dot (and its text), their
// week/cycle, completed count and last activity, refreshed from the monitor feed every 2 s
// (every second while a student's code is open, so typing shows within two seconds). Rows
// are replaced by id; an id missing from `members` has left. Clicking a student shows their
// live code in a read-only CodeMirror. New questions raise a notice and a badge.
import { api } from "../lib/api.js";
import { formatTime, h, mount } from "../lib/dom.js";
import { locale, t } from "../lib/i18n.js";
import { notify } from "../lib/notices.js";
import { navigate } from "../lib/router.js";
import { watchFeed } from "./feed.js";
import { classApi, classHeader, classPath, cycleLabel, packOutline, position, routeGuard, setTitle, showLoadError, tn } from "./shared.js";

const POLL = 2000;
const POLL_WATCHING = 1000;

function later(a, b) {
  if (!a) return false;
  if (!b) return true;
  return Date.parse(a) > Date.parse(b);
}

export async function monitorView(ctx) {
  const { params, view } = ctx;
  const current = routeGuard();
  const classId = params.id;
  let detail;
  try {
    detail = await api(classApi(classId));
  } catch (error) {
    if (current()) showLoadError(view, error);
    return undefined;
  }
  const classroom = detail.class;
  if (!current()) return undefined;
  setTitle(t("ins.monitor.title"), classroom.name);
  let alive = true;
  let outline = null;

  /** id → {id, name, email, week, cycle, completed, finished, last_active, online, live_code, live_code_cycle} */
  const students = new Map();
  /** id → {tr, cells} */
  const rows = new Map();
  for (const m of detail.members) students.set(m.id, { ...m, live_code: null, live_code_cycle: null });
  let order = detail.members.map((m) => m.id);
  let selected = null;
  let editor = null;
  let editorLoading = null;
  let namesLoading = false;
  let lastUnanswered = null;
  let lastNewest = null;
  packOutline(classroom.pack_id).then((o) => {
    outline = o;
    if (alive && selected) showSelected();
  });

  const { header, setUnanswered } = classHeader(classroom, "monitor", t("ins.monitor.title"));
  const summary = h("p", { class: "ins-summary", id: "ins-monitor-summary" });
  const connection = h("p", { class: "ins-connection", role: "status" });
  const questionAlert = h("a", {
    class: "ins-question-alert",
    href: `#${classPath(classId, "questions")}`,
    hidden: true,
    dataset: { questionAlert: "" },
  });
  const tbody = h("tbody", {});
  const table = h(
    "table",
    { class: "ins-table ins-students" },
    h("caption", { text: t("ins.monitor.students") }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", text: t("ins.monitor.status") }),
        h("th", { scope: "col", text: t("ins.monitor.student") }),
        h("th", { scope: "col", text: t("ins.monitor.position") }),
        h("th", { scope: "col", class: "num", text: t("ins.monitor.completed") }),
        h("th", { scope: "col", text: t("ins.monitor.lastActive") }),
      ),
    ),
    tbody,
  );
  const tableWrap = h("div", { class: "ins-table-wrap", role: "region", tabindex: "0", "aria-labelledby": "ins-students-title" }, table);
  const empty = h(
    "div",
    { class: "card ins-empty", hidden: true },
    h("p", { text: t("ins.monitor.noStudents") }),
    h("p", {}, t("ins.monitor.shareCode"), " ", h("code", { class: "ins-code-inline", text: classroom.invite_code })),
  );

  const liveTitle = h("h2", { id: "ins-live-title", text: t("ins.live.title") });
  const liveWho = h("p", { class: "ins-live-who", dataset: { liveWho: "" }, text: t("ins.live.pick") });
  const liveMeta = h("p", { class: "muted ins-live-meta" });
  const liveEmpty = h("p", { class: "muted ins-live-empty", hidden: true, text: t("ins.live.nothing") });
  const editorHost = h("div", { class: "ins-editor", hidden: true, dataset: { liveCode: "" } });
  const closeLive = h("button", { type: "button", class: "ghost", hidden: true, text: t("ins.live.close") });
  const resetButton = h("button", {
    type: "button",
    class: "ghost ins-reset",
    hidden: true,
    text: t("ins.reset.button"),
    onclick: () => {
      const s = selected ? students.get(selected) : null;
      if (s) resetPasswordDialog(classId, s.id, studentName(s), resetButton);
    },
  });
  const livePanel = h(
    "section",
    { class: "card ins-live", id: "ins-live-panel", "aria-labelledby": "ins-live-title" },
    h("div", { class: "ins-live-head" }, liveTitle, closeLive),
    liveWho,
    liveMeta,
    liveEmpty,
    editorHost,
    h("div", { class: "row ins-live-actions" }, resetButton),
  );
  closeLive.addEventListener("click", () => {
    const was = selected;
    select(null);
    rows.get(was)?.nameButton.focus();
  });

  mount(
    view,
    h(
      "div",
      { class: "ins-page ins-monitor" },
      header,
      h("div", { class: "ins-monitor-bar" }, summary, questionAlert, connection),
      h(
        "div",
        { class: "ins-monitor-grid" },
        h(
          "section",
          { class: "ins-monitor-list", "aria-labelledby": "ins-students-title" },
          h("h2", { id: "ins-students-title", text: t("ins.monitor.students") }),
          tableWrap,
          empty,
        ),
        livePanel,
      ),
    ),
  );

  function studentName(s) {
    return s.name ?? t("ins.monitor.unknownName");
  }

  function makeRow(id) {
    const dot = h("span", { class: "dot", "aria-hidden": "true" });
    const statusText = h("span", { class: "ins-status-text" });
    const nameButton = h("button", { type: "button", class: "ins-student-button", "aria-pressed": "false", "aria-controls": "ins-live-panel" });
    const email = h("span", { class: "ins-email muted" });
    const cells = {
      status: h("td", { dataset: { field: "status" } }, h("span", { class: "ins-status" }, dot, statusText)),
      name: h("td", { dataset: { field: "name" } }, nameButton, email),
      position: h("td", { dataset: { field: "position" } }),
      completed: h("td", { class: "num", dataset: { field: "completed" } }),
      lastActive: h("td", { dataset: { field: "last-active" } }),
    };
    nameButton.addEventListener("click", () => select(selected === id ? null : id));
    const tr = h("tr", { dataset: { student: id } }, Object.values(cells));
    const row = { tr, cells, dot, statusText, nameButton, email };
    rows.set(id, row);
    return row;
  }

  function updateRow(s) {
    const row = rows.get(s.id) ?? makeRow(s.id);
    row.dot.classList.toggle("online", Boolean(s.online));
    row.statusText.textContent = s.online ? t("ins.monitor.online") : t("ins.monitor.offline");
    row.tr.dataset.online = s.online ? "true" : "false";
    row.nameButton.textContent = studentName(s);
    row.nameButton.setAttribute("aria-label", t("ins.monitor.showCode", { name: studentName(s) }));
    row.email.textContent = s.email ?? "";
    mount(
      row.cells.position,
      position(s.week, s.cycle),
      s.finished ? [" ", h("span", { class: "badge ins-finished", text: t("ins.monitor.finished") })] : null,
    );
    row.cells.completed.textContent = String(s.completed ?? 0);
    mount(row.cells.lastActive, h("time", { datetime: s.last_active ?? null, text: formatTime(s.last_active, locale()) }));
    row.nameButton.setAttribute("aria-pressed", selected === s.id ? "true" : "false");
    row.tr.classList.toggle("ins-selected", selected === s.id);
  }

  function renderRows() {
    for (const [id, row] of rows) {
      if (!students.has(id)) {
        row.tr.remove();
        rows.delete(id);
      }
    }
    for (const id of order) {
      const s = students.get(id);
      if (s) updateRow(s);
    }
    // Keep the table in join order; only move rows when it differs (moving a focused row
    // would take the keyboard focus away).
    const current = [...tbody.children].map((tr) => tr.dataset.student);
    const wanted = order.filter((id) => rows.has(id));
    if (current.join("\n") !== wanted.join("\n")) {
      for (const id of wanted) tbody.append(rows.get(id).tr);
    }
    const online = order.filter((id) => students.get(id)?.online).length;
    summary.textContent = tn("ins.monitor.summary", order.length, { online });
    summary.dataset.count = String(order.length);
    summary.dataset.online = String(online);
    empty.hidden = order.length > 0;
    tableWrap.hidden = order.length === 0;
  }

  async function ensureEditor() {
    if (editor) return editor;
    editorLoading ??= import("./code-view.js").then(({ createCodeView }) => {
      if (!alive) return null;
      editor = createCodeView(editorHost, { label: t("ins.live.editorLabel") });
      return editor;
    });
    return editorLoading;
  }

  async function showSelected() {
    const s = selected ? students.get(selected) : null;
    closeLive.hidden = !s;
    resetButton.hidden = !s;
    if (!s) {
      liveWho.textContent = t("ins.live.pick");
      liveMeta.textContent = "";
      liveEmpty.hidden = true;
      editorHost.hidden = true;
      return;
    }
    liveWho.textContent = t("ins.live.of", { name: studentName(s) });
    const cycle = s.live_code_cycle ? cycleLabel(outline, s.live_code_cycle) : null;
    liveMeta.textContent = [
      cycle ? t("ins.live.cycle", { cycle }) : null,
      t("ins.live.updated", { time: formatTime(s.last_active, locale()) }),
    ]
      .filter(Boolean)
      .join(" · ");
    const code = s.live_code ?? "";
    liveEmpty.textContent = t("ins.live.nothing");
    liveEmpty.hidden = code !== "";
    editorHost.hidden = false;
    let ed = null;
    try {
      ed = await ensureEditor();
    } catch (error) {
      editorLoading = null; // try again on the next selection
      liveEmpty.hidden = false;
      liveEmpty.textContent = error?.message ?? String(error);
      return;
    }
    if (!ed || !alive) return;
    // The selection may have moved on while CodeMirror loaded.
    const now = selected ? students.get(selected) : null;
    ed.setCode(now?.live_code ?? "");
  }

  async function select(id) {
    selected = id;
    for (const [rid, row] of rows) {
      row.nameButton.setAttribute("aria-pressed", rid === id ? "true" : "false");
      row.tr.classList.toggle("ins-selected", rid === id);
    }
    if (id && students.get(id)?.live_code === null) {
      // Not in a feed answer yet (the first poll brings everyone's code): ask directly.
      try {
        const code = await api(classApi(classId, `/members/${encodeURIComponent(id)}/live-code`));
        const s = students.get(id);
        if (s && s.live_code === null) Object.assign(s, { live_code: code.code, live_code_cycle: code.cycle });
      } catch {
        // The next feed answer brings it.
      }
    }
    if (selected === id) await showSelected();
    feed.now();
  }

  async function refreshNames() {
    if (namesLoading) return;
    namesLoading = true;
    try {
      const data = await api(classApi(classId, "/members"));
      if (!alive) return;
      for (const m of data.members) {
        const s = students.get(m.id);
        if (s) Object.assign(s, { name: m.name, email: m.email });
      }
      renderRows();
      if (selected) showSelected();
    } catch {
      // Names stay "…" until the next attempt.
    } finally {
      namesLoading = false;
    }
  }

  function questionsFrom(feed) {
    const count = feed.unanswered_questions;
    setUnanswered(count);
    questionAlert.hidden = !count;
    questionAlert.dataset.unanswered = String(count);
    questionAlert.textContent = tn("ins.monitor.questionsWaiting", count);
    if (lastUnanswered !== null && (count > lastUnanswered || later(feed.newest_question_at, lastNewest))) {
      notify(t("ins.monitor.newQuestion"), {
        timeout: 15000,
        action: { label: t("ins.monitor.openInbox"), run: () => navigate(classPath(classId, "questions")) },
      });
    }
    lastUnanswered = count;
    lastNewest = feed.newest_question_at;
  }

  function applyFeed(feed) {
    const present = new Set(feed.members);
    let unknown = false;
    for (const id of [...students.keys()]) {
      if (!present.has(id)) {
        const gone = students.get(id);
        students.delete(id);
        if (selected === id) {
          selected = null;
          showSelected();
          notify(t("ins.monitor.left", { name: studentName(gone) }));
        }
      }
    }
    for (const row of feed.changed) {
      if (!present.has(row.id)) continue;
      let s = students.get(row.id);
      if (!s) {
        s = { id: row.id, name: null, email: "" };
        students.set(row.id, s);
        unknown = true;
      }
      Object.assign(s, row);
    }
    for (const id of feed.members) {
      if (!students.has(id)) {
        students.set(id, { id, name: null, email: "", week: 1, cycle: 1, completed: 0, finished: false, last_active: null, live_code: null, live_code_cycle: null });
        unknown = true;
      }
    }
    const online = new Set(feed.online);
    for (const s of students.values()) s.online = online.has(s.id);
    order = feed.members;
    renderRows();
    if (unknown) refreshNames();
    if (selected && feed.changed.some((row) => row.id === selected)) showSelected();
    questionsFrom(feed);
  }

  const feed = watchFeed(classId, {
    interval: () => (selected ? POLL_WATCHING : POLL),
    onFeed: (data) => {
      if (alive) {
        connection.textContent = "";
        applyFeed(data);
      }
    },
    onError: (error) => {
      if (!alive) return;
      if (error.status === 404 || error.status === 403) connection.textContent = t("ins.monitor.gone");
      else connection.textContent = t("ins.monitor.offlineRetry", { message: error.message });
    },
    onRecover: () => {
      connection.textContent = "";
    },
  });
  renderRows();

  return () => {
    alive = false;
    feed.stop();
    editor?.destroy();
    editor = null;
  };
}

/**
 * Ask, then give a member a temporary password (POST …/password-reset) and show it once.
 * Focus returns to `opener` when the dialog closes.
 */
function resetPasswordDialog(classId, userId, name, opener) {
  const title = h("h2", { id: "ins-reset-title", text: t("ins.reset.title", { name }) });
  const body = h("div", { class: "ins-dialog-body" }, h("p", { id: "ins-reset-desc", text: t("ins.reset.explain") }));
  const error = h("p", { class: "form-error", role: "alert" });
  const cancel = h("button", { type: "button", text: t("ins.reset.cancel") });
  const confirm = h("button", { type: "button", class: "danger", text: t("ins.reset.confirm") });
  const actions = h("div", { class: "row ins-dialog-actions" }, cancel, confirm);
  const dialog = h(
    "dialog",
    { class: "ins-dialog", "aria-labelledby": "ins-reset-title", "aria-describedby": "ins-reset-desc" },
    title,
    body,
    error,
    actions,
  );
  cancel.addEventListener("click", () => dialog.close());
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    error.textContent = "";
    try {
      const answer = await api(classApi(classId, `/members/${encodeURIComponent(userId)}/password-reset`), { method: "POST" });
      const secret = h("code", { class: "ins-code-inline ins-temp-password", dataset: { tempPassword: "" }, text: answer.temporary_password });
      const copied = h("span", { class: "muted", role: "status" });
      const copy = h("button", {
        type: "button",
        text: t("ins.reset.copy"),
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(answer.temporary_password);
            copied.textContent = t("ins.reset.copied");
          } catch {
            getSelection()?.selectAllChildren(secret);
          }
        },
      });
      const done = h("button", { type: "button", class: "primary", text: t("ins.reset.close"), onclick: () => dialog.close() });
      title.textContent = t("ins.reset.done", { name });
      mount(body, h("p", {}, secret), h("p", { class: "muted", text: t("ins.reset.once") }), copied);
      mount(actions, copy, done);
      done.focus();
    } catch (problem) {
      error.textContent = problem.message;
      confirm.disabled = false;
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  cancel.focus();
}
