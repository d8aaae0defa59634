/**
 * Splitting one open-loop run across workers without changing a byte of it: worker k of N takes
 * requests k, k + N, k + 2N, … of the single-worker run, with the same due offsets and the same
 * rendered ops. Each worker walks the whole op stream and the whole schedule and keeps its share,
 * so request i is identical whatever N is (the cost: every worker renders every op).
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { shardSchedule } from "./shard.ts";
 * import { constantSchedule } from "../workload/schedule.ts";
 * const s = shardSchedule(constantSchedule(1000), { index: 1, count: 3 });
 * deepStrictEqual([s.next(), s.next(), s.next()], [1, 4, 7]);
 * ```
 * @module
 */
import type { Op } from "../workload/ops.ts";
import type { Schedule } from "../workload/schedule.ts";

/** Anything that hands out ops in order (an `OpStream` or a share of one). */
export interface OpSource {
  next(): Op;
}

/** Which share of the run a worker takes. */
export interface Shard {
  /** 0-based worker number. */
  index: number;
  /** Number of workers. */
  count: number;
}

/** The whole run: one worker. */
export const WHOLE: Shard = { index: 0, count: 1 };

/** Every `count`-th item of `next`, starting with item `index`. */
function strided<T>(next: () => T, shard: Shard): () => T {
  if (shard.count === 1) return next;
  let skip = shard.index;
  return () => {
    for (let k = 0; k < skip; k++) next(); // bounded by the worker count
    skip = shard.count - 1;
    return next();
  };
}

/** The worker's share of an op stream. */
export function shardOps(stream: OpSource, shard: Shard): OpSource {
  return shard.count === 1 ? stream : { next: strided(() => stream.next(), shard) };
}

/** The worker's share of a schedule: the same due offsets, `rate / count` per second. */
export function shardSchedule(schedule: Schedule, shard: Shard): Schedule {
  if (shard.count === 1) return schedule;
  return { rate: schedule.rate / shard.count, next: strided(() => schedule.next(), shard) };
}

/** Requests per second one worker paces comfortably (lag P99 well under 1 ms, BENCHMARKS.md). */
export const RATE_PER_WORKER = 5_000;

/**
 * The default worker count: one per `RATE_PER_WORKER` ops/s, at most one fewer than the host's
 * cores (the server under test needs one), at least one.
 */
export function defaultWorkers(rate: number, cores: number): number {
  return Math.max(1, Math.min(Math.ceil(rate / RATE_PER_WORKER), cores - 1));
}
