/**
 * The in-flight cap: sends a due request at once when a slot is free, else queues it with its
 * due time; a freed slot goes to the oldest waiting request. Records every ending in the
 * tallies and the per-second buckets.
 * @module
 */
import { opOf, type Pending, PendingQueue } from "./pending.ts";
import type { SecondBuckets } from "./seconds.ts";
import type { Sender } from "./sender.ts";
import type { Tallies } from "./tallies.ts";
import type { RequestOutcome } from "./outcome.ts";

/** Sends due requests within the in-flight cap and records how they end. */
export class Dispatcher {
  inFlight = 0;
  readonly queue = new PendingQueue();
  /** Resolves the drain's wait when the last request ends. */
  drainWake: (() => void) | null = null;
  /** Set by the drain's last resort: a request it cancels counts as a timeout, not an abort. */
  cancelledIsTimeout = false;

  constructor(
    readonly sender: Sender,
    readonly tallies: Tallies,
    readonly buckets: SecondBuckets,
    readonly maxInFlight: number,
    readonly timeoutMs: number,
  ) {}

  /** Nothing in flight and nothing waiting. */
  get idle(): boolean {
    return this.inFlight === 0 && this.queue.size === 0;
  }

  /** A request is due: sent now when a slot is free and nobody waits, else queued. */
  submit(p: Pending): void {
    if (p.measured) this.buckets.add(p.second);
    if (this.inFlight < this.maxInFlight && this.queue.size === 0) this.#execute(p, false);
    else this.queue.push(p);
  }

  /**
   * A request still waiting for a slot a whole timeout after it was due has timed out: it is
   * recorded as such and never sent (a sent one has the same deadline, due + timeout: the
   * sender is given its due instant). This bounds the queue (rate × timeout, whatever the run's
   * length) and the run's end (window + timeout) when the server stops answering.
   */
  expire(nowMs: number): void {
    for (let p = this.queue.peek(); p && nowMs - p.dueMs >= this.timeoutMs; p = this.queue.peek()) {
      this.queue.take();
      opOf(p); // keep the stream in due order: an expired request still consumes its op
      this.#finish(p, null, nowMs, { kind: "error", error: "timeout" }, false);
    }
  }

  #execute(p: Pending, capped: boolean): void {
    this.inFlight++;
    const sentMs = performance.now();
    if (p.measured) this.tallies.recordSend(sentMs, sentMs - p.dueMs, capped);
    this.sender.sendThen(opOf(p), p.dueMs, ({ outcome, fallback, endMs }) => {
      this.inFlight--;
      this.#finish(p, sentMs, endMs, outcome, fallback);
      // A slot is free: the oldest waiting request goes next, keeping its due time.
      this.expire(endMs);
      if (this.queue.size > 0 && this.inFlight < this.maxInFlight) {
        this.#execute(this.queue.take(), true);
      }
      if (this.drainWake && this.idle) this.drainWake();
    });
  }

  /** Records how a request ended; `sentMs` is null for one that timed out while queued. */
  #finish(
    p: Pending,
    sentMs: number | null,
    endMs: number,
    outcome: RequestOutcome,
    fallback: boolean,
  ): void {
    if (outcome.kind === "aborted" && this.cancelledIsTimeout) {
      outcome = { kind: "error", error: "timeout" };
    }
    if (!p.measured) {
      this.tallies.recordWarmup(opOf(p).kind, outcome);
      return;
    }
    // Cancelled by an interrupt: not a server outcome, not recorded as latency.
    if (outcome.kind !== "aborted") {
      this.tallies.recordAnswer(opOf(p).kind, p.dueMs, sentMs, endMs, outcome, fallback);
    }
    this.buckets.settle(p.second, endMs - p.dueMs, outcome);
  }
}
