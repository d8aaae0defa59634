/**
 * `m17_compare --history --html`: a self-contained page per milestone. For each series (internal,
 * competitive) and each of P99 and throughput: a chart of each task's own step (a bar, with its
 * 95% interval as a whisker where compare has one) and the cumulative change from the
 * milestone's first before run (a line), against the budget (dashed); then the values of every
 * run in time order with the change points marked, and the tables of the text output.
 * @module
 */
import type { MilestoneHistory } from "../verdict/history.ts";
import { METRIC } from "../verdict/metrics.ts";
import { axisFromTicks, escapeHtml as esc, linearTicks, lineChart, tickLabel } from "./plot.ts";
import { note, page, table } from "./html_parts.ts";
import { COLORS } from "./html_parts.ts";
import {
  breachText,
  comparabilityWord,
  type HistoryView,
  stepText,
  whenText,
} from "./history_text.ts";
import { formatChange, formatPValue, thresholdWords } from "./format.ts";

/** The page. */
export function renderHistoryHtml(v: HistoryView): string {
  const sections = v.histories.map(seriesSection);
  const warnings = v.warnings.length === 0
    ? ""
    : `<section class="warnings"><h2>Warnings</h2>${v.warnings.map(note).join("")}</section>`;
  return page(`m17 milestone history: ${v.dir}`, [
    `<header><h1>Milestone history</h1><p class="sub">${esc(v.dir)}${
      v.log ? ` and ${esc(v.log)}` : ""
    }</p></header>`,
    warnings,
    ...sections,
    `<section id="definitions"><h2>Definitions</h2><dl>` +
    DEFINITIONS.map(([t, d]) => `<dt>${esc(t)}</dt><dd>${esc(d)}</dd>`).join("") +
    `</dl></section>`,
  ]);
}

const DEFINITIONS: [string, string][] = [
  [
    "Step",
    "A task's own change, its newest after run(s) against its newest before run(s), as `compare <task>` computes it (medians over repeated runs; a 95% bootstrap interval with one run per side).",
  ],
  [
    "Adds",
    "The step relative to the milestone's first before value: (after − before) / first before × 100 (errors: the count difference).",
  ],
  [
    "Cumulative",
    "From the milestone's first before run(s) to a task's after run(s), in % of the first before value; for the milestone, to the latest after run(s).",
  ],
  [
    "Chained steps",
    "Π(1 + step/100) − 1 over the included tasks: the cumulative change if each task's step held on one host.",
  ],
  [
    "Budget",
    "The milestone's limit on the cumulative change (compare's rule: P99 above +budget, throughput below −budget, more errors).",
  ],
  [
    "Comparable",
    "Same scenario, rate, duration, workload, settings, target kind, server, checkout and host as the milestone's first run (compare's rule); tasks that are not are excluded, log figures and old-tool reports are unchecked.",
  ],
  [
    "Change point",
    "E-Divisive means (Matteson & James 2014) over the values of all runs in time order: a split kept at permutation p ≤ 0.05 and a median shift of at least 5%.",
  ],
];

function seriesSection(h: MilestoneHistory): string {
  const verdict = h.breaches.length === 0
    ? `<p class="badge">WITHIN BUDGET</p><p class="headline">budget ${
      esc(thresholdWords(h.budget))
    }</p>`
    : `<p class="badge">BUDGET EXCEEDED</p>${
      h.breaches.map((b) => `<p class="headline">${esc(breachText(h, b))}</p>`).join("")
    }`;
  const rows = h.tasks.map((t) => [
    esc(t.task),
    esc(whenText(t.startedMs)),
    esc(comparabilityWord(t)),
    esc(stepText("p99", t.step.p99)),
    esc(stepText("throughput", t.step.throughput)),
    esc(stepText("errors", t.step.errors)),
    esc(t.cumulative.p99 === null ? "–" : formatChange(t.cumulative.p99)),
  ]);
  const points = h.changePoints.map((cp) => [
    esc(METRIC[cp.metric].name),
    esc(`${cp.run.task} ${cp.run.phase}`),
    esc(cp.shiftPct === null ? "from 0" : formatChange(cp.shiftPct)),
    esc(formatPValue(cp.pValue)),
    `<code>${esc(cp.run.path)}</code>`,
  ]);
  const excluded = h.tasks.flatMap((t) =>
    t.comparability.kind === "excluded"
      ? [note(`Excluded task ${t.task}: ${t.comparability.problems.join("; ")}`)]
      : []
  );
  return `<section class="verdict ${h.breaches.length === 0 ? "verdict-pass" : "verdict-fail"}">` +
    `<h2>${h.mode} series</h2>${verdict}</section>` +
    `<section><h2>Steps and cumulative change (${h.mode})</h2>` +
    stepChart(h, "p99") + stepChart(h, "throughput") +
    table(
      ["Task", "Measured", "Comparable", "P99", "Throughput", "Errors", "Cumulative P99"],
      rows,
      3,
    ) +
    excluded.join("") + `</section>` +
    `<section><h2>All runs and change points (${h.mode})</h2>` +
    runsChart(h, "p99") + runsChart(h, "throughput") +
    (points.length === 0
      ? note("No change point.")
      : table(["Metric", "Falls on", "Shift", "p", "Run"], points, 2)) +
    `</section>`;
}

const W = 880, H = 260, L = 70, R = 24, T = 14, B = 50;

/** Bars of each included task's step (whisker: interval), the cumulative line, the budget. */
function stepChart(h: MilestoneHistory, metric: "p99" | "throughput"): string {
  const tasks = h.tasks.filter((t) => t.comparability.kind !== "excluded");
  if (tasks.length === 0) return "";
  const budget = metric === "p99" ? h.budget.p99Pct : -h.budget.throughputPct;
  const values = tasks.flatMap((t) => [
    t.step[metric].changePct,
    ...(t.step[metric].ci ?? []),
    t.cumulative[metric],
  ]).filter((v): v is number => v !== null);
  const lo = Math.min(0, budget, ...values), hi = Math.max(0, budget, ...values);
  const span = hi - lo || 1;
  const y = (v: number) => T + (hi - v) / span * (H - T - B);
  const slot = (W - L - R) / tasks.length;
  const x = (i: number) => L + slot * (i + 0.5);
  const f = (n: number) => String(Math.round(n * 10) / 10);
  const out = [
    `<svg class="chart" data-plot="history-${metric}" viewBox="0 0 ${W} ${H}" role="img" ` +
    `aria-label="${esc(METRIC[metric].name)} per task">` +
    `<title>${esc(METRIC[metric].name)}: step per task and cumulative change</title>`,
    `<g class="axis"><rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}"/>`,
  ];
  for (const v of new Set([lo, 0, budget, hi])) {
    out.push(
      `<text x="${L - 6}" y="${f(y(v) + 4)}" text-anchor="end">${esc(formatChange(v))}</text>`,
    );
  }
  tasks.forEach((t, i) => {
    out.push(`<text x="${f(x(i))}" y="${H - B + 18}" text-anchor="middle">${esc(t.task)}</text>`);
  });
  out.push(
    `<text class="title" x="${(L + W - R) / 2}" y="${
      H - 8
    }" text-anchor="middle">task (in measured order)</text></g>`,
    `<line data-budget="${budget}" x1="${L}" x2="${W - R}" y1="${f(y(budget))}" y2="${
      f(y(budget))
    }" stroke="#cf222e" stroke-dasharray="6 4"/>`,
    `<line x1="${L}" x2="${W - R}" y1="${f(y(0))}" y2="${f(y(0))}" stroke="#9aa5b1"/>`,
  );
  tasks.forEach((t, i) => {
    const step = t.step[metric].changePct;
    if (step === null) return;
    const top = Math.min(y(step), y(0)), height = Math.abs(y(step) - y(0));
    out.push(
      `<rect data-step="${esc(t.task)}" x="${f(x(i) - slot * 0.25)}" y="${f(top)}" width="${
        f(slot * 0.5)
      }" ` +
        `height="${f(Math.max(1, height))}" fill="${COLORS.before}" opacity="0.7"><title>${
          esc(`task ${t.task} step ${formatChange(step)}`)
        }</title></rect>`,
    );
    const ci = t.step[metric].ci;
    if (ci) {
      out.push(
        `<line data-interval="${esc(t.task)}" x1="${f(x(i))}" x2="${f(x(i))}" y1="${
          f(y(ci[0]))
        }" ` +
          `y2="${f(y(ci[1]))}" stroke="#1d2125" stroke-width="1.5"/>`,
      );
    }
  });
  const line = tasks.flatMap((t, i) =>
    t.cumulative[metric] === null ? [] : [`${f(x(i))},${f(y(t.cumulative[metric]!))}`]
  );
  out.push(
    `<polyline class="series" data-series="cumulative" data-points="${line.length}" stroke="${COLORS.after}" ` +
      `points="${line.join(" ")}"><title>cumulative change</title></polyline></svg>`,
  );
  return `<h3>${
    esc(METRIC[metric].name)
  }: step per task (bars, 95% interval where compare has one), cumulative (line), budget (dashed)</h3>` +
    out.join("");
}

/** The values of every included run in time order. */
function runsChart(h: MilestoneHistory, metric: "p99" | "throughput"): string {
  const points = h.series[metric];
  if (points.length === 0) return "";
  const max = Math.max(...points.map((p) => p.value));
  const marks = h.changePoints.filter((c) => c.metric === metric).map((c) => c.run.path);
  const xTicks = linearTicks(points.length, 8, true);
  return `<h3>${esc(METRIC[metric].label)} of every run${
    marks.length ? `; change points at ${esc(marks.length.toString())} run(s)` : ""
  }</h3>` +
    lineChart({
      plot: `runs-${metric}`,
      title: `${METRIC[metric].label} of every run in time order`,
      x: axisFromTicks("run (in time order)", xTicks),
      y: axisFromTicks(METRIC[metric].label, linearTicks(max)),
      series: [{
        id: metric,
        label: METRIC[metric].label,
        color: COLORS.before,
        points: points.map((p, i) => [i + 1, p.value]),
      }],
    }) +
    (marks.length === 0
      ? ""
      : note(`Change points fall on: ${
        h.changePoints.filter((c) => c.metric === metric).map((c) =>
          `run ${
            points.findIndex((p) => p.path === c.run.path) + 1
          } (task ${c.run.task} ${c.run.phase}, ${tickLabel(c.before)} → ${tickLabel(c.after)})`
        ).join("; ")
      }`));
}
