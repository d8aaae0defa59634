/**
 * Values no measurement can produce: negative latencies, counts, throughput or error rates, more
 * errors than operations, an error rate above 1, percentiles out of order (P50 ≤ P90 ≤ P95 ≤ P99
 * ≤ P99.9 ≤ P99.99 ≤ max). A report holding one was edited or corrupted; compare refuses it
 * naming the field rather than computing a verdict from it. The order is checked within 0.1%
 * (HdrHistogram's precision: the old tool's percentiles may exceed its exact maximum by that).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { impossibleValue } from "./plausible.ts";
 * strictEqual(impossibleValue({ total_operations: 10, total_errors: -1 }), "field 'total_errors' is -1, below 0");
 * strictEqual(
 *   impossibleValue({ p50_latency_ms: 5, p95_latency_ms: 4 }),
 *   "field 'p95_latency_ms' (4) is below 'p50_latency_ms' (5): percentiles out of order",
 * );
 * strictEqual(impossibleValue({ p50_latency_ms: 1, p95_latency_ms: 2, total_operations: 3 }), null);
 * ```
 * @module
 */

type Json = Record<string, unknown>;

/** Top-level numbers that cannot be negative (absent ones are checked by the field check). */
const NON_NEGATIVE = [
  "elapsed_seconds",
  "total_operations",
  "total_errors",
  "overall_throughput",
  "overall_error_rate",
  "mean_latency_ms",
  "target_rate",
  "achieved_rate",
  "late_sends",
  "capped_sends",
  "fallbacks",
] as const;

/** Top-level percentiles, in the order their values must follow. */
const TOP_ORDER = [
  "p50_latency_ms",
  "p90_latency_ms",
  "p95_latency_ms",
  "p99_latency_ms",
  "p999_latency_ms",
  "p9999_latency_ms",
  "max_latency_ms",
] as const;

/** Per-operation percentiles (the old tool's fields), in order. */
const OP_ORDER = [
  "p50_latency_us",
  "p95_latency_us",
  "p99_latency_us",
  "p999_latency_us",
  "max_latency_us",
] as const;

/** Latency summaries of current reports (`response_time`, …), in order. */
const SUMMARY_ORDER = ["p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "p9999_ms", "max_ms"];

/** Relative slack of the order checks: HdrHistogram's 3 significant digits. */
const ORDER_SLACK = 1e-3;

/**
 * The first impossible value of a parsed report (old or current schema), as `field 'x' is …`,
 * or null when every value present could have been measured. Fields that are absent or not
 * numbers are left to the field check of `read.ts`.
 */
export function impossibleValue(json: Json): string | null {
  return negative(json, NON_NEGATIVE, "") ??
    errorsProblem(json, "total_operations", "total_errors", "") ??
    rateProblem(json.overall_error_rate, "overall_error_rate") ??
    ordered(json, TOP_ORDER, "") ??
    opStatsProblem(json.per_operation_stats) ??
    summariesProblem(json);
}

function num(v: unknown): number | null {
  return typeof v === "number" ? v : null;
}

/** Why `v` cannot be a measured amount (negative, or infinite from a literal like 1e999). */
function notAmount(v: number, field: string): string | null {
  if (!Number.isFinite(v)) return `field '${field}' is ${v}, not a finite number`;
  return v < 0 ? `field '${field}' is ${v}, below 0` : null;
}

function negative(json: Json, keys: readonly string[], prefix: string): string | null {
  for (const key of keys) {
    const v = num(json[key]);
    const problem = v === null ? null : notAmount(v, prefix + key);
    if (problem !== null) return problem;
  }
  return null;
}

function errorsProblem(json: Json, count: string, errors: string, prefix: string): string | null {
  const n = num(json[count]);
  const e = num(json[errors]);
  if (n === null || e === null || e <= n) return null;
  return `field '${prefix}${errors}' (${e}) is more than '${prefix}${count}' (${n})`;
}

function rateProblem(v: unknown, field: string): string | null {
  const r = num(v);
  return r !== null && r > 1
    ? `field '${field}' is ${r}, above 1 (a fraction of operations)`
    : null;
}

function ordered(json: Json, keys: readonly string[], prefix: string): string | null {
  let prev: { key: string; value: number } | null = null;
  for (const key of keys) {
    const v = num(json[key]);
    if (v === null) continue;
    const problem = notAmount(v, prefix + key);
    if (problem !== null) return problem;
    if (prev !== null && v < prev.value * (1 - ORDER_SLACK)) {
      return `field '${prefix}${key}' (${v}) is below '${prefix}${prev.key}' (${prev.value}): ` +
        `percentiles out of order`;
    }
    prev = { key, value: v };
  }
  return null;
}

function opStatsProblem(stats: unknown): string | null {
  if (typeof stats !== "object" || stats === null) return null;
  for (const [kind, raw] of Object.entries(stats)) {
    if (typeof raw !== "object" || raw === null) continue;
    const s = raw as Json;
    const prefix = `per_operation_stats.${kind}.`;
    const problem =
      negative(s, ["count", "success_count", "error_count", "mean_latency_us"], prefix) ??
        errorsProblem(s, "count", "error_count", prefix) ??
        errorsProblem(s, "count", "success_count", prefix) ??
        ordered(s, OP_ORDER, prefix);
    if (problem !== null) return problem;
  }
  return null;
}

function summariesProblem(json: Json): string | null {
  for (const key of ["response_time", "service_time", "schedule_lag"]) {
    const s = json[key];
    if (typeof s !== "object" || s === null) continue;
    const problem = negative(s as Json, ["count", "mean_ms"], `${key}.`) ??
      ordered(s as Json, SUMMARY_ORDER, `${key}.`);
    if (problem !== null) return problem;
  }
  return null;
}
