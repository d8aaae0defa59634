/**
 * The capacity section of a run page (`check --find-rate --html`): offered rate against P99 and
 * against achieved rate, one point per step, the SLO drawn as a line, and the step table.
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

const SLO_COLOR = "#999999";

/** The section, or "" when the report has no capacity search. */
export function capacitySection(c: CapacityRecord | undefined): string {
  if (!c) return "";
  const steps = [...c.steps].sort((a, b) => a.offered_rate - b.offered_rate);
  const maxRate = Math.max(1, ...steps.map((s) => s.offered_rate));
  const x = axisFromTicks("offered rate (ops/s)", linearTicks(maxRate));
  const p99: LineSeries[] = [
    {
      id: "p99",
      label: "P99 per step (ms)",
      color: COLORS.before,
      points: steps.map((s) => [s.offered_rate, s.p99_ms]),
    },
    {
      id: "slo",
      label: `SLO ${c.slo.p99_ms} ms`,
      color: SLO_COLOR,
      points: [[x.min, c.slo.p99_ms], [x.max, c.slo.p99_ms]],
    },
  ];
  const ys = [c.slo.p99_ms, ...steps.map((s) => s.p99_ms)].filter((v) => v > 0);
  const achieved: LineSeries[] = [
    {
      id: "achieved",
      label: "achieved rate per step (ops/s)",
      color: COLORS.after,
      points: steps.map((s) => [s.offered_rate, s.achieved_rate]),
    },
    {
      id: "offered",
      label: "achieved = offered",
      color: SLO_COLOR,
      points: [[x.min, x.min], [x.max, x.max]],
    },
  ];
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
    `<h3>P99 against offered rate</h3>` +
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
        linearTicks(Math.max(maxRate, ...steps.map((s) => s.achieved_rate))),
      ),
      series: achieved,
      height: 260,
    }) +
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
