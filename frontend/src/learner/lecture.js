// The lecture: the lecturer on stage says the key takeaway, then the sections as a
// whiteboard, each code example with a Run button that runs it in place (output below it,
// Stop while running), and a small practice editor with the lecture's sandbox code.
import { h, setSafeHtml } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { Runner } from "../lib/runner.js";
import { shadowEditor } from "./editor-host.js";
import { runControls } from "./runbox.js";
import { storyScene } from "./stage.js";

let sections = 0;

function example(runner, code, title) {
  const id = `ex-${++sections}`;
  const output = h("pre", { class: "run-output", id: `${id}-out`, hidden: true, role: "log", "aria-live": "off", "aria-label": t("lecture.output", { title }) });
  const status = h("p", { class: "run-status", role: "status", "aria-live": "polite" });
  const runButton = h("button", { type: "button", class: "run", "aria-label": t("lecture.runExample", { title }) }, h("span", { "aria-hidden": "true", text: "▶ " }), t("lecture.run"));
  const stopButton = h("button", { type: "button", class: "stop danger", text: t("lecture.stop") });
  runControls({ runner, getCode: () => code(), output, status, runButton, stopButton });
  return { output, status, runButton, stopButton };
}

/** Returns {el, stop()}: `stop` ends any run and the typing. */
export function lectureContent(lecture) {
  const runner = new Runner();
  const stage = storyScene({
    kind: "lecture",
    character: lecture.character,
    title: lecture.title,
    subtitle: t("lecture.takeaway"),
    plain: lecture.key_takeaway,
  });
  const parts = lecture.sections.map((section, index) => {
    const run = example(runner, () => section.code, section.heading);
    const headingId = `lecture-section-${index + 1}`;
    return h(
      "section",
      { class: "lecture-section", "aria-labelledby": headingId },
      h("h2", { id: headingId, text: section.heading }),
      setSafeHtml(h("div", { class: "pack-html" }), section.text),
      section.code
        ? h(
            "div",
            { class: "example" },
            h("pre", { class: "code-example" }, h("code", { text: section.code })),
            h("div", { class: "row example-tools" }, run.runButton, run.stopButton, run.status),
            run.output,
          )
        : null,
    );
  });
  let editor = null;
  let sandbox = null;
  if (lecture.sandbox_code) {
    const run = example(runner, () => editor.getCode(), t("lecture.sandbox"));
    const made = shadowEditor("editor-host small", { doc: lecture.sandbox_code, label: t("lecture.sandboxEditor") });
    editor = made.editor;
    const host = made.host;
    sandbox = h(
      "section",
      { class: "lecture-section sandbox", "aria-labelledby": "lecture-sandbox" },
      h("h2", { id: "lecture-sandbox", text: t("lecture.sandbox") }),
      host,
      h("div", { class: "row example-tools" }, run.runButton, run.stopButton, run.status),
      run.output,
    );
  }
  const el = h("div", { class: "lecture" }, stage.el, h("div", { class: "whiteboard" }, parts, sandbox));
  return {
    el,
    stage,
    /** Call once the lecture is in the page: the editor measures itself there. */
    attached() {
      requestAnimationFrame(() => editor?.view.requestMeasure());
    },
    stop() {
      stage.stop();
      runner.stop();
      runner.terminate();
      editor?.destroy();
    },
  };
}
