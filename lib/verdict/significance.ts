/**
 * How sure a comparison is: the statistics of lib/verdict/stats.ts, intervals.ts and
 * sequential.ts applied to run reports.
 *
 * - One run per side: 95% intervals of the P50/P95/P99/throughput changes from the report's
 *   per-second histograms (lib/verdict/intervals.ts: a bootstrap over seconds whose spread is
 *   scaled by how correlated the seconds are; refused, with the reason, where it cannot hold).
 *   They cannot see run-to-run variance, so a single pair's verdict is unconfirmed.
 * - Several runs on a side (`check --runs N`, or an interleaved `confirm` session): per-run
 *   values and, per metric, the always-valid one-sided p-value that after is worse and the
 *   always-valid bound of the change (lib/verdict/sequential.ts), paired by `run.pair` when both
 *   sides are one interleaved session.
 * - Three or more runs of one build: the host's noise floor, i.e. how much a metric moves
 *   between runs that should be identical.
 *
 * One rule for where a change stands (`standing`), used by the verdict, the notes, the summary
 * and the commit line: with repeated runs, the sequential rule (a regression when the change in
 * medians is past the threshold and p ≤ α; a pass when the bound rules out every change past it);
 * with one run per side, the whole 95% interval against the threshold (`--significance`).
 * Thresholds are judged on the change as printed (`displayedChange`).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { displayedChange } from "./significance.ts";
 * strictEqual(displayedChange(5.04), 5);
 * ```
 * @module
 */
import { match } from "ts-pattern";
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
import type {
  Availability,
  Comparison,
  NoiseFloors,
  RunDesign,
  RunEvidence,
  RunTest,
  Thresholds,
} from "./types.ts";
import { type NoiseFloor, noiseFloor, type SecondSample } from "./stats.ts";
import { changeIntervals, type MetricInterval } from "./intervals.ts";
import { ALPHA, decideMetric, pairedEvidence, unpairedEvidence } from "./sequential.ts";

export { ALPHA };
/** Confidence level of the bootstrap intervals. */
export const CONFIDENCE = 0.95;
/** Fewest runs of one build for a noise floor. */
export const MIN_NOISE_RUNS = 3;

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
// Several runs: the sequential rule's evidence

/** The fields of `run` an interleaved confirm session adds (absent in other reports). */
interface RunTag {
  group?: unknown;
  design?: unknown;
  pair?: unknown;
}

function tagOf(r: LoadedReport): RunTag | null {
  return r.kind === "current" ? (r.report.run as RunTag | undefined) ?? null : null;
}

/**
 * The (before, after) runs paired by `run.pair` when every run of both sides is of one
 * interleaved session, in pair order (a pair missing an arm is left out); else null (unpaired).
 */
export function pairedRuns(
  before: readonly LoadedReport[],
  after: readonly LoadedReport[],
): [LoadedReport, LoadedReport][] | null {
  const tags = [...before, ...after].map(tagOf);
  const group = tags[0]?.group;
  const interleaved = tags.every((t) =>
    t !== null && t.design === "interleaved" && t.group === group &&
    Number.isInteger(t.pair) && (t.pair as number) >= 1
  );
  if (!interleaved) return null;
  const pairOf = (r: LoadedReport) => tagOf(r)!.pair as number;
  const afterByPair = new Map(after.map((r) => [pairOf(r), r]));
  const pairs = before.flatMap((b) => {
    const a = afterByPair.get(pairOf(b));
    return a === undefined ? [] : [[b, a] as [LoadedReport, LoadedReport]];
  }).sort((x, y) => pairOf(x[0]) - pairOf(y[0]));
  return pairs.length > 0 ? pairs : null;
}

/** A value on the log scale oriented so that larger is worse; null when not positive. */
function worseLog(id: RunMetricId, v: number): number | null {
  if (!(v > 0) || !Number.isFinite(v)) return null;
  return METRIC[id].worse === "higher" ? Math.log(v) : -Math.log(v);
}

/** The evidence as a change in the metric's own terms: the bound as after/before − 1, in %. */
function runEvidence(id: RunMetricId, e: ReturnType<typeof pairedEvidence>): RunEvidence {
  const sign = METRIC[id].worse === "higher" ? 1 : -1;
  return {
    ...e,
    boundPct: Number.isFinite(e.upper) ? (Math.exp(sign * e.upper) - 1) * 100 : null,
  };
}

/**
 * Per-run values of every repeated-run metric, in pair order when paired, and for P50, P95,
 * P99 and throughput the sequential rule's evidence (none for errors, which keep the
 * specification's rule, or when a value is not positive).
 */
export function repeatedRunTests(
  before: readonly LoadedReport[],
  after: readonly LoadedReport[],
): { design: RunDesign; perRun: Record<RunMetricId, RunTest> } {
  const pairs = pairedRuns(before, after);
  const b = pairs === null ? before : pairs.map((p) => p[0]);
  const a = pairs === null ? after : pairs.map((p) => p[1]);
  const design: RunDesign = pairs === null
    ? { kind: "unpaired" }
    : { kind: "paired", pairs: pairs.length };
  const perRun = Object.fromEntries(RUN_METRICS.map((id) => {
    const bv = b.map((r) => runValue(r, id));
    const av = a.map((r) => runValue(r, id));
    return [id, { before: bv, after: av, evidence: evidenceOf(id, bv, av, design) }];
  })) as Record<RunMetricId, RunTest>;
  return { design, perRun };
}

/** The evidence of one metric's per-run values (`repeatedRunTests`), or null. */
export function evidenceOf(
  id: RunMetricId,
  before: readonly number[],
  after: readonly number[],
  design: RunDesign,
): RunEvidence | null {
  if (METRIC[id].threshold === "errors") return null;
  const lb = before.map((v) => worseLog(id, v));
  const la = after.map((v) => worseLog(id, v));
  if ([...lb, ...la].some((v) => v === null)) return null;
  const yb = lb as number[], ya = la as number[];
  return runEvidence(
    id,
    design.kind === "paired"
      ? pairedEvidence(ya.map((v, i) => v - yb[i]))
      : unpairedEvidence(yb, ya),
  );
}

// ---------------------------------------------------------------------------------------------
// The one rule for where a change stands

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
 * - "beyond": past the threshold, and surely worse: with repeated runs, the change in medians
 *   past the threshold and the always-valid p ≤ α that after is worse (lib/verdict/sequential.ts);
 *   with one run per side, the whole 95% interval past the threshold;
 * - "within": not past it: the always-valid bound rules out every change past the threshold
 *   (repeated runs), or the whole interval is on the good side (one run per side);
 * - "straddles": the evidence cannot tell yet;
 * - "unknown": no statistic (runs too short, old reports, a value of zero), with the reason.
 */
export type Standing =
  | { kind: "beyond" | "straddles" | "within"; evidence: Evidence }
  | { kind: "unknown"; reason: string };

/** The statistic behind a standing. */
export type Evidence =
  | { kind: "interval"; ci: [number, number] }
  | { kind: "runs"; design: RunDesign; before: number; after: number } & RunEvidence;

/** The standing of P99 or throughput against its threshold (see `Standing`). */
export function standing(c: Comparison, id: "p99" | "throughput", t: Thresholds): Standing {
  const m = c.metrics[id];
  const limit = signedThreshold(id, t);
  const s = c.statistics;
  if (m.changePct === null) return { kind: "unknown", reason: "the change is N/A" };
  if (s.method === "runs") {
    const { before, after, evidence: e } = s.perRun[id];
    if (e === null) return { kind: "unknown", reason: "a run's value is not positive" };
    const evidence = {
      kind: "runs",
      design: s.design,
      before: before.length,
      after: after.length,
      ...e,
    } as const;
    const decision = decideMetric(
      m.changePct,
      e.boundPct,
      e.pValue,
      (pct) => pastThreshold(pct, limit),
    );
    const kind = match(decision)
      .with("regression", () => "beyond" as const)
      .with("pass", () => "within" as const)
      .with("inconclusive", () => "straddles" as const)
      .exhaustive();
    return { kind, evidence };
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
