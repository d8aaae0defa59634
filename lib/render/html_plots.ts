/**
 * The plot sections of the HTML pages: the percentile spectrum (response time over
 * log10(1/(1−p)), P50 to P99.99, from the merged histogram), P99 and throughput per second,
 * and P99 per operation.
 *
 * @example
 * ```ts
 * import { ok, strictEqual } from "node:assert/strict";
 * import { spectrumPercentiles } from "./html_plots.ts";
 * const ps = spectrumPercentiles(5);
 * strictEqual(ps[0], 50);
 * ok(Math.abs(ps[4] - 99.99) < 1e-9);
 * ```
 * @module
 */
import {
  axisFromTicks,
  barChart,
  linearTicks,
  lineChart,
  type LineSeries,
  logTicks,
} from "./plot.ts";
import {
  DASH,
  intervalsOf,
  legend,
  maxMs,
  note,
  percentileMs,
  type RunView,
  table,
} from "./html_parts.ts";
import { isLowerBound, lowerBoundMark, runCensoring } from "../report/censoring.ts";

/** Points of the percentile spectrum: evenly spaced in log10(1/(1−p)) from P50 to P99.99. */
export const SPECTRUM_POINTS = 61;

/** The spectrum's x-axis ticks (percent). */
export const SPECTRUM_TICKS = [50, 90, 99, 99.9, 99.99] as const;

/** log10(1/(1−p)) for p in percent: the spectrum's x coordinate (50% → 0.301, 99.99% → 4). */
export function spectrumX(pct: number): number {
  return Math.log10(100 / (100 - pct));
}

/** `n` percentiles (in percent) evenly spaced on the spectrum's x axis, P50 first, P99.99 last. */
export function spectrumPercentiles(n = SPECTRUM_POINTS): number[] {
  const lo = spectrumX(50);
  const hi = spectrumX(99.99);
  return Array.from({ length: n }, (_, i) => {
    const x = lo + (hi - lo) * i / (n - 1);
    return 100 - 100 / 10 ** x;
  });
}

function pct(p: number): string {
  return `${Number(p.toFixed(2))}%`;
}

/** The percentile spectrum of the runs: a plot over log10(1/(1−p)) and a table of ticks. */
export function spectrumSection(views: RunView[]): string {
  const ps = spectrumPercentiles();
  const series: LineSeries[] = views.filter((v) => v.histogram).map((v) => ({
    id: v.id,
    label: v.label,
    color: v.color,
    points: ps.map((p) => [spectrumX(p), percentileMs(v, p)]),
  }));
  const missing = views.filter((v) => !v.histogram).map((v) =>
    `${v.label}: no response-time histogram (an old load-test report or an empty run), so no spectrum.`
  );
  const out = [
    `<section id="spectrum"><h2>Percentile spectrum</h2>`,
    `<p class="explain">Response time at each percentile of all measured requests, from the ` +
    `merged HdrHistogram. The x axis is spaced by log<sub>10</sub>(1/(1−p)), so each step ` +
    `right is ten times rarer; the y axis is logarithmic. A value marked ≥ is a lower bound: ` +
    `its rank falls among the requests that timed out (censored at the timeout).</p>`,
    legend(views),
  ];
  if (series.length > 0) {
    const ys = series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => y > 0);
    const yTicks = ys.length > 0 ? logTicks(Math.min(...ys), Math.max(...ys)) : logTicks(0.1, 1);
    out.push(lineChart({
      plot: "spectrum",
      title: "Response time by percentile",
      x: {
        title: "percentile",
        min: spectrumX(50),
        max: spectrumX(99.99),
        ticks: SPECTRUM_TICKS.map((p) => ({ value: spectrumX(p), label: pct(p) })),
      },
      y: axisFromTicks("response time (ms, log scale)", yTicks, true),
      series,
    }));
    // A percentile whose rank falls among the timed-out requests is a lower bound: `≥`.
    const at = (v: RunView, p: number | "max") => {
      if (!v.histogram) return DASH;
      const censoring = v.report && runCensoring(v.report);
      const bound = lowerBoundMark(isLowerBound(censoring, p === "max" ? 100 : p));
      return `${bound}${(p === "max" ? maxMs(v) : percentileMs(v, p)).toFixed(3)}`;
    };
    const rows = ([...SPECTRUM_TICKS, "max"] as const).map((p) => [
      p === "max" ? "max" : `P${Number(p.toFixed(2))}`,
      ...views.map((v) => at(v, p)),
    ]);
    out.push(table(["Response time (ms)", ...views.map((v) => v.label)], rows));
  }
  out.push(...missing.map(note), `</section>`);
  return out.join("");
}

/** P99 and throughput per second of the measured window, one line per run. */
export function perSecondSection(views: RunView[]): string {
  const withIntervals = views.filter((v) => intervalsOf(v).length > 0);
  const lastSecond = Math.max(
    1,
    ...withIntervals.flatMap((v) => intervalsOf(v).map((i) => i.second)),
  );
  const xTicks = linearTicks(lastSecond, 6, true);
  const x = axisFromTicks("second of the measured window", xTicks);
  // Empty seconds have no P99; they are left out of the P99 line rather than drawn as 0.
  const p99: LineSeries[] = withIntervals.map((v) => ({
    id: v.id,
    label: v.label,
    color: v.color,
    points: intervalsOf(v).filter((i) => i.count > 0).map((i) => [i.second, i.p99_ms]),
  }));
  const throughput: LineSeries[] = withIntervals.map((v) => ({
    id: v.id,
    label: v.label,
    color: v.color,
    points: intervalsOf(v).map((i) => [i.second, i.completed ?? i.count]),
  }));
  const maxOf = (s: LineSeries[]) => Math.max(0, ...s.flatMap((l) => l.points.map(([, y]) => y)));
  const out = [`<section id="timeline"><h2>Over the run</h2>`, legend(views)];
  if (withIntervals.length > 0) {
    out.push(
      `<h3>P99 response time per second</h3>`,
      lineChart({
        plot: "p99-per-second",
        title: "P99 response time per second",
        x,
        y: axisFromTicks("P99 (ms)", linearTicks(maxOf(p99))),
        series: p99,
        height: 260,
      }),
      `<h3>Throughput per second</h3>`,
      lineChart({
        plot: "throughput-per-second",
        title: "Responses to the requests due in each second",
        x,
        y: axisFromTicks("responses (ops/s)", linearTicks(maxOf(throughput))),
        series: throughput,
        height: 260,
      }),
    );
  }
  for (const v of views.filter((v) => intervalsOf(v).length === 0)) {
    out.push(
      note(`${v.label}: no per-second intervals (an old load-test report), so no timeline.`),
    );
  }
  out.push(`</section>`);
  return out.join("");
}

/** A bar chart of each run's P99 per operation kind. */
export function operationsChart(
  categories: string[],
  views: RunView[],
  values: (number | null)[][],
): string {
  return barChart({
    plot: "operations",
    title: "P99 response time per operation",
    categories,
    series: views.map((v, i) => ({ id: v.id, label: v.label, color: v.color, values: values[i] })),
    unit: "P99 response time (ms)",
  });
}
