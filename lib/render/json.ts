/**
 * The machine-readable renderings (`--json`): a comparison with its verdict, and a noise
 * calibration. Keys are the report's own field names (the metric table's `key`), numbers are
 * unformatted.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { metricJson } from "./json.ts";
 * const m = metricJson({ before: 1, after: 2, delta: 1, changePct: 100 });
 * strictEqual(m.change_pct, 100);
 * strictEqual(m.ci, null);
 * ```
 * @module
 */
import type { CapacityChange, CapacitySide } from "../verdict/capacity.ts";
import { match } from "ts-pattern";
import type { Comparison, MetricChange, NoiseFloors, Verdict } from "../verdict/types.ts";
import { METRIC, METRIC_IDS, NOISE_METRICS, RUN_METRICS } from "../verdict/metrics.ts";
import { exitCodeOf } from "../verdict/verdict.ts";
import { changeBound } from "../verdict/compare.ts";
import { RESOLUTION_PCT } from "../report/histogram.ts";
import { ALPHA, type Calibration, CONFIDENCE } from "../verdict/significance.ts";
import { MIXTURE_PRECISION } from "../verdict/sequential.ts";
import { ruledOutSentence } from "./evidence_words.ts";
import { SUB_BUCKETS } from "../verdict/stats.ts";
import {
  INTERVAL_RESAMPLES,
  INTERVAL_SEED,
  MIN_INDEPENDENT_SECONDS,
  MIN_INTERVAL_SECONDS,
} from "../verdict/intervals.ts";
import { VERSION } from "../shared/version.ts";

/**
 * One metric change as JSON (snake_case keys, null for a missing interval or p-value).
 * `lower_bound` says which sides are lower bounds (percentiles censored at the timeout) and
 * `change_bound` what the change is then: "exact", "lower" (at least), "upper" (at most) or
 * "unknown" (both sides censored).
 */
export function metricJson(m: MetricChange) {
  return {
    before: m.before,
    after: m.after,
    delta: m.delta,
    change_pct: m.changePct,
    ci: m.ci ?? null,
    p_value: m.pValue ?? null,
    lower_bound: { before: m.censored?.before ?? false, after: m.censored?.after ?? false },
    change_bound: changeBound(m),
  };
}

function noiseFloorJson(floors: NoiseFloors | null) {
  return floors && Object.fromEntries(NOISE_METRICS.map((id) => [METRIC[id].key, {
    runs: floors[id].runs,
    mean: floors[id].mean,
    cv_pct: floors[id].cvPct,
    max_pair_pct: floors[id].maxPairPct,
    p95_pair_pct: floors[id].p95PairPct,
  }]));
}

/** The repeated-run rule, in the words of the JSON's `statistics.sequential.method`. */
export const SEQUENTIAL_METHOD =
  "always-valid one-sided p-value and upper confidence bound: scale-invariant mixture SPRT (half-normal mixture over the standardized effect, Student-t closed form; Johari et al. 2017, Lai 1976), effect = ln(after/before) per interleaved pair (paired by run.pair) or the difference of the sides' mean log values (independent runs), sign flipped for throughput; p and bound are running minima over looks after every pair. REGRESSION: change in medians past the threshold and p <= alpha; PASS: the bound (the change ruled out, level 1 - alpha) within the threshold; else INCONCLUSIVE";

/** How the statistics were made, with the per-run values and evidence when runs were repeated. */
function statisticsJson(c: Comparison) {
  const s = c.statistics;
  const series = (r: Comparison["statistics"]["runs"]["before"]) => ({
    group: r.group,
    count: r.paths.length,
    paths: r.paths,
  });
  const perRun = s.method === "runs" ? s.perRun : null;
  return {
    method: s.method,
    reason: match(s)
      .with({ method: "none" }, (none) => none.reason)
      .with({ method: "bootstrap" }, { method: "runs" }, () => null)
      .exhaustive(),
    confidence: CONFIDENCE,
    alpha: ALPHA,
    bootstrap: s.method === "bootstrap"
      ? {
        method:
          "seconds resampled independently, spread scaled by the seconds per independent second (tau), Student t on the independent seconds",
        resamples: INTERVAL_RESAMPLES,
        seed: `0x${INTERVAL_SEED.toString(16).toUpperCase()}`,
        min_seconds: MIN_INTERVAL_SECONDS,
        min_independent_seconds: MIN_INDEPENDENT_SECONDS,
        latency_bucket_relative_width: 1 / SUB_BUCKETS,
        throughput:
          "responses to the requests due in each second of the measured window (intervals[].completed)",
      }
      : null,
    sequential: s.method === "runs"
      ? {
        method: SEQUENTIAL_METHOD,
        design: s.design.kind,
        pairs: s.design.kind === "paired" ? s.design.pairs : null,
        mixture_precision: MIXTURE_PRECISION,
        ruled_out: ruledOutSentence(c),
      }
      : null,
    runs: { before: series(s.runs.before), after: series(s.runs.after) },
    per_run: perRun && Object.fromEntries(RUN_METRICS.map((id) => {
      const r = perRun[id];
      const e = r.evidence;
      return [METRIC[id].key, {
        before: r.before,
        after: r.after,
        estimate_log: e?.estimate ?? null,
        p_value: e?.pValue ?? null,
        bound_pct: e?.boundPct ?? null,
        looks: e?.looks ?? null,
      }];
    })),
    noise_floor: { before: noiseFloorJson(s.noise.before), after: noiseFloorJson(s.noise.after) },
  };
}

/** The machine-readable comparison (`--json`). */
export function comparisonJson(c: Comparison, v: Verdict, warnings: string[]) {
  const input = (r: Comparison["before"]) => ({
    path: r.path,
    legacy: r.legacy,
    schema_version: r.schemaVersion,
    scenario: r.scenario,
    workload_fingerprint: r.workloadFingerprint,
    target_kind: r.targetKind,
    mode: r.mode,
    diag: r.files.diag,
    sys: r.files.sys,
  });
  const pos = c.positioning;
  return {
    tool: { name: "m17_compare", version: VERSION },
    task: c.task,
    mode: c.mode,
    inputs: { before: input(c.before), after: input(c.after) },
    differences: c.differences.map((d) => ({ what: d.what, before: d.before, after: d.after })),
    thresholds: {
      p99_pct: v.thresholds.p99Pct,
      throughput_pct: v.thresholds.throughputPct,
      latency_resolution_pct: RESOLUTION_PCT,
    },
    metrics: Object.fromEntries(
      METRIC_IDS.map((id) => [METRIC[id].key, metricJson(c.metrics[id])]),
    ),
    operations: c.operations.map((op) => ({
      kind: op.kind,
      count_before: op.countBefore,
      count_after: op.countAfter,
      p99_latency_ms: metricJson(op.p99Ms),
    })),
    service_p99_ms: c.serviceP99Ms ? metricJson(c.serviceP99Ms) : null,
    positioning: pos
      ? {
        baseline: {
          id: pos.baseline.id,
          display_name: pos.baseline.displayName,
          p99_ms: pos.baseline.p99Ms,
          qps: pos.baseline.qps,
          source: pos.baseline.source,
          workload: pos.baseline.workload,
          caveat: pos.baseline.caveat,
        },
        engram_p99_ms: pos.engramP99Ms,
        gap_pct: pos.gapPct,
        faster: pos.gapPct >= 0,
      }
      : null,
    capacity: capacityJson(c.capacity),
    statistics: statisticsJson(c),
    criteria: v.criteria.map((r) => ({
      id: r.id,
      status: r.status,
      threshold_pct: match(r.id)
        .with("p99", () => v.thresholds.p99Pct)
        .with("throughput", () => v.thresholds.throughputPct)
        .with("errors", "baseline", () => null)
        .exhaustive(),
    })),
    verdict: v.kind,
    rule: v.rule,
    ruled_out: ruledOutSentence(c),
    spread: c.spread
      ? {
        p99_pct: c.spread.floors.p99.p95PairPct,
        throughput_pct: c.spread.floors.throughput.p95PairPct,
        runs: c.spread.paths,
        definition:
          "95th percentile of |change| between two earlier valid runs of the before build on this host and target",
      }
      : null,
    exit_code: exitCodeOf(v),
    warnings,
  };
}

/** `comparisonJson` as pretty-printed text. */
export function renderJson(
  c: Comparison,
  v: Verdict,
  warnings: string[],
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({ ...comparisonJson(c, v, warnings), ...extra }, null, 2) + "\n";
}

/** `--calibrate --json`. */
export function renderCalibrationJson(cal: Calibration): string {
  return JSON.stringify(
    {
      tool: { name: "m17_compare", version: VERSION },
      task: cal.task,
      phase: cal.phase,
      source: cal.source,
      runs: cal.paths,
      values: Object.fromEntries(NOISE_METRICS.map((id) => [METRIC[id].key, cal.values[id]])),
      noise_floor: noiseFloorJson(cal.floors),
      thresholds: { p99_pct: cal.thresholds.p99Pct, throughput_pct: cal.thresholds.throughputPct },
      below_noise_floor: cal.below.map((b) => METRIC[b.metric].key),
    },
    null,
    2,
  ) + "\n";
}

function capacitySideJson(s: CapacitySide) {
  return {
    sustained_rate: s.sustainedRate,
    bound: s.bound,
    confirmed: s.confirmed,
    steps: s.steps,
  };
}

/** Two `--find-rate` runs: the sustained rates and their change; null otherwise. */
function capacityJson(c: CapacityChange | null | undefined) {
  if (!c) return null;
  return {
    slo_p99_ms: c.sloP99Ms,
    max_error_rate: c.maxErrorRate,
    precision_pct: c.precisionPct,
    before: capacitySideJson(c.before),
    after: capacitySideJson(c.after),
    change_pct: c.changePct,
    competitor: c.competitor ? { ...c.competitor, indicative: true } : null,
  };
}
