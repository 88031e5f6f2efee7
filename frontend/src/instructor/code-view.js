// A read-only view of a learner's live code (loaded lazily with CodeMirror).
import { createEditor } from "../lib/editor.js";

/** A read-only editor in `host` (an element of the page). Returns lib/editor.js's handle. */
export function createCodeView(host, { label }) {
  return createEditor(host, { readOnly: true, label });
}
