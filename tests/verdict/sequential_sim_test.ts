/**
 * The repeated-run rule under simulation (bench/sequential_sim.ts, short and seeded): looking
 * after every pair, up to 20 pairs, keeps false alarms at no change within 5% (plus the Monte
 * Carlo tolerance) and calls a large regression; the same check fails for a rule that looks
 * without correction, so it can tell the two apart.
 */
import assert from "node:assert/strict";
import {
  type NoiseModel,
  productionRule,
  type Rule,
  simulateCell,
  uncorrectedRule,
} from "../../bench/sequential_sim.ts";

/** Noisy 10-s runs (independent seconds, per-run offsets of sd 5%): peeking matters here. */
const NOISY: NoiseModel = {
  seconds: { kind: "independent" },
  runSeconds: 10,
  rate: 1000,
  runOffsetSd: 0.05,
};
const SESSIONS = 250;
/** 5% plus about 2.3 binomial standard errors of 250 sessions. */
const FALSE_ALARM_LIMIT = 0.08;

function falseAlarms(rule: Rule): number {
  return simulateCell({
    seed: 0x5E9n,
    model: NOISY,
    trueChangePct: 0,
    sessions: SESSIONS,
    budget: 20,
    checkpoints: [20],
    rule,
  }).regression;
}

Deno.test("sequential rule: at most 5% false alarms at no change, looking after every pair", () => {
  const rate = falseAlarms(productionRule);
  assert.ok(rate <= FALSE_ALARM_LIMIT, `false-alarm rate ${rate}`);
});

Deno.test("the same check fails for a rule that looks after every pair without correction", () => {
  const rate = falseAlarms(uncorrectedRule);
  assert.ok(rate > FALSE_ALARM_LIMIT, `uncorrected false-alarm rate ${rate}`);
});

Deno.test("sequential rule: a true +20% P99 is called a REGRESSION within 20 pairs", () => {
  const cell = simulateCell({
    seed: 0x20n,
    model: { ...NOISY, runSeconds: 60, runOffsetSd: 0.03 },
    trueChangePct: 20,
    sessions: 100,
    budget: 20,
    checkpoints: [5, 20],
  });
  assert.ok(cell.regressionBy[1] >= 0.9, `power ${cell.regressionBy[1]}`);
  assert.equal(cell.pass, 0);
});
