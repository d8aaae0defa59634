/**
 * The pacing loop of one phase: dispatches every request whose due time has come on each
 * wake-up, sleeps until the next due time (lib/shared/waker.ts), and yields between dispatch bursts
 * so responses are processed.
 * @module
 */
import type { OpSource } from "./shard.ts";
import type { Schedule } from "../workload/schedule.ts";
import type { Pending } from "./pending.ts";
import type { Waker } from "../shared/waker.ts";

/** Longest sleep between two wake-ups (progress and queue expiry need them). */
const MAX_SLEEP_MS = 250;
/**
 * Longest run of the loop without a turn of the event loop (a wait shorter than the waker's
 * spin threshold returns synchronously; a pacer that is behind never waits).
 */
export const YIELD_EVERY_MS = 2;

/** One phase to pace and what to do at each step. */
export interface PacePhase {
  stream: OpSource;
  /** `performance.now()` at the phase's start; due times are offsets from it. */
  startMs: number;
  seconds: number;
  measured: boolean;
  /** The phase's own schedule of due offsets (ms). */
  schedule: Schedule;
  waker: Waker;
  signal?: AbortSignal;
  /** Called at every wake-up first: expire queued requests past their timeout. */
  expire(nowMs: number): void;
  /** A request is due. */
  submit(p: Pending): void;
  /** Every request due before `nextDueOffsetMs` (capped at the phase's end) was submitted. */
  dispatched(nextDueOffsetMs: number): void;
  /** Called at each new whole second of the phase (0, 1, …). */
  onSecond?(second: number): void;
}

/** Paces one phase; returns when its last request is dispatched (or on abort). */
export async function pacePhase(ph: PacePhase): Promise<void> {
  const { schedule: sched, startMs, measured, stream } = ph;
  const endOffset = ph.seconds * 1000;
  let nextDue = sched.next();
  let lastSecond = -1;
  let lastYieldMs = performance.now();
  while (nextDue < endOffset && !ph.signal?.aborted) {
    ph.expire(performance.now());
    const now = performance.now() - startMs;
    if (now >= nextDue) {
      while (nextDue <= now && nextDue < endOffset) {
        ph.submit({
          stream,
          op: null,
          dueMs: startMs + nextDue,
          second: Math.floor(nextDue / 1000),
          measured,
        });
        nextDue = sched.next();
      }
      ph.dispatched(Math.min(nextDue, endOffset));
    } else {
      // Wake at the next due time, or within 250 ms for progress and queue expiry.
      const wakeMs = startMs + Math.min(nextDue, now + MAX_SLEEP_MS);
      const slept = wakeMs - performance.now() > 0.1; // a real sleep turns the event loop
      await ph.waker.until(wakeMs);
      if (slept) lastYieldMs = performance.now();
    }
    const sec = Math.floor(now / 1000);
    if (sec > lastSecond && ph.onSecond) {
      lastSecond = sec;
      ph.onSecond(sec);
    }
    // Behind (the next request is already due) or not yielded for a while: let the event loop
    // turn (responses, timers) before the next burst, else a saturated pacer starves it.
    const t = performance.now();
    if (t - startMs >= nextDue || t - lastYieldMs >= YIELD_EVERY_MS) {
      await ph.waker.turn();
      lastYieldMs = performance.now();
    }
  }
}
