// A read-only view of a learner's live code: lib/editor.js's CodeMirror with two changes for
// this page. It is mounted in a shadow root, because CodeMirror (style-mod) puts its styles in
// a <style> element when it lives in the document, which the CSP blocks; in a shadow root they
// become a constructed stylesheet, which the CSP allows. And its syntax colours are lightened
// so that every token keeps WCAG AA contrast on the dark editor background (CodeMirror's
// default colours are made for a light background). Loaded lazily with CodeMirror.
import { defaultHighlightStyle, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { StateEffect } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { createEditor } from "../lib/editor.js";

// CodeMirror's default colour → a light counterpart (≥ 4.5:1 on #0b1222).
const LIGHTER = {
  "#404740": "#a8b3c4",
  "#708": "#c4b5fd",
  "#219": "#93c5fd",
  "#164": "#86efac",
  "#a11": "#fca5a5",
  "#e40": "#fdba74",
  "#00f": "#7dd3fc",
  "#30a": "#d8b4fe",
  "#085": "#5eead4",
  "#167": "#67e8f9",
  "#256": "#a5b4fc",
  "#00c": "#7dd3fc",
  "#940": "#b6c2d4",
  "#f00": "#f87171",
};

const darkHighlight = HighlightStyle.define(
  defaultHighlightStyle.specs.map((spec) => (spec.color ? { ...spec, color: LIGHTER[spec.color] ?? "#e2e8f0" } : spec)),
);

/** A read-only editor in `host` (an element of the page). Returns lib/editor.js's handle. */
export function createCodeView(host, { label }) {
  const shadow = host.shadowRoot ?? host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(":host { display: block; } .ins-cm-root { height: 100%; }");
  shadow.adoptedStyleSheets = [sheet];
  const root = document.createElement("div");
  root.className = "ins-cm-root";
  shadow.replaceChildren(root);
  const editor = createEditor(root, { readOnly: true, label });
  editor.view.dispatch({
    effects: StateEffect.appendConfig.of([
      syntaxHighlighting(darkHighlight),
      // Reachable with Tab (to scroll with the arrow keys) and announced as read-only.
      EditorView.contentAttributes.of({ tabindex: "0", "aria-readonly": "true" }),
    ]),
  });
  return editor;
}
