// The dialogue typing effect: text appears a few characters per frame. A click, Enter,
// Space or Escape shows the rest at once; reduced motion shows everything immediately.
// Only text is typed (never markup), so it cannot inject anything.

const CHARS_PER_SECOND = 60;

/**
 * Type `text` into `el`. Returns {done: Promise, skip()}. `done` resolves when the whole text
 * is shown (typed or skipped).
 */
export function typeText(el, text, { speed = CHARS_PER_SECOND } = {}) {
  const full = String(text ?? "");
  let shown = 0;
  let frame = 0;
  let finish;
  const done = new Promise((resolve) => {
    finish = resolve;
  });
  const reduce = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
  el.textContent = "";
  el.setAttribute("aria-label", full);
  el.classList.add("typing");
  let started = performance.now();

  function complete() {
    cancelAnimationFrame(frame);
    el.textContent = full;
    el.classList.remove("typing");
    shown = full.length;
    finish();
  }
  function tick(now) {
    const target = Math.min(full.length, Math.floor(((now - started) / 1000) * speed) + 1);
    if (target > shown) {
      shown = target;
      el.textContent = full.slice(0, shown);
    }
    if (shown >= full.length) complete();
    else frame = requestAnimationFrame(tick);
  }
  if (reduce || full.length === 0) complete();
  else {
    started = performance.now();
    frame = requestAnimationFrame(tick);
  }
  return {
    done,
    skip: complete,
    get finished() {
      return shown >= full.length;
    },
  };
}
