/**
 * Statistics for noise-aware comparisons: order statistics, latency buckets and the noise floor
 * of repeated runs (the change intervals are in lib/verdict/intervals.ts, the repeated-run rule
 * in lib/verdict/sequential.ts). Pure numbers in, numbers out; lib/verdict/significance.ts applies
 * them to reports.
 *
 * Latencies are bucketed log-linearly (`SUB_BUCKETS` linear buckets per power of two, exact
 * below 1,024 µs): a bucket is at most 1/512 ≈ 0.2% wide and stands for its middle value, so a
 * resampled percentile is within ±0.1% of the exact one (plus the report histogram's own ±0.1%).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { median, noiseFloor } from "./stats.ts";
 * strictEqual(median([3, 1, 2]), 2);
 * strictEqual(noiseFloor([100, 110]).maxPairPct, 10);
 * ```
 * @module
 */

// ---------------------------------------------------------------------------------------------
// Order statistics

/** Median (mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Quantile `q` ∈ [0, 1] of ascending `sorted` values, linearly interpolated (R type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

// ---------------------------------------------------------------------------------------------
// Log-linear latency buckets

/** Linear buckets per power of two above 1,024 µs (relative bucket width ≤ 1/512). */
export const SUB_BUCKETS = 512;
const EXACT_BITS = Math.log2(2 * SUB_BUCKETS); // values below 2^10 get a bucket each

/** Bucket index of a latency in µs (values are rounded to whole µs, minimum 0). */
export function bucketIndex(valueUs: number): number {
  const v = Math.max(0, Math.round(valueUs));
  const shift = Math.max(0, bitLength(v) - EXACT_BITS);
  return shift * SUB_BUCKETS + Math.floor(v / 2 ** shift);
}

/** The middle value (µs) of bucket `index`: exact below 1,024 µs. */
export function bucketValue(index: number): number {
  const shift = Math.max(0, Math.floor(index / SUB_BUCKETS) - 1);
  const sub = index - shift * SUB_BUCKETS;
  const width = 2 ** shift;
  return sub * width + (width - 1) / 2;
}

function bitLength(v: number): number {
  return v < 2 ** 32 ? 32 - Math.clz32(v) : Math.floor(Math.log2(v)) + 1;
}

// ---------------------------------------------------------------------------------------------
// Per-second samples

/** One second of a run: its latencies (value, count pairs, µs) and its responses. */
export interface SecondSample {
  valuesUs: readonly number[];
  counts: readonly number[];
  /** Responses to the requests due in this second (`intervals[].completed`). */
  completed: number;
}

// ---------------------------------------------------------------------------------------------
// Noise floor

/** How much one metric varies between runs of the same build. */
export interface NoiseFloor {
  runs: number;
  mean: number;
  /** Sample standard deviation / mean, in %. */
  cvPct: number;
  /** Largest |change| between two runs, in % ((max − min) / min). */
  maxPairPct: number;
  /** 95th percentile of |change| over all ordered pairs of runs, in %: the noise floor. */
  p95PairPct: number;
}

/** The noise floor of one metric over repeated runs (at least 2 values, all positive). */
export function noiseFloor(values: readonly number[]): NoiseFloor {
  const n = values.length;
  if (n < 2) throw new RangeError("a noise floor needs at least two runs");
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const pairs: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j) pairs.push(Math.abs(values[j] - values[i]) / values[i] * 100);
    }
  }
  pairs.sort((a, b) => a - b);
  return {
    runs: n,
    mean,
    cvPct: mean > 0 ? Math.sqrt(variance) / mean * 100 : NaN,
    maxPairPct: pairs[pairs.length - 1],
    p95PairPct: quantileSorted(pairs, 0.95),
  };
}
