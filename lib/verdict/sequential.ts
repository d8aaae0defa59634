/**
 * The decision rule for repeated runs, valid however often it is looked at: an always-valid
 * one-sided p-value that after is worse than before and the matching always-valid upper bound
 * of the change (a one-sided 95% confidence sequence), from runs interleaved in pairs (paired:
 * `d_i = ln(after_i / before_i)`) or from `check --runs N` groups (unpaired: the difference of
 * the two sides' mean log values). Pure numbers in, numbers out.
 *
 * The test is a mixture sequential probability ratio test (mSPRT: Robbins 1970; Johari, Pekelis
 * & Walsh 2017, "Peeking at A/B tests") made scale-invariant so that it needs no variance, known
 * or plugged in: the likelihood ratio of the data's maximal invariant under rescaling (Lai 1976;
 * Pérez-Ortiz et al. 2024; Wang & Ramdas 2025, "Anytime-valid t-tests"), mixed over a half-normal
 * prior on the standardized effect δ = θ/σ. Its closed form, for effect data summarized by
 * S = w²(θ̂ − u), V = w²(θ̂ − u)² + Q in N dimensions (paired: w² = N = pairs; unpaired:
 * w² = 1/(1/n_a + 1/n_b), N = n_a + n_b − 1, Q the within-side sum of squares), is
 *
 *   Λ⁺ = 2 · √(c²/(w²+c²)) · (1 − r²)^(−N/2) · F_t,N( r·√(N/(1 − r²)) ),  r = S/√(V·(w²+c²)),
 *
 * with F_t,N Student's t distribution function. Λ⁺ is a nonnegative martingale of mean 1 under
 * "no change", so by Ville's inequality P(Λ⁺ ever ≥ 1/α) ≤ α: p = min over looks of 1/Λ⁺ is
 * valid at any stopping time. The upper bound is the largest u whose mirrored test (evidence
 * that the effect is below u) has not reached 1/α, intersected over looks (the running
 * minimum), so "regressions above it are ruled out" holds at any stopping time too.
 *
 * @example
 * ```ts
 * import { ok, strictEqual } from "node:assert/strict";
 * import { pairedEvidence, studentTCdf } from "./sequential.ts";
 * strictEqual(studentTCdf(1, 1), 0.75);
 * // Ten pairs, each about 10% slower after: p far below 0.05, and no bound below +5%.
 * const d = [0.09, 0.11, 0.1, 0.08, 0.12, 0.1, 0.095, 0.105, 0.1, 0.09];
 * const e = pairedEvidence(d);
 * ok(e.pValue < 0.01 && e.upper > Math.log(1.05));
 * ```
 * @module
 */
/** Level of the repeated-run rule: false alarms and wrong "ruled out"s each at most 5%. */
export const ALPHA = 0.05;

/**
 * Precision c² of the half-normal mixture over the standardized effect δ = θ/σ (prior sd 1/c =
 * 2). Chosen by simulation (`deno task bench sequential`): run-to-run noise of 2–7% makes a 10%
 * change δ ≈ 1.5–5; a wider prior needs fewer pairs to call large effects, a narrower one more.
 */
export const MIXTURE_PRECISION = 0.25;

/** Student's t distribution function for an integer number of degrees of freedom ν ≥ 1. */
export function studentTCdf(t: number, nu: number): number {
  if (!Number.isInteger(nu) || nu < 1) throw new RangeError(`degrees of freedom ${nu}`);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  // Abramowitz & Stegun 26.7.3 (odd ν) and 26.7.4 (even ν): finite sums in θ = atan(t/√ν).
  const theta = Math.atan(t / Math.sqrt(nu));
  const cos2 = Math.cos(theta) ** 2;
  const sin = Math.sin(theta);
  let a: number;
  if (nu % 2 === 1) {
    let sum = 0;
    if (nu > 1) {
      let term = Math.cos(theta);
      sum = term;
      for (let k = 3; k <= nu - 2; k += 2) {
        term *= (k - 1) / k * cos2;
        sum += term;
      }
    }
    a = 2 / Math.PI * (theta + sin * sum);
  } else {
    let term = 1, sum = 1;
    for (let k = 2; k <= nu - 2; k += 2) {
      term *= (k - 1) / k * cos2;
      sum += term;
    }
    a = sin * sum;
  }
  return Math.min(1, Math.max(0, (1 + a) / 2));
}

/**
 * What the test needs of the effect data: the estimate θ̂ (mean worse-direction log change),
 * its weight w² (θ̂ ~ N(θ, σ²/w²)), the residual sum of squares Q and the dimension N.
 */
export interface EffectData {
  estimate: number;
  w2: number;
  q: number;
  dims: number;
}

/** Effect data of paired log changes `d` (one per pair, positive = worse). */
export function pairedData(d: readonly number[]): EffectData {
  const n = d.length;
  const mean = d.reduce((s, x) => s + x, 0) / n;
  return { estimate: mean, w2: n, q: sumOfSquares(d, mean), dims: n };
}

/** Effect data of two independent sides of worse-oriented log values (after minus before). */
export function unpairedData(before: readonly number[], after: readonly number[]): EffectData {
  const mb = before.reduce((s, x) => s + x, 0) / before.length;
  const ma = after.reduce((s, x) => s + x, 0) / after.length;
  return {
    estimate: ma - mb,
    w2: 1 / (1 / before.length + 1 / after.length),
    q: sumOfSquares(before, mb) + sumOfSquares(after, ma),
    dims: before.length + after.length - 1,
  };
}

function sumOfSquares(xs: readonly number[], mean: number): number {
  return xs.reduce((s, x) => s + (x - mean) ** 2, 0);
}

/**
 * ln Λ: the evidence that the effect is above `u` (direction +1) or below it (−1), from the
 * scale-invariant half-normal mixture (module comment). 0 data spread and θ̂ = u: no evidence.
 */
export function logEvidence(
  x: EffectData,
  u: number,
  direction: 1 | -1,
  c2 = MIXTURE_PRECISION,
): number {
  const shift = x.estimate - u;
  const s = direction * x.w2 * shift;
  const v = x.w2 * shift * shift + x.q;
  const r = v > 0 ? s / Math.sqrt(v * (x.w2 + c2)) : 0;
  const k = 1 - r * r;
  const tail = studentTCdf(r * Math.sqrt(x.dims / k), x.dims);
  return 0.5 * Math.log(c2 / (x.w2 + c2)) - x.dims / 2 * Math.log(k) + Math.log(2 * tail);
}

/** The always-valid p-value of one look (before the running minimum): min(1, 1/Λ⁺ at u = 0). */
export function lookPValue(x: EffectData, c2 = MIXTURE_PRECISION): number {
  return Math.min(1, Math.exp(-logEvidence(x, 0, 1, c2)));
}

/**
 * The upper confidence bound of one look (before the running intersection): the largest effect
 * u ≥ θ̂ not rejected at level α by the mirrored test; Infinity when no u is (too few data: the
 * evidence a scale-invariant test can gather from N values is bounded).
 */
export function lookUpperBound(x: EffectData, alpha = ALPHA, c2 = MIXTURE_PRECISION): number {
  const target = Math.log(1 / alpha);
  const f = (u: number) => logEvidence(x, u, -1, c2);
  // The evidence grows with u above θ̂ towards its limit (r² → w²/(w²+c²)).
  const limit = logEvidence({ ...x, q: 0 }, x.estimate + 1, -1, c2);
  if (!(limit >= target)) return Infinity;
  const scale = Math.max(Math.sqrt(x.q / Math.max(1, x.w2 * x.dims)), 1e-9);
  let lo = x.estimate, hi = x.estimate + scale;
  for (let i = 0; i < 200 && f(hi) < target; i++) hi = x.estimate + 2 * (hi - x.estimate);
  for (let i = 0; i < 100 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The always-valid evidence on one metric's effect (worse-direction log change). */
export interface SequentialEvidence {
  /** θ̂ at the last look: mean worse-direction log change. */
  estimate: number;
  /** Always-valid one-sided p-value that after is worse than before (against no change). */
  pValue: number;
  /** Always-valid upper bound (level 1 − α) of the worse-direction log change; Infinity: none yet. */
  upper: number;
  /** How many looks the running minimum covers (pairs, or 1 for unpaired runs). */
  looks: number;
}

/**
 * The evidence of paired log changes `d` in pair order, as if looked at after every pair (the
 * first pair alone carries only its sign): p and bound are the running minimum over those looks,
 * so the same data give the same answer whether the runner stopped here or compare looks later.
 */
export function pairedEvidence(
  d: readonly number[],
  alpha = ALPHA,
  c2 = MIXTURE_PRECISION,
): SequentialEvidence {
  let pValue = 1, upper = Infinity, looks = 0;
  for (let n = 1; n <= d.length; n++) {
    const x = pairedData(d.slice(0, n));
    pValue = Math.min(pValue, lookPValue(x, c2));
    upper = Math.min(upper, lookUpperBound(x, alpha, c2));
    looks++;
  }
  const estimate = d.length > 0 ? pairedData(d).estimate : NaN;
  return { estimate, pValue, upper, looks };
}

/** The evidence of two independent sides of worse-oriented log values: one look. */
export function unpairedEvidence(
  before: readonly number[],
  after: readonly number[],
  alpha = ALPHA,
  c2 = MIXTURE_PRECISION,
): SequentialEvidence {
  const x = unpairedData(before, after);
  if (x.dims < 2) return { estimate: x.estimate, pValue: 1, upper: Infinity, looks: 0 };
  return {
    estimate: x.estimate,
    pValue: lookPValue(x, c2),
    upper: lookUpperBound(x, alpha, c2),
    looks: 1,
  };
}

/** What one metric's evidence decides against its threshold. */
export type MetricDecision = "regression" | "pass" | "inconclusive";

/**
 * The rule: "regression" when the change in medians is past the threshold and p ≤ α; "pass"
 * when the bound rules out every change past the threshold; else "inconclusive". `past` says
 * whether a change (%) as printed is past the threshold (thresholds are judged as printed).
 */
export function decideMetric(
  changePct: number,
  boundPct: number | null,
  pValue: number,
  past: (pct: number) => boolean,
  alpha = ALPHA,
): MetricDecision {
  if (past(changePct) && pValue <= alpha) return "regression";
  if (boundPct !== null && !past(boundPct)) return "pass";
  return "inconclusive";
}
