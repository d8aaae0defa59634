/**
 * Change points in a time-ordered series: E-Divisive means (Matteson & James 2014, "A
 * nonparametric approach for multiple change point analysis of multivariate data", JASA), with
 * its permutation significance test, followed by a minimum-magnitude merge (as Hunter/Apache
 * Otava do: a split too small to matter is taken back, and its neighbours re-measured).
 *
 * Divisive: the series is split at the point that maximises the energy-distance statistic
 * Q̂(τ) = mn/(m+n) · (2/(mn)·Σ|xᵢ−yⱼ| − 1/C(m,2)·Σ|xᵢ−xₖ| − 1/C(n,2)·Σ|yⱼ−yₖ|) (α = 1) over
 * every segment found so far; the split is kept when it is significant: p = (1 + #{permutations
 * whose best Q̂ ≥ the observed}) / (1 + R), each permutation shuffling the values within every
 * current segment. Then every kept point whose shift (median after / median before − 1, the
 * two neighbouring segments) is below the minimum magnitude is removed, smallest first.
 * Deterministic: the permutations come from the seeded xoshiro128** of lib/workload/prng.ts.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { changePoints } from "./changepoint.ts";
 * const series = [10, 10.2, 9.9, 10.1, 10, 12, 12.1, 11.9, 12.2, 12];
 * deepStrictEqual(changePoints(series).map((c) => c.index), [5]);
 * ```
 * @module
 */
import { Prng } from "../workload/prng.ts";
import { median } from "./stats.ts";

/** How change points are searched and accepted. */
export interface ChangePointOptions {
  /** Significance level of the permutation test (a split is kept when p ≤ alpha). */
  alpha: number;
  /** Permutations per test; p can be no smaller than 1 / (permutations + 1). */
  permutations: number;
  /** Smallest accepted shift of the segment medians, in percent. */
  minMagnitudePct: number;
  /** Fewest values on each side of a split. */
  minSegment: number;
  /** Seed of the permutations. */
  seed: bigint;
}

/** The defaults: α = 0.05, 199 permutations, 5% minimum shift, segments of ≥ 3 runs. */
export const CHANGE_POINT_DEFAULTS: ChangePointOptions = {
  alpha: 0.05,
  permutations: 199,
  minMagnitudePct: 5,
  minSegment: 3,
  seed: 0x5EEDn,
};

/** A point where the series' distribution shifts. */
export interface ChangePoint {
  /** Index of the first value after the shift. */
  index: number;
  /** Permutation p-value of the split when it was found. */
  pValue: number;
  /** Median of the segment before and of the segment after (between the neighbouring points). */
  before: number;
  after: number;
  /** (after − before) / |before| × 100; null when before is 0 (a shift from nothing). */
  shiftPct: number | null;
}

/**
 * The change points of `series` (oldest first), in index order. Fewer than 2 × minSegment
 * values, or a constant series, have none.
 */
export function changePoints(
  series: readonly number[],
  options: Partial<ChangePointOptions> = {},
): ChangePoint[] {
  const o = { ...CHANGE_POINT_DEFAULTS, ...options };
  if (!series.every(Number.isFinite)) throw new RangeError("change points need finite values");
  const rng = new Prng(o.seed);
  // Accepted cuts (first index of a segment) with their p-values.
  const found = new Map<number, number>();
  for (;;) {
    const cuts = [0, ...[...found.keys()].sort((a, b) => a - b), series.length];
    const best = bestSplit(series, cuts, o.minSegment);
    if (best === null || best.q <= 0) break;
    // Stops as soon as p must exceed alpha: the decision is the same, and only kept splits
    // (which run every permutation) report their p-value.
    const mostAtLeast = Math.floor(o.alpha * (o.permutations + 1)) - 1;
    let atLeast = 0;
    for (let r = 0; r < o.permutations && atLeast <= mostAtLeast; r++) {
      const shuffled = shuffleWithin(series, cuts, rng);
      const q = bestSplit(shuffled, cuts, o.minSegment)?.q ?? 0;
      if (q >= best.q) atLeast++;
    }
    const pValue = (atLeast + 1) / (o.permutations + 1);
    if (pValue > o.alpha) break;
    found.set(best.index, pValue);
  }
  return mergeSmall(series, found, o.minMagnitudePct);
}

/** The split with the largest Q̂ over every segment between `cuts`, or null when none fits. */
function bestSplit(
  x: readonly number[],
  cuts: readonly number[],
  minSegment: number,
): { index: number; q: number } | null {
  let best: { index: number; q: number } | null = null;
  for (let s = 0; s + 1 < cuts.length; s++) {
    const found = bestInSegment(x, cuts[s], cuts[s + 1], minSegment);
    if (found !== null && (best === null || found.q > best.q)) best = found;
  }
  return best;
}

/**
 * The best split of x[from, to) by Q̂, in O(L²): the within-left, within-right and cross sums of
 * |xᵢ − xⱼ| are updated as the split moves one value to the right.
 */
function bestInSegment(
  x: readonly number[],
  from: number,
  to: number,
  minSegment: number,
): { index: number; q: number } | null {
  const len = to - from;
  const min = Math.max(1, minSegment);
  if (len < 2 * min) return null;
  // toLeft[t] = Σ_{i<t} |x_t − x_i|, toRight[t] = Σ_{k>t} |x_t − x_k| (within the segment).
  const toLeft = new Float64Array(len);
  const toRight = new Float64Array(len);
  let total = 0;
  for (let i = 0; i < len; i++) {
    for (let k = i + 1; k < len; k++) {
      const d = Math.abs(x[from + i] - x[from + k]);
      toRight[i] += d;
      toLeft[k] += d;
      total += d;
    }
  }
  let within = [0, total];
  let cross = 0;
  let best: { index: number; q: number } | null = null;
  for (let t = 0; t < len - min; t++) {
    // Move value t from the right segment to the left one.
    within = [within[0] + toLeft[t], within[1] - toRight[t]];
    cross += toRight[t] - toLeft[t];
    const m = t + 1, n = len - m;
    if (m < min) continue;
    const q = m * n / (m + n) * (
      2 * cross / (m * n) - meanPair(within[0], m) - meanPair(within[1], n)
    );
    if (best === null || q > best.q) best = { index: from + m, q };
  }
  return best;
}

/** Σ over pairs / number of pairs (0 for a single value). */
function meanPair(sum: number, count: number): number {
  return count < 2 ? 0 : sum / (count * (count - 1) / 2);
}

/** A copy of `x` with the values of every segment between `cuts` shuffled (Fisher–Yates). */
function shuffleWithin(x: readonly number[], cuts: readonly number[], rng: Prng): number[] {
  const out = [...x];
  for (let s = 0; s + 1 < cuts.length; s++) {
    for (let i = cuts[s + 1] - 1; i > cuts[s]; i--) {
      const j = cuts[s] + rng.nextInt(i - cuts[s] + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
  }
  return out;
}

/**
 * The accepted cuts as change points, after removing (smallest shift first, re-measuring the
 * neighbours each time) every cut whose shift is below `minPct`.
 */
function mergeSmall(
  x: readonly number[],
  found: ReadonlyMap<number, number>,
  minPct: number,
): ChangePoint[] {
  let cuts = [...found.keys()].sort((a, b) => a - b);
  for (;;) {
    const points = cuts.map((index, i) => {
      const before = median(x.slice(cuts[i - 1] ?? 0, index));
      const after = median(x.slice(index, cuts[i + 1] ?? x.length));
      return { index, pValue: found.get(index)!, before, after, shiftPct: shiftPct(before, after) };
    });
    const size = (c: ChangePoint) => c.shiftPct === null ? Infinity : Math.abs(c.shiftPct);
    const weakest = points.reduce<ChangePoint | null>(
      (w, c) => size(c) < minPct && (w === null || size(c) < size(w)) ? c : w,
      null,
    );
    if (weakest === null) return points;
    cuts = cuts.filter((c) => c !== weakest.index);
  }
}

/** Relative shift in percent; null from 0 to something else, 0 from 0 to 0. */
function shiftPct(before: number, after: number): number | null {
  if (before === 0) return after === 0 ? 0 : null;
  return (after - before) / Math.abs(before) * 100;
}
