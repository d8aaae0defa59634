/**
 * `deno task bench sequential`: the repeated-run decision rule under simulation
 * (bench/sequential_sim.ts): for each noise case and run length, sessions of interleaved pairs
 * judged after every pair by the production rule up to 20 pairs, at a true P99 change of 0,
 * +10% and +20%: how often REGRESSION is called within 5, 10 and 20 pairs, how often PASS, and,
 * at no change, the false-alarm rate of the same looks without correction.
 * @module
 */
import type { Benchmark, Row } from "./harness.ts";
import {
  type NoiseModel,
  type Seconds,
  secondsName,
  simulateCell,
  uncorrectedRule,
} from "./sequential_sim.ts";

/** The noise cases: per-second behaviour and the per-run offset's sd. */
export const NOISE_CASES: { seconds: Seconds; runOffsetSd: number }[] = [
  { seconds: { kind: "independent" }, runOffsetSd: 0.03 },
  { seconds: { kind: "independent" }, runOffsetSd: 0.05 },
  { seconds: { kind: "ar1", phi: 0.5 }, runOffsetSd: 0.03 },
  { seconds: { kind: "ar1", phi: 0.8 }, runOffsetSd: 0.05 },
  { seconds: { kind: "ar1", phi: 0.95 }, runOffsetSd: 0.05 },
  { seconds: { kind: "bursts" }, runOffsetSd: 0.05 },
];
const RUN_SECONDS = [10, 60];
const TRUE_CHANGES = [0, 10, 20];
const CHECKPOINTS = [5, 10, 20];
const BUDGET = 20;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export const sequential: Benchmark = {
  name: "sequential",
  title: "Repeated-run rule: false alarms and power with a look after every pair",
  goal: "≤ 5% REGRESSION at no change including the looks after every pair (budget 20 pairs); " +
    "≥ 80% at a true +10% P99 within 20 pairs at the reference server's noise",
  run(ctx) {
    const sessions = ctx.quick ? 60 : 400;
    const rows: Row[] = [];
    let worstFalseAlarm = 0;
    let seed = 1n;
    for (const noise of NOISE_CASES) {
      for (const runSeconds of RUN_SECONDS) {
        const model: NoiseModel = { ...noise, runSeconds, rate: 1000 };
        const name = `${secondsName(noise.seconds)}, run sd ${noise.runOffsetSd * 100}%`;
        for (const truth of TRUE_CHANGES) {
          ctx.log(`${name}, ${runSeconds} s, true ${truth}%`);
          const cell = simulateCell({
            seed: seed++,
            model,
            trueChangePct: truth,
            sessions,
            budget: BUDGET,
            checkpoints: CHECKPOINTS,
          });
          const uncorrected = truth === 0
            ? simulateCell({
              seed: seed++,
              model,
              trueChangePct: 0,
              sessions,
              budget: BUDGET,
              checkpoints: [BUDGET],
              rule: uncorrectedRule,
            }).regression
            : null;
          if (truth === 0) worstFalseAlarm = Math.max(worstFalseAlarm, cell.regression);
          rows.push({
            case: name,
            "run s": runSeconds,
            "true P99": `+${truth}%`,
            "REGRESSION ≤5 pairs": pct(cell.regressionBy[0]),
            "≤10": pct(cell.regressionBy[1]),
            "≤20": pct(cell.regressionBy[2]),
            "PASS ≤20": pct(cell.passBy[2]),
            "undecided at 20": pct(cell.inconclusive),
            "mean pairs": Number(cell.meanPairs.toFixed(1)),
            "uncorrected looks: REGRESSION ≤20": uncorrected === null ? "" : pct(uncorrected),
          });
        }
      }
    }
    const met = worstFalseAlarm <= 0.05;
    return Promise.resolve({
      verdict: met ? "met" : "not met",
      summary: `Worst false-alarm rate at no change over ${rows.length / 3} cases: ` +
        `${pct(worstFalseAlarm)} (${sessions} sessions a cell, budget ${BUDGET} pairs).`,
      rows,
      data: { sessions, budget: BUDGET, rows },
    });
  },
};
