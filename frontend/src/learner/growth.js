// The growth page (#/growth): success rate and self-ratings per week as charts (Chart.js,
// loaded only here) and the same numbers as a table, plus the free texts of the reflections.
import { api } from "../lib/api.js";
import { h, mount } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { drawChart, PALETTE } from "../lib/charts.js";
import { errorView } from "./common.js";
import { liveness, packId } from "./data.js";

const fmt = (value, digits = 1) => (value === null || value === undefined ? "—" : Number(value).toFixed(digits));
const pct = (value) => (value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`);

export async function growthView({ view }) {
  const live = liveness();
  let growth;
  try {
    growth = (await api("/api/growth", { query: { pack: packId() } })).growth;
  } catch (error) {
    if (live()) mount(view, errorView(error));
    return undefined;
  }
  if (!live()) return undefined;
  const weeks = growth.weeks;
  const labels = weeks.map((w) => t("dash.week", { week: w.week }));
  const successCanvas = h("canvas", { role: "img", "aria-label": t("growth.chartSuccess") });
  const ratingCanvas = h("canvas", { role: "img", "aria-label": t("growth.chartRatings") });
  const table = h(
    "table",
    { class: "growth-table" },
    h("caption", { text: t("growth.table") }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["growth.week", "growth.submissions", "growth.passed", "growth.rate", "growth.comprehension", "growth.application"].map((key) =>
          h("th", { scope: "col", text: t(key) }),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      weeks.map((w) =>
        h(
          "tr",
          { dataset: { week: w.week } },
          h("th", { scope: "row", text: t("dash.week", { week: w.week }) }),
          h("td", { text: String(w.submissions) }),
          h("td", { text: String(w.passed) }),
          h("td", { text: pct(w.success_rate) }),
          h("td", { text: fmt(w.comprehension) }),
          h("td", { text: fmt(w.application) }),
        ),
      ),
    ),
  );
  const written = weeks.filter((w) => w.feedback && (w.feedback.meaningful || w.feedback.difficult || w.feedback.curious));
  const texts = written.length
    ? h(
        "div",
        { class: "growth-texts" },
        written.map((w) =>
          h(
            "article",
            { class: "card growth-text" },
            h("h3", { text: t("dash.week", { week: w.week }) }),
            h(
              "dl",
              {},
              ["meaningful", "difficult", "curious"].map((key) =>
                w.feedback[key] ? [h("dt", { text: t(`refl.${key}`) }), h("dd", { text: w.feedback[key] })] : null,
              ),
            ),
          ),
        ),
      )
    : h("p", { class: "muted", text: t("growth.noTexts") });

  mount(
    view,
    h(
      "div",
      { class: "growth" },
      h("h1", { text: t("growth.title") }),
      h("p", { class: "muted", text: t("growth.summary", { submissions: growth.submissions, passed: growth.passed, completed: growth.completed }) }),
      h(
        "div",
        { class: "chart-grid" },
        h("section", { class: "card", "aria-labelledby": "chart-success" }, h("h2", { id: "chart-success", text: t("growth.success") }), h("div", { class: "chart-box" }, successCanvas)),
        h("section", { class: "card", "aria-labelledby": "chart-ratings" }, h("h2", { id: "chart-ratings", text: t("growth.ratings") }), h("div", { class: "chart-box" }, ratingCanvas)),
      ),
      // Scrolls sideways on a phone: a focusable, named region so the keyboard can scroll it.
      h("section", { class: "card table-card", tabindex: "0", role: "region", "aria-label": t("growth.table") }, table),
      h("section", { "aria-labelledby": "growth-texts" }, h("h2", { id: "growth-texts", text: t("growth.texts") }), texts),
    ),
  );

  const charts = [];
  let gone = false;
  const keep = (chart) => {
    if (gone) chart.destroy();
    else charts.push(chart);
  };
  drawChart(successCanvas, {
    type: "bar",
    data: {
      labels,
      datasets: [{ label: t("growth.successAxis"), data: weeks.map((w) => (w.success_rate === null ? null : Math.round(w.success_rate * 100))), backgroundColor: PALETTE[0] }],
    },
    options: { scales: { y: { min: 0, max: 100, title: { display: true, text: t("growth.successAxis") } } } },
  })
    .then(keep)
    .catch((error) => console.warn("chart", error));
  drawChart(ratingCanvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: t("growth.comprehension"), data: weeks.map((w) => w.comprehension), borderColor: PALETTE[1], backgroundColor: PALETTE[1], spanGaps: true },
        { label: t("growth.application"), data: weeks.map((w) => w.application), borderColor: PALETTE[2], backgroundColor: PALETTE[2], spanGaps: true },
      ],
    },
    options: { scales: { y: { min: 1, max: 5, ticks: { stepSize: 1 } } } },
  })
    .then(keep)
    .catch((error) => console.warn("chart", error));
  return () => {
    gone = true;
    for (const chart of charts) chart.destroy();
  };
}
