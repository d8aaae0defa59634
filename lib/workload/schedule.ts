/**
 * Arrival schedules: when request i is due, as an offset in milliseconds from the start.
 * Pure functions of the index (and, for Poisson, a seeded stream), testable without a network.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { makeSchedule } from "./schedule.ts";
 * const s = makeSchedule({ pattern: "constant", rate: 1000 }, 1n);
 * strictEqual(s.next(), 0);
 * strictEqual(s.next(), 1);
 * ```
 * @module
 */
import { Prng } from "./prng.ts";
import type { Arrival } from "./scenario.ts";

/** A stream of due offsets (ms from the schedule's start), non-decreasing. */
export interface Schedule {
  /** Offset of the next arrival in ms. */
  next(): number;
  /** Mean rate in arrivals per second. */
  readonly rate: number;
}

/** Builds the schedule for an arrival pattern; `seed` drives Poisson gaps. */
export function makeSchedule(arrival: Arrival, seed: bigint): Schedule {
  switch (arrival.pattern) {
    case "constant":
      return constantSchedule(arrival.rate);
    case "poisson":
      return poissonSchedule(arrival.rate, seed);
    case "periodic_burst":
      return burstSchedule(arrival);
  }
}

/** Request i is due at exactly i / rate seconds (computed from i: no accumulated drift). */
export function constantSchedule(rate: number): Schedule {
  let i = 0;
  return { rate, next: () => (i++ * 1000) / rate };
}

/** Exponential gaps with mean 1/rate, seeded. */
export function poissonSchedule(rate: number, seed: bigint): Schedule {
  const rng = Prng.derive(seed, 0xA77A1n);
  let t = 0;
  let first = true;
  return {
    rate,
    next: () => {
      if (first) {
        first = false;
        return 0;
      }
      t += (-Math.log(1 - rng.nextFloat()) * 1000) / rate;
      return t;
    },
  };
}

/** Burst rate for the first `burstDurationSec` of every period, base rate for the rest. */
export function burstSchedule(a: Extract<Arrival, { pattern: "periodic_burst" }>): Schedule {
  const burstCount = a.burstRate * a.burstDurationSec;
  const perPeriod = burstCount + a.baseRate * (a.burstPeriodSec - a.burstDurationSec);
  let i = 0;
  return {
    rate: a.rate,
    next: () => {
      const k = i++;
      const period = Math.floor(k / perPeriod);
      const within = k - period * perPeriod;
      const offsetSec = within < burstCount
        ? within / a.burstRate
        : a.burstDurationSec + (within - burstCount) / a.baseRate;
      return (period * a.burstPeriodSec + offsetSec) * 1000;
    },
  };
}
