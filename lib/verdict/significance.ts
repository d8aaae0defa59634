/**
 * How sure a comparison is: the statistics of lib/verdict/stats.ts applied to run reports.
 *
 * - One run per side: 95% intervals of the P50/P95/P99/throughput changes from a moving-block
 *   bootstrap over the report's per-second histograms (5-s blocks, 2,000 resamples, fixed seed).
 * - Several runs on a side (`check --runs N`): per-run values and a one-sided Mann–Whitney U
 *   test per metric that the after runs are worse (α = 0.05).
 * - Three or more runs of one build: the host's noise floor, i.e. how much a metric moves
 *   between runs that should be identical.
 *
 * "Significantly worse": the Mann–Whitney p-value is at most α when there are repeated runs;
 * otherwise the 95% interval of the change lies entirely on the worse side of 0.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { significantlyWorse } from "./significance.ts";
 * const m = { before: 1, after: 1.1, delta: 0.1, changePct: 10, ci: [2, 18] as [number, number] };
 * strictEqual(significantlyWorse(m, "higher"), true);
 * strictEqual(significantlyWorse({ ...m, ci: [-1, 18] as [number, number] }, "higher"), false);
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
  type Worse,
} from "./metrics.ts";
import type { Availability, MetricChange, NoiseFloors, RunTest, Thresholds } from "./types.ts";
import {
  bootstrapChangeIntervals,
  mannWhitneyGreater,
  MIN_BOOTSTRAP_SECONDS,
  type NoiseFloor,
  noiseFloor,
  type SecondSample,
} from "./stats.ts";

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

/** Confidence intervals of a change (%) per metric; a metric without one is left out. */
export type ChangeIntervals = Partial<Record<IntervalMetricId, [number, number]>>;

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
  const result = bootstrapChangeIntervals(b.value, a.value, latency.map((l) => l.p), {
    confidence: CONFIDENCE,
  });
  if (result === null) {
    const seconds = Math.min(b.value.length, a.value.length);
    return {
      kind: "unavailable",
      reason:
        `runs shorter than ${MIN_BOOTSTRAP_SECONDS} s (${seconds} s of per-second histograms)`,
    };
  }
  const ci: ChangeIntervals = {};
  latency.forEach(({ id }, k) => {
    if (result.latency[k]) ci[id] = result.latency[k]!;
  });
  if (result.throughput) ci.throughput = result.throughput;
  return { kind: "ok", value: ci };
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

/**
 * Whether a change is significantly in its worse direction: p ≤ α when runs were repeated, else
 * the 95% interval excludes 0 on the worse side; null when neither is known.
 */
export function significantlyWorse(m: MetricChange, worse: Worse): boolean | null {
  if (m.pValue !== undefined) return m.pValue <= ALPHA;
  if (m.ci !== undefined) return worse === "higher" ? m.ci[0] > 0 : m.ci[1] < 0;
  return null;
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
