/**
 * Precise waits that sleep: no busy core at any rate. Used by the load generator's pacer
 * (lib/run) and by the reference server's delay knobs (lib/reference/knobs.ts `Holds`).
 *
 * Deno's timers wake ~1–2 ms late, too coarse for a request every millisecond. The pacer used to
 * yield with `setImmediate` until the due time (lag P99 ≈ 0.5 ms, but one core busy at every rate
 * ≥ 250 ops/s, taken from the server under test). Here a small ticker thread (`tickerMain`
 * below) sleeps in `Atomics.wait`, which has microsecond precision, and `EARLY_MS` before the due
 * time notifies a cell this thread awaits with `Atomics.waitAsync`; that wakes this thread's
 * event loop out of its poll (so responses keep being read and timed while it waits), and the few
 * microseconds that may remain are spun synchronously. Trade-off: two thread wake-ups per pacer
 * wake-up (on a VM ~15 µs of CPU for the ticker's futex, ~60 µs for the event loop) and a lag set
 * by the wake-up's delivery (tens of µs on an idle thread) instead of a spinning core. A
 * `postMessage` per wake-up costs about a third more CPU than the shared-memory notification.
 * Sends due in the same wake-up go out together, so wake-ups never outnumber sends.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { sleepWaker } from "./waker.ts";
 * const w = sleepWaker();
 * await w.ready;
 * const at = performance.now() + 3;
 * await w.until(at);
 * ok(performance.now() >= at);
 * w.close();
 * ```
 * @module
 */
import { setImmediate } from "node:timers";
/** Shared `Int32Array` cells: the request generation (wraps), stop (not 0 = stop), fired. */
const CELL = { generation: 0, stop: 1, fired: 2 } as const;
/** Byte offset of the `Float64Array` cell holding the instant (pacing thread's clock, ms). */
const AT_OFFSET = 16;

/** What the pacing thread sends the ticker once. */
interface TickerInit {
  shared: SharedArrayBuffer;
  /** The pacing thread's `performance.timeOrigin`: converts its instants to the ticker's clock. */
  timeOrigin: number;
  /** Fire this many ms before the instant (the wake-up takes about that long to arrive). */
  earlyMs: number;
  cell: typeof CELL;
  atOffset: number;
}

/**
 * The ticker thread's program. It sleeps in `Atomics.wait` until shortly before the instant the
 * pacing thread asked for, then stores the request's generation in the "fired" cell and notifies
 * it. A new request (a bumped generation) wakes it early. Self-contained: it runs from its own
 * source text in a Worker (no module file to load, type-check or bundle).
 */
function tickerMain(scope: { onmessage: unknown; postMessage(m: unknown): void; close(): void }) {
  scope.onmessage = (e: MessageEvent<TickerInit>) => {
    const { shared, timeOrigin, earlyMs, cell, atOffset } = e.data;
    const cells = new Int32Array(shared, 0, 4);
    const at = new Float64Array(shared, atOffset, 1);
    const toLocal = timeOrigin - performance.timeOrigin;
    let fired = Atomics.load(cells, cell.fired);
    scope.postMessage("ready");
    // Runs until the pacing thread sets the stop cell (or terminates the worker).
    for (;;) {
      const g = Atomics.load(cells, cell.generation);
      if (Atomics.load(cells, cell.stop) !== 0) break;
      if (g === fired) {
        Atomics.wait(cells, cell.generation, g); // nothing asked: sleep until the next request
        continue;
      }
      const left = at[0] + toLocal - performance.now() - earlyMs;
      if (left > 0 && Atomics.wait(cells, cell.generation, g, left) !== "timed-out") continue;
      fired = g;
      Atomics.store(cells, cell.fired, g);
      Atomics.notify(cells, cell.fired);
    }
    scope.close();
  };
}

const TICKER_URL = URL.createObjectURL(
  new Blob([`(${tickerMain.toString()})(self);`], { type: "text/javascript" }),
);

/** Waits until `performance.now()` instants without keeping a core busy. */
export interface Waker {
  /** Resolves at (or just after) `atMs`, a `performance.now()` value; one wait at a time. */
  until(atMs: number): Promise<void>;
  /**
   * Lets the event loop turn once (responses, timers, signals) and resolves after it: the pacer's
   * yield between bursts.
   */
  turn(): Promise<void>;
  /** Resolves once the ticker thread runs (a wait before that is late by its start-up). */
  readonly ready: Promise<void>;
  /** Stops the ticker thread; a pending wait resolves. */
  close(): void;
  readonly kind: "sleep";
}

/** The ticker fires this long before the due time; the wake-up takes about as long to arrive. */
export const EARLY_MS = 0.05;
/** Closer than this, the wait is spun synchronously instead of slept. */
const SPIN_BELOW_MS = 0.05;
/** A wake-up never comes more than this early, so the synchronous spin is bounded. */
const MAX_SPIN_MS = 0.5;

function spinUntil(atMs: number): void {
  const limit = performance.now() + MAX_SPIN_MS;
  // Bounded by MAX_SPIN_MS.
  while (performance.now() < atMs && performance.now() < limit) { /* spin */ }
}

/** Starts a ticker thread and returns a waker over it. */
export function sleepWaker(): Waker {
  const shared = new SharedArrayBuffer(AT_OFFSET + 8);
  const cells = new Int32Array(shared, 0, 4);
  const at = new Float64Array(shared, AT_OFFSET, 1);
  const worker = new Worker(TICKER_URL, { type: "module" });
  const init: TickerInit = {
    shared,
    timeOrigin: performance.timeOrigin,
    earlyMs: EARLY_MS,
    cell: CELL,
    atOffset: AT_OFFSET,
  };
  const ready = new Promise<void>((resolve) => (worker.onmessage = () => resolve()));
  worker.postMessage(init);
  let release: (() => void) | null = null;
  let closed = false;

  /** Resolves `done` once the ticker has fired generation `g` (stale fires are skipped). */
  const await_ = (seen: number, g: number, atMs: number, done: () => void) => {
    const r = Atomics.waitAsync(cells, CELL.fired, seen);
    const check = () => {
      if (closed || release !== done) return;
      const fired = Atomics.load(cells, CELL.fired);
      if (fired !== g) {
        await_(fired, g, atMs, done); // a fire for an earlier request: wait on
        return;
      }
      release = null;
      spinUntil(atMs);
      done();
    };
    if (r.async) r.value.then(check);
    else check();
  };

  return {
    kind: "sleep",
    ready,
    turn: () => new Promise<void>((r) => setImmediate(r)),
    until(atMs: number): Promise<void> {
      if (closed) return Promise.resolve();
      if (atMs - performance.now() <= SPIN_BELOW_MS) {
        spinUntil(atMs);
        return Promise.resolve();
      }
      release?.(); // one wait at a time: an earlier one ends now
      return new Promise<void>((resolve) => {
        release = resolve;
        at[0] = atMs;
        const seen = Atomics.load(cells, CELL.fired);
        const g = (Atomics.add(cells, CELL.generation, 1) + 1) | 0;
        Atomics.notify(cells, CELL.generation);
        await_(seen, g, atMs, resolve);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      Atomics.store(cells, CELL.stop, 1);
      Atomics.add(cells, CELL.generation, 1);
      Atomics.notify(cells, CELL.generation);
      worker.terminate();
      release?.();
      release = null;
    },
  };
}
