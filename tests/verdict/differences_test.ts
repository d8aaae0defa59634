/**
 * Comparability of Engram checkouts, what is expected to differ (printed as before → after,
 * never refused), and percentiles censored at the timeout carried into the comparison.
 */
import assert from "node:assert/strict";
import type { LoadedReport } from "../../lib/report/read.ts";
import type { RunReport } from "../../lib/report/schema.ts";
import { changeBound, comparability, compareRuns } from "../../lib/verdict/compare.ts";
import { expectedDifferences, knobWords } from "../../lib/verdict/differences.ts";
import { makeReport, shapedSamples } from "../fixtures/make_report.ts";

const SAMPLES = { Store: shapedSamples({ p50: 1, p95: 2, p99: 3, p999: 4 }) };

type Current = Extract<LoadedReport, { kind: "current" }>;

function loaded(path: string, r: RunReport): Current {
  return { kind: "current", path, report: r };
}

function engram(phase: "before" | "after", details: Record<string, unknown>): Current {
  const r = makeReport({ phase, targetKind: "engram", samplesMs: SAMPLES });
  r.target.details = {
    checkout: "/src/engram",
    git_commit: "5d54816aa11b2c3d",
    git_dirty: false,
    ...details,
  };
  return loaded(`${phase}.json`, r);
}

function reference(phase: "before" | "after", knobs: Record<string, unknown>): Current {
  const r = makeReport({ phase, samplesMs: SAMPLES });
  r.target.details = { pid: 1, knobs, dim: 768 };
  return loaded(`${phase}.json`, r);
}

const ASKED = { task: "001", mode: "internal" } as const;

Deno.test("comparability: Engram reports from different checkout paths are refused", () => {
  const b = engram("before", {});
  const a = engram("after", { checkout: "/home/me/engram-copy" });
  assert.deepEqual(comparability(b, a, ASKED).problems, [
    "before and after measured different Engram checkouts (/src/engram vs /home/me/engram-copy)",
  ]);
  // Another commit, version or dirty tree in the same checkout is the change under test.
  const changed = engram("after", { git_commit: "7e1f0c2d9a10ffff", git_dirty: true });
  changed.report.target.version = "0.2.0";
  assert.deepEqual(comparability(b, changed, ASKED).problems, []);
});

Deno.test("expected differences: Engram commit, version and dirty flag, as before → after", () => {
  const b = engram("before", {});
  const a = engram("after", { git_commit: "7e1f0c2d9a10ffff", git_dirty: true });
  assert.deepEqual(expectedDifferences(b, a), [
    {
      what: "Engram",
      before: "5d54816aa11b (v0.1.0)",
      after: "7e1f0c2d9a10 (v0.1.0, uncommitted changes)",
    },
  ]);
  assert.deepEqual(expectedDifferences(b, engram("after", {})), []);
  const c = compareRuns({ task: "001", mode: "internal", before: b, after: a });
  assert.equal(c.differences.length, 1);
});

Deno.test("expected differences: reference knobs and the tool's version; the seed is no knob", () => {
  const b = reference("before", { seed: "3735928559" });
  const a = reference("after", { seed: "3735928559", latencyMs: 2, noSpreading: true });
  a.report.tool = { name: "m17_check", version: "0.1.0", commit: "9e1a2b3" };
  assert.deepEqual(expectedDifferences(b, a), [
    { what: "Reference knobs", before: "none", after: "--ref-latency-ms 2 --ref-no-spreading" },
    { what: "m17_check", before: "0.1.0", after: "0.1.0 (9e1a2b3)" },
  ]);
  assert.equal(
    knobWords({ stallEverySeconds: 5, stallMs: 200 }),
    "--ref-stall-every-s 5 --ref-stall-ms 200",
  );
  // Never refused.
  assert.deepEqual(comparability(b, a, ASKED).problems, []);
});

Deno.test("censored percentiles: lower bounds on the side that timed out, and the change's bound", () => {
  const before = makeReport({ phase: "before", samplesMs: SAMPLES });
  const after = makeReport({ phase: "after", samplesMs: SAMPLES });
  after.errors_by_kind = { timeout: 860 };
  after.per_operation_stats.Store.errors_by_kind = { timeout: 860 };
  const c = compareRuns({
    task: "001",
    mode: "internal",
    before: loaded("b.json", before),
    after: loaded("a.json", after),
  });
  for (const id of ["p50", "p95", "p99", "p999"] as const) {
    assert.deepEqual(c.metrics[id].censored, { before: false, after: true }, id);
    assert.equal(changeBound(c.metrics[id]), "lower");
  }
  assert.equal(c.metrics.throughput.censored, undefined);
  assert.equal(changeBound(c.metrics.throughput), "exact");
  assert.deepEqual(c.operations[0].p99Ms.censored, { before: false, after: true });
  // 2% timed out on both sides: only P99 and P99.9 are lower bounds, the change is unknown.
  before.errors_by_kind = { timeout: 20 };
  after.errors_by_kind = { timeout: 20 };
  const both = compareRuns({
    task: "001",
    mode: "internal",
    before: loaded("b.json", before),
    after: loaded("a.json", after),
  });
  assert.equal(both.metrics.p95.censored, undefined);
  assert.equal(changeBound(both.metrics.p99), "unknown");
  assert.equal(changeBound(both.metrics.p999), "unknown");
});

/** An Engram run that preloaded 300 memories, on snapshot `key` written by `writer` (or none). */
function preloaded(
  phase: "before" | "after",
  key: string | null,
  writer = "ae7f09c124f4",
): Current {
  const r = engram(phase, {});
  r.report.preload = {
    count: 300,
    errors: 0,
    seconds: 1,
    ...(key === null ? {} : {
      snapshot: {
        action: "restored" as const,
        key,
        path: `/out/snapshots/${key}`,
        binary_sha256: `${writer}${"0".repeat(52)}`,
        resumed_from: 0,
        memories: 300,
        preload_seconds: 60,
        restore_seconds: 1,
      },
    }),
  };
  return r;
}

Deno.test("expected differences: the preloaded state, when before and after did not start on one", () => {
  const on = (b: Current, a: Current) =>
    expectedDifferences(b, a).filter((d) => d.what === "Preloaded state");
  // One snapshot (whichever build restored it): no line.
  assert.deepEqual(on(preloaded("before", "4a0d"), preloaded("after", "4a0d")), []);
  assert.deepEqual(on(preloaded("before", null), preloaded("after", null)), []);
  assert.deepEqual(on(engram("before", {}), engram("after", {})), [], "no preload at all");
  assert.deepEqual(on(preloaded("before", "4a0d"), preloaded("after", "91b2", "91b2c3d4e5f6")), [{
    what: "Preloaded state",
    before: "snapshot 4a0d (written by build ae7f09c124f4)",
    after: "snapshot 91b2 (written by build 91b2c3d4e5f6)",
  }]);
  // One side preloaded without a snapshot (--no-preload-cache, an older report).
  assert.deepEqual(on(preloaded("before", "4a0d"), preloaded("after", null)), [{
    what: "Preloaded state",
    before: "snapshot 4a0d (written by build ae7f09c124f4)",
    after: "preloaded without a snapshot",
  }]);
  // A group: every run of a side counts (a confirm session's after runs on two states).
  const b = preloaded("before", "4a0d");
  const a = preloaded("after", "4a0d");
  const c = compareRuns({
    task: "001",
    mode: "internal",
    before: b,
    after: a,
    runs: {
      before: [b, preloaded("before", "4a0d")],
      after: [preloaded("after", "91b2", "91b2c3d4e5f6"), a],
    },
  });
  assert.deepEqual(c.differences.filter((d) => d.what === "Preloaded state"), [{
    what: "Preloaded state",
    before: "snapshot 4a0d (written by build ae7f09c124f4)",
    after:
      "snapshot 91b2 (written by build 91b2c3d4e5f6) and snapshot 4a0d (written by build ae7f09c124f4)",
  }]);
});
