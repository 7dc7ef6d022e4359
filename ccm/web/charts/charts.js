// The analytics charts (uPlot), bundled by `make editor` into ccm/web/static/charts/charts.js.
// Every element with `data-chart-src` (from ui/_analytics_chart.html) gets the daily series of the report
// its URL returns (/ui/analytics/data?...) as a line chart; `data-points` then holds the days drawn. If the
// fetch fails the element is hidden again, and the page's tables and links remain.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const SERIES = [
  ["sent", "Sent", "#1f5fa8"],
  ["delivered", "Delivered", "#2e7d32"],
  ["unique_opens", "Unique opens", "#7b3fa0"],
  ["unique_clicks", "Unique clicks", "#d9730d"],
  ["bounced", "Bounced", "#c62828"],
  ["unsubscribes", "Unsubscribes", "#5f6b7a"],
];
const HEIGHT = 260;
const DAY = 86400;
const DAY_STEPS = [1, 2, 7, 14, 28, 56, 91, 182].map((days) => days * DAY);
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6, 1e7];

/** An axis tick as month-day of the UTC day (`11-25`): the series has one point per day, never hours. */
function dayLabel(seconds) {
  return new Date(seconds * 1000).toISOString().slice(5, 10);
}

/** uPlot's stylesheet, beside this script (esbuild writes charts.css), added once to the page. */
function addStylesheet() {
  if (document.querySelector("link[data-charts-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("./charts.css", import.meta.url).href;
  link.dataset.chartsCss = "";
  document.head.append(link);
}

/** [x (UTC midnight, seconds), ...one array per series] from the report's `daily`. */
function columns(daily) {
  const x = daily.map((day) => Date.parse(`${day.day}T00:00:00Z`) / 1000);
  return [x, ...SERIES.map(([key]) => daily.map((day) => day[key]))];
}

function options(width) {
  return {
    width,
    height: HEIGHT,
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    series: [{ label: "Day" }, ...SERIES.map(([, label, stroke]) => ({ label, stroke, width: 2 }))],
    axes: [
      { incrs: DAY_STEPS, values: (_u, splits) => splits.map(dayLabel) },
      { size: 48, incrs: COUNT_STEPS },
    ],
  };
}

async function draw(element) {
  const response = await fetch(element.dataset.chartSrc, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`analytics data: HTTP ${response.status}`);
  const report = await response.json();
  element.hidden = false;
  const width = () => Math.max(element.clientWidth, 240);
  const plot = new uPlot(options(width()), columns(report.daily), element);
  element.dataset.points = String(report.daily.length);
  new ResizeObserver(() => {
    if (width() !== plot.width) plot.setSize({ width: width(), height: HEIGHT });
  }).observe(element);
}

addStylesheet();
for (const element of document.querySelectorAll("[data-chart-src]")) {
  draw(element).catch((error) => {
    element.hidden = true;
    element.dataset.chartError = String(error);
  });
}
