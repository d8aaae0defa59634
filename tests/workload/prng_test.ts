import assert from "node:assert/strict";
import { formatSeed, MAX_INT_BOUND, parseSeed, Prng, splitMix64 } from "../../lib/workload/prng.ts";

Deno.test("splitMix64() matches the reference output for state 0", () => {
  assert.equal(splitMix64(0n)[0], 0xE220A8397B1DCDAFn);
});

Deno.test("xoshiro128** matches the reference vectors for state {1,2,3,4}", () => {
  const p = Prng.fromState(1, 2, 3, 4);
  assert.deepEqual(
    Array.from({ length: 6 }, () => p.nextU32()),
    [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
  );
});

Deno.test("Prng(0xDEADBEEF) golden vector (SplitMix64 seeding, computed independently)", () => {
  const p = new Prng(0xDEADBEEFn);
  assert.deepEqual(
    Array.from({ length: 5 }, () => p.nextU32()),
    [2848183187, 2643428161, 2173202904, 2114983966, 4104570023],
  );
});

Deno.test("fill() yields the same stream as nextU32()", () => {
  const a = new Prng(42n), b = new Prng(42n);
  const buf = new Uint32Array(100);
  a.fill(buf);
  for (let i = 0; i < 100; i++) assert.equal(buf[i], b.nextU32());
  assert.equal(a.nextU32(), b.nextU32());
});

Deno.test("nextInt() stays in range, is roughly uniform, and rejects bad bounds", () => {
  const p = new Prng(7n);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) counts[p.nextInt(10)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `count ${c}`);
  assert.equal(p.nextInt(1), 0);
  assert.throws(() => p.nextInt(MAX_INT_BOUND + 1), RangeError);
  assert.throws(() => p.nextInt(2.5), RangeError);
});

Deno.test("nextGaussian() has mean ≈ 0 and variance ≈ 1", () => {
  const p = new Prng(9n);
  let sum = 0, sq = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const g = p.nextGaussian();
    sum += g;
    sq += g * g;
  }
  assert.ok(Math.abs(sum / n) < 0.01);
  assert.ok(Math.abs(sq / n - 1) < 0.02);
});

Deno.test("parseSeed() accepts decimal and hex, rejects junk and overflow", () => {
  assert.equal(parseSeed("3735928559"), 0xDEADBEEFn);
  assert.equal(parseSeed("0xDEADBEEF"), 0xDEADBEEFn);
  assert.equal(parseSeed("0xffffffffffffffff"), 0xFFFFFFFFFFFFFFFFn);
  assert.equal(parseSeed(12), 12n);
  for (const bad of ["", "-1", "0x", "12abc", "0x10000000000000000", "1e5", "0xDEAD BEEF"]) {
    assert.equal(parseSeed(bad), undefined, bad);
  }
  assert.equal(parseSeed(-1), undefined);
  assert.equal(parseSeed(1.5), undefined);
  assert.equal(formatSeed(0xDEADBEEFn), "0xDEADBEEF");
});

Deno.test("different seeds give different streams", () => {
  assert.notEqual(new Prng(1n).nextU32(), new Prng(2n).nextU32());
  assert.notEqual(Prng.derive(1n, 1n).nextU32(), Prng.derive(1n, 2n).nextU32());
});
