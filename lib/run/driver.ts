/**
 * The open-loop driver: sends request i when it is due (start + i/rate) whether or not earlier
 * requests have returned, and times three things per request:
 *   - response time: due instant → complete response (the headline; immune to coordinated
 *     omission, so a server stall shows up in full),
 *   - service time: actual send → complete response,
 *   - schedule lag: due instant → actual send.
 * An in-flight cap bounds concurrency; requests waiting for a slot keep their due time, and one
 * still waiting a whole timeout after it was due is a timeout, never sent.
 *
 * Deno timers are coarse (`setTimeout(…, 1)` wakes after ~2 ms), so the pacer dispatches every
 * due request on each wake-up, sleeps with a timer only when the next due time is far, and
 * otherwise yields with `setImmediate` (~5 µs): schedule lag P99 ≈ 0.4–0.7 ms at 1,000 ops/s on
 * a quiet core, at the cost of one busy core while pacing (lib/run/waker.ts, BENCHMARKS.md).
 * @module
 */
import { setImmediate } from "node:timers";
import { spinWaker } from "./waker.ts";
import { LatencyHistogram } from "../report/histogram.ts";
import type { Schedule } from "../workload/schedule.ts";
import type { IntervalSummary } from "../report/schema.ts";
import { OP_KINDS, type OpKind } from "../workload/scenario.ts";
import type { Op, OpStream } from "../workload/ops.ts";

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
}

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

/** Per-operation tallies. */
export interface OpTally {
  count: number;
  errors: number;
  fallbacks: number;
  errorsByKind: Record<string, number>;
  response: LatencyHistogram;
  service: LatencyHistogram;
}

/** What a measured window produced. */
export interface LoadResult {
  /** Wall-clock start of the measured window (ms since epoch). */
  windowStartEpochMs: number;
  durationSeconds: number;
  /** From window start to the last measured response (≥ duration unless interrupted). */
  elapsedSeconds: number;
  /** Measured requests due in the window (all are sent unless interrupted or expired). */
  due: number;
  sent: number;
  completed: number;
  errors: number;
  errorsByKind: Record<string, number>;
  fallbacks: number;
  lateSends: number;
  cappedSends: number;
  /** Send span: from window start to the last measured send, plus one interval. */
  sendSpanSeconds: number;
  response: LatencyHistogram;
  service: LatencyHistogram;
  lag: LatencyHistogram;
  /** Lag of sends not held back by the in-flight cap: the generator's own punctuality. */
  generatorLag: LatencyHistogram;
  perOp: Record<OpKind, OpTally>;
  intervals: IntervalSummary[];
  warmup: { seconds: number; operations: number; errors: number };
  interrupted: boolean;
}

const LATE_THRESHOLD_MS = 1;

const immediate = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface SecondBucket {
  hist: LatencyHistogram;
  pending: number;
  count: number;
  errors: number;
  closed: boolean;
}

/**
 * A due request. Its op is rendered only when it is sent (or expires), in due order from its
 * stream, so a queue of waiting requests holds a few numbers each, not rendered payloads.
 */
interface Pending {
  stream: OpStream;
  op: Op | null;
  dueMs: number;
  /** Second of the measured window it was due in, from its due offset (exact). */
  second: number;
  measured: boolean;
}

/** The op of a pending request, rendered on first use. */
function opOf(p: Pending): Op {
  return p.op ??= p.stream.next();
}

/** How often the Sender looks for requests past their timeout. */
const TIMEOUT_SWEEP_MS = 10;
const JSON_HEADERS = { "content-type": "application/json" };

/** A request in flight: its controller and when it times out. */
interface Live {
  ac: AbortController;
  deadlineMs: number;
  done: boolean;
}

/**
 * Executes one request (with the recall fallback) and reports its timings and outcome.
 *
 * Timeouts without a timer per request: every request has the same timeout and requests start in
 * time order, so their deadlines are in start order and a FIFO holds them; one interval timer
 * aborts the expired head entries (within TIMEOUT_SWEEP_MS of the deadline). The obvious
 * `AbortSignal.any([run, AbortSignal.timeout(t)])` per request left a live 10-second timer and a
 * dependent-signal registration for every request: at 1,000 ops/s, 10,000 of them promoted to
 * the old generation, which made the load generator's own mark-compact pauses reach ~17 ms.
 */
class Sender {
  readonly rejectedKinds = new Set<OpKind>();
  readonly abort = new AbortController();
  readonly #live: (Live | undefined)[] = [];
  #head = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(readonly opts: DriverOptions) {
    this.abort.signal.addEventListener("abort", () => {
      for (let i = this.#head; i < this.#live.length; i++) {
        const l = this.#live[i]!;
        if (!l.done) l.ac.abort(new DOMException("The run was aborted", "AbortError"));
      }
    });
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

  async send(op: Op): Promise<{ errorKind: string | null; fallback: boolean }> {
    const ac = new AbortController();
    const l: Live = { ac, deadlineMs: performance.now() + this.opts.timeoutMs, done: false };
    if (this.abort.signal.aborted) ac.abort(new DOMException("The run was aborted", "AbortError"));
    this.#live.push(l);
    this.#sweeper ??= setInterval(() => this.#sweep(), TIMEOUT_SWEEP_MS);
    let fallback = false;
    try {
      let path = op.path;
      if (op.fallbackPath && this.rejectedKinds.has(op.kind)) {
        path = op.fallbackPath;
        fallback = true;
      }
      let res = await this.fetch(op, path, ac.signal);
      if (res.status === 400 && op.fallbackPath && !fallback) {
        const text = await res.text();
        if (/spreading|hybrid|mode/i.test(text)) {
          this.rejectedKinds.add(op.kind);
          fallback = true;
          res = await this.fetch(op, op.fallbackPath, ac.signal);
        } else return { errorKind: "http_400", fallback };
      }
      await res.arrayBuffer();
      return { errorKind: res.ok ? null : `http_${res.status}`, fallback };
    } catch (e) {
      const name = (e as Error)?.name;
      if (name === "TimeoutError") return { errorKind: "timeout", fallback };
      if (name === "AbortError") return { errorKind: "aborted", fallback };
      return { errorKind: "connection", fallback };
    } finally {
      l.done = true;
    }
  }

  fetch(op: Op, path: string, signal: AbortSignal): Promise<Response> {
    return fetch(this.opts.baseUrl + path, {
      method: op.method,
      body: op.body,
      headers: op.body === null ? undefined : JSON_HEADERS,
      signal,
    });
  }

  /** Stops the timeout sweeper (call when no request is left in flight). */
  close(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

function newTally(): OpTally {
  return {
    count: 0,
    errors: 0,
    fallbacks: 0,
    errorsByKind: {},
    response: new LatencyHistogram(),
    service: new LatencyHistogram(),
  };
}

/**
 * Runs the warm-up (not recorded) and then the measured window on one continuous open-loop
 * schedule per phase. Bounded: pacing ends at the window's end, the drain at the request
 * timeout plus a margin.
 */
export async function runLoad(
  warmupStream: OpStream,
  measuredStream: OpStream,
  makeSched: () => Schedule,
  warmupSeconds: number,
  durationSeconds: number,
  opts: DriverOptions,
): Promise<LoadResult> {
  const sender = new Sender(opts);
  const onAbort = () => sender.abort.abort();
  opts.signal?.addEventListener("abort", onAbort);
  const waker = spinWaker();

  let inFlight = 0;
  const queue: Pending[] = [];
  let queueHead = 0;

  const response = new LatencyHistogram();
  const service = new LatencyHistogram();
  const lag = new LatencyHistogram();
  const generatorLag = new LatencyHistogram();
  const perOp = Object.fromEntries(OP_KINDS.map((k) => [k, newTally()])) as Record<OpKind, OpTally>;
  const errorsByKind: Record<string, number> = {};
  const seconds = new Map<number, SecondBucket>();
  const intervals: IntervalSummary[] = [];
  const completedBySecond = new Map<number, number>();
  let sent = 0, completed = 0, errors = 0, fallbacks = 0, lateSends = 0, cappedSends = 0;
  let warmupOps = 0, warmupErrors = 0;
  let lastCompletionMs = 0;
  let lastMeasuredSendMs = 0;
  let windowStartMs = 0;
  let pacedThroughSecond = -1;
  let drainWake: (() => void) | null = null;

  const closeSecond = (s: number) => {
    const b = seconds.get(s);
    if (!b || b.closed || b.pending > 0 || s > pacedThroughSecond) return;
    b.closed = true;
    seconds.delete(s);
    const summary: IntervalSummary = {
      second: s,
      count: b.count,
      errors: b.errors,
      p50_ms: b.hist.percentileUs(50) / 1000,
      p99_ms: b.hist.percentileUs(99) / 1000,
      max_ms: b.hist.maxUs() / 1000,
      completed: 0,
      histogram: b.hist.encode(),
    };
    intervals.push(summary);
    opts.onInterval?.(summary);
  };

  /** Records how a request ended; `sentMs` is null for one that timed out while queued. */
  const finish = (
    p: Pending,
    sentMs: number | null,
    endMs: number,
    errorKind: string | null,
    fallback: boolean,
  ) => {
    if (!p.measured) {
      warmupOps++;
      if (errorKind && errorKind !== "aborted") warmupErrors++;
      return;
    }
    if (errorKind === "aborted") {
      // Cancelled by an interrupt: not a server outcome, not recorded as latency.
    } else {
      completed++;
      lastCompletionMs = Math.max(lastCompletionMs, endMs);
      const respMs = endMs - p.dueMs;
      response.recordMs(respMs);
      const t = perOp[opOf(p).kind];
      t.count++;
      t.response.recordMs(respMs);
      if (sentMs !== null) {
        service.recordMs(endMs - sentMs);
        t.service.recordMs(endMs - sentMs);
      }
      if (fallback) {
        t.fallbacks++;
        fallbacks++;
      }
      if (errorKind) {
        errors++;
        t.errors++;
        t.errorsByKind[errorKind] = (t.errorsByKind[errorKind] ?? 0) + 1;
        errorsByKind[errorKind] = (errorsByKind[errorKind] ?? 0) + 1;
      }
      const cs = Math.floor((endMs - windowStartMs) / 1000);
      completedBySecond.set(cs, (completedBySecond.get(cs) ?? 0) + 1);
    }
    const s = p.second;
    const b = seconds.get(s);
    if (b) {
      b.pending--;
      if (errorKind !== "aborted") {
        b.hist.recordMs(endMs - p.dueMs);
        if (errorKind) b.errors++;
      }
      closeSecond(s);
    }
  };

  const takeQueued = (): Pending => {
    const next = queue[queueHead];
    queue[queueHead++] = undefined as unknown as Pending;
    if (queueHead > 1024 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
    return next;
  };

  /**
   * A request still waiting for a slot a whole timeout after it was due has timed out: it is
   * recorded as such and never sent. This bounds the queue (rate × timeout, whatever the run's
   * length) and the run's end (window + timeout) when the server stops answering.
   */
  const expireQueued = (nowMs: number) => {
    while (queueHead < queue.length && nowMs - queue[queueHead].dueMs >= opts.timeoutMs) {
      const p = takeQueued();
      opOf(p); // keep the stream in due order: an expired request still consumes its op
      finish(p, null, nowMs, "timeout", false);
    }
  };

  const execute = (p: Pending, capped: boolean) => {
    inFlight++;
    const sentMs = performance.now();
    const lagMs = sentMs - p.dueMs;
    if (p.measured) {
      sent++;
      lastMeasuredSendMs = Math.max(lastMeasuredSendMs, sentMs);
      lag.recordMs(lagMs);
      if (!capped) generatorLag.recordMs(lagMs);
      if (lagMs > LATE_THRESHOLD_MS) lateSends++;
      if (capped) cappedSends++;
    }
    sender.send(opOf(p)).then(({ errorKind, fallback }) => {
      const endMs = performance.now();
      inFlight--;
      finish(p, sentMs, endMs, errorKind, fallback);
      // A slot is free: the oldest waiting request goes next, keeping its due time.
      expireQueued(endMs);
      if (queueHead < queue.length && inFlight < opts.maxInFlight) execute(takeQueued(), true);
      if (drainWake && inFlight === 0 && queueHead >= queue.length) drainWake();
    });
  };

  const submit = (p: Pending) => {
    if (p.measured) {
      const s = p.second;
      let b = seconds.get(s);
      if (!b) {
        b = { hist: new LatencyHistogram(), pending: 0, count: 0, errors: 0, closed: false };
        seconds.set(s, b);
      }
      b.pending++;
      b.count++;
    }
    if (inFlight < opts.maxInFlight && queueHead >= queue.length) execute(p, false);
    else queue.push(p);
  };

  /** Paces one phase; returns when its last request is dispatched (or on abort). */
  const pace = async (stream: OpStream, startMs: number, seconds_: number, measured: boolean) => {
    const sched = makeSched();
    const endOffset = seconds_ * 1000;
    let nextDue = sched.next();
    let lastProgressSecond = -1;
    let completedAtLastProgress = 0;
    while (nextDue < endOffset && !opts.signal?.aborted) {
      expireQueued(performance.now());
      const now = performance.now() - startMs;
      if (now >= nextDue) {
        while (nextDue <= now && nextDue < endOffset) {
          submit({
            stream,
            op: null,
            dueMs: startMs + nextDue,
            second: Math.floor(nextDue / 1000),
            measured,
          });
          nextDue = sched.next();
        }
        if (measured) pacedThroughSecond = Math.floor(Math.min(nextDue, endOffset) / 1000) - 1;
        for (const s of [...seconds.keys()]) closeSecond(s);
      } else {
        // Wake at the next due time, or within 250 ms for progress and queue expiry.
        await waker.until(startMs + Math.min(nextDue, now + 250));
      }
      const sec = Math.floor(now / 1000);
      if (sec > lastProgressSecond && opts.onProgress) {
        lastProgressSecond = sec;
        opts.onProgress({
          phase: measured ? "measured" : "warmup",
          elapsedSeconds: sec,
          totalSeconds: seconds_,
          completedLastSecond: measured ? completed - completedAtLastProgress : 0,
          p99SoFarMs: response.percentileUs(99) / 1000,
          errors,
          inFlight,
        });
        completedAtLastProgress = completed;
      }
      // Yield at least once per loop so responses are processed between dispatch bursts.
      if (now >= nextDue) await immediate();
    }
  };

  if (warmupSeconds > 0 && !opts.signal?.aborted) {
    opts.onPhaseStart?.("warmup");
    await pace(warmupStream, performance.now(), warmupSeconds, false).catch((e) => {
      waker.close();
      throw e;
    });
  }
  if (!opts.signal?.aborted) opts.onPhaseStart?.("measured");
  windowStartMs = performance.now();
  const windowStartEpochMs = Date.now();
  await pace(measuredStream, windowStartMs, durationSeconds, true).finally(() => waker.close());
  pacedThroughSecond = Number.MAX_SAFE_INTEGER;
  const interrupted = opts.signal?.aborted ?? false;
  const pacingEndMs = performance.now();

  // Drain: every sent request has its own timeout; queued ones expire a timeout after they
  // were due. The deadline below is only a safety net.
  const drainDeadline = performance.now() + opts.timeoutMs * 2 + 5000;
  while ((inFlight > 0 || queueHead < queue.length) && performance.now() < drainDeadline) {
    await Promise.race([
      new Promise<void>((r) => (drainWake = r)),
      sleep(Math.max(1, Math.min(250, drainDeadline - performance.now()))),
    ]);
    drainWake = null;
    expireQueued(performance.now());
    if (interrupted) sender.abort.abort();
  }
  if (inFlight > 0 || queueHead < queue.length) {
    // Unanswered past the deadline: count the queued as timeouts, cancel the rest.
    for (let i = queueHead; i < queue.length; i++) {
      const p = queue[i];
      if (!p.measured) continue;
      errors++;
      errorsByKind.timeout = (errorsByKind.timeout ?? 0) + 1;
      const t = perOp[opOf(p).kind];
      t.count++;
      t.errors++;
      t.errorsByKind.timeout = (t.errorsByKind.timeout ?? 0) + 1;
    }
    queueHead = queue.length;
    sender.abort.abort();
    const until = performance.now() + 2000;
    while (inFlight > 0 && performance.now() < until) await sleep(10);
  }
  for (const s of [...seconds.keys()].sort((a, b) => a - b)) {
    const b = seconds.get(s)!;
    b.pending = 0;
    closeSecond(s);
  }
  intervals.sort((a, b) => a.second - b.second);
  for (const i of intervals) i.completed = completedBySecond.get(i.second) ?? 0;
  opts.signal?.removeEventListener("abort", onAbort);
  sender.close();

  const due = countDue(makeSched(), durationSeconds);
  // An interrupted window lasted until the interrupt (or its last response), not its plan.
  const elapsedSeconds = interrupted
    ? (Math.max(pacingEndMs, lastCompletionMs) - windowStartMs) / 1000
    : Math.max(durationSeconds, (lastCompletionMs - windowStartMs) / 1000);
  const rate = makeSched().rate;
  return {
    windowStartEpochMs,
    durationSeconds,
    elapsedSeconds,
    due,
    sent,
    completed,
    errors,
    errorsByKind,
    fallbacks,
    lateSends,
    cappedSends,
    // From the window's start to the last actual send, plus one interval: on-time sends give
    // exactly the target rate; late sends (cap, overloaded client) give less.
    sendSpanSeconds: sent > 0 ? (lastMeasuredSendMs - windowStartMs) / 1000 + 1 / rate : 0,
    response,
    service,
    lag,
    generatorLag,
    perOp,
    intervals,
    warmup: { seconds: warmupSeconds, operations: warmupOps, errors: warmupErrors },
    interrupted,
  };
}

/** How many arrivals a schedule places in [0, seconds). */
export function countDue(sched: Schedule, seconds: number): number {
  let n = 0;
  const end = seconds * 1000;
  // Bounded by the rate limits of the scenario (≤ 100k/s × 86,400 s).
  while (sched.next() < end) n++;
  return n;
}

/**
 * Stores `count` memories before the clock starts, with bounded concurrency. Not measured;
 * progress is reported about once per second. Returns counts and the time it took.
 */
export async function runPreload(
  stream: OpStream,
  count: number,
  opts: DriverOptions & { concurrency: number; onPreloadProgress?: (done: number) => void },
): Promise<{ count: number; errors: number; seconds: number; firstError: string | null }> {
  const sender = new Sender(opts);
  const onAbort = () => sender.abort.abort();
  opts.signal?.addEventListener("abort", onAbort);
  const t0 = performance.now();
  let issued = 0, done = 0, errors = 0;
  let firstError: string | null = null;
  let lastReport = t0;
  const worker = async () => {
    while (issued < count && !opts.signal?.aborted) {
      issued++;
      const { errorKind } = await sender.send(stream.next());
      if (errorKind === "aborted") break; // cancelled by an interrupt: neither stored nor failed
      done++;
      if (errorKind) {
        errors++;
        firstError ??= errorKind;
      }
      const now = performance.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        opts.onPreloadProgress?.(done);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, count)) }, worker));
  opts.signal?.removeEventListener("abort", onAbort);
  sender.close();
  return { count: done, errors, seconds: (performance.now() - t0) / 1000, firstError };
}
