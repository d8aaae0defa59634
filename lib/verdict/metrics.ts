/**
 * The headline metrics of a comparison, described once: how each is labelled, keyed in JSON,
 * measured, read from a report, judged and tested. Comparison, significance and every renderer
 * read this table (or a subset of it) instead of keeping their own lists.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { METRIC, METRICS } from "./metrics.ts";
 * strictEqual(METRIC.p99.label, "P99 latency (ms)");
 * strictEqual(METRIC.throughput.worse, "lower");
 * strictEqual(METRICS.filter((m) => m.interval).map((m) => m.id).join(), "p50,p95,p99,throughput");
 * ```
 * @module
 */
import type { LoadedReport } from "../report/read.ts";

/** How a metric's values are measured (and so formatted). */
export type MetricUnit = "ms" | "ops/s" | "count" | "ratio";
/** Which direction of a metric is a regression. */
export type Worse = "higher" | "lower";
/** The verdict criterion a metric is judged by, "none" when it is context only. */
export type ThresholdKind = "p99" | "throughput" | "errors" | "none";

/** Report fields that current and old-tool reports both carry. */
type CommonField =
  | "p50_latency_ms"
  | "p95_latency_ms"
  | "p99_latency_ms"
  | "overall_throughput"
  | "total_errors"
  | "overall_error_rate";

/** One row of the metric table. */
export interface MetricSpec {
  id: string;
  /** The metric in words, as criteria are named ("P99 latency"). */
  name: string;
  /** Row label as printed in tables, with the unit ("P99 latency (ms)"). */
  label: string;
  /** The report field the value is read from; also the metric's JSON key. */
  key: CommonField | "p999_latency_ms";
  unit: MetricUnit;
  worse: Worse;
  threshold: ThresholdKind;
  /** Gets a bootstrap interval with one run per side. */
  interval: boolean;
  /**
   * Its latency percentile (null: not a percentile): the bootstrap over per-second histograms
   * uses it for interval metrics, censoring (a lower bound when timed out) for all.
   */
  percentile: number | null;
  /** Shown run by run (with the sequential rule's evidence) when a side has several runs. */
  perRun: boolean;
  /** Has a noise floor over runs of one build. */
  noise: boolean;
  /** Measure slug in exports (Bencher, github-action-benchmark); null when not exported. */
  slug: string | null;
}

/** The headline metrics, in table order. */
export const METRICS = [
  {
    id: "p50",
    name: "P50 latency",
    label: "P50 latency (ms)",
    key: "p50_latency_ms",
    unit: "ms",
    worse: "higher",
    threshold: "none",
    interval: true,
    percentile: 50,
    perRun: true,
    noise: true,
    slug: "p50-latency",
  },
  {
    id: "p95",
    name: "P95 latency",
    label: "P95 latency (ms)",
    key: "p95_latency_ms",
    unit: "ms",
    worse: "higher",
    threshold: "none",
    interval: true,
    percentile: 95,
    perRun: true,
    noise: true,
    slug: "p95-latency",
  },
  {
    id: "p99",
    name: "P99 latency",
    label: "P99 latency (ms)",
    key: "p99_latency_ms",
    unit: "ms",
    worse: "higher",
    threshold: "p99",
    interval: true,
    percentile: 99,
    perRun: true,
    noise: true,
    slug: "p99-latency",
  },
  {
    id: "p999",
    name: "P99.9 latency",
    label: "P99.9 latency (ms)",
    key: "p999_latency_ms",
    unit: "ms",
    worse: "higher",
    threshold: "none",
    interval: false,
    percentile: 99.9,
    perRun: false,
    noise: false,
    slug: "p999-latency",
  },
  {
    id: "throughput",
    name: "Throughput",
    label: "Throughput (ops/s)",
    key: "overall_throughput",
    unit: "ops/s",
    worse: "lower",
    threshold: "throughput",
    interval: true,
    percentile: null,
    perRun: true,
    noise: true,
    slug: "throughput",
  },
  {
    id: "errors",
    name: "Errors",
    label: "Errors",
    key: "total_errors",
    unit: "count",
    worse: "higher",
    threshold: "errors",
    interval: false,
    percentile: null,
    perRun: true,
    noise: false,
    slug: null,
  },
  {
    id: "error_rate",
    name: "Error rate",
    label: "Error rate",
    key: "overall_error_rate",
    unit: "ratio",
    worse: "higher",
    threshold: "none",
    interval: false,
    percentile: null,
    perRun: false,
    noise: false,
    slug: "error-rate",
  },
] as const satisfies readonly MetricSpec[];

type Row = typeof METRICS[number];
/** One headline metric. */
export type MetricId = Row["id"];
/** A metric with a bootstrap interval. */
export type IntervalMetricId = Extract<Row, { interval: true }>["id"];
/** A metric compared run by run. */
export type RunMetricId = Extract<Row, { perRun: true }>["id"];
/** A metric with a noise floor. */
export type NoiseMetricId = Extract<Row, { noise: true }>["id"];
/** A metric judged by a threshold criterion (P99, throughput, errors). */
export type GatedMetricId = Exclude<Row, { threshold: "none" }>["id"];

/** The table row of each metric, by id. */
export const METRIC = Object.fromEntries(METRICS.map((m) => [m.id, m])) as {
  [K in MetricId]: Extract<Row, { id: K }>;
};

/** Ids of the metrics the predicate keeps, in table order. */
function ids<K extends MetricId>(keep: (m: Row) => boolean): readonly K[] {
  return METRICS.filter(keep).map((m) => m.id as K);
}

/** Headline metric ids in table order. */
export const METRIC_IDS: readonly MetricId[] = ids<MetricId>(() => true);
/** Metrics that get a bootstrap interval (one run per side). */
export const INTERVAL_METRICS = ids<IntervalMetricId>((m) => m.interval);
/** Metrics compared run by run (several runs on a side). */
export const RUN_METRICS = ids<RunMetricId>((m) => m.perRun);
/** Metrics whose noise floor is measured. */
export const NOISE_METRICS = ids<NoiseMetricId>((m) => m.noise);
/** Metrics judged by a threshold criterion, in criterion order. */
export const GATED_METRICS = ids<GatedMetricId>((m) => m.threshold !== "none");

/**
 * A run's value of a metric from its report field; null when the report does not carry it
 * (old-tool reports have no P99.9).
 */
export function metricValue(loaded: LoadedReport, id: MetricId): number | null {
  const key = METRIC[id].key;
  if (key !== "p999_latency_ms") return loaded.report[key];
  const v = loaded.kind === "current" ? loaded.report.p999_latency_ms : null;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** A run's value of a repeated-run metric: every report carries these fields. */
export function runValue(loaded: LoadedReport, id: RunMetricId): number {
  return loaded.report[METRIC[id].key];
}
