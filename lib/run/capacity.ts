/**
 * `check --find-rate`: the search for the highest offered rate at which the target keeps an SLO
 * (response-time P99 and error rate). A pure loop over an injected `measure(rate)`, so it is
 * tested without a network (tests/run/capacity_test.ts): the rate doubles from `fromRate` until
 * a step fails (or `toRate` passes), then the bracket [highest pass, lowest fail] is bisected
 * until it is within `precisionPct` of the passing rate. A step that fails while the generator
 * itself was behind is measured once more. Bounded by `maxSteps` and `budgetSeconds`; every step
 * is reported as it ends.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { findRate } from "./capacity.ts";
 * const knee = 300;
 * const r = await findRate(
 *   { fromRate: 10, toRate: 10_000, precisionPct: 5, maxSteps: 30, budgetSeconds: 60 },
 *   { p99Ms: 50, maxErrorRate: 0.01 },
 *   (rate) => Promise.resolve({
 *     achievedRate: rate, p99Ms: rate <= knee ? 10 : 500, p99Censored: false,
 *     operations: rate, errors: 0,
 *   }),
 * );
 * strictEqual(r.sustainedRate !== null && r.sustainedRate <= knee && r.sustainedRate >= 285, true);
 * ```
 * @module
 */
import type { CapacityRecord, CapacityStep } from "../report/schema.ts";
import { GENERATOR_LAG_P99_LIMIT_MS } from "../report/validity.ts";

/** The search's settings. */
export interface RateSearch {
  /** The first rate tried (ops/s). */
  fromRate: number;
  /** The highest rate tried (ops/s); reaching it with a pass ends the search. */
  toRate: number;
  /** Bisection ends when (fail − pass) ≤ pass × precisionPct / 100. */
  precisionPct: number;
  maxSteps: number;
  /** No step starts after this many seconds of search. */
  budgetSeconds: number;
}

/** What a step must keep to pass. */
export interface Slo {
  p99Ms: number;
  maxErrorRate: number;
}

/** What one step measured (the search adds the rate, the verdict and the time). */
export interface StepFigures {
  achievedRate: number;
  /** Schedule lag P99 of sends not held by the in-flight cap (ms): the generator's own. */
  generatorLagP99Ms?: number;
  p99Ms: number;
  p99Censored: boolean;
  operations: number;
  errors: number;
}

/** The search's outcome, as the report's `capacity` records it (without SLO and settings). */
export interface RateSearchResult {
  steps: CapacityStep[];
  sustainedRate: number | null;
  bound: CapacityRecord["bound"];
  stopped: CapacityRecord["stopped"];
  searchSeconds: number;
}

/** Why the search must stop now, whatever it found (an interrupt, a dead target). */
export type Halt = Extract<CapacityRecord["stopped"], "interrupted" | "target_died">;

/** Optional hooks: the clock (tests), progress, and why the search must stop. */
export interface RateSearchHooks {
  /** Seconds, monotonic (default `performance.now() / 1000`). */
  now?: () => number;
  /** Called after each step with what comes next (`next 480 ops/s`, `done (precision)`). */
  onStep?: (step: CapacityStep, next: string) => void;
  /** Checked before and after each step; a step it stopped measures nothing. */
  halt?: () => Halt | null;
}

/** Error rate of a step: errors / completed requests, 0 without any (METHODS.throughput's). */
function errorRateOf(f: StepFigures): number {
  return f.operations > 0 ? f.errors / f.operations : 0;
}

/** Whether a step kept the SLO: P99 ≤ SLO, error rate ≤ maximum, and something completed. */
export function passes(f: StepFigures, slo: Slo): boolean {
  return f.operations > 0 && f.p99Ms <= slo.p99Ms && errorRateOf(f) <= slo.maxErrorRate;
}

/** Whether the generator's own schedule lag P99 was over the validity limit (10 ms). */
export function generatorBehind(f: Pick<StepFigures, "generatorLagP99Ms">): boolean {
  return (f.generatorLagP99Ms ?? 0) > GENERATOR_LAG_P99_LIMIT_MS;
}

/** Rates are searched in whole ops/s above 10 and in tenths below (a low start stays exact). */
function roundRate(rate: number): number {
  return rate >= 10 ? Math.round(rate) : Math.round(rate * 10) / 10;
}

/** Whether the bracket [pass, fail] is narrow enough. */
function precise(pass: number, fail: number, precisionPct: number): boolean {
  return fail - pass <= pass * precisionPct / 100;
}

/**
 * Searches the highest rate that passes `slo`. `measure` runs one step at an offered rate and
 * is called at most `s.maxSteps` times, never after `s.budgetSeconds` of search or an abort.
 */
export async function findRate(
  s: RateSearch,
  slo: Slo,
  measure: (rate: number, index: number) => Promise<StepFigures>,
  hooks: RateSearchHooks = {},
): Promise<RateSearchResult> {
  const now = hooks.now ?? (() => performance.now() / 1000);
  const t0 = now();
  const steps: CapacityStep[] = [];
  let pass: number | null = null; // highest rate that passed
  let fail: number | null = null; // lowest rate that failed
  let rate = roundRate(Math.min(s.fromRate, s.toRate));
  let stopped: CapacityRecord["stopped"] | null = null;
  let repeat = false; // the step now measured re-measures a failure the generator may have caused
  while (stopped === null) {
    stopped = hooks.halt?.() ?? null;
    if (stopped !== null) break;
    if (steps.length >= s.maxSteps) stopped = "max_steps";
    else if (now() - t0 >= s.budgetSeconds) stopped = "budget";
    if (stopped !== null) break;
    const started = now();
    const f = await measure(rate, steps.length + 1);
    stopped = hooks.halt?.() ?? null; // a step cut short measures nothing
    if (stopped !== null) break;
    const ok = passes(f, slo);
    const step: CapacityStep = {
      index: steps.length + 1,
      phase: repeat ? "repeat" : fail === null ? "double" : "bisect",
      offered_rate: rate,
      achieved_rate: round3(f.achievedRate),
      p99_ms: f.p99Ms,
      p99_censored: f.p99Censored,
      ...(f.generatorLagP99Ms !== undefined
        ? { generator_lag_p99_ms: Math.round(f.generatorLagP99Ms * 1000) / 1000 }
        : {}),
      operations: f.operations,
      errors: f.errors,
      error_rate: errorRateOf(f),
      pass: ok,
      seconds: round3(now() - started),
    };
    steps.push(step);
    // A failure while the generator itself was behind may be the generator's (response times
    // count from the due time): the same rate is measured once more, and that step decides.
    if (!ok && !repeat && generatorBehind(f)) {
      repeat = true;
      hooks.onStep?.(step, `generator behind: measuring ${rate} ops/s again`);
      continue;
    }
    repeat = false;
    if (ok) pass = Math.max(pass ?? rate, rate);
    else fail = Math.min(fail ?? rate, rate);
    // The next rate, or why there is none.
    let next: number | null = null;
    if (fail === null) {
      if (rate >= s.toRate) stopped = "max_rate";
      else next = roundRate(Math.min(rate * 2, s.toRate));
    } else if (pass === null) {
      stopped = "nothing_passed";
    } else if (precise(pass, fail, s.precisionPct)) {
      stopped = "precision";
    } else {
      next = roundRate((pass + fail) / 2);
      // Rounding can land on a bound already measured: the bracket cannot narrow further.
      if (next <= pass || next >= fail) stopped = "precision";
    }
    hooks.onStep?.(step, next !== null ? `next ${next} ops/s` : `done (${stopped})`);
    if (next !== null) rate = next;
  }
  return {
    steps,
    sustainedRate: pass,
    bound: pass === null ? "none" : fail === null ? "at_least" : "bracketed",
    stopped: stopped!,
    searchSeconds: round3(now() - t0),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The SLO and settings of a search, as the report records them. */
export type CapacityPlan = Pick<CapacityRecord, "slo" | "search">;

/**
 * The report's `capacity`: the plan, the search, and whether the full-length run (`full`, the
 * report's own figures) at the rate found kept the SLO too; null when no rate passed or the
 * full-length run measured nothing valid (`full` null: skipped, interrupted, instrument failed).
 */
export function capacityRecord(
  plan: CapacityPlan,
  r: RateSearchResult,
  full: StepFigures | null,
): CapacityRecord {
  const slo = { p99Ms: plan.slo.p99_ms, maxErrorRate: plan.slo.max_error_rate };
  return {
    ...plan,
    steps: r.steps,
    sustained_rate: r.sustainedRate,
    bound: r.bound,
    stopped: r.stopped,
    search_seconds: r.searchSeconds,
    confirmed: r.sustainedRate === null || full === null ? null : passes(full, slo),
  };
}
