/**
 * Issue 16's verdict rules: one rule for "significant" (note and verdict agree on one interval),
 * thresholds judged on the change as printed, and errors judged by the specification's rule in every mode.
 */
import assert from "node:assert/strict";
import { comparePair, run } from "../fixtures/pair.ts";
import { decideVerdict, defaultThresholds } from "../../lib/verdict/verdict.ts";
import { displayedChange, standing } from "../../lib/verdict/significance.ts";
import { noiseLines, regressionLines } from "../../lib/render/wording.ts";
import type { Comparison } from "../../lib/verdict/types.ts";

const T = defaultThresholds("internal");

/** A comparison with the P99 change and interval set by hand (one run per side). */
function withP99(changePct: number, ci: [number, number] | undefined): Comparison {
  const { comparison } = comparePair(run(1), run(1 + changePct / 100));
  const c = structuredClone(comparison);
  c.metrics.p99.changePct = changePct;
  if (ci) c.metrics.p99.ci = ci;
  else delete c.metrics.p99.ci;
  c.statistics = { ...c.statistics, method: "bootstrap" };
  return c;
}

Deno.test("one rule: an interval containing the threshold is INCONCLUSIVE, and the note says the same", () => {
  // The A/A pair: +12% with [+0.4%, +1004.2%] was "within noise" and "REGRESSION … significant".
  const c = withP99(12, [0.4, 1004.2]);
  assert.equal(standing(c, "p99", T).kind, "straddles");
  const v = decideVerdict(c, T, { significance: true });
  assert.equal(v.kind, "inconclusive");
  const lines = regressionLines(c, v).join("\n");
  assert.match(lines, /not significant: 95% interval \[\+0\.4%, \+1004\.2%\]/);
  assert.match(noiseLines(c, T).join("\n"), /\[\+0\.4%, \+1004\.2%\] contains the 5% threshold/);
  assert.doesNotMatch(lines, /; significant/);
});

Deno.test("one rule: a regression needs the whole interval above the threshold", () => {
  const above = withP99(12, [5.2, 19]);
  assert.equal(standing(above, "p99", T).kind, "beyond");
  const v = decideVerdict(above, T, { significance: true });
  assert.equal(v.kind, "regression");
  assert.match(
    regressionLines(above, v).join("\n"),
    /; significant: 95% interval \[\+5\.2%, \+19\.0%\]/,
  );
  assert.deepEqual(noiseLines(above, T), []);
  // Past 0 but not past the threshold: no longer enough.
  const v2 = decideVerdict(withP99(12, [3, 19]), T, { significance: true });
  assert.equal(v2.kind, "inconclusive");
});

Deno.test("thresholds are judged on the change as printed: +5.04% is +5.0%, not over 5%", () => {
  assert.equal(displayedChange(5.04), 5);
  assert.equal(displayedChange(5.0000000001), 5);
  assert.equal(decideVerdict(withP99(5.04, undefined), T).kind, "pass");
  assert.equal(decideVerdict(withP99(5.0000000001, undefined), T).kind, "pass");
  assert.equal(decideVerdict(withP99(5.06, undefined), T).kind, "regression");
  // An interval bound that prints as the threshold is not past it.
  assert.equal(standing(withP99(9, [5.04, 12]), "p99", T).kind, "straddles");
});
