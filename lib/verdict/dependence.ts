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

/** Standard errors added to the pooled lag-1 autocorrelation (a cautious estimate). */
const RHO_MARGIN_SE = 2;

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
 * Seconds per independent second, from per-second series of both sides (several probes: any of
 * them may show the drift): the largest over the probes of (a) the AR(1) time (1 + φ)/(1 − φ)
 * of the pooled, bias-corrected lag-1 autocorrelation plus `RHO_MARGIN_SE` standard errors,
 * (b) each side's own bias-corrected AR(1) time, and (c) each side's Politis–White flat-top
 * estimate (catches dependence that is not AR(1)-shaped).
 */
export function correlationSeconds(
  probes: readonly (readonly [readonly number[], readonly number[]])[],
): number {
  let phi = 0, flat = 1;
  for (const [b, a] of probes) {
    const nb = b.length, na = a.length;
    const pooled = debiasedPhi((nb * lag1(b) + na * lag1(a)) / (nb + na), (nb + na) / 2);
    const upper = pooled + RHO_MARGIN_SE * Math.sqrt(Math.max(0, 1 - pooled ** 2) / (nb + na));
    phi = Math.max(phi, upper, debiasedPhi(lag1(b), nb), debiasedPhi(lag1(a), na));
    flat = Math.max(
      flat,
      automaticBlockLength(b).correlationSeconds,
      automaticBlockLength(a).correlationSeconds,
    );
  }
  const clipped = Math.min(phi, 0.995);
  return Math.max(flat, (1 + clipped) / (1 - clipped));
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
