/**
 * lib/verdict/sequential.ts: Student's t against known values, the mixture's closed form against
 * an independent numerical integration of its definition, its mean of 1 under no change (what
 * makes it valid), the running minimum and the running intersection, and the decision rule.
 */
import assert from "node:assert/strict";
import { Prng } from "../../lib/workload/prng.ts";
import {
  ALPHA,
  decideMetric,
  type EffectData,
  logEvidence,
  lookPValue,
  lookUpperBound,
  MIXTURE_PRECISION,
  pairedData,
  pairedEvidence,
  studentTCdf,
  unpairedData,
  unpairedEvidence,
} from "../../lib/verdict/sequential.ts";

const close = (actual: number, expected: number, tolerance: number, what = "") =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what} ${actual} is not within ${tolerance} of ${expected}`,
  );

Deno.test("studentTCdf(): closed forms and table values", () => {
  assert.equal(studentTCdf(1, 1), 0.75); // Cauchy
  assert.equal(studentTCdf(0, 7), 0.5);
  for (const t of [-3, -0.5, 0.2, 1, 4]) {
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-12, `ν=2 t=${t}`);
    close(studentTCdf(-t, 9) + studentTCdf(t, 9), 1, 1e-12, `symmetry t=${t}`);
  }
  // Two-sided 95% critical values from the t table.
  close(studentTCdf(12.706, 1), 0.975, 1e-4, "ν=1");
  close(studentTCdf(3.182, 3), 0.975, 1e-4, "ν=3");
  close(studentTCdf(2.228, 10), 0.975, 1e-4, "ν=10");
  close(studentTCdf(2.042, 30), 0.975, 1e-4, "ν=30");
  let previous = 0;
  for (let t = -10; t <= 10; t += 0.25) {
    const f = studentTCdf(t, 5);
    assert.ok(f >= previous, `not monotone at ${t}`);
    previous = f;
  }
  assert.throws(() => studentTCdf(1, 0), RangeError);
});

/**
 * Λ⁺ from its definition, by quadrature: the half-normal mixture over δ of the ratio of
 * ∫ t^(N−1) exp(−‖t·z − δ·e‖²/2) dt to the same integral at δ = 0.
 */
function evidenceByQuadrature(x: EffectData, c2: number): number {
  const s = x.w2 * x.estimate, v = x.w2 * x.estimate ** 2 + x.q;
  const inner = (delta: number) => {
    let num = 0, den = 0;
    const tMax = 12 / Math.sqrt(v / x.dims);
    const steps = 4000;
    for (let i = 1; i < steps; i++) {
      const t = tMax * i / steps;
      const logBase = (x.dims - 1) * Math.log(t) - v * t * t / 2;
      num += Math.exp(logBase + delta * s * t - x.w2 * delta * delta / 2);
      den += Math.exp(logBase);
    }
    return num / den;
  };
  const sd = 1 / Math.sqrt(c2);
  let total = 0;
  const steps = 2000, dMax = 10 * sd;
  for (let i = 0; i < steps; i++) {
    const d = dMax * (i + 0.5) / steps;
    const prior = 2 * Math.exp(-d * d / (2 * sd * sd)) / (sd * Math.sqrt(2 * Math.PI));
    total += prior * inner(d) * dMax / steps;
  }
  return total;
}

Deno.test("logEvidence(): the closed form equals the mixture's definition integrated numerically", () => {
  const cases: EffectData[] = [
    pairedData([0.05, 0.12, -0.02, 0.08]),
    pairedData([-0.03, 0.01, -0.06]),
    unpairedData([0.0, 0.04, -0.02, 0.01], [0.09, 0.05, 0.11]),
  ];
  for (const x of cases) {
    const closed = Math.exp(logEvidence(x, 0, 1, MIXTURE_PRECISION));
    const numeric = evidenceByQuadrature(x, MIXTURE_PRECISION);
    close(closed / numeric, 1, 2e-3, `estimate ${x.estimate.toFixed(3)}`);
  }
});

Deno.test("logEvidence(): one pair carries only its sign; both directions add up to the symmetric mixture", () => {
  const c2 = 0.25;
  // One pair: 2·F_t,1(±1/c), whatever its size.
  for (const d of [0.001, 0.3]) {
    close(Math.exp(logEvidence(pairedData([d]), 0, 1, c2)), 2 * studentTCdf(2, 1), 1e-12);
    close(Math.exp(logEvidence(pairedData([-d]), 0, 1, c2)), 2 * studentTCdf(-2, 1), 1e-12);
  }
  // Λ⁺(S) + Λ⁺(−S) = 2·√(c²/(n+c²))·(V/(V − S²/(n+c²)))^(n/2) (the two-sided mixture).
  const d = [0.04, 0.1, -0.01, 0.07, 0.03];
  const n = d.length, s = d.reduce((a, b) => a + b), v = d.reduce((a, b) => a + b * b, 0);
  const symmetric = Math.sqrt(c2 / (n + c2)) * (v / (v - s * s / (n + c2))) ** (n / 2);
  const up = Math.exp(logEvidence(pairedData(d), 0, 1, c2));
  const down = Math.exp(logEvidence(pairedData(d), 0, -1, c2));
  close(up + down, 2 * symmetric, 1e-9);
});

Deno.test("logEvidence(): scale-invariant (ms or s, 1% or 10% noise: the same evidence)", () => {
  const d = [0.02, 0.05, -0.01, 0.04, 0.03, 0.06];
  const base = logEvidence(pairedData(d), 0, 1);
  close(logEvidence(pairedData(d.map((x) => x * 7)), 0, 1), base, 1e-9);
});

Deno.test("the evidence has mean 1 under no change: a nonnegative martingale (seeded Monte Carlo)", () => {
  // Box–Muller: exact normal tails (the evidence's mean is sensitive to them).
  const rng = new Prng(23n);
  const gaussian = () =>
    Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat());
  const draws = 100_000;
  // Λ is bounded for a given n but heavy-tailed; small n keep the Monte Carlo error small.
  for (const [n, tolerance] of [[2, 0.02], [3, 0.03], [4, 0.05]]) {
    let paired = 0, unpaired = 0;
    for (let i = 0; i < draws; i++) {
      const d = Array.from({ length: n }, gaussian);
      paired += Math.exp(logEvidence(pairedData(d), 0, 1));
      const b = Array.from({ length: n }, gaussian);
      const a = Array.from({ length: n }, gaussian);
      unpaired += Math.exp(logEvidence(unpairedData(b, a), 0, 1));
    }
    close(paired / draws, 1, tolerance, `paired n=${n}`);
    close(unpaired / draws, 1, tolerance, `unpaired n=${n}`);
  }
});

Deno.test("lookUpperBound(): the root of the mirrored test at 1/α, unbounded with too few data", () => {
  const x = pairedData([0.01, -0.02, 0.03, 0.0, 0.02, -0.01, 0.01]);
  const u = lookUpperBound(x);
  assert.ok(u > x.estimate);
  close(logEvidence(x, u, -1), Math.log(1 / ALPHA), 1e-6, "evidence at the bound");
  assert.ok(logEvidence(x, u - 1e-4, -1) < Math.log(1 / ALPHA));
  // Two pairs cannot rule anything out, whatever they say.
  assert.equal(lookUpperBound(pairedData([0.01, 0.011])), Infinity);
  // More agreeing pairs narrow it.
  const more = pairedData([0.01, -0.02, 0.03, 0.0, 0.02, -0.01, 0.01, 0.0, 0.01, -0.01, 0.02]);
  assert.ok(lookUpperBound(more) < u);
});

Deno.test("pairedEvidence(): running minimum of p and running intersection of bounds over looks", () => {
  const rng = new Prng(5n);
  const d = Array.from({ length: 20 }, () => 0.03 + 0.05 * rng.nextGaussian());
  let lastP = 1, lastU = Infinity;
  let ownBoundRose = false;
  for (let k = 1; k <= d.length; k++) {
    const e = pairedEvidence(d.slice(0, k));
    assert.equal(e.looks, k);
    assert.ok(e.pValue <= lastP, `p rose at look ${k}`);
    assert.ok(e.upper <= lastU, `bound rose at look ${k}`);
    const own = pairedData(d.slice(0, k));
    assert.ok(e.pValue <= lookPValue(own) && e.upper <= lookUpperBound(own));
    if (lookUpperBound(own) > e.upper) ownBoundRose = true;
    lastP = e.pValue, lastU = e.upper;
  }
  // The data are chosen so that some look's own bound is above an earlier one: the
  // intersection, not the last look, is what is reported.
  assert.ok(ownBoundRose);
});

Deno.test("looking after every pair does not inflate false alarms or wrong bounds (Ville)", () => {
  const rng = new Prng(99n);
  const sessions = 2000, looks = 30;
  let alarms = 0, misses = 0;
  for (let s = 0; s < sessions; s++) {
    const d = Array.from({ length: looks }, () => 0.05 * rng.nextGaussian());
    let alarmed = false, missed = false;
    for (let k = 2; k <= looks && !(alarmed && missed); k++) {
      const x = pairedData(d.slice(0, k));
      if (lookPValue(x) <= ALPHA) alarmed = true;
      if (lookUpperBound(x) < 0) missed = true; // the true change (0) "ruled out"
    }
    alarms += alarmed ? 1 : 0;
    misses += missed ? 1 : 0;
  }
  assert.ok(alarms / sessions <= ALPHA, `false alarms ${alarms / sessions}`);
  assert.ok(misses / sessions <= ALPHA, `bounds below the truth ${misses / sessions}`);
});

Deno.test("unpairedEvidence(): one look over independent runs of each side", () => {
  const e = unpairedEvidence([0, 0.01, -0.01, 0.02, 0], [0.1, 0.12, 0.09, 0.11, 0.1]);
  assert.equal(e.looks, 1);
  assert.ok(e.pValue < 0.01, `p ${e.pValue}`);
  close(e.estimate, 0.104 - 0.004, 1e-12);
  assert.equal(unpairedEvidence([0.1], [0.2]).upper, Infinity);
});

Deno.test("decideMetric(): regression needs both the change past the threshold and p ≤ α", () => {
  const past = (pct: number) => Number(pct.toFixed(1)) > 5;
  assert.equal(decideMetric(7.4, 12, 0.01, past), "regression");
  assert.equal(decideMetric(7.4, 12, 0.2, past), "inconclusive");
  assert.equal(decideMetric(3, 12, 0.01, past), "inconclusive"); // surely worse, but not past 5%
  assert.equal(decideMetric(1, 4.2, 0.3, past), "pass");
  assert.equal(decideMetric(1, 5.04, 0.3, past), "pass"); // judged as printed: +5.0%
  assert.equal(decideMetric(1, null, 0.3, past), "inconclusive");
});
