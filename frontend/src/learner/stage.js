// The visual-novel stage: a drawn backdrop (SVG, no images), the speaker's portrait beside
// a dialogue box with name, role, title and the line typed out. The typed text is plain
// text taken from the sanitised pack HTML; when typing ends (or is skipped) the box shows
// that HTML through setSafeHtml. A click on the box, Enter, Space or Escape skips.
import { h, setSafeHtml } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { typeText } from "../lib/typing.js";
import { assetUrl } from "./data.js";

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const child of children) el.append(child);
  return el;
}

// A deterministic pseudo-random sequence so every backdrop looks the same each visit.
function seeded(seed) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

/** The backdrop for a kind of scene: office skyline, lecture board, sunrise, night… */
export function backdrop(kind) {
  const rand = seeded(kind.length * 7919 + 17);
  const svg = s("svg", { viewBox: "0 0 800 320", preserveAspectRatio: "xMidYMax slice", class: "vn-svg", "aria-hidden": "true", focusable: "false" });
  const group = s("g", { class: "vn-skyline" });
  let x = 0;
  while (x < 800) {
    const w = 50 + Math.floor(rand() * 70);
    const top = 90 + Math.floor(rand() * 140);
    group.append(s("rect", { x, y: top, width: w - 4, height: 320 - top, class: "vn-building" }));
    for (let wy = top + 12; wy < 300; wy += 22) {
      for (let wx = x + 8; wx < x + w - 14; wx += 16) {
        if (rand() < 0.45) group.append(s("rect", { x: wx, y: wy, width: 7, height: 10, class: rand() < 0.5 ? "vn-window lit" : "vn-window" }));
      }
    }
    x += w;
  }
  svg.append(group);
  if (kind === "lecture") {
    const board = s("g", { class: "vn-board" });
    board.append(s("rect", { x: 430, y: 24, width: 340, height: 170, rx: 10 }));
    for (let i = 0; i < 6; i += 1) {
      board.append(s("rect", { x: 456 + (i % 2) * 20, y: 48 + i * 22, width: 120 + Math.floor(rand() * 150), height: 7, rx: 3, class: "vn-chalk" }));
    }
    svg.append(board);
  } else if (kind === "reflection" || kind === "finale") {
    const sky = s("g", { class: "vn-stars" });
    for (let i = 0; i < 60; i += 1) sky.append(s("circle", { cx: Math.floor(rand() * 800), cy: Math.floor(rand() * 160), r: rand() < 0.2 ? 2 : 1 }));
    svg.append(sky);
    svg.append(s("circle", { cx: 680, cy: 60, r: 26, class: "vn-moon" }));
  } else if (kind === "intro") {
    svg.append(s("circle", { cx: 640, cy: 150, r: 60, class: "vn-sun" }));
  } else if (kind === "success") {
    const bits = s("g", { class: "vn-confetti" });
    for (let i = 0; i < 40; i += 1) {
      bits.append(s("rect", { x: Math.floor(rand() * 800), y: Math.floor(rand() * 200), width: 6, height: 10, rx: 2, class: `c${i % 4}`, transform: `rotate(${Math.floor(rand() * 90)})` }));
    }
    svg.append(bits);
  }
  // The desk in front: it anchors the portrait.
  svg.append(s("rect", { x: 0, y: 296, width: 800, height: 24, class: "vn-desk" }));
  return h("div", { class: "vn-backdrop", "aria-hidden": "true" }, svg);
}

const BLOCKS = new Set(["P", "DIV", "PRE", "LI", "BLOCKQUOTE", "H1", "H2", "H3", "H4", "TR", "DT", "DD", "UL", "OL", "TABLE"]);

/** The plain text of (sanitised) pack HTML with paragraph breaks kept, for typing. */
export function dialogueText(html) {
  const holder = setSafeHtml(document.createElement("div"), html);
  const parts = [];
  function walk(node, inPre) {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        parts.push(inPre ? child.textContent : child.textContent.replace(/\s+/g, " "));
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const block = BLOCKS.has(child.tagName);
        if (block) parts.push("\n\n");
        if (child.tagName === "BR") parts.push("\n");
        if (child.tagName === "LI") parts.push("• ");
        walk(child, inPre || child.tagName === "PRE");
        if (block) parts.push("\n\n");
      }
    }
  }
  walk(holder, false);
  return parts
    .join("")
    .replace(/[ \t]*\n[ \t]*\n\s*/g, "\n\n")
    .replace(/^\s+|\s+$/g, "");
}

const SKIP_KEYS = new Set(["Enter", " ", "Escape", "Spacebar", "Esc"]);

function typingTarget(target) {
  return target instanceof Element && Boolean(target.closest("input, textarea, select, dialog, .cm-editor, [contenteditable]"));
}

/**
 * A story scene. Options: kind (backdrop), character {name, role, portrait}, title, subtitle,
 * html (sanitised pack HTML) or plain (text), extra (nodes under the dialogue), badge
 * ({kind, text}: the feedback outcome).
 * Returns {el, skip(), stop(), done, text (plain text shown)}; call stop() when leaving.
 */
export function storyScene({ kind = "office", character, title, subtitle, html, plain, extra, badge }) {
  const text = plain !== undefined ? String(plain ?? "") : dialogueText(html);
  const portraitSrc = assetUrl(character?.portrait);
  const typed = h("div", { class: "vn-text typed", "aria-hidden": "true" });
  const spoken = h("div", { class: "sr-only" }, text);
  const final = h("div", { class: "vn-text pack-html", hidden: true });
  const hint = h("p", { class: "vn-skip-hint", text: t("scene.skipHint") });
  const heading = h("h1", { class: "vn-title", tabindex: "-1", text: title });
  const box = h(
    "div",
    { class: "vn-box" },
    h(
      "p",
      { class: "vn-nameplate" },
      h("span", { class: "vn-speaker", text: character?.name ?? "" }),
      character?.role ? h("span", { class: "vn-role", text: character.role }) : null,
    ),
    badge ? h("p", { class: ["badge", "vn-badge", badge.kind], text: badge.text }) : null,
    heading,
    subtitle ? h("p", { class: "vn-subtitle", text: subtitle }) : null,
    spoken,
    typed,
    final,
    hint,
  );
  const el = h(
    "section",
    { class: ["vn", `vn-${kind}`], "aria-labelledby": "vn-title" },
    backdrop(kind),
    h(
      "div",
      { class: "vn-cast" },
      h(
        "figure",
        { class: "vn-portrait" },
        portraitSrc ? h("img", { src: portraitSrc, alt: "", width: 200, height: 200, decoding: "async" }) : h("span", { class: "vn-portrait-empty" }),
      ),
      box,
    ),
    extra ? h("div", { class: "vn-extra" }, extra) : null,
  );
  heading.id = "vn-title";
  const typing = typeText(typed, text);
  // typeText puts the full text in an aria-label; the sr-only copy says it instead.
  typed.removeAttribute("aria-label");
  const done = typing.done.then(() => {
    if (plain !== undefined) final.replaceChildren(h("p", { text }));
    else setSafeHtml(final, html);
    typed.remove();
    spoken.remove();
    hint.remove();
    final.hidden = false;
    el.classList.add("typed-out");
  });
  function onKey(event) {
    if (typing.finished || !SKIP_KEYS.has(event.key) || typingTarget(event.target)) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    typing.skip();
  }
  box.addEventListener("click", (event) => {
    if (!typing.finished && !(event.target instanceof Element && event.target.closest("a, button"))) typing.skip();
  });
  document.addEventListener("keydown", onKey, true);
  return {
    el,
    heading,
    text,
    done,
    skip: () => typing.skip(),
    stop() {
      document.removeEventListener("keydown", onKey, true);
      if (!typing.finished) typing.skip();
    },
  };
}
