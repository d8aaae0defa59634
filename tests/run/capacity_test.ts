/**
 * The capacity search (lib/run/capacity.ts) against fake targets: a sharp knee, a noisy
 * boundary, a target that fails everything, one that fails nothing; its bounds (steps, time,
 * a halt); and the plan `--find-rate` builds from a scenario (lib/run/capacity_step.ts).
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  capacityRecord,
  findRate,
  type RateSearch,
  type Slo,
  type StepFigures,
} from "../../lib/run/capacity.ts";
import { capacityPlan, DEFAULT_MAX_ERROR_RATE } from "../../lib/run/capacity_step.ts";
import { parseScenario } from "../../lib/workload/scenario.ts";
import { UsageError } from "../../lib/shared/errors.ts";
import { Prng } from "../../lib/workload/prng.ts";

const SLO: Slo = { p99Ms: 50, maxErrorRate: 0.01 };
const SEARCH: RateSearch = {
  fromRate: 10,
  toRate: 100_000,
  precisionPct: 5,
  maxSteps: 40,
  budgetSeconds: 1e9,
};

/** A server that keeps the SLO up to `knee` ops/s and queues past it. */
function kneeAt(knee: number, calls: number[] = []) {
  return (rate: number): Promise<StepFigures> => {
    calls.push(rate);
    const over = rate > knee;
    return Promise.resolve({
      achievedRate: over ? knee : rate,
      p99Ms: over ? 10 + (rate - knee) * 20 : 10,
      p99Censored: false,
      operations: rate * 5,
      errors: 0,
    });
  };
}

Deno.test("findRate() doubles to the first failure, then bisects to within the precision below a sharp knee", async () => {
  const calls: number[] = [];
  const r = await findRate(SEARCH, SLO, kneeAt(500, calls));
  deepStrictEqual(calls.slice(0, 7), [10, 20, 40, 80, 160, 320, 640]);
  ok(r.steps.slice(0, 7).every((s) => s.phase === "double"));
  ok(r.steps.slice(7).every((s) => s.phase === "bisect"));
  strictEqual(r.bound, "bracketed");
  strictEqual(r.stopped, "precision");
  ok(r.sustainedRate !== null && r.sustainedRate <= 500 && r.sustainedRate >= 500 / 1.05);
  // Every step is recorded with its verdict, in order.
  deepStrictEqual(r.steps.map((s) => s.offered_rate), calls);
  deepStrictEqual(r.steps.map((s) => s.pass), calls.map((c) => c <= 500));
  deepStrictEqual(r.steps.map((s) => s.index), calls.map((_, i) => i + 1));
});

Deno.test("findRate() at a noisy boundary keeps its bracket: the rate found passed, a rate within the precision above it failed", async () => {
  for (let seed = 1n; seed <= 20n; seed++) {
    const rng = new Prng(seed);
    // Between 450 and 550 a step passes or fails at random; below always passes, above fails.
    const measure = (rate: number): Promise<StepFigures> => {
      const pass = rate < 450 || (rate <= 550 && rng.nextFloat() < 0.5);
      return Promise.resolve({
        achievedRate: rate,
        p99Ms: pass ? 20 : 80,
        p99Censored: false,
        operations: 100,
        errors: 0,
      });
    };
    const r = await findRate(SEARCH, SLO, measure);
    const found = r.sustainedRate!;
    ok(found >= 320 && found <= 550, `seed ${seed}: ${found}`);
    ok(r.steps.some((s) => s.offered_rate === found && s.pass));
    const failsAbove = r.steps.filter((s) => !s.pass && s.offered_rate > found);
    ok(
      failsAbove.length > 0 &&
        Math.min(...failsAbove.map((s) => s.offered_rate)) <= found * 1.05 + 1,
    );
    ok(r.steps.length <= SEARCH.maxSteps);
  }
});

Deno.test("findRate(): when the first rate fails, nothing passed and no other rate is tried", async () => {
  const calls: number[] = [];
  const r = await findRate(SEARCH, SLO, kneeAt(5, calls));
  deepStrictEqual(calls, [10]);
  strictEqual(r.sustainedRate, null);
  strictEqual(r.bound, "none");
  strictEqual(r.stopped, "nothing_passed");
});

Deno.test("findRate(): when nothing fails up to the highest rate, the rate is a lower bound", async () => {
  const calls: number[] = [];
  const r = await findRate({ ...SEARCH, toRate: 1000 }, SLO, kneeAt(1e9, calls));
  deepStrictEqual(calls, [10, 20, 40, 80, 160, 320, 640, 1000]);
  strictEqual(r.sustainedRate, 1000);
  strictEqual(r.bound, "at_least");
  strictEqual(r.stopped, "max_rate");
});

Deno.test("findRate(): errors over the maximum fail a step even with a low P99; no operations fail it too", async () => {
  const r = await findRate(SEARCH, SLO, (rate) =>
    Promise.resolve({
      achievedRate: rate,
      p99Ms: 1,
      p99Censored: false,
      operations: rate >= 40 ? 0 : 1000,
      errors: rate >= 20 ? 11 : 10, // 1.0% passes (≤), 1.1% fails
    }));
  deepStrictEqual(r.steps.slice(0, 2).map((s) => [s.offered_rate, s.pass, s.error_rate]), [
    [10, true, 0.01],
    [20, false, 0.011],
  ]);
  strictEqual(r.sustainedRate! < 20, true);
  const none = await findRate(
    { ...SEARCH, fromRate: 40 },
    SLO,
    (rate) =>
      Promise.resolve({
        achievedRate: rate,
        p99Ms: 0,
        p99Censored: false,
        operations: 0,
        errors: 0,
      }),
  );
  strictEqual(none.sustainedRate, null);
});

Deno.test("findRate() is bounded by its step count, its time budget and a halt", async () => {
  const steps = await findRate({ ...SEARCH, maxSteps: 3 }, SLO, kneeAt(500));
  strictEqual(steps.steps.length, 3);
  strictEqual(steps.stopped, "max_steps");
  strictEqual(steps.sustainedRate, 40);

  let clock = 0; // each step takes 6 fake seconds; the budget is 20 s: steps start at 0, 6, 12, 18
  const budget = await findRate(
    { ...SEARCH, budgetSeconds: 20 },
    SLO,
    (rate) => {
      clock += 6;
      return kneeAt(500)(rate);
    },
    { now: () => clock },
  );
  strictEqual(budget.steps.length, 4);
  strictEqual(budget.stopped, "budget");
  strictEqual(budget.searchSeconds, 24);
  strictEqual(budget.steps[0].seconds, 6);

  let n = 0;
  const halted = await findRate(SEARCH, SLO, kneeAt(500), {
    halt: () => (++n > 4 ? "interrupted" : null), // checked before and after each step
  });
  strictEqual(halted.stopped, "interrupted");
  strictEqual(halted.steps.length, 2);
});

Deno.test("findRate() reports each step with what comes next", async () => {
  const lines: string[] = [];
  await findRate({ ...SEARCH, toRate: 40 }, SLO, kneeAt(1e9), {
    onStep: (s, next) => lines.push(`${s.offered_rate} ${s.pass} ${next}`),
  });
  deepStrictEqual(lines, [
    "10 true next 20 ops/s",
    "20 true next 40 ops/s",
    "40 true done (max_rate)",
  ]);
});

Deno.test("capacityRecord() confirms the rate only when the full-length run keeps the SLO too", async () => {
  const plan = capacityPlan(FIND, scenarioWith("expected_p99_latency_ms = 50.0"));
  const found = await findRate(SEARCH, SLO, kneeAt(500));
  const full = (p99Ms: number): StepFigures => ({
    achievedRate: 480,
    p99Ms,
    p99Censored: false,
    operations: 1000,
    errors: 0,
  });
  strictEqual(capacityRecord(plan, found, full(49)).confirmed, true);
  strictEqual(capacityRecord(plan, found, full(51)).confirmed, false);
  strictEqual(capacityRecord(plan, found, null).confirmed, null); // an invalid full-length run
  const none = await findRate(SEARCH, SLO, kneeAt(1));
  strictEqual(capacityRecord(plan, none, full(1)).confirmed, null);
});

const FIND = {
  fromRate: 10,
  toRate: 1000,
  stepSeconds: 5,
  precisionPct: 5,
  budgetSeconds: 900,
};

function scenarioWith(validation: string) {
  return parseScenario(
    `name = "s"\n[arrival]\nrate = 10\n[operations]\nstore_weight = 1\n[validation]\n${validation}\n`,
    "s.toml",
  );
}

Deno.test("capacityPlan(): the SLO from --slo-p99-ms, else the scenario; the error bound from the scenario, else 1%", () => {
  const s = scenarioWith("expected_p99_latency_ms = 20.0\nmax_error_rate = 0.02");
  deepStrictEqual(capacityPlan(FIND, s).slo, {
    p99_ms: 20,
    p99_from: "scenario",
    max_error_rate: 0.02,
    error_rate_from: "scenario",
  });
  deepStrictEqual(capacityPlan({ ...FIND, sloP99Ms: 100 }, scenarioWith("")).slo, {
    p99_ms: 100,
    p99_from: "flag",
    max_error_rate: DEFAULT_MAX_ERROR_RATE,
    error_rate_from: "default",
  });
  throws(
    () => capacityPlan(FIND, scenarioWith("")),
    (e) => e instanceof UsageError && /needs an SLO.*--slo-p99-ms/.test(e.message),
  );
  throws(
    () => capacityPlan({ ...FIND, fromRate: 2000 }, s),
    (e) =>
      e instanceof UsageError &&
      /--find-rate-from 2000 is above --find-rate-to 1000/.test(e.message),
  );
});

Deno.test("findRate(): a failure while the generator was behind is measured once more, and the repeat decides", async () => {
  const seen = new Map<number, number>();
  const calls: number[] = [];
  // At 160 ops/s the first measurement fails with the generator 25 ms behind; the repeat passes.
  // At 640 the server fails with and without generator lag: the repeat fails too.
  const r = await findRate({ ...SEARCH, toRate: 1000 }, SLO, (rate) => {
    calls.push(rate);
    const n = (seen.get(rate) ?? 0) + 1;
    seen.set(rate, n);
    const lagged = (rate === 160 && n === 1) || rate === 640;
    const fails = lagged || rate > 500;
    return Promise.resolve({
      achievedRate: rate,
      generatorLagP99Ms: lagged ? 25 : 0.2,
      p99Ms: fails ? 80 : 10,
      p99Censored: false,
      operations: 100,
      errors: 0,
    });
  });
  deepStrictEqual(calls.slice(0, 9), [10, 20, 40, 80, 160, 160, 320, 640, 640]);
  deepStrictEqual(r.steps.slice(4, 6).map((s) => [s.phase, s.pass, s.generator_lag_p99_ms]), [
    ["double", false, 25],
    ["repeat", true, 0.2],
  ]);
  deepStrictEqual(r.steps[8].phase, "repeat");
  strictEqual(r.steps[9].phase, "bisect");
  ok(r.sustainedRate! >= 320 && r.sustainedRate! <= 500, String(r.sustainedRate));
  // A failure without generator lag is never repeated.
  const plain: number[] = [];
  await findRate(SEARCH, SLO, kneeAt(500, plain));
  strictEqual(new Set(plain).size, plain.length);
});
