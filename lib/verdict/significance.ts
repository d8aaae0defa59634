/**
 * How sure a comparison is: the statistics of lib/verdict/stats.ts applied to run reports.
 *
 * - One run per side: 95% intervals of the P50/P95/P99/throughput changes from the report's
 *   per-second histograms (lib/verdict/intervals.ts: a bootstrap over seconds whose spread is
 *   scaled by how correlated the seconds are; refused, with the reason, where it cannot hold).
 * - Several runs on a side (`check --runs N`): per-run values and a one-sided Mann–Whitney U
 *   test per metric that the after runs are worse (α = 0.05).
 * - Three or more runs of one build: the host's noise floor, i.e. how much a metric moves
 *   between runs that should be identical.
 *
 * One rule for "significant" (`standing`), used by the verdict, the notes, the summary and the
 * commit line: a change is significantly past its threshold when its whole 95% interval is past
 * it, or, with repeated runs, when the one-sided Mann–Whitney test that the after runs are worse
 * than the before runs moved by the threshold gives p ≤ α. Thresholds are judged on the change
 * as printed (`displayedChange`).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { displayedChange, unreachableSignificance } from "./significance.ts";
 * strictEqual(displayedChange(5.04), 5);
 * strictEqual(unreachableSignificance(3, 3), null);
 * ```
 * @module
 */
import type { LoadedReport } from "../report/read.ts";
import { messageOf } from "../shared/errors.ts";
import { LatencyHistogram } from "../report/histogram.ts";
import {
  type GatedMetricId,
  INTERVAL_METRICS,
  type IntervalMetricId,
  METRIC,
  NOISE_METRICS,
  type NoiseMetricId,
  RUN_METRICS,
  type RunMetricId,
  runValue,
} from "./metrics.ts";
import type { Availability, Comparison, NoiseFloors, RunTest, Thresholds } from "./types.ts";
import { mannWhitneyGreater, type NoiseFloor, noiseFloor, type SecondSample } from "./stats.ts";
import { changeIntervals, type MetricInterval } from "./intervals.ts";

/** Significance level of the repeated-run tests. */
export const ALPHA = 0.05;
/** Confidence level of the bootstrap intervals. */
export const CONFIDENCE = 0.95;
/** Fewest runs of one build for a noise floor. */
export const MIN_NOISE_RUNS = 3;
/** Runs suggested when a change is within noise. */
export const SUGGESTED_RUNS = 5;

// ---------------------------------------------------------------------------------------------
// One run per side: bootstrap intervals

/** The per-second samples of a run, or why it has none usable. */
export function secondsOf(loaded: LoadedReport): Availability<SecondSample[]> {
  const unavailable = (reason: string) => ({ kind: "unavailable", reason }) as const;
  if (loaded.kind === "legacy") {
    return unavailable("old-tool reports have no per-second histograms");
  }
  const intervals = loaded.report.intervals;
  if (!Array.isArray(intervals) || intervals.length === 0) {
    return unavailable(`${loaded.path} has no per-second histograms`);
  }
  try {
    const value = intervals.map((interval) => {
      const h = LatencyHistogram.decode(interval.histogram);
      const valuesUs: number[] = [];
      const counts: number[] = [];
      h.forEachBucket((v, n) => {
        valuesUs.push(v);
        counts.push(n);
      });
      return { valuesUs, counts, completed: interval.completed };
    });
    return { kind: "ok", value };
  } catch (e) {
    return unavailable(`${loaded.path} has a corrupt per-second histogram (${messageOf(e)})`);
  }
}

/** Confidence intervals of a change (%) per metric, or why a metric has none. */
export type ChangeIntervals = Record<IntervalMetricId, MetricInterval>;

/** 95% intervals of the changes (%) of P50, P95, P99 and throughput, or why there are none. */
export function bootstrapIntervals(
  before: LoadedReport,
  after: LoadedReport,
): Availability<ChangeIntervals> {
  const b = secondsOf(before);
  if (b.kind === "unavailable") return b;
  const a = secondsOf(after);
  if (a.kind === "unavailable") return a;
  const latency = INTERVAL_METRICS.flatMap((id) => {
    const p = METRIC[id].percentile;
    return p === null ? [] : [{ id, p }];
  });
  const result = changeIntervals(b.value, a.value, latency.map((l) => l.p), {
    confidence: CONFIDENCE,
  });
  const all = [...result.latency, result.throughput];
  if (all.every((x) => x.kind === "refused") && new Set(all.map(reasonOf)).size === 1) {
    return { kind: "unavailable", reason: reasonOf(all[0]) };
  }
  const ci = Object.fromEntries(latency.map(({ id }, k) => [id, result.latency[k]]));
  return { kind: "ok", value: { ...ci, throughput: result.throughput } as ChangeIntervals };
}

function reasonOf(x: MetricInterval): string {
  return x.kind === "refused" ? x.reason : "";
}

// ---------------------------------------------------------------------------------------------
// Several runs: Mann–Whitney

/** Per-run values and tests of every repeated-run metric. */
export function repeatedRunTests(
  before: readonly LoadedReport[],
  after: readonly LoadedReport[],
): Record<RunMetricId, RunTest> {
  return Object.fromEntries(RUN_METRICS.map((id) => {
    const b = before.map((r) => runValue(r, id));
    const a = after.map((r) => runValue(r, id));
    const test = METRIC[id].worse === "higher"
      ? mannWhitneyGreater(b, a)
      : mannWhitneyGreater(a, b);
    return [id, { before: b, after: a, test }];
  })) as Record<RunMetricId, RunTest>;
}

// ---------------------------------------------------------------------------------------------
// The one rule for "significant"

/** Decimals of a printed change (`+5.0%`): thresholds are judged on the change as printed. */
export const CHANGE_DECIMALS = 1;

/** A change (%) as printed, to `CHANGE_DECIMALS` decimals: the number thresholds are judged on. */
export function displayedChange(pct: number): number {
  return Number(pct.toFixed(CHANGE_DECIMALS));
}

/** The threshold of a gated change metric on its worse side (+5 for P99, −5 for throughput). */
export function signedThreshold(id: "p99" | "throughput", t: Thresholds): number {
  return id === "p99" ? t.p99Pct : -t.throughputPct;
}

/** Whether a change (%) as printed is past the signed threshold `limit` on the worse side. */
export function pastThreshold(pct: number, limit: number): boolean {
  const shown = displayedChange(pct);
  return limit >= 0 ? shown > limit : shown < limit;
}

/**
 * Where a gated change stands against its threshold, by its statistic — the one rule behind
 * the verdict, the notes, the summary and the commit line:
 * - "beyond": significantly past the threshold: the whole 95% interval (one run per side), or
 *   the one-sided Mann–Whitney test that the after runs are worse than the before runs moved
 *   by the threshold gives p ≤ α (repeated runs);
 * - "straddles": the change may or may not be past it (interval contains the threshold;
 *   p > α for a change past it);
 * - "within": not past it (whole interval on the good side; p > α for a change not past it);
 * - "unknown": no statistic (runs too short, old reports), with the reason.
 */
export type Standing =
  | { kind: "beyond" | "straddles" | "within"; evidence: Evidence }
  | { kind: "unknown"; reason: string };

/** The statistic behind a standing. */
export type Evidence =
  | { kind: "interval"; ci: [number, number] }
  | { kind: "runs"; pValue: number; before: number; after: number };

/** The standing of P99 or throughput against its threshold (see `Standing`). */
export function standing(c: Comparison, id: "p99" | "throughput", t: Thresholds): Standing {
  const m = c.metrics[id];
  const limit = signedThreshold(id, t);
  const s = c.statistics;
  if (m.changePct === null) return { kind: "unknown", reason: "the change is N/A" };
  if (s.method === "runs") {
    const { before, after } = s.perRun[id];
    const moved = before.map((v) => v * (1 + limit / 100));
    // Worse = after above before·(1 + t) for P99, below before·(1 − t) for throughput.
    const test = limit >= 0 ? mannWhitneyGreater(moved, after) : mannWhitneyGreater(after, moved);
    const evidence = {
      kind: "runs",
      pValue: test.pValue,
      before: before.length,
      after: after.length,
    } as const;
    if (test.pValue <= ALPHA) return { kind: "beyond", evidence };
    return { kind: pastThreshold(m.changePct, limit) ? "straddles" : "within", evidence };
  }
  if (m.ci === undefined) {
    const reason = s.method === "none" ? s.reason : m.noInterval ?? "no interval for this metric";
    return { kind: "unknown", reason };
  }
  const [lo, hi] = m.ci;
  const evidence = { kind: "interval", ci: m.ci } as const;
  const past = [lo, hi].filter((x) => pastThreshold(x, limit)).length;
  return { kind: past === 2 ? "beyond" : past === 0 ? "within" : "straddles", evidence };
}

// ---------------------------------------------------------------------------------------------
// Run counts that can reach significance

/** The smallest one-sided p-value an exact Mann–Whitney test of n1 vs n2 runs can give: 1/C(n1+n2, n1). */
export function smallestPValue(n1: number, n2: number): number {
  let c = 1;
  for (let i = 1; i <= n1; i++) c = c * (n2 + i) / i;
  return 1 / c;
}

/** The fewest runs per side whose smallest p-value is at most α (3 for α = 0.05). */
export function runsNeeded(alpha = ALPHA): number {
  let k = 1;
  while (smallestPValue(k, k) > alpha && k < 100) k++;
  return k;
}

/**
 * Why repeated runs cannot show significance at α (e.g. "2 vs 2 runs cannot reach p ≤ 0.05
 * (the smallest possible p is 0.167); use --runs 3 or more for both phases"), or null.
 */
export function unreachableSignificance(n1: number, n2: number, alpha = ALPHA): string | null {
  const smallest = smallestPValue(n1, n2);
  if (smallest <= alpha) return null;
  return `${n1} vs ${n2} runs cannot reach p ≤ ${alpha} (the smallest possible p is ${
    smallest.toFixed(3)
  }); use --runs ${runsNeeded(alpha)} or more for both phases`;
}

// ---------------------------------------------------------------------------------------------
// Noise floor

/** Noise floors over the runs (null with fewer than `MIN_NOISE_RUNS` or a zero value). */
export function noiseFloors(runs: readonly LoadedReport[]): NoiseFloors | null {
  if (runs.length < MIN_NOISE_RUNS) return null;
  const values = NOISE_METRICS.map((id) => runs.map((r) => runValue(r, id)));
  if (values.some((v) => v.some((x) => !(x > 0)))) return null;
  return Object.fromEntries(
    NOISE_METRICS.map((id, i) => [id, noiseFloor(values[i])]),
  ) as NoiseFloors;
}

/** A gated metric whose threshold is below the noise floor. */
export interface ThresholdBelowNoise {
  metric: Extract<GatedMetricId, NoiseMetricId>;
  thresholdPct: number;
  floor: NoiseFloor;
}

/** The gated metrics (P99, throughput) whose threshold is below the runs' noise floor. */
export function thresholdsBelowNoise(
  floors: NoiseFloors,
  thresholds: Thresholds,
): ThresholdBelowNoise[] {
  const gated = [["p99", thresholds.p99Pct], ["throughput", thresholds.throughputPct]] as const;
  return gated.filter(([id, pct]) => pct < floors[id].p95PairPct).map(([metric, thresholdPct]) => ({
    metric,
    thresholdPct,
    floor: floors[metric],
  }));
}

// ---------------------------------------------------------------------------------------------
// Calibration

/** The noise floor of one phase's repeated runs of one build (`m17_compare --calibrate`). */
export interface Calibration {
  task: string;
  phase: "before" | "after";
  /** "group": the runs of one `check --runs N`; "phase": every comparable report of the phase. */
  source: "group" | "phase";
  paths: string[];
  values: Record<NoiseMetricId, number[]>;
  floors: NoiseFloors;
  thresholds: Thresholds;
  /** Gated thresholds below the noise floor. */
  below: ThresholdBelowNoise[];
}

/** Calibrates on the runs; null when there are fewer than 3 or a value is not positive. */
export function calibrate(options: {
  task: string;
  phase: "before" | "after";
  source: "group" | "phase";
  runs: readonly LoadedReport[];
  thresholds: Thresholds;
}): Calibration | null {
  const floors = noiseFloors(options.runs);
  if (floors === null) return null;
  return {
    task: options.task,
    phase: options.phase,
    source: options.source,
    paths: options.runs.map((r) => r.path),
    values: Object.fromEntries(
      NOISE_METRICS.map((id) => [id, options.runs.map((r) => runValue(r, id))]),
    ) as Record<NoiseMetricId, number[]>,
    floors,
    thresholds: options.thresholds,
    below: thresholdsBelowNoise(floors, options.thresholds),
  };
}
