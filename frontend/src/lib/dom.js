// Building the page without innerHTML: every string a user or the server typed becomes a
// text node. The one door for markup is setSafeHtml(), for pack HTML the server already
// sanitised; it sanitises again here against the same allow-list (defence in depth).

/**
 * Create an element. `attrs` keys: `class`, `text`, `dataset` (object), `style` is not
 * supported on purpose (the CSP forbids inline styles; use classes), `on<event>` handlers,
 * boolean attributes as true/false, anything else as an attribute.
 * Children: nodes, strings (as text), arrays, null/undefined/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything inside `el` with `children`. */
export function mount(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const ALLOWED_TAGS = new Set([
  "A", "B", "BLOCKQUOTE", "BR", "CODE", "DIV", "EM", "H1", "H2", "H3", "H4", "HR", "I",
  "LI", "OL", "P", "PRE", "SMALL", "SPAN", "STRONG", "SUB", "SUP", "TABLE", "TBODY", "TD",
  "TH", "THEAD", "TR", "U", "UL", "KBD", "MARK", "DL", "DT", "DD",
]);
const ALLOWED_ATTRS = new Set(["class", "title", "href", "colspan", "rowspan", "lang"]);

function clean(node) {
  for (const child of [...node.childNodes]) {
    if (child.nodeType === Node.TEXT_NODE) continue;
    if (child.nodeType !== Node.ELEMENT_NODE || !ALLOWED_TAGS.has(child.tagName)) {
      // Unknown elements keep their text; scripts, styles and comments vanish whole.
      if (child.nodeType === Node.ELEMENT_NODE && !["SCRIPT", "STYLE", "TEMPLATE"].includes(child.tagName)) {
        child.replaceWith(...clean(child).childNodes);
      } else child.remove();
      continue;
    }
    for (const attr of [...child.attributes]) {
      const name = attr.name.toLowerCase();
      const keep =
        ALLOWED_ATTRS.has(name) &&
        (name !== "href" || /^(https?:|mailto:|#)/i.test(attr.value.trim()));
      if (!keep) child.removeAttribute(attr.name);
    }
    if (child.tagName === "A") {
      child.setAttribute("rel", "noopener noreferrer");
      child.setAttribute("target", "_blank");
    }
    clean(child);
  }
  return node;
}

/** Put server-sanitised pack HTML into `el`, sanitised once more on this side. */
export function setSafeHtml(el, html) {
  const doc = new DOMParser().parseFromString(`<body>${html ?? ""}</body>`, "text/html");
  el.replaceChildren(...clean(doc.body).childNodes);
  return el;
}

/** Text of pack HTML without markup (for excerpts and typing effects). */
export function htmlToText(html) {
  const doc = new DOMParser().parseFromString(`<body>${html ?? ""}</body>`, "text/html");
  return clean(doc.body).textContent ?? "";
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Format an ISO time as a short local date-time, or "—". */
export function formatTime(iso, locale) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleString(locale === "ko" ? "ko-KR" : "en-GB", {
    dateStyle: "short",
    timeStyle: "short",
  });
}
