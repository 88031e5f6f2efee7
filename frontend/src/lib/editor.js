// CodeMirror 6 with Python highlighting, for every editor in the app (the learner's, lecture
// examples, the instructor's read-only view of live code).
//
// * The editor lives in a shadow root of its host element: in the document, CodeMirror's
//   style-mod writes its styles into a <style> element, which the CSP (`style-src 'self'`)
//   blocks; in a shadow root they become a constructed stylesheet, which the CSP allows.
// * Syntax colours are our own: CodeMirror's defaults are made for light backgrounds and fail
//   WCAG AA on the dark editor; every colour below has at least 7:1 contrast on #0b1222.
// * Tab indents inside the editor; Escape then Tab leaves it (CodeMirror's accessible
//   convention). A read-only editor is still reachable with Tab, to scroll with the arrows.
import { indentWithTab } from "@codemirror/commands";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { basicSetup } from "codemirror";

const theme = EditorView.theme(
  {
    "&": { color: "#e2e8f0", backgroundColor: "#0b1222", fontSize: "15px", height: "100%" },
    ".cm-content": { caretColor: "#fde047", fontFamily: "var(--mono)" },
    ".cm-gutters": { backgroundColor: "#0b1222", color: "#94a3b8", border: "none" },
    ".cm-activeLine": { backgroundColor: "#16213b" },
    ".cm-activeLineGutter": { backgroundColor: "#16213b" },
    "&.cm-focused": { outline: "3px solid #fde047" },
    ".cm-selectionBackground, &.cm-focused .cm-selectionBackground": { backgroundColor: "#334155" },
  },
  { dark: true },
);

const darkHighlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.controlKeyword, tags.operatorKeyword, tags.definitionKeyword, tags.moduleKeyword], color: "#c4b5fd" },
  { tag: [tags.string, tags.special(tags.string), tags.regexp], color: "#86efac" },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], color: "#a3b1c6", fontStyle: "italic" },
  { tag: [tags.number, tags.integer, tags.float], color: "#fcd34d" },
  { tag: [tags.bool, tags.null, tags.atom], color: "#fca5a5" },
  { tag: [tags.function(tags.variableName), tags.function(tags.propertyName), tags.definition(tags.variableName)], color: "#7dd3fc" },
  { tag: [tags.className, tags.definition(tags.className), tags.typeName], color: "#fde68a" },
  { tag: [tags.propertyName, tags.attributeName], color: "#a5f3fc" },
  { tag: [tags.self, tags.special(tags.variableName)], color: "#f0abfc" },
  { tag: [tags.operator, tags.punctuation, tags.bracket, tags.variableName], color: "#e2e8f0" },
  { tag: tags.invalid, color: "#fca5a5", textDecoration: "underline" },
]);

let hostSheet = null;

function shadowMount(host) {
  if (!hostSheet) {
    hostSheet = new CSSStyleSheet();
    hostSheet.replaceSync(":host { display: block; } .cm-host, .cm-host > .cm-editor { height: 100%; }");
  }
  const root = host.shadowRoot ?? host.attachShadow({ mode: "open" });
  root.adoptedStyleSheets = [hostSheet];
  const parent = document.createElement("div");
  parent.className = "cm-host";
  root.replaceChildren(parent);
  return parent;
}

/**
 * Create an editor inside `host` (a page element; the editor goes into its shadow root).
 * Options: doc, readOnly, label (accessible name), onChange(text) (called on every edit).
 * Returns {view, getCode(), setCode(text), focus(), destroy()}.
 */
export function createEditor(host, { doc = "", readOnly = false, label = "Code editor", onChange } = {}) {
  const readOnlyState = new Compartment();
  const view = new EditorView({
    parent: shadowMount(host),
    state: EditorState.create({
      doc,
      extensions: [
        basicSetup,
        python(),
        theme,
        syntaxHighlighting(darkHighlight),
        keymap.of([indentWithTab]),
        readOnlyState.of([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]),
        // An explicit tab stop (an editable one already is): assistive tools then see the
        // scrolling editor as keyboard-reachable.
        EditorView.contentAttributes.of(
          readOnly ? { "aria-label": label, tabindex: "0", "aria-readonly": "true" } : { "aria-label": label, tabindex: "0" },
        ),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && onChange) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    getCode: () => view.state.doc.toString(),
    setCode(text) {
      const current = view.state.doc.toString();
      if (current === text) return;
      view.dispatch({ changes: { from: 0, to: current.length, insert: text ?? "" } });
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
