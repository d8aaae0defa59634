/**
 * Statistics for noise-aware comparisons: order statistics, latency buckets, a one-sided
 * Mann–Whitney U test, and the noise floor of repeated runs (the change intervals are in
 * lib/verdict/intervals.ts). Pure numbers in, numbers out; lib/verdict/significance.ts applies
 * them to reports.
 *
 * Latencies are bucketed log-linearly (`SUB_BUCKETS` linear buckets per power of two, exact
 * below 1,024 µs): a bucket is at most 1/512 ≈ 0.2% wide and stands for its middle value, so a
 * resampled percentile is within ±0.1% of the exact one (plus the report histogram's own ±0.1%).
 *
 * @example
 * ```ts
 * import { ok, strictEqual } from "node:assert/strict";
 * import { mannWhitneyGreater } from "./stats.ts";
 * const t = mannWhitneyGreater([1, 2, 3], [4, 5, 6]);
 * strictEqual(t.method, "exact");
 * ok(Math.abs(t.pValue - 1 / 20) < 1e-12);
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
// Mann–Whitney U

/** Largest sample size per side for the exact distribution; beyond it, the normal one. */
export const MANN_WHITNEY_EXACT_MAX = 20;

/** A one-sided Mann–Whitney U test. */
export interface MannWhitneyResult {
  /** Pairs (x, y) with y > x, plus ½ per tie. */
  u: number;
  /** P(U ≥ u) when x and y come from one distribution. */
  pValue: number;
  /** Exact permutation distribution (midranks, ties included) or normal approximation. */
  method: "exact" | "normal";
  nX: number;
  nY: number;
}

/**
 * One-sided Mann–Whitney U test that `y` tends to be larger than `x`. Exact (the permutation
 * distribution of the midrank sum, conditional on the ties) when both sides have at most
 * `exactMax` (default `MANN_WHITNEY_EXACT_MAX`) values; otherwise the normal approximation with
 * tie and continuity corrections.
 */
export function mannWhitneyGreater(
  x: readonly number[],
  y: readonly number[],
  exactMax = MANN_WHITNEY_EXACT_MAX,
): MannWhitneyResult {
  const nX = x.length, nY = y.length;
  if (nX === 0 || nY === 0) throw new RangeError("Mann–Whitney needs values on both sides");
  const pooled = [...x.map((v) => ({ v, y: false })), ...y.map((v) => ({ v, y: true }))]
    .sort((a, b) => a.v - b.v);
  // Doubled midranks are integers: 2·midrank of a tie run over ranks i+1..j is i+j+1.
  const rank2 = new Array<number>(pooled.length);
  const tieSizes: number[] = [];
  for (let i = 0; i < pooled.length;) {
    let j = i;
    while (j < pooled.length && pooled[j].v === pooled[i].v) j++;
    for (let k = i; k < j; k++) rank2[k] = i + j + 1;
    tieSizes.push(j - i);
    i = j;
  }
  const observed2 = pooled.reduce((s, p, k) => s + (p.y ? rank2[k] : 0), 0);
  const u = observed2 / 2 - nY * (nY + 1) / 2;
  if (nX <= exactMax && nY <= exactMax) {
    return { u, pValue: exactUpperTail(rank2, nY, observed2), method: "exact", nX, nY };
  }
  const n = nX + nY;
  const ties = tieSizes.reduce((s, t) => s + t ** 3 - t, 0);
  const variance = nX * nY / 12 * (n + 1 - ties / (n * (n - 1)));
  const z = variance > 0 ? (u - nX * nY / 2 - 0.5) / Math.sqrt(variance) : -Infinity;
  return { u, pValue: normalUpperTail(z), method: "normal", nX, nY };
}

/** P(sum of `k` of the doubled ranks ≥ observed), all C(n, k) subsets equally likely. */
function exactUpperTail(rank2: readonly number[], k: number, observed2: number): number {
  const maxSum = rank2.reduce((s, r) => s + r, 0);
  // ways[j * (maxSum + 1) + s]: subsets of j of the ranks seen so far with doubled sum s.
  const width = maxSum + 1;
  const ways = new Float64Array((k + 1) * width);
  ways[0] = 1;
  for (const r of rank2) {
    for (let j = k; j >= 1; j--) {
      const to = j * width, from = (j - 1) * width;
      for (let s = maxSum; s >= r; s--) ways[to + s] += ways[from + s - r];
    }
  }
  let tail = 0, total = 0;
  for (let s = 0; s <= maxSum; s++) {
    const w = ways[k * width + s];
    total += w;
    if (s >= observed2) tail += w;
  }
  return tail / total;
}

/** P(Z ≥ z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  if (z === Infinity) return 0;
  if (z === -Infinity) return 1;
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? r : 2 - r;
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
