// The coding screen: the task and its syntax reference and hints (story), CodeMirror with
// the starter code or the learner's saved code (code), and the terminal (output). Run uses
// Pyodide in a worker (server fallback), Submit is always graded on the server. The editor's
// text goes to the server a second after typing stops, for the instructor's live view.
// On a phone (≤ 760 px) the three parts are tabs.
import { api } from "../lib/api.js";
import { h, setSafeHtml } from "../lib/dom.js";
import { locale, t } from "../lib/i18n.js";
import { notify, notifyError } from "../lib/notices.js";
import { Runner } from "../lib/runner.js";
import { assetUrl, forgetCode, packId, saveCode, savedCode, savedHints, saveFeedback, saveHints, track } from "./data.js";
import { shadowEditor } from "./editor-host.js";
import { runControls } from "./runbox.js";

// Live code reaches the instructor within 2 s of typing: sent 0.5 s after the last key (and
// at least every 1.5 s while typing goes on), polled by the monitor every second.
const LIVE_DELAY_MS = 500;
const LIVE_MAX_WAIT_MS = 1500;
const PHONE = "(max-width: 760px)";

function syntaxReference(items) {
  if (!items.length) return null;
  return h(
    "section",
    { class: "syntax-ref", "aria-labelledby": "syntax-heading" },
    h("h2", { id: "syntax-heading", text: t("code.syntax") }),
    items.map((item) =>
      h(
        "details",
        { class: "syntax-item" },
        h("summary", { text: item.title }),
        setSafeHtml(h("div", { class: "pack-html" }), item.description),
        item.example ? h("pre", { class: "code-example" }, h("code", { text: item.example })) : null,
      ),
    ),
  );
}

function hintList(cycleId, thresholds, failures) {
  const texts = savedHints(cycleId);
  return h(
    "section",
    { class: "hints", "aria-labelledby": "hints-heading" },
    h("h2", { id: "hints-heading", text: t("code.hints") }),
    h("p", { class: "muted", text: t("code.attempts", { count: failures }) }),
    thresholds.length
      ? h(
          "ol",
          { class: "hint-list" },
          thresholds.map((count, i) => {
            const unlocked = failures >= count;
            if (unlocked && texts[i]) return h("li", { class: "hint-item unlocked" }, setSafeHtml(h("div", { class: "pack-html" }), texts[i]));
            return h("li", { class: ["hint-item", unlocked ? "unlocked" : "locked"], text: unlocked ? t("code.hintUnlockedHidden", { n: i + 1 }) : t("code.hintLocked", { n: i + 1, count }) });
          }),
        )
      : h("p", { class: "muted", text: t("code.noHints") }),
  );
}

/** Tabs for the phone layout: role=tablist, aria-selected, arrow keys. Returns {el, select(name)}. */
function phoneTabs(panels) {
  const names = Object.keys(panels);
  const labels = { story: t("code.tabStory"), code: t("code.tabCode"), output: t("code.tabOutput") };
  const tabs = {};
  const list = h("div", { class: "coding-tabs", role: "tablist", "aria-label": t("code.tabs") });
  function select(name, focus = false) {
    for (const other of names) {
      const on = other === name;
      tabs[other].setAttribute("aria-selected", on ? "true" : "false");
      tabs[other].tabIndex = on ? 0 : -1;
      panels[other].classList.toggle("tab-off", !on);
    }
    if (focus) tabs[name].focus();
    list.dispatchEvent(new CustomEvent("tabchange", { detail: name }));
  }
  for (const name of names) {
    const tab = h("button", { type: "button", role: "tab", id: `tab-${name}`, "aria-controls": panels[name].id, text: labels[name] });
    tab.addEventListener("click", () => select(name));
    tab.addEventListener("keydown", (event) => {
      const i = names.indexOf(name);
      let j = null;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") j = (i + 1) % names.length;
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") j = (i - 1 + names.length) % names.length;
      else if (event.key === "Home") j = 0;
      else if (event.key === "End") j = names.length - 1;
      if (j === null) return;
      event.preventDefault();
      select(names[j], true);
    });
    tabs[name] = tab;
    list.append(tab);
  }
  return { el: list, select };
}

/**
 * Build the coding screen. `ctx`: {pack, progress, week, cycle, trackData, onSubmitted(answer)}.
 * Returns {el, stop(), focus()}.
 */
export function codingContent({ pack, progress, week, cycle, trackData, onSubmitted }) {
  const runner = new Runner();
  const trackName = track();
  const failures = progress.failed_attempts?.[`${cycle.id}:${trackName}`] ?? 0;
  const task = trackData.task;
  const portrait = assetUrl(task.character.portrait);

  // -- story panel
  const story = h(
    "section",
    { class: "coding-panel coding-story", id: "panel-story", "aria-labelledby": "task-heading" },
    h(
      "div",
      { class: "task-speaker" },
      portrait ? h("img", { src: portrait, alt: "", width: 56, height: 56, class: "mini-portrait" }) : null,
      h("p", {}, h("strong", { text: task.character.name }), h("span", { class: "muted", text: ` · ${task.character.role}` })),
    ),
    h("h2", { id: "task-heading", text: `${t("code.task")}: ${task.title}` }),
    setSafeHtml(h("div", { class: "pack-html task-content" }), task.content),
    h(
      "details",
      { class: "briefing-recap" },
      h("summary", { text: `${t("scene.briefing")}: ${trackData.briefing.title}` }),
      setSafeHtml(h("div", { class: "pack-html" }), trackData.briefing.content),
    ),
    syntaxReference(cycle.syntax ?? []),
    hintList(cycle.id, trackData.hint_thresholds ?? [], failures),
  );
  // Unlocked hints whose text this browser has not kept (another device, cleared storage):
  // ask the server once and redraw the list.
  const unlockedCount = (trackData.hint_thresholds ?? []).filter((count) => failures >= count).length;
  if (unlockedCount > savedHints(cycle.id).length) {
    const query = { pack: pack.id ?? packId(), week: week.number, cycle: cycle.id, track: trackName, locale: locale() };
    api("/api/hints", { query })
      .then((answer) => {
        saveHints(cycle.id, answer.hints);
        story.querySelector(".hints")?.replaceWith(hintList(cycle.id, trackData.hint_thresholds ?? [], failures));
      })
      .catch((error) => console.warn("hints", error?.message));
  }

  // -- the editor and the live code
  let liveTimer = null;
  let liveDirty = false;
  let liveFirstChange = 0;
  function sendLive() {
    clearTimeout(liveTimer);
    liveTimer = null;
    if (!liveDirty) return;
    liveDirty = false;
    api("/api/progress/live-code", { method: "PUT", body: { pack_id: packId(), code: editor.getCode(), cycle_id: cycle.id } }).catch((error) => {
      if (error?.status !== 401) console.warn("live code", error?.message);
    });
  }
  const { host, editor } = shadowEditor("editor-host", {
    doc: savedCode(cycle.id) ?? trackData.starter_code,
    label: t("code.editor", { file: cycle.filename || "main.py" }),
    onChange(text) {
      saveCode(cycle.id, text);
      if (!liveDirty) liveFirstChange = Date.now();
      liveDirty = true;
      clearTimeout(liveTimer);
      const waited = Date.now() - liveFirstChange;
      liveTimer = setTimeout(sendLive, waited >= LIVE_MAX_WAIT_MS ? 0 : LIVE_DELAY_MS);
    },
  });

  // -- code panel
  const status = h("p", { class: "run-status", role: "status", "aria-live": "polite" });
  const runButton = h("button", { type: "button", class: "run", id: "run-code" }, h("span", { "aria-hidden": "true", text: "▶ " }), t("code.run"));
  const stopButton = h("button", { type: "button", class: "stop danger", id: "stop-code", text: t("code.stop") });
  const submitButton = h("button", { type: "button", class: "primary", id: "submit-code", text: t("code.submit") });
  const resetButton = h("button", { type: "button", class: "ghost", id: "reset-code", text: t("code.reset") });
  const code = h(
    "section",
    { class: "coding-panel coding-code", id: "panel-code", "aria-labelledby": "code-heading" },
    h("h2", { id: "code-heading", class: "file-name" }, h("span", { class: "file-dot", "aria-hidden": "true" }), cycle.filename || "main.py"),
    host,
    h("div", { class: "row code-tools" }, runButton, stopButton, submitButton, h("span", { class: "spacer" }), resetButton),
    status,
  );

  // -- output panel
  const terminal = h("pre", { class: "terminal is-empty", id: "terminal", role: "log", "aria-live": "off", "aria-labelledby": "terminal-heading", tabindex: "0" }, t("code.terminalEmpty"));
  const output = h(
    "section",
    { class: "coding-panel coding-output", id: "panel-output", "aria-labelledby": "terminal-heading" },
    h("h2", { id: "terminal-heading", text: t("code.terminal") }),
    terminal,
  );

  const panels = { story, code, output };
  const tabs = phoneTabs(panels);
  const phone = window.matchMedia(PHONE);
  function applyLayout() {
    for (const [name, panel] of Object.entries(panels)) {
      if (phone.matches) {
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", `tab-${name}`);
      } else {
        panel.removeAttribute("role");
        panel.setAttribute("aria-labelledby", name === "story" ? "task-heading" : name === "code" ? "code-heading" : "terminal-heading");
      }
    }
  }
  applyLayout();
  phone.addEventListener("change", applyLayout);
  tabs.select("code");
  tabs.el.addEventListener("tabchange", (event) => {
    if (event.detail === "code") editor.view.requestMeasure();
  });

  runControls({
    runner,
    getCode: () => editor.getCode(),
    output: terminal,
    status,
    runButton,
    stopButton,
    onStart: () => {
      if (phone.matches) tabs.select("output");
    },
  });

  resetButton.addEventListener("click", () => {
    editor.setCode(trackData.starter_code);
    forgetCode(cycle.id);
    notify(t("code.resetDone"), { timeout: 4000 });
  });

  submitButton.addEventListener("click", async () => {
    submitButton.disabled = true;
    submitButton.textContent = t("code.submitting");
    runner.stop();
    sendLive();
    const before = savedHints(cycle.id).length;
    try {
      const answer = await api("/api/submissions", {
        method: "POST",
        body: { pack_id: pack.id ?? packId(), week: week.number, cycle: cycle.id, track: trackName, code: editor.getCode(), locale: locale() },
      });
      saveHints(cycle.id, answer.hints);
      saveFeedback(week.number, cycle.id, { ...answer, track: trackName, newHint: answer.hints.length > before && answer.outcome !== "passed" });
      onSubmitted(answer);
    } catch (error) {
      notifyError(error);
      submitButton.disabled = false;
      submitButton.textContent = t("code.submit");
    }
  });

  const el = h("div", { class: "coding" }, tabs.el, h("div", { class: "coding-grid" }, story, code, output));
  return {
    el,
    editor,
    focus: () => editor.focus(),
    stop() {
      sendLive();
      phone.removeEventListener("change", applyLayout);
      runner.stop();
      runner.terminate();
      editor.destroy();
    },
  };
}
