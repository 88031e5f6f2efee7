// The class report from GET /api/classes/{id}/analytics: success rate overall and per week
// (chart + table), the most-failed cycles, each student's progress, reflection averages per
// cycle (chart + table) and the feedback texts per week; CSV exports of progress and
// submissions. Every chart has an aria-label and a table with the same numbers; key figures
// carry data-stat / data-field hooks with their raw values.
import { api, download } from "../lib/api.js";
import { drawChart, PALETTE } from "../lib/charts.js";
import { formatTime, h, mount } from "../lib/dom.js";
import { locale, t } from "../lib/i18n.js";
import { notifyError } from "../lib/notices.js";
import {
  classApi,
  classHeader,
  cycleInfo,
  cycleLabel,
  dataTable,
  formatNumber,
  formatPercent,
  packOutline,
  position,
  safeFilename,
  routeGuard,
  setTitle,
  showLoadError,
} from "./shared.js";

function stat(name, label, value, text) {
  return h(
    "div",
    { class: "card ins-stat" },
    h("p", { class: "ins-stat-label", text: label }),
    h("p", { class: "ins-stat-value", dataset: { stat: name, value: value === null ? "" : String(value) }, text }),
  );
}

/** A cell with its raw value for tests and scripts (`data-value`), shown formatted. */
function valued(value, text) {
  return h("span", { dataset: { value: value === null || value === undefined ? "" : String(value) }, text });
}

function chartBox(label) {
  const canvas = h("canvas", { role: "img", "aria-label": label }, t("ins.report.chartFallback"));
  return { canvas, box: h("div", { class: "ins-chart" }, canvas) };
}

export async function reportView(ctx) {
  const { params, view } = ctx;
  const current = routeGuard();
  const classId = params.id;
  let detail;
  let analytics;
  try {
    [detail, analytics] = await Promise.all([
      api(classApi(classId)),
      api(classApi(classId, "/analytics")).then((d) => d.analytics),
    ]);
  } catch (error) {
    if (current()) showLoadError(view, error);
    return undefined;
  }
  const classroom = detail.class;
  const outline = await packOutline(classroom.pack_id);
  if (!current()) return undefined;
  setTitle(t("ins.report.title"), classroom.name);
  let alive = true;
  const charts = [];
  const { header } = classHeader(classroom, "report", t("ins.report.title"));
  const body = h("div", { class: "ins-report-body" });

  const exportButton = (what, label) => {
    const button = h("button", { type: "button", dataset: { export: what }, text: label });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await download(classApi(classId, `/export/${what}.csv`), safeFilename(classroom.name, what));
      } catch (error) {
        notifyError(error);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  };
  const refresh = h("button", { type: "button", class: "ghost", text: t("ins.report.refresh") });
  mount(
    view,
    h(
      "div",
      { class: "ins-page ins-report" },
      header,
      h(
        "div",
        { class: "row ins-report-tools" },
        exportButton("progress", t("ins.report.exportProgress")),
        exportButton("submissions", t("ins.report.exportSubmissions")),
        refresh,
      ),
      body,
    ),
  );

  function destroyCharts() {
    for (const chart of charts.splice(0)) chart.destroy();
  }

  function draw(canvas, config, box) {
    drawChart(canvas, config)
      .then((chart) => {
        if (alive && canvas.isConnected) charts.push(chart);
        else chart.destroy();
      })
      .catch(() => {
        if (alive) box.replaceChildren(h("p", { class: "muted", text: t("ins.report.chartFailed") }));
      });
  }

  function render(a) {
    destroyCharts();
    const weeksWithData = a.weeks;
    // -- key figures
    const figures = h(
      "section",
      { class: "ins-stats", "aria-labelledby": "ins-r-overall" },
      h("h2", { id: "ins-r-overall", text: t("ins.report.overall") }),
      h(
        "div",
        { class: "ins-stat-grid" },
        stat("students", t("ins.report.students"), a.students.length, formatNumber(a.students.length)),
        stat("submissions", t("ins.report.submissions"), a.submissions, formatNumber(a.submissions)),
        stat("passed", t("ins.report.passed"), a.passed, formatNumber(a.passed)),
        stat("success-rate", t("ins.report.successRate"), a.success_rate, formatPercent(a.success_rate)),
      ),
    );

    // -- per week: chart + table
    const rateChart = chartBox(t("ins.report.weekChartLabel"));
    const weeks = h(
      "section",
      { class: "card ins-report-section", "aria-labelledby": "ins-r-weeks" },
      h("h2", { id: "ins-r-weeks", text: t("ins.report.byWeek") }),
      rateChart.box,
      dataTable({
        caption: t("ins.report.byWeekTable"),
        columns: [
          { label: t("ins.report.week"), rowHeader: true },
          { label: t("ins.report.submissions"), numeric: true, field: "submissions" },
          { label: t("ins.report.passed"), numeric: true, field: "passed" },
          { label: t("ins.report.successRate"), numeric: true, field: "success-rate" },
        ],
        rows: weeksWithData.map((w) => ({
          attrs: { dataset: { week: String(w.week) } },
          cells: [
            t("ins.report.weekN", { week: w.week }),
            valued(w.submissions, formatNumber(w.submissions)),
            valued(w.passed, formatNumber(w.passed)),
            valued(w.success_rate, formatPercent(w.success_rate)),
          ],
        })),
      }),
    );

    // -- most failed cycles
    const failed = h(
      "section",
      { class: "card ins-report-section", "aria-labelledby": "ins-r-failed" },
      h("h2", { id: "ins-r-failed", text: t("ins.report.mostFailed") }),
      dataTable({
        caption: t("ins.report.mostFailedTable"),
        empty: t("ins.report.noFailures"),
        columns: [
          { label: t("ins.report.cycle"), rowHeader: true },
          { label: t("ins.report.week"), numeric: true, field: "week" },
          { label: t("ins.report.failures"), numeric: true, field: "failures" },
          { label: t("ins.report.submissions"), numeric: true, field: "submissions" },
        ],
        rows: a.most_failed.map((f) => ({
          attrs: { dataset: { cycle: f.cycle } },
          cells: [
            h("span", {}, cycleInfo(outline, f.cycle)?.title ?? f.title, " ", h("code", { class: "muted", text: f.cycle })),
            valued(f.week, String(f.week)),
            valued(f.failures, formatNumber(f.failures)),
            valued(f.submissions, formatNumber(f.submissions)),
          ],
        })),
      }),
    );

    // -- students
    const students = h(
      "section",
      { class: "card ins-report-section", "aria-labelledby": "ins-r-students" },
      h("h2", { id: "ins-r-students", text: t("ins.report.studentProgress") }),
      dataTable({
        caption: t("ins.report.studentTable"),
        empty: t("ins.monitor.noStudents"),
        columns: [
          { label: t("ins.monitor.student"), rowHeader: true },
          { label: t("ins.report.email") },
          { label: t("ins.monitor.position"), field: "position" },
          { label: t("ins.monitor.completed"), numeric: true, field: "completed" },
          { label: t("ins.monitor.lastActive"), field: "last-active" },
          { label: t("ins.monitor.status"), field: "status" },
        ],
        rows: a.students.map((s) => ({
          attrs: { dataset: { student: s.user_id } },
          cells: [
            s.name,
            s.email,
            position(s.week, s.cycle),
            valued(s.completed, formatNumber(s.completed)),
            h("time", { datetime: s.last_active ?? null, text: formatTime(s.last_active, locale()) }),
            h(
              "span",
              { class: "ins-status" },
              h("span", { class: ["dot", s.online && "online"], "aria-hidden": "true" }),
              h("span", { class: "ins-status-text", text: s.online ? t("ins.monitor.online") : t("ins.monitor.offline") }),
            ),
          ],
        })),
      }),
    );

    // -- reflections: chart + table
    const reflChart = chartBox(t("ins.report.reflectionChartLabel"));
    const reflections = h(
      "section",
      { class: "card ins-report-section", "aria-labelledby": "ins-r-refl" },
      h("h2", { id: "ins-r-refl", text: t("ins.report.reflections") }),
      a.reflections.length ? reflChart.box : null,
      dataTable({
        caption: t("ins.report.reflectionTable"),
        empty: t("ins.report.noReflections"),
        columns: [
          { label: t("ins.report.cycle"), rowHeader: true },
          { label: t("ins.report.week"), numeric: true, field: "week" },
          { label: t("ins.report.comprehension"), numeric: true, field: "comprehension" },
          { label: t("ins.report.application"), numeric: true, field: "application" },
          { label: t("ins.report.responses"), numeric: true, field: "count" },
        ],
        rows: a.reflections.map((r) => ({
          attrs: { dataset: { reflection: r.cycle } },
          cells: [
            cycleLabel(outline, r.cycle),
            valued(r.week, String(r.week)),
            valued(r.comprehension, formatNumber(r.comprehension, 2)),
            valued(r.application, formatNumber(r.application, 2)),
            valued(r.count, formatNumber(r.count)),
          ],
        })),
      }),
    );

    // -- feedback texts per week
    const kinds = [
      ["meaningful", t("ins.report.meaningful")],
      ["difficult", t("ins.report.difficult")],
      ["curious", t("ins.report.curious")],
    ];
    const feedback = h(
      "section",
      { class: "card ins-report-section", "aria-labelledby": "ins-r-feedback" },
      h("h2", { id: "ins-r-feedback", text: t("ins.report.feedback") }),
      a.feedback.length
        ? a.feedback.map((week) =>
            h(
              "section",
              { class: "ins-feedback-week", dataset: { feedbackWeek: String(week.week) }, "aria-labelledby": `ins-fb-${week.week}` },
              h("h3", { id: `ins-fb-${week.week}`, text: t("ins.report.weekN", { week: week.week }) }),
              h(
                "div",
                { class: "ins-feedback-grid" },
                kinds.map(([kind, label]) =>
                  h(
                    "div",
                    { class: "ins-feedback-kind", dataset: { kind } },
                    h("h4", { text: `${label} (${week[kind].length})` }),
                    week[kind].length
                      ? h("ul", {}, week[kind].map((text) => h("li", { text })))
                      : h("p", { class: "muted", text: t("ins.report.noTexts") }),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "muted", text: t("ins.report.noFeedback") }),
    );

    mount(body, figures, weeks, failed, students, reflections, feedback);

    const axisPercent = { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } };
    draw(
      rateChart.canvas,
      {
        type: "bar",
        data: {
          labels: a.weeks.map((w) => t("ins.report.weekShort", { week: w.week })),
          datasets: [
            {
              label: t("ins.report.successRate"),
              data: a.weeks.map((w) => (w.success_rate === null ? null : Math.round(w.success_rate * 1000) / 10)),
              backgroundColor: PALETTE[0],
            },
          ],
        },
        options: { scales: { y: axisPercent }, plugins: { legend: { display: false } } },
      },
      rateChart.box,
    );
    if (a.reflections.length) {
      draw(
        reflChart.canvas,
        {
          type: "bar",
          data: {
            labels: a.reflections.map((r) => cycleInfo(outline, r.cycle)?.title ?? r.cycle),
            datasets: [
              { label: t("ins.report.comprehension"), data: a.reflections.map((r) => r.comprehension), backgroundColor: PALETTE[1] },
              { label: t("ins.report.application"), data: a.reflections.map((r) => r.application), backgroundColor: PALETTE[2] },
            ],
          },
          options: { scales: { y: { min: 0, max: 5, ticks: { stepSize: 1 } } } },
        },
        reflChart.box,
      );
    }
  }

  render(analytics);
  refresh.addEventListener("click", async () => {
    refresh.disabled = true;
    try {
      const fresh = (await api(classApi(classId, "/analytics"))).analytics;
      if (alive) render(fresh);
    } catch (error) {
      notifyError(error);
    } finally {
      refresh.disabled = false;
    }
  });

  return () => {
    alive = false;
    destroyCharts();
  };
}
