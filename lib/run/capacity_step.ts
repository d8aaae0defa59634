/**
 * The `--find-rate` step of a check run: the SLO and settings (`capacityPlan`, before any file
 * is claimed), then the search on the target already started and preloaded (`searchCapacity`).
 * Every step and the full-length run that follows share that one server start and preload: a
 * fresh start per step would repeat the preload (hours for Engram at 100K memories). Each step
 * is its own 1 s warm-up and measured window, replaying the scenario's request streams from
 * their start at the step's rate (so the stores of every step repeat the same memories).
 * @module
 */
import { stepCount } from "../report/capacity.ts";
import { isLowerBound } from "../report/censoring.ts";
import { windowRates } from "../report/assemble.ts";
import { describeReason } from "../report/validity.ts";
import type { CapacityStep } from "../report/schema.ts";
import { UsageError } from "../shared/errors.ts";
import type { Target } from "../target/target.ts";
import { Workload } from "../workload/ops.ts";
import { type Scenario, withOverrides } from "../workload/scenario.ts";
import {
  type CapacityPlan,
  findRate,
  generatorBehind,
  type RateSearchResult,
  type StepFigures,
} from "./capacity.ts";
import { runEngine } from "./engine.ts";
import type { FindRateOptions } from "./options.ts";
import { chooseWorkers, interruption, type RunContext, type Skipped } from "./steps.ts";

/** Warm-up seconds before each step's measured window (not recorded). */
export const STEP_WARMUP_SECONDS = 1;
/** The most steps one search makes. */
export const MAX_STEPS = 40;
/** The error-rate bound when the scenario has no `validation.max_error_rate`. */
export const DEFAULT_MAX_ERROR_RATE = 0.01;

/**
 * The SLO and settings of `--find-rate` for `scenario`: `--slo-p99-ms`, else the scenario's
 * `expected_p99_latency_ms` (a UsageError when it has none); the scenario's `max_error_rate`,
 * else 1%.
 */
export function capacityPlan(f: FindRateOptions, scenario: Scenario): CapacityPlan {
  const v = scenario.validation;
  const p99 = f.sloP99Ms ?? v.expectedP99LatencyMs;
  if (p99 === undefined) {
    throw new UsageError(
      `--find-rate needs an SLO: scenario ${scenario.name} has no validation.expected_p99_latency_ms; give --slo-p99-ms MS`,
    );
  }
  if (f.fromRate > f.toRate) {
    throw new UsageError(
      `--find-rate-from ${f.fromRate} is above --find-rate-to ${f.toRate}: nothing to search`,
    );
  }
  return {
    slo: {
      p99_ms: p99,
      p99_from: f.sloP99Ms !== undefined ? "flag" : "scenario",
      max_error_rate: v.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE,
      error_rate_from: v.maxErrorRate !== undefined ? "scenario" : "default",
    },
    search: {
      from_rate: f.fromRate,
      to_rate: f.toRate,
      step_seconds: f.stepSeconds,
      step_warmup_seconds: STEP_WARMUP_SECONDS,
      precision_pct: f.precisionPct,
      max_steps: MAX_STEPS,
      budget_seconds: f.budgetSeconds,
      server_starts: 1,
    },
  };
}

/** One step: a short warm-up and measured window at `rate` on the started target. */
async function measureStep(
  ctx: RunContext,
  target: Target,
  plan: CapacityPlan,
  rate: number,
): Promise<StepFigures> {
  const { scenario, r } = await runAt(
    ctx,
    target,
    rate,
    plan.search.step_warmup_seconds,
    plan.search.step_seconds,
  );
  const { throughput } = windowRates(r, scenario.durationSeconds);
  const count = r.response.count;
  return {
    achievedRate: throughput,
    generatorLagP99Ms: r.generatorLag.percentileUs(99) / 1000,
    p99Ms: r.response.summaryMs().p99_ms,
    p99Censored: isLowerBound({ count, censored: r.errorsByKind.timeout ?? 0 }, 99),
    operations: r.completed,
    errors: r.errors,
  };
}

/**
 * Before the first step: the run's own warm-up (the scenario's `warmup_seconds` or `--warmup`) at
 * the start rate, not measured, so that a target's cold start is not taken for its capacity (a
 * restored Engram 5d54816 at 92K memories timed out every request of a first step at 2 ops/s for
 * ~30 s, then served 24 ops/s; BENCHMARKS.md). Nothing when the warm-up is 0.
 */
async function warmUpFirst(ctx: RunContext, target: Target, plan: CapacityPlan): Promise<void> {
  const seconds = ctx.prepared.scenario.warmupSeconds;
  if (seconds <= 0 || ctx.signal.aborted) return;
  const rate = plan.search.from_rate;
  ctx.log.line(`capacity search: ${seconds} s warm-up at ${rate} ops/s first (not measured)`);
  await runAt(ctx, target, rate, seconds, 1);
}

/** The engine at `rate` on the started target: `warmupSeconds` unrecorded, then a window. */
async function runAt(
  ctx: RunContext,
  target: Target,
  rate: number,
  warmupSeconds: number,
  durationSeconds: number,
) {
  const scenario = withOverrides(ctx.prepared.scenario, { rate, durationSeconds, warmupSeconds });
  const r = await runEngine({
    scenario,
    workload: new Workload(scenario),
    warmupSeconds,
    durationSeconds,
    workers: chooseWorkers(ctx.o, rate).workers,
    baseUrl: target.url,
    timeoutMs: ctx.o.timeoutMs,
    maxInFlight: ctx.o.maxInFlight,
    signal: ctx.signal,
  });
  return { scenario, r };
}

/** The search's outcome and the rate the full-length run measures next. */
export interface CapacitySearched {
  result: RateSearchResult;
  /** The rate found, or the start rate when none passed (then nothing is confirmed). */
  fullRate: number;
}

/** Runs the search on the started, preloaded `target`, printing one line per step. */
export async function searchCapacity(
  ctx: RunContext,
  target: Target,
  plan: CapacityPlan,
): Promise<CapacitySearched> {
  const { log } = ctx;
  const { slo, search } = plan;
  ctx.stage = "the capacity search";
  log.line(
    `capacity search: SLO P99 ≤ ${slo.p99_ms} ms (${slo.p99_from}), error rate ≤ ${
      pct(slo.max_error_rate)
    } (${slo.error_rate_from}); from ${search.from_rate} to ${search.to_rate} ops/s, ` +
      `${search.step_warmup_seconds} s warm-up + ${search.step_seconds} s per step, ` +
      `precision ${search.precision_pct}%, at most ${search.max_steps} steps or ${search.budget_seconds} s`,
  );
  await warmUpFirst(ctx, target, plan);
  const result = await findRate(
    {
      fromRate: search.from_rate,
      toRate: search.to_rate,
      precisionPct: search.precision_pct,
      maxSteps: search.max_steps,
      budgetSeconds: search.budget_seconds,
    },
    { p99Ms: slo.p99_ms, maxErrorRate: slo.max_error_rate },
    (rate, index) => {
      log.status(`capacity step ${index}: ${rate} ops/s …`, false);
      return measureStep(ctx, target, plan, rate);
    },
    {
      halt: () => ctx.signal.aborted ? "interrupted" : target.deathReason() ? "target_died" : null,
      onStep: (s, next) => log.line(stepLine(s, next)),
    },
  );
  const found = result.sustainedRate;
  const at = result.bound === "at_least" ? "≥ " : "";
  const how = `${stepCount(result.steps.length)} in ${
    result.searchSeconds.toFixed(1)
  } s, ${result.stopped}`;
  log.line(
    found === null
      ? `capacity search: no rate kept the SLO (${how}); the full-length run measures ${search.from_rate} ops/s`
      : `capacity search: sustained rate ${at}${found} ops/s (${how})` +
        (halted(result) ? "" : "; confirming with the full-length run"),
  );
  return { result, fullRate: found ?? search.from_rate };
}

/** One step's line: offered, achieved, P99, errors, whether the generator kept up, verdict, next. */
function stepLine(s: CapacityStep, next: string): string {
  const lag = s.generator_lag_p99_ms;
  const behind = lag !== undefined && generatorBehind({ generatorLagP99Ms: lag })
    ? `, generator behind (schedule lag P99 ${lag.toFixed(1)} ms)`
    : "";
  return `capacity step ${s.index} (${s.phase}): ${s.offered_rate} ops/s offered, ${
    s.achieved_rate.toFixed(1)
  } achieved, P99 ${s.p99_censored ? "≥" : ""}${s.p99_ms.toFixed(3)} ms, errors ${s.errors} (${
    pct(s.error_rate)
  })${behind}: ${s.pass ? "pass" : "FAIL"}; ${next}`;
}

/** Whether the search was cut short by an interrupt or a dead target. */
function halted(r: RateSearchResult): boolean {
  return r.stopped === "interrupted" || r.stopped === "target_died";
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/**
 * Why the full-length run is skipped after the search: the run was interrupted or the target
 * died during it (recorded as invalid, as after the preload); null to go on.
 */
export function searchSkipped(
  ctx: RunContext,
  target: Target,
  r: RateSearchResult,
): Skipped | null {
  const dead = target.deathReason();
  const skipped: Skipped | null = r.stopped === "interrupted"
    ? interruption(ctx.signal, "the capacity search")
    : r.stopped === "target_died" && dead
    ? { kind: "target_died", death: dead, during: "the run" }
    : null;
  if (skipped) {
    ctx.invalid.push({ kind: "no_measured_window", cause: skipped });
    ctx.log.warn(`${describeReason(skipped)}: skipping the full-length run`);
  }
  return skipped;
}
