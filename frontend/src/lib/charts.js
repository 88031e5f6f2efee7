// Chart.js, loaded only when a page shows a chart (a separate chunk: the learning page
// never pays for it). Colours match the dark theme; every chart also gets a text summary
// from its caller (a table), so nothing is only visible as a picture.
let loading = null;

async function chartJs() {
  loading ??= import("chart.js/auto").then((module) => {
    const Chart = module.default;
    Chart.defaults.color = "#cbd5e1";
    Chart.defaults.borderColor = "#334155";
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    return Chart;
  });
  return loading;
}

export const PALETTE = ["#7dd3fc", "#a78bfa", "#86efac", "#fcd34d", "#fca5a5", "#f0abfc"];

/**
 * Draw a chart on `canvas` (which must have an aria-label). `config` is a Chart.js config.
 * Returns the Chart (call .destroy() when the view goes away).
 */
export async function drawChart(canvas, config) {
  const Chart = await chartJs();
  return new Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options ?? {}) },
  });
}
