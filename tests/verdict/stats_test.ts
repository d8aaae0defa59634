/**
 * lib/verdict/stats.ts: order statistics, latency buckets, Mann–Whitney p-values against known values
 * and brute force, and the noise floor (the change intervals: intervals_test.ts).
 */
import assert from "node:assert/strict";
import { Prng } from "../../lib/workload/prng.ts";
import {
  bucketIndex,
  bucketValue,
  mannWhitneyGreater,
  median,
  noiseFloor,
  normalUpperTail,
  quantileSorted,
} from "../../lib/verdict/stats.ts";

const close = (actual: number, expected: number, tolerance: number, what = "") =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what} ${actual} is not within ${tolerance} of ${expected}`,
  );

// ---- order statistics ----------------------------------------------------------------------

Deno.test("median() and quantileSorted() use the usual definitions", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.equal(quantileSorted([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(quantileSorted([1, 2, 3, 4, 5], 0.95), 4.8);
  assert.equal(quantileSorted([7], 0.3), 7);
});

// ---- buckets -------------------------------------------------------------------------------

Deno.test("latency buckets: exact below 1,024 µs, within ±0.1% above, monotone", () => {
  for (let us = 0; us < 1024; us++) assert.equal(bucketValue(bucketIndex(us)), us);
  let previous = -1;
  for (let us = 1024; us < 50_000_000; us = Math.ceil(us * 1.0007)) {
    const index = bucketIndex(us);
    assert.ok(index >= previous, `index not monotone at ${us}`);
    previous = index;
    close(bucketValue(index) / us, 1, 0.001, `bucket value of ${us} µs`);
  }
});

// ---- Mann–Whitney --------------------------------------------------------------------------

Deno.test("mannWhitneyGreater(): exact p-values of fully separated samples", () => {
  const t3 = mannWhitneyGreater([1, 2, 3], [4, 5, 6]);
  assert.equal(t3.method, "exact");
  assert.equal(t3.u, 9);
  close(t3.pValue, 1 / 20, 1e-12, "n=m=3");
  close(mannWhitneyGreater([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).pValue, 1 / 252, 1e-12, "n=m=5");
  // The other direction: nothing suggests y is larger.
  assert.equal(mannWhitneyGreater([4, 5, 6], [1, 2, 3]).pValue, 1);
  // One run against three can never reach 0.05: the smallest p is 1/4.
  close(mannWhitneyGreater([1], [2, 3, 4]).pValue, 1 / 4, 1e-12, "n=1, m=3");
});

Deno.test("mannWhitneyGreater(): ties count ½ and the exact distribution is conditional on them", () => {
  // Pooled 1, 2, 2, 3: midranks 1, 2.5, 2.5, 4; y = {2, 3} has rank sum 6.5, reached by 2 of
  // the 6 equally likely splits.
  const t = mannWhitneyGreater([1, 2], [2, 3]);
  assert.equal(t.u, 3.5);
  close(t.pValue, 1 / 3, 1e-12, "ties");
  // Everything tied: no evidence either way.
  assert.equal(mannWhitneyGreater([5, 5, 5], [5, 5, 5]).pValue, 1);
});

/** P(U ≥ observed) by enumerating every split of the pooled values (an independent check). */
function bruteForceP(x: number[], y: number[]): number {
  const pooled = [...x, ...y];
  const u = (xs: number[], ys: number[]) =>
    ys.reduce((s, b) => s + xs.reduce((t, a) => t + (b > a ? 1 : b === a ? 0.5 : 0), 0), 0);
  const observed = u(x, y);
  let hits = 0, total = 0;
  const n = pooled.length;
  for (let mask = 0; mask < 1 << n; mask++) {
    if (popcount(mask) !== y.length) continue;
    const ys = pooled.filter((_, i) => mask & (1 << i));
    const xs = pooled.filter((_, i) => !(mask & (1 << i)));
    total++;
    if (u(xs, ys) >= observed - 1e-9) hits++;
  }
  return hits / total;
}

function popcount(v: number): number {
  let n = 0;
  for (; v; v &= v - 1) n++;
  return n;
}

Deno.test("mannWhitneyGreater(): exact p equals brute-force enumeration, with and without ties", () => {
  const rng = new Prng(7n);
  for (let trial = 0; trial < 40; trial++) {
    const nX = 1 + rng.nextInt(6);
    const nY = 1 + rng.nextInt(6);
    // Few distinct values so that ties are common.
    const draw = (n: number, shift: number) =>
      Array.from({ length: n }, () => rng.nextInt(5) + shift * rng.nextInt(2));
    const x = draw(nX, 0);
    const y = draw(nY, 2);
    close(mannWhitneyGreater(x, y).pValue, bruteForceP(x, y), 1e-12, `x=${x} y=${y}`);
  }
});

Deno.test("mannWhitneyGreater(): the normal approximation agrees with the exact test for n = m = 25", () => {
  const rng = new Prng(11n);
  for (const shift of [0, 0.3, 0.6]) {
    const x = Array.from({ length: 25 }, () => rng.nextGaussian());
    const y = Array.from({ length: 25 }, () => rng.nextGaussian() + shift);
    const normal = mannWhitneyGreater(x, y);
    const exact = mannWhitneyGreater(x, y, 25);
    assert.equal(normal.method, "normal");
    assert.equal(exact.method, "exact");
    close(normal.pValue, exact.pValue, 0.005, `shift ${shift}`);
  }
  close(normalUpperTail(1.6448536), 0.05, 1e-6, "z(0.95)");
  close(normalUpperTail(-1.959964), 0.975, 1e-6, "z(0.025)");
});

// ---- noise floor ---------------------------------------------------------------------------

Deno.test("noiseFloor(): CV, largest pairwise change and its 95th percentile", () => {
  const f = noiseFloor([100, 110, 105]);
  assert.equal(f.runs, 3);
  assert.equal(f.mean, 105);
  close(f.cvPct, 5 / 105 * 100, 1e-9, "cv");
  close(f.maxPairPct, 10, 1e-9, "max pair");
  // Ordered pairs: 10, 5, 9.09, 4.55, 4.76, 5 (%); the 95th percentile is just under the max.
  assert.ok(f.p95PairPct > 9.09 && f.p95PairPct <= 10, String(f.p95PairPct));
  assert.throws(() => noiseFloor([1]), RangeError);
});
