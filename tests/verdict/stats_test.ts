/**
 * lib/verdict/stats.ts: order statistics, latency buckets and the noise floor (the change intervals: intervals_test.ts).
 */
import assert from "node:assert/strict";
import {
  bucketIndex,
  bucketValue,
  median,
  noiseFloor,
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
