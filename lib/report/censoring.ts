/**
 * Censored percentiles: a request that timed out has the timeout as its response time, so its
 * true response time is only known to be at least that. With `c` of `n` requests timed out, the
 * largest `c` samples are censored, and the nearest-rank percentile p is a lower bound exactly
 * when its rank ⌈p/100 · n⌉ falls among them (rank > n − c): 86% timed out makes P50, P95 and
 * P99 lower bounds; 2% makes P99 one. Every request that timed out counts as censored (a few
 * cancelled at the drain deadline are not in the histogram: a cautious over-count).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { isLowerBound } from "./censoring.ts";
 * strictEqual(isLowerBound({ count: 1000, censored: 20 }, 99), true);
 * strictEqual(isLowerBound({ count: 1000, censored: 20 }, 95), false);
 * strictEqual(isLowerBound({ count: 1000, censored: 860 }, 50), true);
 * strictEqual(isLowerBound(null, 99.9), false);
 * ```
 * @module
 */
import type { OpStats, RunReport } from "./schema.ts";

/** How many of a histogram's samples are censored at the timeout. */
export interface Censoring {
  /** Samples (requests) in the histogram. */
  count: number;
  /** Requests that timed out: the largest samples, recorded at the timeout. */
  censored: number;
}

/** The censoring of a run's response times, or null when nothing timed out. */
export function runCensoring(
  r: Pick<RunReport, "response_time" | "errors_by_kind">,
): Censoring | null {
  return censoring(r.response_time.count, r.errors_by_kind.timeout ?? 0);
}

/** The censoring of one operation kind's response times, or null when none of it timed out. */
export function operationCensoring(
  s: Pick<OpStats, "count"> & Partial<Pick<OpStats, "errors_by_kind">>,
): Censoring | null {
  return censoring(s.count, s.errors_by_kind?.timeout ?? 0);
}

function censoring(count: number, censored: number): Censoring | null {
  return censored > 0 ? { count, censored } : null;
}

/**
 * Whether the nearest-rank percentile `p` (0–100; 100 is the maximum) is a lower bound: its
 * rank falls among the censored samples.
 */
export function isLowerBound(c: Censoring | null, p: number): boolean {
  if (c === null) return false;
  // HdrHistogram's rank: rounded up, minus one ulp of floating-point error (0.99 × 1000 → 990).
  const fp = (Math.min(p, 100) / 100) * c.count;
  const rank = Math.max(1, Math.ceil(fp - fp * Number.EPSILON));
  return rank > c.count - c.censored;
}

/** `≥` before a value that is a lower bound, else nothing (README, "What the numbers mean"). */
export function lowerBoundMark(lowerBound: boolean): string {
  return lowerBound ? "≥" : "";
}
