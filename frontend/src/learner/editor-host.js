// An editor with its own host element (lib/editor.js mounts it in the host's shadow root).
import { h } from "../lib/dom.js";
import { createEditor } from "../lib/editor.js";

/** Create {host (the element to place), editor (lib/editor.js's handle)}. */
export function shadowEditor(className, options) {
  const host = h("div", { class: className });
  return { host, editor: createEditor(host, options) };
}
