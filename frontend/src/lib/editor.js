// CodeMirror 6 with Python highlighting. Tab indents inside the editor; Escape then Tab
// leaves it (CodeMirror's own accessible convention), which the label tells screen readers.
import { indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
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

/**
 * Create an editor in `parent`. Options: doc, readOnly, label (accessible name),
 * onChange(text) (called on every edit). Returns {view, getCode(), setCode(text), focus(),
 * destroy()}.
 */
export function createEditor(parent, { doc = "", readOnly = false, label = "Code editor", onChange } = {}) {
  const readOnlyState = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        basicSetup,
        python(),
        theme,
        keymap.of([indentWithTab]),
        readOnlyState.of([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]),
        EditorView.contentAttributes.of({ "aria-label": label }),
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
