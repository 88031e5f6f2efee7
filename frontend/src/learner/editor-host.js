// A home for CodeMirror inside a shadow root, plus colours that are readable on the dark editor.
//
// * CodeMirror's style-mod writes its styles into a <style> element when mounted in the
//   document, which the CSP (`style-src 'self'`) blocks; in a shadow root it uses a constructed
//   (adopted) stylesheet instead, which the CSP allows.
// * basicSetup only has CodeMirror's default highlight style, made for light backgrounds (its
//   comments and keywords fail WCAG AA on #0b1222); a dark highlight style is appended here.
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { StateEffect } from "@codemirror/state";
import { tags } from "@lezer/highlight";
import { h } from "../lib/dom.js";
import { createEditor } from "../lib/editor.js";

// Every colour has at least 7:1 contrast on the editor's background (#0b1222).
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

let sheet = null;

function hostSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(":host { display: block; } .cm-host { height: 100%; } .cm-host > .cm-editor { height: 100%; }");
  }
  return sheet;
}

/** Create {host (the element to place), editor (as lib/editor.js createEditor returns)}. */
export function shadowEditor(className, options) {
  const host = h("div", { class: className });
  const root = host.attachShadow({ mode: "open" });
  root.adoptedStyleSheets = [hostSheet()];
  const parent = document.createElement("div");
  parent.className = "cm-host";
  root.append(parent);
  const editor = createEditor(parent, options);
  editor.view.dispatch({ effects: StateEffect.appendConfig.of(syntaxHighlighting(darkHighlight)) });
  return { host, editor };
}
