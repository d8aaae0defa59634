/**
 * Precise waits for the pacer. Deno's timers wake ~2 ms late, too coarse for 1 ms schedules, so
 * the pacer sleeps with a timer only when the next due time is far and otherwise yields with
 * `setImmediate` (~5 µs), letting responses be processed between checks. This is precise
 * (schedule lag P99 ≈ 0.5 ms at 1,000 ops/s) but keeps one core busy while a run is paced.
 * A worker thread sleeping in `Atomics.wait` and posting a message at the due time was tried:
 * it used a few percent of a core but its wake-ups reached the main thread up to ~3 ms late
 * (lag P99 ≈ 3 ms in the real driver), so it is not used (BENCHMARKS.md, pacing).
 * @module
 */
import { setImmediate } from "node:timers";

/** Waits until a `performance.now()` instant. */
export interface Waker {
  /** Resolves at (or just after) `atMs`, a `performance.now()` value. */
  until(atMs: number): Promise<void>;
  /** Releases the thread, if any. */
  close(): void;
  readonly kind: "spin";
}

const immediate = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Busy-waits with `setImmediate` when close, a timer when far. Precise; costs a core. */
export function spinWaker(): Waker {
  return {
    kind: "spin",
    async until(atMs: number) {
      for (;;) {
        const left = atMs - performance.now();
        if (left <= 0) return;
        if (left > 4) await sleep(left - 3);
        else await immediate();
      }
    },
    close() {},
  };
}
