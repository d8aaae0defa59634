/**
 * The open-loop driver: sends request i when it is due (start + i/rate) whether or not earlier
 * requests have returned, and times three things per request:
 *   - response time: due instant → complete response (the headline; immune to coordinated
 *     omission, so a server stall shows up in full),
 *   - service time: actual send → complete response,
 *   - schedule lag: due instant → actual send.
 * An in-flight cap bounds concurrency; requests waiting for a slot keep their due time. One
 * timeout rule: a request not answered a whole timeout after it was due is a timeout, whether it
 * was sent on time, sent late or (still waiting for a slot) never sent.
 *
 * Requests go over the tool's HTTP/1.1 keep-alive client (lib/run/http1.ts, lib/run/sender.ts).
 * Deno's timers are coarse (`setTimeout(…, 1)` wakes after ~2 ms), so the pacer sleeps until each
 * due time on a ticker thread (lib/shared/waker.ts) and dispatches every due request on each
 * wake-up: schedule lag P50 ≈ 0.05 ms with no busy core (BENCHMARKS.md, load engine).
 * @module
 */
import type { IntervalSummary } from "../report/schema.ts";
import type { Schedule } from "../workload/schedule.ts";
import { Dispatcher } from "./dispatch.ts";
import { pacePhase } from "./pace.ts";
import { SecondBuckets } from "./seconds.ts";
import { Sender } from "./sender.ts";
import { Tallies } from "./tallies.ts";
import { sleepWaker, type Waker } from "../shared/waker.ts";
import { type ReactorChoice, reactorFor } from "./epoll.ts";
import type { OpSource } from "./shard.ts";
import type { Measurement } from "../report/measurement.ts";
import { opOf } from "./pending.ts";

export type { OpTally } from "./tallies.ts";

/** Options for a load phase. */
export interface DriverOptions {
  baseUrl: string;
  timeoutMs: number;
  maxInFlight: number;
  /** Aborts the run (signals): pacing stops, in-flight requests are cancelled. */
  signal?: AbortSignal;
  /** Called about once per second of the measured window. */
  onProgress?: (p: Progress) => void;
  /** Called once per finished second of the measured window (interval log). */
  onInterval?: (i: IntervalSummary) => void;
  /** Called when the warm-up and when the measured window begin. */
  onPhaseStart?: (phase: "warmup" | "measured") => void;
  /**
   * Called once, before the warm-up, with the sockets and clock the run chose (its result's
   * `io`): what the run log names, never a plan that the run may not follow.
   */
  onIo?: (io: IoUsed) => void;
}

/** One phase of a load run: its op stream and length. */
export interface LoadPhase {
  stream: OpSource;
  seconds: number;
}

/** Options of `runLoad`: the two phases, their schedule and the driver options. */
export interface LoadOptions extends DriverOptions {
  /** The warm-up (not recorded; `seconds: 0` skips it). */
  warmup: LoadPhase;
  /** The measured window. */
  measured: LoadPhase;
  /** Makes a fresh schedule of due offsets (one per phase). */
  schedule: () => Schedule;
  /**
   * When the schedule starts (ms since the epoch), so that the workers of one run share it; the
   * measured window then starts exactly one warm-up later. Default: now.
   */
  startAtEpochMs?: number;
  /**
   * The sockets and clock: Linux epoll over FFI where available (lib/run/epoll.ts), else Deno's
   * sockets and the ticker-thread waker. Default: chosen here for `baseUrl`.
   */
  io?: ReactorChoice;
  /**
   * For Deno's sockets: a waker already started (and ready), which this run then owns and closes:
   * a worker thread starts its ticker while it prepares, so that the shared start instant does
   * not wait for it. Default: one started here.
   */
  waker?: Waker;
}

/** Which sockets and clock a run used (the report's `generator.io`). */
export type IoUsed = { kind: "epoll" } | { kind: "deno"; why: string };

/** A progress snapshot. */
export interface Progress {
  phase: "warmup" | "measured";
  elapsedSeconds: number;
  totalSeconds: number;
  completedLastSecond: number;
  p99SoFarMs: number;
  errors: number;
  inFlight: number;
}

/** What a measured window produced: the report's `Measurement` and when the window ran. */
export interface LoadResult extends Measurement {
  /** The sockets and clock the run used. */
  io: IoUsed;
  /** Wall-clock start of the measured window (ms since epoch). */
  windowStartEpochMs: number;
  durationSeconds: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs the warm-up (not recorded) and then the measured window on one continuous open-loop
 * schedule per phase. Bounded: pacing ends at the window's end, the drain at the request
 * timeout plus a margin.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const io = o.io ?? reactorFor(o.baseUrl);
  const reactor = io.kind === "epoll" ? io.reactor : null;
  let sender: Sender | null = null;
  let waker: Waker | null = null;
  const onAbort = () => sender?.abort.abort();
  // Whatever happens (a callback or the pacer throwing), the sockets, the waker (a ticker
  // thread) and the reactor (an epoll descriptor and the thread's timer slack) are released.
  try {
    sender = new Sender({
      ...o,
      maxConnections: o.maxInFlight,
      sockets: reactor ? (host, port) => reactor.connect(host, port) : undefined,
    });
    o.signal?.addEventListener("abort", onAbort);
    if (reactor) o.waker?.close();
    waker = reactor ? reactor.waker() : o.waker ?? sleepWaker();
    o.onIo?.(ioUsed(io));
    return await paced(o, io, sender, waker);
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    sender?.close();
    reactor?.close();
    (waker ?? o.waker)?.close(); // after the reactor: its pump then stays stopped
  }
}

/** What a run reports of its sockets and clock. */
function ioUsed(io: ReactorChoice): IoUsed {
  return io.kind === "epoll" ? { kind: "epoll" } : { kind: "deno", why: io.why };
}

/** `runLoad` once its sockets and waker are open: the two phases, the drain, the result. */
async function paced(
  o: LoadOptions,
  io: ReactorChoice,
  sender: Sender,
  waker: Waker,
): Promise<LoadResult> {
  // A wait before the ticker thread runs would be late by its start-up.
  await Promise.race([waker.ready, sleep(5000)]);
  const tallies = new Tallies();
  const buckets = new SecondBuckets(o.onInterval);
  const d = new Dispatcher(sender, tallies, buckets, o.maxInFlight, o.timeoutMs);

  const onProgress = o.onProgress;
  // Requests due in the measured window, counted as they are paced: an interrupted window counts
  // only what was due before the interrupt, and nothing walks the planned schedule afterwards
  // (a day at 100k ops/s would keep the event loop busy for minutes after Ctrl-C).
  let dueInWindow = 0;
  const pace = (phase: LoadPhase, startMs: number, measured: boolean) => {
    let completedAtLastProgress = 0;
    return pacePhase({
      stream: phase.stream,
      startMs,
      seconds: phase.seconds,
      measured,
      schedule: o.schedule(),
      waker,
      signal: o.signal,
      expire: (nowMs) => d.expire(nowMs),
      submit: (p) => {
        if (measured) dueInWindow++;
        d.submit(p);
      },
      dispatched: (nextDueOffsetMs) => {
        if (measured) buckets.pacedThroughSecond = Math.floor(nextDueOffsetMs / 1000) - 1;
        buckets.closeReady();
      },
      onSecond: onProgress && ((sec) => {
        onProgress({
          phase: measured ? "measured" : "warmup",
          elapsedSeconds: sec,
          totalSeconds: phase.seconds,
          completedLastSecond: measured ? tallies.completed - completedAtLastProgress : 0,
          p99SoFarMs: tallies.response.percentileUs(99) / 1000,
          errors: tallies.errors,
          inFlight: d.inFlight,
        });
        completedAtLastProgress = tallies.completed;
      }),
    });
  };

  const t0 = o.startAtEpochMs === undefined
    ? performance.now()
    : o.startAtEpochMs - performance.timeOrigin;
  // A wait may end early (the epoll waker blocks at most 10 ms a call): bounded by t0.
  while (t0 > performance.now() && !o.signal?.aborted) await waker.until(t0);
  if (o.warmup.seconds > 0 && !o.signal?.aborted) {
    o.onPhaseStart?.("warmup");
    await pace(o.warmup, t0, false);
  }
  if (!o.signal?.aborted) o.onPhaseStart?.("measured");
  const windowStartMs = tallies.windowStartMs = o.startAtEpochMs === undefined
    ? performance.now()
    : t0 + (o.warmup.seconds > 0 ? o.warmup.seconds * 1000 : 0);
  const windowStartEpochMs = performance.timeOrigin + windowStartMs;
  // Pacing over: the reactor's sockets go back to its pump for the drain.
  await pace(o.measured, windowStartMs, true).finally(() => waker.close());
  buckets.pacedThroughSecond = Number.MAX_SAFE_INTEGER;
  const interrupted = o.signal?.aborted ?? false;
  const pacingEndMs = performance.now();

  await drain(d, o.timeoutMs, interrupted);
  const intervals = buckets.closeAll();

  const durationSeconds = o.measured.seconds;
  const due = dueInWindow;
  const { lastCompletionMs, sent } = tallies;
  // An interrupted window lasted until the interrupt (or its last response), not its plan.
  const elapsedSeconds = interrupted
    ? (Math.max(pacingEndMs, lastCompletionMs) - windowStartMs) / 1000
    : Math.max(durationSeconds, (lastCompletionMs - windowStartMs) / 1000);
  const rate = o.schedule().rate;
  return {
    io: ioUsed(io),
    windowStartEpochMs,
    durationSeconds,
    elapsedSeconds,
    due,
    sent,
    completed: tallies.completed,
    errors: tallies.errors,
    errorsByKind: tallies.errorsByKind,
    fallbacks: tallies.fallbacks,
    storesAccepted: tallies.storesAccepted,
    lateSends: tallies.lateSends,
    cappedSends: tallies.cappedSends,
    // From the window's start to the last actual send, plus one interval: on-time sends give
    // exactly the target rate; late sends (cap, overloaded client) give less.
    sendSpanSeconds: sent > 0 ? (tallies.lastMeasuredSendMs - windowStartMs) / 1000 + 1 / rate : 0,
    response: tallies.response,
    service: tallies.service,
    lag: tallies.lag,
    generatorLag: tallies.generatorLag,
    perOp: tallies.perOp,
    intervals,
    warmup: {
      seconds: o.warmup.seconds,
      operations: tallies.warmupOps,
      errors: tallies.warmupErrors,
    },
    interrupted,
  };
}

/**
 * Waits for every request to end: each one, sent or queued, times out a timeout after it was
 * due, so all end within a timeout of the window's end. The deadline (two timeouts plus
 * `marginMs`) is only a safety net against a sender that misses its own deadline; past it the
 * queued measured requests count as timeouts and the ones in flight are cancelled and count as
 * timeouts too (with their time so far as response time). Exported for its test.
 */
export async function drain(
  d: Dispatcher,
  timeoutMs: number,
  interrupted: boolean,
  marginMs = 5000,
): Promise<void> {
  const drainDeadline = performance.now() + timeoutMs * 2 + marginMs;
  while (!d.idle && performance.now() < drainDeadline) {
    await Promise.race([
      new Promise<void>((r) => (d.drainWake = r)),
      sleep(Math.max(1, Math.min(250, drainDeadline - performance.now()))),
    ]);
    d.drainWake = null;
    d.expire(performance.now());
    if (interrupted) d.sender.abort.abort();
  }
  if (d.idle) return;
  // Unanswered past the deadline: count the queued as timeouts, cancel the rest.
  for (const p of d.queue.takeAll()) {
    if (p.measured) d.tallies.recordUnanswered(opOf(p).kind);
  }
  d.cancelledIsTimeout = !interrupted;
  d.sender.abort.abort();
  const until = performance.now() + 2000;
  while (d.inFlight > 0 && performance.now() < until) await sleep(10);
}

/**
 * How many arrivals a schedule places in [0, seconds).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { constantSchedule } from "../workload/schedule.ts";
 * strictEqual(countDue(constantSchedule(100), 2), 200);
 * ```
 */
export function countDue(sched: Schedule, seconds: number): number {
  let n = 0;
  const end = seconds * 1000;
  // Bounded by the rate limits of the scenario (≤ 100k/s × 86,400 s).
  while (sched.next() < end) n++;
  return n;
}
