// Pieces every instructor page uses: the class header with its tabs, tables that scroll on
// a phone, number formats, the pack outline (cycle titles, cast names) and load errors.
// Everything a user typed goes in as text (h() makes text nodes), never as markup.
import { api } from "../lib/api.js";
import { h, mount } from "../lib/dom.js";
import { locale, t } from "../lib/i18n.js";
import { rerender } from "../lib/router.js";

export function classPath(classId, page = "") {
  return `/instructor/class/${encodeURIComponent(classId)}${page ? `/${page}` : ""}`;
}

export function classApi(classId, rest = "") {
  return `/api/classes/${encodeURIComponent(classId)}${rest}`;
}

/** t() with a count: the `.one` variant of `key` for exactly one. */
export function tn(key, count, vars = {}) {
  return t(count === 1 ? `${key}.one` : key, { count, ...vars });
}

export function setTitle(...parts) {
  document.title = [...parts.filter(Boolean), t("app.name")].join(" · ");
}

let uid = 0;
/** A unique element id (labels, aria-describedby). */
export function nextId(prefix) {
  uid += 1;
  return `ins-${prefix}-${uid}`;
}

/** Text only a screen reader reads (the visible form is elsewhere, e.g. a coloured dot). */
export function srOnly(text) {
  return h("span", { class: "ins-sr-only", text });
}

/**
 * The header of a class page: the class's name, its invite code and the tabs (Monitor,
 * Questions with an unanswered-count badge, Report). Returns {header, setUnanswered(n)}.
 */
export function classHeader(classroom, active, title) {
  const badge = h("span", { class: "badge ins-count", hidden: true, dataset: { unanswered: "0" } });
  const tab = (page, label, extra) =>
    h(
      "li",
      {},
      h(
        "a",
        {
          href: `#${classPath(classroom.id, page)}`,
          "aria-current": active === (page || "monitor") ? "page" : null,
          dataset: { tab: page || "monitor" },
        },
        label,
        extra,
      ),
    );
  const header = h(
    "header",
    { class: "ins-page-head" },
    h("p", { class: "ins-crumbs" }, h("a", { href: "#/instructor", text: t("ins.nav.classes") }), " / "),
    h("h1", { tabindex: "-1", class: "ins-title" }, h("span", { text: title }), " ", h("span", { class: "ins-class-name", text: classroom.name })),
    h(
      "p",
      { class: "muted ins-head-meta" },
      t("ins.classes.inviteCode"),
      ": ",
      h("code", { class: "ins-code-inline", text: classroom.invite_code }),
    ),
    h(
      "nav",
      { class: "ins-tabs", "aria-label": t("ins.tabs.label") },
      h(
        "ul",
        {},
        tab("", t("ins.tabs.monitor")),
        tab("questions", t("ins.tabs.questions"), [" ", badge]),
        tab("report", t("ins.tabs.report")),
      ),
    ),
  );
  return {
    header,
    setUnanswered(count) {
      badge.hidden = !count;
      badge.dataset.unanswered = String(count);
      mount(badge, String(count), srOnly(` ${t("ins.questions.unansweredShort")}`));
    },
  };
}

/**
 * A table in a region that scrolls sideways on narrow screens (keyboard-focusable so it can
 * be scrolled without a mouse). `columns`: [{label, numeric}], `rows`: [{cells, attrs}].
 */
export function dataTable({ caption, columns, rows, empty, className }) {
  const table = h(
    "table",
    { class: ["ins-table", className] },
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null, text: c.label })))),
    h(
      "tbody",
      {},
      rows.length
        ? rows.map((row) =>
            h(
              "tr",
              row.attrs ?? {},
              row.cells.map((cell, i) => {
                const col = columns[i];
                const attrs = { class: col.numeric ? "num" : null, dataset: col.field ? { field: col.field } : undefined };
                return i === 0 && col.rowHeader ? h("th", { ...attrs, scope: "row" }, cell) : h("td", attrs, cell);
              }),
            ),
          )
        : h("tr", {}, h("td", { colspan: columns.length, class: "muted", text: empty ?? t("ins.empty") })),
    ),
  );
  return h("div", { class: "ins-table-wrap", role: "region", tabindex: "0", "aria-label": caption }, table);
}

function localeTag() {
  return locale() === "ko" ? "ko-KR" : "en-GB";
}

export function formatPercent(rate) {
  if (rate === null || rate === undefined) return "—";
  return new Intl.NumberFormat(localeTag(), { style: "percent", maximumFractionDigits: 1 }).format(rate);
}

export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(localeTag(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

/** "Week 2 · Cycle 3". */
export function position(week, cycle) {
  return t("ins.position", { week, cycle });
}

const outlines = new Map();
/** The pack's outline in the interface language (cycle titles, cast names); null if it fails. */
export function packOutline(packId) {
  const key = `${packId}:${locale()}`;
  if (!outlines.has(key)) {
    outlines.set(
      key,
      api(`/api/packs/${encodeURIComponent(packId)}`, { query: { locale: locale() } })
        .then((data) => data.pack)
        .catch(() => {
          outlines.delete(key);
          return null;
        }),
    );
  }
  return outlines.get(key);
}

/** {week, position, title} of a cycle id in an outline, or null. */
export function cycleInfo(outline, cycleId) {
  if (!outline || !cycleId) return null;
  for (const week of outline.weeks) {
    for (const cycle of week.cycles) if (cycle.id === cycleId) return { week: week.number, position: cycle.position, title: cycle.title };
  }
  return null;
}

/** A cycle's readable name: its title (and id) when the outline knows it, else the id. */
export function cycleLabel(outline, cycleId) {
  const info = cycleInfo(outline, cycleId);
  return info ? `${info.title} (${cycleId})` : cycleId || "—";
}

export function characterName(outline, id) {
  if (!id) return "";
  return outline?.cast.find((c) => c.id === id)?.name ?? id;
}

/** A check for views that load before they draw: false once the route has changed (the
 * next route owns the page then, and a late answer must not draw over it). */
export function routeGuard() {
  const here = location.hash;
  return () => location.hash === here;
}

/** Fill `view` with a load error (unknown class, not yours, offline) and a way on. "Try
 * again" renders the route again (so the new view's cleanup is the router's to call). */
export function showLoadError(view, error) {
  const retry = () => rerender();
  const gone = error?.status === 404 || error?.status === 403;
  mount(
    view,
    h(
      "section",
      { class: "card ins-load-error", role: "alert" },
      h("h1", { text: gone ? t("ins.error.noClass") : t("ins.error.load") }),
      h("p", { text: error?.message ?? String(error) }),
      h(
        "p",
        { class: "row" },
        !gone ? h("button", { type: "button", class: "primary", text: t("ins.retry"), onclick: retry }) : null,
        h("a", { href: "#/instructor", text: t("ins.backToClasses") }),
      ),
    ),
  );
}

/** A file name that every browser accepts (ASCII letters, digits, dot, dash, underscore). */
export function safeFilename(name, what) {
  const base = String(name ?? "").replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "");
  return `${base || "class"}_${what}.csv`;
}
