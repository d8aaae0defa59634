/**
 * The order of a `confirm` session's runs: Randomized Multiple Interleaved Trials (Abedi &
 * Brecht, ICPE 2017). Runs come in blocks of two pairs, each block ABBA or BAAB (A = the before
 * build, B = the after build), the kind of each block drawn from a seeded PRNG: a slow drift of
 * the host (a warming cache, a background job starting) then falls on both arms alike, and
 * within every block each arm runs first once and second once.
 * @module
 */
import { Prng } from "../workload/prng.ts";

/** Which arm of a pair runs first: A (before) then B (after), or B then A. */
export type ArmOrder = "AB" | "BA";

/** One pair of the schedule (1-based). */
export interface PairSlot {
  pair: number;
  block: number;
  order: ArmOrder;
}

/**
 * The first `pairs` pairs of the schedule seeded by `seed`: block b holds pairs 2b−1 and 2b,
 * in the orders (AB, BA) for ABBA or (BA, AB) for BAAB, one PRNG bit per block.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const s = interleavedSchedule(7n, 4);
 * deepStrictEqual(s.map((p) => p.block), [1, 1, 2, 2]);
 * deepStrictEqual(s.every((p, i) => i % 2 === 0 || p.order !== s[i - 1].order), true);
 * ```
 */
export function interleavedSchedule(seed: bigint, pairs: number): PairSlot[] {
  const prng = new Prng(seed);
  const slots: PairSlot[] = [];
  for (let block = 1; slots.length < pairs; block++) {
    const abba = (prng.nextU32() & 1) === 0;
    const orders: ArmOrder[] = abba ? ["AB", "BA"] : ["BA", "AB"];
    for (const order of orders) {
      if (slots.length < pairs) slots.push({ pair: slots.length + 1, block, order });
    }
  }
  return slots;
}

/** The block kind of a block's first pair, as printed: ABBA or BAAB. */
export function blockKind(first: ArmOrder): "ABBA" | "BAAB" {
  return first === "AB" ? "ABBA" : "BAAB";
}
