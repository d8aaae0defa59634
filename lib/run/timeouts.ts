/**
 * Request timeouts without a timer per request.
 *
 * Every request has the same timeout and requests start in time order, so their deadlines are
 * in start order and a FIFO holds them; one interval timer aborts the expired head entries
 * (within TIMEOUT_SWEEP_MS of the deadline). The obvious
 * `AbortSignal.any([run, AbortSignal.timeout(t)])` per request left a live 10-second timer and a
 * dependent-signal registration for every request: at 1,000 ops/s, 10,000 of them promoted to
 * the old generation, which made the load generator's own mark-compact pauses reach ~17 ms.
 * @module
 */

/** How often the sweeper looks for requests past their timeout. */
const TIMEOUT_SWEEP_MS = 10;

/** A request in flight: its controller and when it times out. */
export interface Live {
  ac: AbortController;
  deadlineMs: number;
  done: boolean;
}

/** The requests in flight, in deadline order, and the one timer that times them out. */
export class TimeoutSweeper {
  readonly #live: (Live | undefined)[] = [];
  #head = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(readonly timeoutMs: number) {}

  /** Registers a request starting now; the sweeper aborts it with a TimeoutError at its deadline. */
  start(ac: AbortController): Live {
    const l: Live = { ac, deadlineMs: performance.now() + this.timeoutMs, done: false };
    this.#live.push(l);
    this.#sweeper ??= setInterval(() => this.#sweep(), TIMEOUT_SWEEP_MS);
    return l;
  }

  /** Aborts every unfinished request with `reason`. */
  abortAll(reason: DOMException): void {
    for (let i = this.#head; i < this.#live.length; i++) {
      const l = this.#live[i]!;
      if (!l.done) l.ac.abort(reason);
    }
  }

  /** Aborts requests past their deadline and forgets finished ones at the head. */
  #sweep(): void {
    const now = performance.now();
    const live = this.#live;
    while (this.#head < live.length) {
      const l = live[this.#head]!;
      if (!l.done && l.deadlineMs > now) break;
      if (!l.done) {
        l.done = true;
        l.ac.abort(new DOMException("The request timed out", "TimeoutError"));
      }
      live[this.#head++] = undefined;
    }
    if (this.#head === live.length) {
      live.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > live.length) {
      live.splice(0, this.#head);
      this.#head = 0;
    }
    if (live.length === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /** Stops the timer (call when no request is left in flight). */
  close(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
