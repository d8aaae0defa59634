import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { changePoints } from "../../lib/verdict/changepoint.ts";
import { Prng } from "../../lib/workload/prng.ts";

/** `n` values around `level` with uniform noise of ±`noisePct`% (seeded). */
function noisy(rng: Prng, level: number, n: number, noisePct: number): number[] {
  return Array.from({ length: n }, () => level * (1 + (rng.nextFloat() * 2 - 1) * noisePct / 100));
}

Deno.test("changePoints() finds one step at its index, with the shift of the segment medians", () => {
  const rng = new Prng(1n);
  const series = [...noisy(rng, 100, 30, 3), ...noisy(rng, 112, 30, 3)];
  const found = changePoints(series);
  deepStrictEqual(found.map((c) => c.index), [30]);
  ok(Math.abs(found[0].shiftPct! - 12) < 2, `shift ${found[0].shiftPct}`);
  ok(found[0].pValue <= 0.05);
});

Deno.test("changePoints() finds two steps and none in a constant or short series", () => {
  const rng = new Prng(2n);
  const series = [...noisy(rng, 10, 20, 2), ...noisy(rng, 13, 20, 2), ...noisy(rng, 9, 20, 2)];
  deepStrictEqual(changePoints(series).map((c) => c.index), [20, 40]);
  deepStrictEqual(changePoints(Array(30).fill(5)), []);
  deepStrictEqual(changePoints([1, 2, 3, 10, 11]), []);
});

Deno.test("changePoints() is deterministic: the same input gives the same points and p-values", () => {
  const rng = new Prng(3n);
  const series = [...noisy(rng, 50, 25, 8), ...noisy(rng, 56, 25, 8)];
  deepStrictEqual(changePoints(series), changePoints(series));
});

Deno.test("changePoints() does not split at lone outliers in a stable series", () => {
  const rng = new Prng(4n);
  const series = noisy(rng, 100, 60, 2);
  series[17] = 180;
  series[41] = 40;
  deepStrictEqual(changePoints(series), []);
});

Deno.test("changePoints() drops a significant shift below the minimum magnitude", () => {
  const rng = new Prng(5n);
  const series = [...noisy(rng, 100, 30, 0.2), ...noisy(rng, 102, 30, 0.2)];
  deepStrictEqual(changePoints(series), [], "a 2% shift is below the 5% default");
  deepStrictEqual(changePoints(series, { minMagnitudePct: 1 }).map((c) => c.index), [30]);
});

Deno.test("changePoints() reports a shift from zero (errors appearing) as null", () => {
  const series = [...Array(10).fill(0), ...Array(10).fill(4)];
  const [cp] = changePoints(series);
  strictEqual(cp.index, 10);
  strictEqual(cp.shiftPct, null);
});

Deno.test("changePoints() refuses values that are not finite", () => {
  throws(() => changePoints([1, NaN, 2]), RangeError);
});
