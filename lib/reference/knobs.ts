/**
 * Fault and delay injection for tests and calibration: fixed latency plus uniform jitter, an error
 * rate, and periodic stalls. Random draws come from one seeded stream in request arrival order,
 * two draws per request whatever the settings, so the same seed and the same request sequence give
 * the same fates. Delays are timers, never busy waits: a delayed request blocks nothing else.
 * @module
 */
import { Prng } from "../workload/prng.ts";
import { sleepWaker, type Waker } from "../shared/waker.ts";

/** Injection settings; all zero means a plain server. */
export interface Knobs {
  /** Added to every API request, in ms. */
  latencyMs: number;
  /** Uniform extra delay in [0, jitterMs), in ms. */
  jitterMs: number;
  /** Probability in [0, 1] that an API request fails with 500 MEMORY_SYSTEM_ERROR. */
  errorRate: number;
  /** Stall period in seconds (0 = no stalls). */
  stallEverySeconds: number;
  /** Requests arriving in the last `stallMs` of each period wait until the period ends. */
  stallMs: number;
  /** Seed of the draws. */
  seed: bigint;
}

/** Knobs that inject nothing. */
export const NO_KNOBS: Knobs = {
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  stallEverySeconds: 0,
  stallMs: 0,
  seed: 0n,
};

/** Each knob's flag (the server's spelling, without `--`) and its allowed range. */
export const KNOB_LIMITS = {
  latencyMs: { flag: "latency-ms", min: 0, max: 600_000 },
  jitterMs: { flag: "jitter-ms", min: 0, max: 600_000 },
  errorRate: { flag: "error-rate", min: 0, max: 1 },
  stallEverySeconds: { flag: "stall-every-s", min: 0, max: 86_400 },
  stallMs: { flag: "stall-ms", min: 0, max: 86_400_000 },
} as const;

/** The numeric knobs (all but the seed). */
export type KnobName = keyof typeof KNOB_LIMITS;

/** The outcome of validating knobs: their values (0 when absent) or the first problem. */
export type KnobCheck =
  | { ok: true; knobs: Record<KnobName, number> }
  | { ok: false; problem: string };

/**
 * THE validation of the knobs, used by the server's flags and by `m17_check --ref-*` alike:
 * each text must be a number in its `KNOB_LIMITS` range, a stall needs both a period and a
 * length, and the length fits in the period. `flagPrefix` goes before the flag names in the
 * problem (`"ref-"` for m17_check).
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { validateKnobs } from "./knobs.ts";
 *
 * deepStrictEqual(validateKnobs({ stallEverySeconds: "1", stallMs: "5000" }, "ref-"), {
 *   ok: false,
 *   problem: "--ref-stall-ms 5000 is longer than the period --ref-stall-every-s 1 (1000 ms)",
 * });
 * ```
 */
export function validateKnobs(
  texts: Partial<Record<KnobName, string>>,
  flagPrefix = "",
): KnobCheck {
  const knobs: Record<KnobName, number> = {
    latencyMs: 0,
    jitterMs: 0,
    errorRate: 0,
    stallEverySeconds: 0,
    stallMs: 0,
  };
  const flag = (name: KnobName) => `--${flagPrefix}${KNOB_LIMITS[name].flag}`;
  for (const name of Object.keys(KNOB_LIMITS) as KnobName[]) {
    const text = texts[name];
    if (text === undefined) continue;
    const { min, max } = KNOB_LIMITS[name];
    const x = text.trim() === "" ? NaN : Number(text);
    if (!Number.isFinite(x) || x < min || x > max) {
      return {
        ok: false,
        problem: `${flag(name)} ${JSON.stringify(text)}: expected a number from ${min} to ${max}`,
      };
    }
    knobs[name] = x;
  }
  if ((knobs.stallEverySeconds > 0) !== (knobs.stallMs > 0)) {
    return {
      ok: false,
      problem: `${flag("stallEverySeconds")} and ${flag("stallMs")} go together`,
    };
  }
  if (knobs.stallMs > knobs.stallEverySeconds * 1000) {
    return {
      ok: false,
      problem: `${flag("stallMs")} ${knobs.stallMs} is longer than the period ${
        flag("stallEverySeconds")
      } ${knobs.stallEverySeconds} (${knobs.stallEverySeconds * 1000} ms)`,
    };
  }
  return { ok: true, knobs };
}

/** What happens to one request before it is processed. */
export interface Fate {
  /** Answer 500 instead of processing. */
  fail: boolean;
  /** Latency + jitter to add after any stall, in ms. */
  delayMs: number;
}

/** How long a request arriving `elapsedMs` after start is held by the stall schedule. */
export function stallWaitMs(elapsedMs: number, everyMs: number, stallMs: number): number {
  if (everyMs <= 0 || stallMs <= 0) return 0;
  const phase = elapsedMs % everyMs;
  return phase >= everyMs - stallMs ? everyMs - phase : 0;
}

/** Draws fates in arrival order and knows the stall schedule of one server run. */
export class Injector {
  readonly knobs: Knobs;
  readonly #rng: Prng;

  /** A fresh draw sequence for `knobs.seed`. */
  constructor(knobs: Knobs) {
    this.knobs = knobs;
    this.#rng = Prng.derive(knobs.seed, 0x4B4E_4F42n);
  }

  /** The next request's fate (consumes exactly two draws). */
  draw(): Fate {
    const failDraw = this.#rng.nextFloat();
    const jitterDraw = this.#rng.nextFloat();
    return {
      fail: failDraw < this.knobs.errorRate,
      delayMs: this.knobs.latencyMs + jitterDraw * this.knobs.jitterMs,
    };
  }

  /** The stall hold for a request arriving `elapsedMs` after the server started. */
  stallWaitMs(elapsedMs: number): number {
    return stallWaitMs(elapsedMs, this.knobs.stallEverySeconds * 1000, this.knobs.stallMs);
  }
}

/**
 * Precise holds for the delay knobs (latency, jitter, stalls). Deno's timers fire ~1–2 ms late,
 * so `--latency-ms 1` used to add about 3 ms; here every hold waits on the tool's ticker thread
 * (lib/shared/waker.ts: `Atomics.wait` on another thread, microsecond precision), one wait at a
 * time for the earliest deadline, so a hold ends within ~0.1 ms of its deadline. The thread is
 * started by `start()` or the first hold (a server without delay knobs never starts it);
 * `close()` stops it.
 */
export class Holds {
  /**
   * The ticker is asked for this long before a deadline and the rest is spun: a wake-up reaches
   * a busy server's event loop ~0.1 ms after the ticker fires (measured: holds ended 0.09 ms late
   * at P50 without it, 0.045 ms in an idle process).
   */
  static readonly EARLY_MS = 0.1;
  #waker: Waker | null = null;
  /** Pending holds, earliest deadline first. */
  readonly #queue: { atMs: number; resolve: () => void }[] = [];
  /** The deadline the waker is waiting for (Infinity: none). */
  #armedAtMs = Infinity;
  /** Bumped by every new wait: a wait replaced by an earlier one is ignored when it ends. */
  #generation = 0;
  #closed = false;

  /**
   * Starts the ticker thread and resolves once it runs: a server with delay knobs calls this
   * before it listens, so that no request pays the thread's start-up (~0.1 s on a busy host).
   */
  async start(): Promise<void> {
    this.#waker ??= sleepWaker();
    await Promise.race([this.#waker.ready, new Promise((r) => setTimeout(r, 5000))]);
  }

  /** Resolves once `performance.now()` has reached `atMs` (at once when it has). */
  until(atMs: number): Promise<void> {
    if (this.#closed || atMs <= performance.now()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let i = this.#queue.length;
      while (i > 0 && this.#queue[i - 1].atMs > atMs) i--;
      this.#queue.splice(i, 0, { atMs, resolve });
      if (atMs < this.#armedAtMs) this.#arm();
    });
  }

  #arm(): void {
    const head = this.#queue[0];
    this.#armedAtMs = head.atMs;
    const g = ++this.#generation;
    this.#waker ??= sleepWaker();
    // The waker has one wait at a time: a new one ends the previous one (stale, ignored here).
    this.#waker.until(head.atMs - Holds.EARLY_MS).then(() => {
      if (g === this.#generation) this.#fire();
    });
  }

  #fire(): void {
    this.#armedAtMs = Infinity;
    const head = this.#queue[0];
    // Bounded by EARLY_MS (plus the wake-up's own earliness, at most the waker's spin bound).
    const spinEnd = performance.now() + Holds.EARLY_MS;
    while (head !== undefined && performance.now() < Math.min(head.atMs, spinEnd)) { /* spin */ }
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0].atMs <= now) this.#queue.shift()!.resolve();
    if (this.#queue.length > 0) this.#arm();
  }

  /** Stops the ticker thread; pending holds end now. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation++;
    this.#waker?.close();
    for (const h of this.#queue.splice(0)) h.resolve();
  }
}
