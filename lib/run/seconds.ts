/**
 * Per-second buckets of the measured window: each second's response times, closed into an
 * interval summary (the interval log, the report's `intervals`) once every request due in it
 * has ended and pacing has passed it.
 * @module
 */
import { LatencyHistogram } from "../report/histogram.ts";
import type { IntervalSummary } from "../report/schema.ts";
import { isResponse, type RequestOutcome } from "./outcome.ts";

interface SecondBucket {
  hist: LatencyHistogram;
  pending: number;
  count: number;
  errors: number;
  /** Requests due in this second that got a response (METHODS.throughput), however late. */
  responses: number;
  closed: boolean;
}

/** The open seconds of the measured window and the summaries of the closed ones. */
export class SecondBuckets {
  readonly #open = new Map<number, SecondBucket>();
  readonly intervals: IntervalSummary[] = [];
  /** The last second whose requests were all dispatched (none can join it any more). */
  pacedThroughSecond = -1;

  constructor(readonly onInterval?: (i: IntervalSummary) => void) {}

  /** A request due in second `s` was submitted. */
  add(s: number): void {
    let b = this.#open.get(s);
    if (!b) {
      b = {
        hist: new LatencyHistogram(),
        pending: 0,
        count: 0,
        errors: 0,
        responses: 0,
        closed: false,
      };
      this.#open.set(s, b);
    }
    b.pending++;
    b.count++;
  }

  /** A request due in second `s` ended after `responseMs`; closes the second when it can. */
  settle(s: number, responseMs: number, outcome: RequestOutcome): void {
    const b = this.#open.get(s);
    if (!b) return;
    b.pending--;
    if (outcome.kind !== "aborted") {
      b.hist.recordMs(responseMs);
      if (outcome.kind === "error") b.errors++;
    }
    if (isResponse(outcome)) b.responses++;
    this.#close(s);
  }

  /** Closes every second that is complete. */
  closeReady(): void {
    for (const s of [...this.#open.keys()]) this.#close(s);
  }

  /** Closes every second, complete or not (the run is over). */
  closeAll(): IntervalSummary[] {
    this.pacedThroughSecond = Number.MAX_SAFE_INTEGER;
    for (const s of [...this.#open.keys()].sort((a, b) => a - b)) {
      this.#open.get(s)!.pending = 0;
      this.#close(s);
    }
    this.intervals.sort((a, b) => a.second - b.second);
    return this.intervals;
  }

  #close(s: number): void {
    const b = this.#open.get(s);
    if (!b || b.closed || b.pending > 0 || s > this.pacedThroughSecond) return;
    b.closed = true;
    this.#open.delete(s);
    const summary: IntervalSummary = {
      second: s,
      count: b.count,
      errors: b.errors,
      p50_ms: b.hist.percentileUs(50) / 1000,
      p99_ms: b.hist.percentileUs(99) / 1000,
      max_ms: b.hist.maxUs() / 1000,
      completed: b.responses,
      histogram: b.hist.encode(),
    };
    this.intervals.push(summary);
    this.onInterval?.(summary);
  }
}
