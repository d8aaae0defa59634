/**
 * The capacity plots of `check --find-rate`: offered rate against P99 and against achieved rate,
 * one point per step, the SLO drawn as a line; with the step table on the run page
 * (`check --html`), one line per side on the compare page (`compare --html`).
 * @module
 */
import { describeCapacity } from "../report/capacity.ts";
import type { CapacityRecord } from "../report/schema.ts";
import { formatOps } from "./format.ts";
import { COLORS, note, table } from "./html_parts.ts";
import {
  axisFromTicks,
  escapeHtml as esc,
  linearTicks,
  lineChart,
  type LineSeries,
  logTicks,
} from "./plot.ts";

const GREY = "#999999";

/** One search to draw: a run's, or one side's of a comparison. */
export interface CapacitySide {
  /** Goes into the series ids (`capacity-p99-<id>`, `capacity-achieved-<id>`). */
  id: string;
  label: string;
  color: string;
  capacity: CapacityRecord;
}

/**
 * Offered rate against P99 (log axis, each side's SLO as a grey line) and against achieved rate
 * (the grey diagonal is achieved = offered), one line per side through its steps.
 */
export function capacityCharts(sides: CapacitySide[]): string {
  const sorted = sides.map((side) => ({
    side,
    steps: [...side.capacity.steps].sort((a, b) => a.offered_rate - b.offered_rate),
  }));
  const all = sorted.flatMap((x) => x.steps);
  const maxRate = Math.max(1, ...all.map((s) => s.offered_rate));
  const x = axisFromTicks("offered rate (ops/s)", linearTicks(maxRate));
  const slos = [...new Set(sides.map((d) => d.capacity.slo.p99_ms))];
  const p99: LineSeries[] = [
    ...sorted.map(({ side, steps }) => ({
      id: `capacity-p99-${side.id}`,
      label: `${side.label}: P99 per step (ms)`,
      color: side.color,
      points: steps.map((s) => [s.offered_rate, s.p99_ms] as [number, number]),
    })),
    ...slos.map((slo) => ({
      id: "slo",
      label: `SLO ${slo} ms`,
      color: GREY,
      points: [[x.min, slo], [x.max, slo]] as [number, number][],
    })),
  ];
  const ys = [...slos, ...all.map((s) => s.p99_ms)].filter((v) => v > 0);
  const achieved: LineSeries[] = [
    ...sorted.map(({ side, steps }) => ({
      id: `capacity-achieved-${side.id}`,
      label: `${side.label}: achieved rate per step (ops/s)`,
      color: side.color,
      points: steps.map((s) => [s.offered_rate, s.achieved_rate] as [number, number]),
    })),
    {
      id: "offered",
      label: "achieved = offered",
      color: GREY,
      points: [[x.min, x.min], [x.max, x.max]],
    },
  ];
  return `<h3>P99 against offered rate</h3>` +
    lineChart({
      plot: "capacity-p99",
      title: "P99 response time per step against offered rate",
      x,
      y: axisFromTicks("P99 (ms)", logTicks(Math.min(...ys), Math.max(...ys)), true),
      series: p99,
      height: 260,
    }) +
    `<h3>Achieved against offered rate</h3>` +
    lineChart({
      plot: "capacity-achieved",
      title: "Achieved rate per step against offered rate",
      x,
      y: axisFromTicks(
        "achieved (ops/s)",
        linearTicks(Math.max(maxRate, ...all.map((s) => s.achieved_rate))),
      ),
      series: achieved,
      height: 260,
    });
}

/** The run page's section, or "" when the report has no capacity search. */
export function capacitySection(c: CapacityRecord | undefined): string {
  if (!c) return "";
  const rows = c.steps.map((s) => [
    String(s.index),
    esc(s.phase),
    formatOps(s.offered_rate),
    formatOps(s.achieved_rate),
    `${s.p99_censored ? "≥" : ""}${s.p99_ms.toFixed(3)}`,
    `${s.errors} (${(s.error_rate * 100).toFixed(2)}%)`,
    s.pass ? "pass" : "FAIL",
  ]);
  return `<section id="capacity"><h2>Capacity search (--find-rate)</h2>` +
    `<p class="headline">${esc(describeCapacity(c))}</p>` +
    capacityCharts([{ id: "run", label: "Run", color: COLORS.before, capacity: c }]) +
    table(
      ["Step", "Phase", "Offered (ops/s)", "Achieved (ops/s)", "P99 (ms)", "Errors", "SLO"],
      rows,
      2,
    ) +
    note(
      `Steps of ${c.search.step_warmup_seconds} s warm-up + ${c.search.step_seconds} s measured on one server start; ` +
        `the headline numbers above are the full-length run at the rate found.`,
    ) +
    `</section>`;
}
