import assert from "node:assert/strict";
import { interleavedSchedule } from "../../lib/run/interleave.ts";

Deno.test("interleavedSchedule: reproducible from its seed, different for another seed", () => {
  assert.deepEqual(interleavedSchedule(42n, 20), interleavedSchedule(42n, 20));
  const orders = (seed: bigint) => interleavedSchedule(seed, 40).map((p) => p.order).join();
  assert.notEqual(orders(1n), orders(2n));
  // A shorter session is a prefix of a longer one: stopping early changes no order.
  assert.deepEqual(interleavedSchedule(9n, 5), interleavedSchedule(9n, 20).slice(0, 5));
});

Deno.test("interleavedSchedule: blocks of two pairs, ABBA or BAAB, balanced, both kinds drawn", () => {
  const pairs = 400;
  const s = interleavedSchedule(0xC0FFEEn, pairs);
  assert.deepEqual(s.map((p) => p.pair), Array.from({ length: pairs }, (_, i) => i + 1));
  let abba = 0;
  for (let i = 0; i < pairs; i += 2) {
    const [x, y] = [s[i], s[i + 1]];
    assert.equal(x.block, i / 2 + 1);
    assert.equal(y.block, x.block);
    // Within a block each arm runs first once: ABBA = (AB, BA), BAAB = (BA, AB).
    assert.notEqual(x.order, y.order);
    if (x.order === "AB") abba++;
  }
  // 200 fair coin flips: ABBA between 35% and 65% of blocks (fails with probability < 1e-4).
  assert.ok(abba > 70 && abba < 130, `${abba} ABBA blocks of 200`);
  // An odd count ends with half a block.
  assert.equal(interleavedSchedule(3n, 3).at(-1)!.block, 2);
});
