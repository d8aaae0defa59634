/**
 * The sequential rule wired into compare and the verdict: runs of one interleaved session are
 * paired by `run.pair` (whatever order the files come in; a pair missing an arm is left out), the
 * verdict carries its evidence for the confirm runner, and a single pair's spread comes only from
 * runs measured the same way.
 */
import assert from "node:assert/strict";
import { loaded, OUT, run } from "../fixtures/pair.ts";
import { makeReport } from "../fixtures/make_report.ts";
import type { LoadedReport } from "../../lib/report/read.ts";
import { compareRuns } from "../../lib/verdict/compare.ts";
import { pairedRuns } from "../../lib/verdict/significance.ts";
import { sameSetup } from "../../lib/verdict/spread.ts";
import { decideVerdict, defaultThresholds } from "../../lib/verdict/verdict.ts";

/** The k-th run (1-based) of one arm of session `group`: P99 = 0.606 ms × `scale`. */
function arm(
  phase: "before" | "after",
  pair: number,
  scale: number,
  group = "s1",
  design: string = "interleaved",
): LoadedReport {
  const report = makeReport({ phase, ...run(scale), run: { group, index: pair, count: 9 } });
  Object.assign(report.run, { design, pair });
  return loaded(report, `${OUT}/001_${phase}_2025010${pair}_120000.json`);
}

Deno.test("pairedRuns(): by run.pair, in pair order; an incomplete pair is left out", () => {
  const before = [arm("before", 2, 1), arm("before", 1, 1), arm("before", 3, 1)];
  const after = [arm("after", 1, 1.1), arm("after", 2, 1.2)];
  const pairs = pairedRuns(before, after)!;
  assert.deepEqual(
    pairs.map(([b, a]) => [b.path.slice(-20, -12), a.path.slice(-20, -12)]),
    [["20250101", "20250101"], ["20250102", "20250102"]],
  );
  // Independent runs, or runs of two sessions, are not paired.
  assert.equal(pairedRuns([arm("before", 1, 1, "s1", "independent")], [arm("after", 1, 1)]), null);
  assert.equal(pairedRuns([arm("before", 1, 1, "s1")], [arm("after", 1, 1, "s2")]), null);
});

Deno.test("decideVerdict(): repeated runs use the sequential rule and carry its evidence", () => {
  const scales = [1, 1.02, 0.99, 1.01, 0.98, 1.0];
  const before = scales.map((s, i) => arm("before", i + 1, s));
  const after = scales.map((s, i) => arm("after", i + 1, 1.15 * s));
  const c = compareRuns({
    task: "001",
    mode: "internal",
    before: before[0],
    after: after[0],
    runs: { before, after },
  });
  assert.deepEqual(c.statistics.method === "runs" && c.statistics.design, {
    kind: "paired",
    pairs: 6,
  });
  const v = decideVerdict(c, defaultThresholds("internal"), { significance: true });
  assert.equal(v.rule, "sequential");
  assert.equal(v.kind, "regression");
  assert.equal(v.evidence?.design.kind, "paired");
  assert.equal(v.evidence?.p99?.looks, 6);
  assert.ok(v.evidence!.p99!.pValue <= 0.05);
  // A change of +15% in every pair: the bound sits just above it.
  assert.ok(v.evidence!.p99!.boundPct! > 15 && v.evidence!.p99!.boundPct! < 25);
  // The first pair of a session is one look of the sequential rule, never a point verdict
  // (which would pass -34% or fail +15% on one pair and end the session there).
  const one = compareRuns({
    task: "001",
    mode: "internal",
    before: before[0],
    after: after[0],
    runs: { before: before.slice(0, 1), after: after.slice(0, 1) },
  });
  assert.equal(one.statistics.method, "runs");
  const first = decideVerdict(one, defaultThresholds("internal"));
  assert.equal(first.rule, "sequential");
  assert.equal(first.kind, "inconclusive");
  // Two pairs of the same data decide nothing yet.
  const two = compareRuns({
    task: "001",
    mode: "internal",
    before: before[0],
    after: after[0],
    runs: { before: before.slice(0, 2), after: after.slice(0, 2) },
  });
  assert.equal(decideVerdict(two, defaultThresholds("internal")).kind, "inconclusive");
});

Deno.test("sameSetup(): identical runs are the same build, workload and host; not other knobs", () => {
  const a = loaded(makeReport({ phase: "before", ...run(1) }), `${OUT}/a.json`);
  const b = loaded(makeReport({ phase: "before", ...run(1.05) }), `${OUT}/b.json`);
  assert.ok(sameSetup(a, b));
  const knobs = makeReport({ phase: "before", ...run(1) });
  knobs.target.details = { ...knobs.target.details, knobs: { latencyMs: 2 } };
  assert.ok(!sameSetup(a, loaded(knobs, `${OUT}/c.json`)));
  const other = makeReport({ phase: "before", ...run(1), workloadFingerprint: "beef".repeat(16) });
  assert.ok(!sameSetup(a, loaded(other, `${OUT}/d.json`)));
});
