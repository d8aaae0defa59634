/**
 * How strongly the seconds of a run depend on each other, and the distributions the intervals
 * need: the Politis–White automatic block length, the integrated autocorrelation time τ
 * (seconds per independent second) that lib/verdict/intervals.ts scales its spread by, and the
 * normal and Student t quantiles.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { automaticBlockLength } from "./dependence.ts";
 * // Independent values need no blocks.
 * const noise = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3];
 * strictEqual(automaticBlockLength(noise).blockSeconds, 1);
 * ```
 * @module
 */

// ---------------------------------------------------------------------------------------------
// Politis–White automatic block length

/** The dependence of one per-second series. */
export interface Dependence {
  /** Mean block length (s) of the stationary bootstrap, ≥ 1, ≤ the PW cap. */
  blockSeconds: number;
  /** Integrated autocorrelation time (s), ≥ 1: seconds per independent second. */
  correlationSeconds: number;
}

/** The flat-top lag window of Politis–White. */
function flatTop(t: number): number {
  const a = Math.abs(t);
  return a <= 0.5 ? 1 : a <= 1 ? 2 * (1 - a) : 0;
}

/** Sample autocovariances of lags 0..maxLag (divisor n). */
function autocovariances(x: readonly number[], maxLag: number): number[] {
  const n = x.length;
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const out: number[] = [];
  for (let k = 0; k <= maxLag; k++) {
    let s = 0;
    for (let t = 0; t + k < n; t++) s += (x[t] - mean) * (x[t + k] - mean);
    out.push(s / n);
  }
  return out;
}

/**
 * The Politis–White (2004) automatic mean block length of the stationary bootstrap, with the
 * Patton–Politis–White (2009) correction (D_SB = 2·ĝ(0)²), and the integrated autocorrelation
 * time from the same flat-top window. A constant series has blocks of 1 s.
 */
export function automaticBlockLength(series: readonly number[]): Dependence {
  const n = series.length;
  const independent = { blockSeconds: 1, correlationSeconds: 1 };
  if (n < 4) return independent;
  const kn = Math.max(5, Math.ceil(Math.sqrt(Math.log10(n))));
  const mMax = Math.min(n - 1, Math.ceil(Math.sqrt(n)) + kn);
  const bMax = Math.ceil(Math.min(3 * Math.sqrt(n), n / 3));
  const r = autocovariances(series, mMax);
  if (!(r[0] > 0)) return independent;
  const bound = 2 * Math.sqrt(Math.log10(n) / n);
  const significant = r.map((v, k) => k > 0 && Math.abs(v / r[0]) > bound);
  // m̂: the smallest lag after which kn autocorrelations in a row are insignificant.
  let mHat = -1;
  for (let m = 0; m + kn <= mMax && mHat < 0; m++) {
    let quiet = true;
    for (let k = 1; k <= kn && quiet; k++) quiet = !significant[m + k];
    if (quiet) mHat = m;
  }
  if (mHat < 0) mHat = Math.max(1, significant.lastIndexOf(true));
  const bigM = Math.min(2 * mHat, mMax);
  let g = 0, g0 = r[0];
  for (let k = 1; k <= bigM; k++) {
    const w = flatTop(k / bigM);
    g += 2 * w * k * r[k];
    g0 += 2 * w * r[k];
  }
  if (!(g0 > 0)) return independent;
  const block = (2 * g * g / (2 * g0 * g0)) ** (1 / 3) * n ** (1 / 3);
  return {
    blockSeconds: Math.min(bMax, Math.max(1, block)),
    correlationSeconds: Math.min(n, Math.max(1, g0 / r[0])),
  };
}

// ---------------------------------------------------------------------------------------------
// Dependence of a metric: the integrated autocorrelation time

/** Standard errors added to the pooled lag-1 autocorrelation for the estimate τ. */
const RHO_MARGIN_SE = 2;
/** Standard errors added to the pooled lag-1 autocorrelation for the bound τ⁺. */
const RHO_BOUND_SE = 3;
/** Largest AR(1) coefficient used. */
const PHI_CAP = 0.995;

/**
 * One per-second series that drives a metric, on both sides, and, when known, the variance each
 * second's value would have from sampling alone (for a percentile probe: the binomial variance of
 * the count of the second's samples at or below the run's percentile); undefined when unknown
 * (throughput).
 */
export type Probe = readonly [
  before: readonly number[],
  after: readonly number[],
  samplingVariance?: readonly [number, number],
];

/** The dependence of a metric's seconds. */
export interface Correlation {
  /** τ: seconds per independent second, the cautious estimate that decides refusal. */
  seconds: number;
  /**
   * τ⁺ ≥ τ: the bound the spread is scaled by (for the variance of a mean of correlated seconds
   * and the degrees of freedom): the largest of τ with three standard errors instead of two and
   * the AR(1)-plus-sampling-noise value, divided by 1 − τ⁺/n (the sample variance of n correlated
   * seconds is low by that factor).
   */
  bound: number;
}

/** Lag-1 autocorrelation; 0 for a constant series. */
function lag1(x: readonly number[]): number {
  const r = autocovariances(x, 1);
  return r[0] > 0 ? r[1] / r[0] : 0;
}

/**
 * AR(1) coefficient from a lag-1 autocorrelation of `n` values, corrected for its small-sample
 * bias (E ρ̂ ≈ φ − (1 + 4φ)/n with an estimated mean), at least 0.
 */
function debiasedPhi(rho: number, n: number): number {
  return n > 5 ? Math.max(0, (rho * n + 1) / (n - 4)) : 1;
}

/**
 * Share of a series' variance that is not sampling noise: 1 − (sampling variance)/(variance);
 * 0 or less when the series varies no more than sampling alone explains.
 */
function signalShare(x: readonly number[], samplingVariance: number): number {
  const v = autocovariances(x, 0)[0] * x.length / (x.length - 1);
  return v > 0 ? 1 - samplingVariance / v : 0;
}

/** Smallest signal share for which the level under the sampling noise is estimated. */
const MIN_SIGNAL_SHARE = 0.05;

/**
 * τ of one probe under "a level that follows AR(1) plus independent noise": the noise is the
 * share 1 − s of the variance, the level's lag-1 autocorrelation is ρ̂/s, and
 * τ = 1 + s·2φ/(1 − φ). With s = 1 this is the plain AR(1) value (1 + φ)/(1 − φ). The largest of
 * the pooled value plus `margin` standard errors and each side's own value.
 */
function ar1Seconds(
  b: readonly number[],
  a: readonly number[],
  shares: [number, number],
  margin: number,
) {
  const nb = b.length, na = a.length;
  const rb = lag1(b) / shares[0], ra = lag1(a) / shares[1];
  const share = (shares[0] + shares[1]) / 2;
  const pooled = debiasedPhi((nb * rb + na * ra) / (nb + na), (nb + na) / 2);
  const se = Math.sqrt(Math.max(0, 1 - pooled ** 2) / (nb + na)) / share;
  const tau = (phi: number, s: number) => {
    const f = Math.min(phi, PHI_CAP);
    return 1 + s * 2 * f / (1 - f);
  };
  return Math.max(
    tau(pooled + margin * se, share),
    tau(debiasedPhi(rb, nb), shares[0]),
    tau(debiasedPhi(ra, na), shares[1]),
  );
}

/**
 * The dependence of a metric from per-second series of both sides (several probes: any of them
 * may show the drift). τ is the largest over the probes of (a) the AR(1) time (1 + φ)/(1 − φ) of
 * the pooled, bias-corrected lag-1 autocorrelation plus `RHO_MARGIN_SE` standard errors, (b) each
 * side's own bias-corrected AR(1) time, and (c) each side's Politis–White flat-top estimate
 * (catches dependence that is not AR(1)-shaped). τ⁺ (`Correlation.bound`) also takes (a) with
 * `RHO_BOUND_SE` standard errors and, for probes with a known sampling variance, the same AR(1)
 * estimate of the level under the sampling noise, when the seconds vary clearly more than sampling
 * alone explains (a slow drift hidden in noisy seconds shows a
 * small lag-1 autocorrelation but a long τ), and corrects for the variance lost to the run's own
 * mean (÷ (1 − τ⁺/n)); Infinity when τ⁺ ≥ n.
 */
export function correlationSeconds(probes: readonly Probe[]): Correlation {
  let tau = 1, bound = 1, n = Infinity;
  for (const [b, a, noise] of probes) {
    n = Math.min(n, b.length, a.length);
    const flat = Math.max(
      automaticBlockLength(b).correlationSeconds,
      automaticBlockLength(a).correlationSeconds,
    );
    const plain = ar1Seconds(b, a, [1, 1], RHO_MARGIN_SE);
    tau = Math.max(tau, flat, plain);
    bound = Math.max(bound, flat, plain, ar1Seconds(b, a, [1, 1], RHO_BOUND_SE));
    if (noise) {
      const shares: [number, number] = [signalShare(b, noise[0]), signalShare(a, noise[1])];
      if (Math.min(...shares) >= MIN_SIGNAL_SHARE) {
        bound = Math.max(bound, ar1Seconds(b, a, shares, RHO_MARGIN_SE));
      }
    }
  }
  return { seconds: tau, bound: bound < n ? bound / (1 - bound / n) : Infinity };
}

// ---------------------------------------------------------------------------------------------
// Student t quantile

/**
 * The upper `1 - tail` quantile of Student's t with `df` degrees of freedom (df ≥ 1, real):
 * Hill's (1970) expansion, within 0.5% for df ≥ 2; below 2, the exact df = 1 (Cauchy) value.
 */
export function studentQuantile(tail: number, df: number): number {
  const z = normalQuantile(1 - tail);
  if (df < 2) return Math.tan(Math.PI * (0.5 - tail));
  const z2 = z * z;
  const terms = [
    z,
    (z2 + 1) * z / 4,
    ((5 * z2 + 16) * z2 + 3) * z / 96,
    (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384,
    ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160,
  ];
  return terms.reduce((s, term, i) => s + term / df ** i, 0);
}

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tailPoly = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tailPoly(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tailPoly(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
