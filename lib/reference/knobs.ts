/**
 * Fault and delay injection for tests and calibration: fixed latency plus uniform jitter, an error
 * rate, and periodic stalls. Random draws come from one seeded stream in request arrival order,
 * two draws per request whatever the settings, so the same seed and the same request sequence give
 * the same fates. Delays are timers, never busy waits: a delayed request blocks nothing else.
 * @module
 */
import { Prng } from "../workload/prng.ts";

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
 * Deno's timers fire ~1.2 ms late on this class of machine; asking for 1 ms less lands most waits
 * within ±0.5 ms of the target. The actual wait is measured and reported, not assumed.
 */
const TIMER_LATE_MS = 1;

/**
 * Resolves once `performance.now()` has reached `deadlineMs` (immediately when it has), usually
 * within ~0.5 ms after it.
 */
export async function sleepUntil(deadlineMs: number): Promise<void> {
  for (;;) {
    const leftMs = deadlineMs - performance.now();
    if (leftMs <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, leftMs - TIMER_LATE_MS)));
  }
}
