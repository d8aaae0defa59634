/**
 * 95% intervals of the change (after vs before, %) of latency percentiles and throughput from
 * the per-second histograms of one run per side, that hold their level when seconds are
 * correlated (drift from GC, compaction, background work), and that are refused, with the
 * reason, where a run is too short for the dependence it shows.
 *
 * Method (validated by `deno task bench intervals`; table in BENCHMARKS.md):
 * - Spread: each side's seconds are resampled independently (2,000 resamples, fixed seed); in
 *   each resample the per-second histograms are merged and the percentile is read from the
 *   merged histogram (never an average of per-second percentiles); throughput is responses per
 *   second. The variance of the log of each statistic is then multiplied by τ⁺, a cautious bound
 *   on the metric's integrated autocorrelation time (seconds per independent second): the
 *   variance of a mean of correlated values is τ times that of independent ones.
 * - τ and τ⁺ come from per-second series that drive the statistic, on both sides: for a
 *   percentile q, the count of the second's samples at or below the run's q minus p·(its
 *   samples) (the quantile's influence function), for q itself and, above P90, for P90 too (a
 *   level drift shows with less noise there than in the few samples of a tail); for throughput,
 *   the responses of each second. τ, which decides refusal, is the largest of the AR(1) value
 *   (1 + φ)/(1 − φ) from the pooled, bias-corrected lag-1 autocorrelation plus two standard
 *   errors, each side's own bias-corrected value, and the Politis–White (2004) flat-top estimate
 *   with the Patton–Politis–White (2009) lag choice. τ⁺ (lib/verdict/dependence.ts) also takes
 *   three standard errors, and, for percentiles, an AR(1) level under the binomial sampling noise
 *   of each second (whose variance is known: a slow drift hidden in that noise shows only a small
 *   lag-1 autocorrelation), and is divided by 1 − τ⁺/n (a run's own variance is low by that
 *   factor). Each metric has its own τ: on a real run the median may drift for a minute while
 *   the P99's excursions are independent.
 * - Interval: log(after/before) ± t·SE, t the Student quantile with Welch–Satterthwaite degrees
 *   of freedom from each side's independent seconds (seconds / τ⁺): a 60-s run with τ⁺ = 9 holds
 *   ~7 independent seconds, and a normal or percentile interval would pretend it holds 60.
 * - Refused: when a side has fewer than `MIN_INTERVAL_SECONDS` seconds, a metric fewer than
 *   `MIN_INDEPENDENT_SECONDS` independent seconds by τ, or fewer than `MIN_BOUND_SECONDS` by τ⁺;
 *   the reason says how long runs would need to be, or that a drift may be hidden.
 * - The plain stationary bootstrap (Politis & Romano 1994) with the Politis–White block length
 *   and a percentile interval is kept as `method: "stationary"` only so the benchmark can show
 *   that it undercovers (its resamples of a short correlated run vary too little).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { changeIntervals } from "./intervals.ts";
 * const second = { valuesUs: [1000, 2000], counts: [90, 10], completed: 100 };
 * const tenSeconds = Array.from({ length: 10 }, () => second);
 * const set = changeIntervals(tenSeconds, tenSeconds, [99]);
 * strictEqual(set.latency[0].kind, "refused");
 * ```
 * @module
 */
import { Prng } from "../workload/prng.ts";
import { bucketIndex, bucketValue, type SecondSample } from "./stats.ts";
import {
  automaticBlockLength,
  correlationSeconds,
  normalQuantile,
  type Probe,
  studentQuantile,
} from "./dependence.ts";

/** Fewest seconds per side for any interval. */
export const MIN_INTERVAL_SECONDS = 20;
/** Fewest effective independent seconds per side for an interval of a metric. */
export const MIN_INDEPENDENT_SECONDS = 8;
/** Fewest independent seconds per side by the bound τ⁺ (below it the bound is unreliable). */
export const MIN_BOUND_SECONDS = 2;
/** Default number of resamples. */
export const INTERVAL_RESAMPLES = 2000;
/** The fixed default seed: the output of compare is reproducible. */
export const INTERVAL_SEED = 0x4D3137n;

/** How to resample. */
export interface IntervalOptions {
  /** Number of resamples (default `INTERVAL_RESAMPLES`). */
  resamples?: number;
  /** PRNG seed; equal seeds give equal intervals (default `INTERVAL_SEED`). */
  seed?: bigint;
  /** Two-sided confidence level (default 0.95). */
  confidence?: number;
}

// ---------------------------------------------------------------------------------------------
// One side: prefix sums over seconds and buckets

/**
 * The seconds of one run, prefix-summed over seconds and buckets, so that the CDF of any set of
 * second ranges costs one subtraction per range: `cum[b·rows + t]` = samples in seconds < t with
 * bucket offset ≤ b.
 */
export class SecondsTable {
  readonly n: number;
  readonly #rows: number;
  readonly #buckets: number;
  readonly #cum: Float64Array;
  readonly #completed: Float64Array;

  constructor(seconds: readonly SecondSample[], lo: number, hi: number) {
    const rows = seconds.length + 1;
    const buckets = hi - lo + 1;
    this.n = seconds.length;
    this.#rows = rows;
    this.#buckets = buckets;
    const cum = new Float64Array(buckets * rows);
    this.#completed = new Float64Array(rows);
    seconds.forEach((s, t) => {
      for (let i = 0; i < s.valuesUs.length; i++) {
        cum[(bucketIndex(s.valuesUs[i]) - lo) * rows + t + 1] += s.counts[i];
      }
      this.#completed[t + 1] = this.#completed[t] + s.completed;
    });
    for (let b = 0; b < buckets; b++) {
      for (let t = 1; t < rows; t++) cum[b * rows + t] += cum[b * rows + t - 1];
    }
    for (let b = 1; b < buckets; b++) {
      for (let t = 0; t < rows; t++) cum[b * rows + t] += cum[(b - 1) * rows + t];
    }
    this.#cum = cum;
  }

  /** Samples at or below bucket offset `b` in the `count` ranges `[starts[i], ends[i])`. */
  cdf(starts: Int32Array, ends: Int32Array, count: number, b: number): number {
    const row = b * this.#rows;
    let s = 0;
    for (let i = 0; i < count; i++) s += this.#cum[row + ends[i]] - this.#cum[row + starts[i]];
    return s;
  }

  /** Nearest-rank percentile `p` (bucket offset) of the merged ranges; -1 when empty. */
  percentile(starts: Int32Array, ends: Int32Array, count: number, p: number): number {
    const total = this.cdf(starts, ends, count, this.#buckets - 1);
    if (total === 0) return -1;
    const rank = Math.max(1, Math.ceil(p / 100 * total - 1e-9));
    let lo = 0, hi = this.#buckets - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf(starts, ends, count, mid) >= rank) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The whole run as one range. */
  get whole(): [Int32Array, Int32Array] {
    return [new Int32Array([0]), new Int32Array([this.n])];
  }

  /** Nearest-rank percentile `p` (bucket offset) of the whole run; -1 when empty. */
  wholePercentile(p: number): number {
    return this.percentile(...this.whole, 1, p);
  }

  /** Responses per second over the ranges. */
  throughput(starts: Int32Array, ends: Int32Array, count: number): number {
    let done = 0, seconds = 0;
    for (let i = 0; i < count; i++) {
      done += this.#completed[ends[i]] - this.#completed[starts[i]];
      seconds += ends[i] - starts[i];
    }
    return done / seconds;
  }

  /** Per second t: samples at or below bucket offset `b` minus `p`% of the second's samples. */
  influence(b: number, p: number): number[] {
    const rows = this.#rows, last = (this.#buckets - 1) * rows;
    const out: number[] = [];
    for (let t = 0; t < this.n; t++) {
      const below = this.#cum[b * rows + t + 1] - this.#cum[b * rows + t];
      const all = this.#cum[last + t + 1] - this.#cum[last + t];
      out.push(below - p / 100 * all);
    }
    return out;
  }

  /**
   * The mean variance the `influence(b, p)` values would have from sampling alone: seconds whose
   * samples fall at or below bucket offset `b` independently, with the run's fraction π, give
   * (samples)·π(1 − π).
   */
  samplingVariance(b: number): number {
    const rows = this.#rows, last = (this.#buckets - 1) * rows;
    const all = this.#cum[last + this.n];
    if (this.n === 0 || all === 0) return 0;
    const pi = this.#cum[b * rows + this.n] / all;
    return all / this.n * pi * (1 - pi);
  }

  /** Responses of each second. */
  completedSeries(): number[] {
    const out: number[] = [];
    for (let t = 0; t < this.n; t++) out.push(this.#completed[t + 1] - this.#completed[t]);
    return out;
  }
}

/** Draws one stationary-bootstrap resample of n seconds as ranges; returns the range count. */
function drawStationary(
  rng: Prng,
  n: number,
  meanBlock: number,
  starts: Int32Array,
  ends: Int32Array,
): number {
  const pNew = 1 / meanBlock;
  let count = 0, t = rng.nextInt(n);
  starts[0] = t;
  for (let k = 1; k < n; k++) {
    const next = rng.nextFloat() < pNew ? rng.nextInt(n) : (t + 1) % n;
    if (next !== t + 1) {
      ends[count++] = t + 1;
      starts[count] = next;
    }
    t = next;
  }
  ends[count++] = t + 1;
  return count;
}

// ---------------------------------------------------------------------------------------------
// Intervals

/** A change interval in percent: [low, high]. */
export type Interval = [lo: number, hi: number];

/** One metric's interval, or why none is printed. */
export type MetricInterval =
  | {
    kind: "ok";
    ci: Interval;
    /** τ: seconds per independent second estimated for this metric (decides refusal). */
    correlationSeconds: number;
    /** τ⁺ ≥ τ: the bound the spread and the degrees of freedom use. */
    correlationBound: number;
  }
  | { kind: "refused"; reason: string };

/** Intervals of the latency percentiles (request order) and of throughput. */
export interface ChangeIntervalSet {
  latency: MetricInterval[];
  throughput: MetricInterval;
}

/**
 * How the interval is made: "inflated" (the method of this module) or "stationary" (the plain
 * stationary bootstrap with Politis–White block lengths and a percentile interval, kept so the
 * benchmark can show why it is not used).
 */
export type IntervalMethod = "inflated" | "stationary";

/** A body percentile whose per-second series shows drift with less noise than a tail one. */
const BODY_PROBE = 90;

const one = (x: number) => x.toFixed(1);

/**
 * Intervals of the relative change (after vs before, %) of the given latency percentiles and of
 * throughput (module doc: the method and when an interval is refused).
 */
export function changeIntervals(
  before: readonly SecondSample[],
  after: readonly SecondSample[],
  percentiles: readonly number[],
  options: IntervalOptions & { method?: IntervalMethod } = {},
): ChangeIntervalSet {
  const resamples = options.resamples ?? INTERVAL_RESAMPLES;
  const seed = options.seed ?? INTERVAL_SEED;
  const tail = (1 - (options.confidence ?? 0.95)) / 2;
  const shortest = Math.min(before.length, after.length);
  if (shortest < MIN_INTERVAL_SECONDS) {
    const refused: MetricInterval = {
      kind: "refused",
      reason: `runs of ${shortest} s; an interval needs at least ${MIN_INTERVAL_SECONDS} s a side`,
    };
    return { latency: percentiles.map(() => refused), throughput: refused };
  }
  let lo = Infinity, hi = -Infinity;
  for (const s of [...before, ...after]) {
    for (const v of s.valuesUs) {
      const b = bucketIndex(v);
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    }
  }
  if (lo > hi) lo = hi = 0;
  const tables = [new SecondsTable(before, lo, hi), new SecondsTable(after, lo, hi)];
  // Per metric, the per-second series of both sides that drive it (module doc).
  const at = (t: SecondsTable, p: number) => Math.max(0, t.wholePercentile(p));
  const series = (p: number) => tables.map((t) => t.influence(at(t, p), p)) as [number[], number[]];
  const probe = (p: number): Probe => [
    ...series(p),
    tables.map((t) => t.samplingVariance(at(t, p))) as [number, number],
  ];
  const dependence = [
    ...percentiles.map((p) =>
      correlationSeconds(p > BODY_PROBE ? [probe(p), probe(BODY_PROBE)] : [probe(p)])
    ),
    correlationSeconds([tables.map((t) => t.completedSeries()) as [number[], number[]]]),
  ];
  const stationary = options.method === "stationary";
  const draws = tables.map((table, i) => {
    const block = stationary
      ? Math.max(
        ...[...[...percentiles, BODY_PROBE].map((p) => series(p)[i]), table.completedSeries()]
          .map((x) => automaticBlockLength(x).blockSeconds),
      )
      : 1;
    return resampleSide(table, percentiles, block, Prng.derive(seed, BigInt(i + 1)), resamples, lo);
  });
  const observed = tables.map((table) => [
    ...percentiles.map((p) => logValue(table.wholePercentile(p), lo)),
    Math.log(table.throughput(...table.whole, 1)),
  ]);
  const interval = (k: number): MetricInterval => {
    const { seconds: tau, bound } = dependence[k];
    if (Math.min(...tables.map((t) => t.n / tau)) < MIN_INDEPENDENT_SECONDS) {
      return {
        kind: "refused",
        reason: `per-second values are correlated over ~${one(tau)} s, so ${shortest} s hold ~${
          one(shortest / tau)
        } independent seconds; an interval needs ${MIN_INDEPENDENT_SECONDS} (runs of ≥ ${
          Math.ceil(MIN_INDEPENDENT_SECONDS * tau)
        } s)`,
      };
    }
    if (shortest / bound < MIN_BOUND_SECONDS) {
      return {
        kind: "refused",
        reason: `per-second values may be correlated over ${
          Number.isFinite(bound) ? `up to ~${one(bound)} s` : "longer than the run"
        } (a slow drift under the noise of each second), so ${shortest} s may hold fewer than ${MIN_BOUND_SECONDS} independent seconds`,
      };
    }
    const independent = tables.map((t) => t.n / bound);
    const theta = observed[1][k] - observed[0][k];
    const empty: MetricInterval = { kind: "refused", reason: "a run has no samples" };
    if (!Number.isFinite(theta)) return empty;
    const ok = (logLo: number, logHi: number): MetricInterval => ({
      kind: "ok",
      ci: [(Math.exp(logLo) - 1) * 100, (Math.exp(logHi) - 1) * 100],
      correlationSeconds: tau,
      correlationBound: bound,
    });
    if (stationary) {
      const diffs = draws[1][k].map((a, r) => a - draws[0][k][r]).filter(Number.isFinite).sort();
      if (diffs.length < 0.9 * resamples) return empty;
      const q = (x: number) => diffs[Math.min(diffs.length - 1, Math.floor(x * diffs.length))];
      return ok(q(tail), q(1 - tail));
    }
    const variances = draws.map((d) => variance(d[k]) * bound);
    if (variances.some((v) => !Number.isFinite(v))) return empty;
    const v = variances[0] + variances[1];
    // Welch–Satterthwaite degrees of freedom from the independent seconds of each side.
    const df = v === 0 ? Infinity : v * v /
      (variances[0] ** 2 / (independent[0] - 1) + variances[1] ** 2 / (independent[1] - 1));
    const half = (Number.isFinite(df) ? studentQuantile(tail, df) : normalQuantile(1 - tail)) *
      Math.sqrt(v);
    return ok(theta - half, theta + half);
  };
  return {
    latency: percentiles.map((_, k) => interval(k)),
    throughput: interval(percentiles.length),
  };
}

function logValue(bucketOffset: number, lo: number): number {
  return bucketOffset < 0 ? NaN : Math.log(bucketValue(bucketOffset + lo));
}

/**
 * `draws[metric][r]`: the log of each statistic (percentiles, then throughput) in resample r of
 * one side, by the stationary bootstrap with mean block `block` (1: seconds drawn independently).
 */
function resampleSide(
  table: SecondsTable,
  percentiles: readonly number[],
  block: number,
  rng: Prng,
  resamples: number,
  lo: number,
): Float64Array[] {
  const out = Array.from({ length: percentiles.length + 1 }, () => new Float64Array(resamples));
  const starts = new Int32Array(table.n + 1), ends = new Int32Array(table.n + 1);
  for (let r = 0; r < resamples; r++) {
    const count = drawStationary(rng, table.n, block, starts, ends);
    percentiles.forEach((p, k) => {
      out[k][r] = logValue(table.percentile(starts, ends, count, p), lo);
    });
    out[percentiles.length][r] = Math.log(table.throughput(starts, ends, count));
  }
  return out;
}

/** Sample variance of the finite values; NaN when fewer than 90% are finite. */
function variance(xs: Float64Array): number {
  let n = 0, mean = 0, m2 = 0;
  for (const x of xs) {
    if (!Number.isFinite(x)) continue;
    n++;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  return n < 0.9 * xs.length || n < 2 ? NaN : m2 / (n - 1);
}
