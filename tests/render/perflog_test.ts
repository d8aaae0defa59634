/**
 * PERFORMANCE_LOG.md updates (`--log`): the section format, idempotence, other sections byte for
 * byte, atomic writes; and the atomic write helpers themselves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic, writeNewFile } from "../../lib/shared/atomic.ts";
import { loadBaseline } from "../../lib/verdict/baselines.ts";
import { compareRuns } from "../../lib/verdict/compare.ts";
import { decideVerdict, defaultThresholds } from "../../lib/verdict/verdict.ts";
import type { Comparison, Verdict } from "../../lib/verdict/types.ts";
import type { LegacyReport, Mode } from "../../lib/report/schema.ts";
import {
  findTaskSection,
  provenanceLine,
  updatePerformanceLog,
  upsertTaskSection,
} from "../../lib/render/perflog.ts";
import { makeReport, shapedSamples, writeReport } from "../fixtures/make_report.ts";
import { runCli } from "../e2e/cli.ts";

const BASELINES = fileURLToPath(
  new URL("../../scenarios/competitive/baselines.toml", import.meta.url),
);

/** A log in the format the milestone uses: preamble, sections, fenced commands, a summary. */
const LOG = `# Milestone 17 Performance Tracking

**Regression Target**: <5% increase in P99 latency, <5% decrease in throughput

## Baseline (Pre-M17)

- P99 latency: 0.458ms

---

## Task 001: Dual Memory Types

**Status**: Complete (after measurement needed)

Before starting:
\`\`\`bash
./scripts/m17_performance_check.sh 001 before
---
\`\`\`

Results:
- Before: P50=0.40ms, P95=0.472ms, P99=0.501ms, Throughput=999.89 ops/s
- After: (needs measurement)
- Change: (pending)
- Status: (pending)
- File: \`tmp/m17_performance/001_before_20251108_234452.json\`
- Validation: \`cargo test -p engram-core\` (kept by updates)

---

## Task 0010: Not Task 001

**Status**: Pending

---

## Task 012 (Competitive Scenario)

**Status**: Complete (first competitive measurement captured)

Results:
- Before: (not previously recorded)
- Notes: Scenario \`scenarios/competitive/hybrid_production_100k.toml\`

---

## Summary

Completion: 1/15 tasks measured
`;

function legacy(
  p: { p50: number; p95: number; p99: number; ops: number; errors?: number },
): LegacyReport {
  return {
    config_name: "M17 Baseline Performance",
    elapsed_seconds: 60,
    total_operations: 60000,
    total_errors: p.errors ?? 0,
    overall_throughput: p.ops,
    overall_error_rate: (p.errors ?? 0) / 60000,
    p50_latency_ms: p.p50,
    p95_latency_ms: p.p95,
    p99_latency_ms: p.p99,
    per_operation_stats: {},
  };
}

async function comparison(
  task: string,
  mode: Mode,
  after: { p50: number; p95: number; p99: number; ops: number; errors?: number },
): Promise<[Comparison, Verdict]> {
  const prefix = mode === "competitive" ? "competitive_" : "";
  const c = compareRuns({
    task,
    mode,
    before: {
      kind: "legacy",
      path: `tmp/m17_performance/${prefix}${task}_before_20251109_232213.json`,
      report: legacy({ p50: 0.417, p95: 0.561, p99: 0.606, ops: 999.91 }),
    },
    after: {
      kind: "legacy",
      path: `tmp/m17_performance/${prefix}${task}_after_20251112_134836.json`,
      report: legacy(after),
    },
    baseline: mode === "competitive" ? await loadBaseline(BASELINES, "neo4j") : null,
  });
  return [c, decideVerdict(c, defaultThresholds(mode))];
}

const IMPROVED = { p50: 0.409, p95: 0.521, p99: 0.569, ops: 999.93 };
const REGRESSED = { p50: 0.5, p95: 0.6, p99: 0.7, ops: 999.93, errors: 2 };

/** The text before line `from` and from line `to` on (the parts an update must not touch). */
function outside(text: string, task: string, mode: Mode): [string, string] {
  const s = findTaskSection(text, task, mode)!;
  const lines = text.split("\n");
  return [lines.slice(0, s.heading).join("\n"), lines.slice(s.end).join("\n")];
}

Deno.test("log: updates the task's section in the log format, keeping its other lines", async () => {
  const [c, v] = await comparison("001", "internal", IMPROVED);
  const { text, created } = upsertTaskSection(LOG, c, v);
  assert.equal(created, false);
  const s = findTaskSection(text, "001", "internal")!;
  const section = text.split("\n").slice(s.heading, s.end).join("\n");
  assert.equal(
    section,
    `## Task 001: Dual Memory Types

**Status**: Complete (after measurement needed)

Before starting:
\`\`\`bash
./scripts/m17_performance_check.sh 001 before
---
\`\`\`

Results:
- Before: P50=0.417ms, P95=0.561ms, P99=0.606ms, Throughput=999.91 ops/s
- After: P50=0.409ms, P95=0.521ms, P99=0.569ms, Throughput=999.93 ops/s
- Change: P99 -6.11% (improvement), Throughput +0.00%
- Status: ✅ PASS (within 5% target)
- Files: \`tmp/m17_performance/001_before_20251109_232213.json\`, \`tmp/m17_performance/001_after_20251112_134836.json\`
- Measured: the old Rust load generator; latency = time from the actual send (old generator)
- Validation: \`cargo test -p engram-core\` (kept by updates)
`,
  );
});

Deno.test("log: other sections stay byte for byte, and a second run changes nothing", async () => {
  const [c, v] = await comparison("001", "internal", REGRESSED);
  const once = upsertTaskSection(LOG, c, v).text;
  assert.deepEqual(outside(once, "001", "internal"), outside(LOG, "001", "internal"));
  const twice = upsertTaskSection(once, c, v).text;
  assert.equal(twice, once);
  assert.equal(once.split("\n").filter((l) => l.startsWith("## Task 001:")).length, 1);
  assert.match(
    once,
    /^- Change: P99 \+15\.51% \(regression\), Throughput \+0\.00%, Errors 0 → 2$/m,
  );
  assert.match(once, /^- Status: ⚠️ REGRESSION \(P99 \+15\.51%, errors 0 → 2; 5% target\)$/m);
  // A hand-written status stays; the tool's own bullets carry the verdict.
  assert.match(once, /^\*\*Status\*\*: Complete \(after measurement needed\)$/m);
});

Deno.test("log: a new section goes before the Summary, once, headed ## Task <id> without a name by default", async () => {
  const [c, v] = await comparison("007", "internal", IMPROVED);
  const first = upsertTaskSection(LOG, c, v);
  assert.equal(first.created, true);
  assert.equal(first.heading, "## Task 007");
  assert.ok(
    first.text.includes(
      "\n---\n\n## Task 007\n\n**Status**: ✅ PASS\n\nResults:\n- Before: ",
    ),
    first.text,
  );
  assert.ok(first.text.includes("(kept by updates)\n\n---\n\n## Task 0010"));
  assert.ok(first.text.endsWith("\n---\n\n## Summary\n\nCompletion: 1/15 tasks measured\n"));
  const again = upsertTaskSection(first.text, c, v, "Fan Effect");
  assert.equal(again.created, false);
  assert.equal(again.text, first.text.replace("## Task 007\n", "## Task 007: Fan Effect\n"));
  // The name given once is kept by later runs.
  assert.equal(upsertTaskSection(again.text, c, v).text, again.text);
});

Deno.test("log: competitive results live in their own section (also the bare heading form)", async () => {
  const [c, v] = await comparison("012", "competitive", IMPROVED);
  const { text, created, heading } = upsertTaskSection(LOG, c, v, "Performance Optimization");
  assert.equal(created, false);
  assert.equal(heading, "## Task 012: Performance Optimization (Competitive Scenario)");
  assert.deepEqual(outside(text, "012", "competitive"), outside(LOG, "012", "competitive"));
  assert.match(
    text,
    /^- Status: ✅ PASS \(within 10% competitive target; 9\d\.\d% faster than Neo4j\)$/m,
  );
  assert.match(text, /^- vs Neo4j: 9\d\.\d% \(baseline: 27\.96ms; .*indicative only\)$/m);
  assert.match(text, /^- Notes: Scenario/m);
  assert.equal(findTaskSection(text, "012", "internal"), null);
  assert.equal(upsertTaskSection(text, c, v).text, text);
});

Deno.test("log: an after P99 far above the competitor's reads as a ratio, not a negative percentage", async () => {
  // The real-Engram acceptance run: P99 199.4 ms against Neo4j's published 27.96 ms.
  const [c, v] = await comparison("012", "competitive", {
    p50: 20,
    p95: 90,
    p99: 199.4,
    ops: 999.93,
  });
  assert.equal(v.kind, "competitive_regression");
  const { text } = upsertTaskSection(LOG, c, v, "Performance Optimization");
  assert.match(
    text,
    /^- vs Neo4j: P99 199\.4ms vs Neo4j's published 27\.96ms: 7\.1× slower \(.+; indicative: different workload\)$/m,
  );
  assert.match(text, /7\.1× slower than Neo4j/);
  assert.doesNotMatch(text, /-613|613\.\d% slower/);
});

Deno.test("log: a task id is matched exactly (001 is not 0010)", () => {
  assert.equal(findTaskSection(LOG, "0010", "internal")?.name, "Not Task 001");
  assert.equal(findTaskSection(LOG, "001", "internal")?.name, "Dual Memory Types");
  assert.equal(findTaskSection(LOG, "01", "internal"), null);
});

Deno.test("log: CRLF logs keep their line endings", async () => {
  const [c, v] = await comparison("001", "internal", IMPROVED);
  const crlf = LOG.replaceAll("\n", "\r\n");
  const { text } = upsertTaskSection(crlf, c, v);
  assert.equal(text.replaceAll("\r\n", "").includes("\n"), false);
  assert.equal(upsertTaskSection(text, c, v).text, text);
});

Deno.test("log: file updates are atomic and leave no temporary files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_perflog_test_" });
  try {
    const path = join(dir, "PERFORMANCE_LOG.md");
    const [c, v] = await comparison("001", "internal", IMPROVED);
    assert.equal((await updatePerformanceLog(path, c, v)).created, true);
    const created = await Deno.readTextFile(path);
    assert.match(created, /^# Milestone 17 Performance Log\n\n---\n\n## Task 001\n/);
    await Deno.writeTextFile(path, LOG);
    await updatePerformanceLog(path, c, v);
    const once = await Deno.readTextFile(path);
    await updatePerformanceLog(path, c, v);
    assert.equal(await Deno.readTextFile(path), once);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["PERFORMANCE_LOG.md"]);
    await assert.rejects(
      updatePerformanceLog(join(dir, "no", "such", "LOG.md"), c, v),
      /does not exist/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log: the CLI --log creates, then updates in place, idempotently", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_perflog_cli_" });
  try {
    const out = join(dir, "tmp/m17_performance");
    await Deno.mkdir(out, { recursive: true });
    const samples = (s: number) => ({
      Store: shapedSamples({ p50: 0.417 * s, p95: 0.561 * s, p99: 0.606 * s, p999: 0.9 * s }),
    });
    await writeReport(
      out,
      "001_before_20250101_120000.json",
      makeReport({ samplesMs: samples(1), throughput: 999.91 }),
    );
    await writeReport(
      out,
      "001_after_20250101_130000.json",
      makeReport({ phase: "after", samplesMs: samples(1), throughput: 999.91 }),
    );
    await Deno.writeTextFile(join(dir, "PERFORMANCE_LOG.md"), LOG);
    const run = () => runCli("m17_compare", ["001", "--log", "PERFORMANCE_LOG.md"], { cwd: dir });
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /\nUpdated '## Task 001: Dual Memory Types' in PERFORMANCE_LOG\.md\n$/,
    );
    const once = await Deno.readTextFile(join(dir, "PERFORMANCE_LOG.md"));
    assert.match(once, /^- Change: P99 \+0\.00%, Throughput \+0\.00%$/m);
    assert.deepEqual(outside(once, "001", "internal"), outside(LOG, "001", "internal"));
    assert.equal((await run()).code, 0);
    assert.equal(await Deno.readTextFile(join(dir, "PERFORMANCE_LOG.md")), once);
    assert.match(once, /^- Status: ✅ PASS/m);
    assert.match(
      once,
      /^- Measured: the built-in reference server \(not Engram\) 0\.1\.0 by m17 /m,
    );

    // Not a UTF-8 locale (or --ascii): [OK]/[WARN] on screen and in the log, as the old scripts.
    const cLocale = { NO_COLOR: "1", LANG: "C", LC_ALL: "", LC_CTYPE: "" };
    const ascii = await runCli("m17_compare", ["001", "--log", "PERFORMANCE_LOG.md"], {
      cwd: dir,
      env: cLocale,
    });
    assert.equal(ascii.code, 0, ascii.stderr);
    assert.match(ascii.stdout, /\[OK\] /);
    assert.doesNotMatch(ascii.stdout, /[✓⚠✅]/);
    assert.match(
      await Deno.readTextFile(join(dir, "PERFORMANCE_LOG.md")),
      /^- Status: \[OK\] PASS/m,
    );
    const utf8 = await runCli("m17_compare", ["001"], { cwd: dir });
    assert.match(utf8.stdout, /✓ /);
    const flag = await runCli("m17_compare", ["001", "--ascii"], { cwd: dir });
    assert.match(flag.stdout, /\[OK\] /);
    assert.doesNotMatch(flag.stdout, /✓/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic: writeNewFile never overwrites; writeFileAtomic replaces and keeps the mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_atomic_test_" });
  try {
    const path = join(dir, "report.json");
    await writeNewFile(path, "first");
    await assert.rejects(writeNewFile(path, "second"), Deno.errors.AlreadyExists);
    assert.equal(await Deno.readTextFile(path), "first");
    await Deno.chmod(path, 0o600);
    await writeFileAtomic(path, new TextEncoder().encode("replaced"));
    assert.equal(await Deno.readTextFile(path), "replaced");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log: an existing heading is kept as written and hand-written bullets stay in place", async () => {
  const [c, v] = await comparison("012", "competitive", IMPROVED);
  const log = LOG.replace(
    "- Before: (not previously recorded)\n",
    "- Before: (not previously recorded)\n- Rig: bench-2, quiet host\n- Change: (pending)\n",
  );
  const { text, heading } = upsertTaskSection(log, c, v);
  assert.equal(heading, "## Task 012 (Competitive Scenario)");
  assert.equal(text.split("\n").filter((l) => l.startsWith("## Task 012")).length, 1);
  assert.ok(!text.includes("## Task 012: Task 012"), text);
  const s = findTaskSection(text, "012", "competitive")!;
  const section = text.split("\n").slice(s.heading, s.end);
  assert.equal(section[2], "**Status**: Complete (first competitive measurement captured)");
  const at = (prefix: string) => section.findIndex((l) => l.startsWith(prefix));
  // The tool's bullets replace its own, where the first of them was; the others keep their order.
  assert.equal(at("- Before: P50="), at("Results:") + 1);
  assert.ok(at("- Measured: ") > at("- Files: "));
  assert.ok(at("- Rig: bench-2") > at("- Measured: "));
  assert.ok(at("- Notes: Scenario") > at("- Rig: bench-2"));
  assert.equal(section.filter((l) => l.startsWith("- Change:")).length, 1);
  assert.equal(upsertTaskSection(text, c, v).text, text);
});

Deno.test("log: the provenance line names the target, the tool and the latency definition", () => {
  const run = (targetKind: string, commit: string | null) => ({
    targetKind,
    provenance: {
      targetVersion: "0.1.0",
      targetCommit: commit,
      targetDirty: commit !== null,
      toolVersion: "0.2.0",
      toolCommit: "abcdef0123456789",
    },
  });
  assert.equal(
    provenanceLine(run("engram", "5d54816aa11b22cc"), run("engram", "5d54816aa11b22cc")),
    "- Measured: engram 0.1.0 at 5d54816aa11b (uncommitted changes) by m17 0.2.0 " +
      "(abcdef012345); latency = response time from due instant",
  );
  assert.match(
    provenanceLine(run("reference", null), run("engram", "5d54816aa11b22cc")),
    /^- Measured: before the built-in reference server \(not Engram\) 0\.1\.0 by m17 .*; after engram /,
  );
});

Deno.test("log: --ascii writes [OK]/[WARN] in the tool's lines only", async () => {
  const [c, v] = await comparison("001", "internal", REGRESSED);
  const log = LOG.replace("**Status**: Pending", "**Status**: ✅ hand-written");
  const { text } = upsertTaskSection(log, c, v, undefined, true);
  assert.match(text, /^- Status: \[WARN\] REGRESSION \(/m);
  assert.ok(text.includes("**Status**: ✅ hand-written"), "hand-written glyphs stay");
  const [c2, v2] = await comparison("007", "internal", IMPROVED);
  const created = upsertTaskSection(LOG, c2, v2, undefined, true).text;
  assert.match(created, /^\*\*Status\*\*: \[OK\] PASS$/m);
  assert.match(created, /^- Status: \[OK\] PASS \(within 5% target\)$/m);
  // A status the tool wrote follows the next verdict, in either glyph set.
  const [c3, v3] = await comparison("007", "internal", REGRESSED);
  assert.match(upsertTaskSection(created, c3, v3).text, /^\*\*Status\*\*: ⚠️ REGRESSION$/m);
});

/** A comparison of two current reports; a side with `timeouts` had 86% of requests time out. */
function censoredComparison(
  before: { ms: number; timeouts: boolean },
  after: { ms: number; timeouts: boolean },
): [Comparison, Verdict] {
  const report = (phase: "before" | "after", side: { ms: number; timeouts: boolean }) => {
    const ms = side.ms;
    const r = makeReport({
      phase,
      samplesMs: { Store: shapedSamples({ p50: ms, p95: ms * 2, p99: ms * 3, p999: ms * 4 }) },
    });
    if (side.timeouts) {
      r.errors_by_kind = { timeout: 860 };
      r.per_operation_stats.Store.errors_by_kind = { timeout: 860 };
    }
    return { kind: "current" as const, path: `tmp/m17_performance/001_${phase}.json`, report: r };
  };
  const c = compareRuns({
    task: "001",
    mode: "internal",
    before: report("before", before),
    after: report("after", after),
  });
  return [c, decideVerdict(c, defaultThresholds("internal"))];
}

/** The result bullet `- <key>: …` of the task 001 section. */
function bullet(text: string, key: string): string {
  const s = findTaskSection(text, "001", "internal")!;
  return text.split("\n").slice(s.heading, s.end).find((l) => l.startsWith(`- ${key}: `))!;
}

Deno.test("log: percentiles censored at the timeout are lower bounds, their P99 change a bound", () => {
  // After: 86% timed out, so P50, P95 and P99 are lower bounds and the P99 change is at least.
  const [up, vUp] = censoredComparison({ ms: 1, timeouts: false }, { ms: 2500, timeouts: true });
  const regressed = upsertTaskSection(LOG, up, vUp).text;
  assert.match(bullet(regressed, "Before"), /^- Before: P50=1ms, P95=2ms, P99=3(\.\d+)?ms, /);
  assert.match(
    bullet(regressed, "After"),
    /^- After: P50=≥250\d(\.\d+)?ms, P95=≥500\d(\.\d+)?ms, P99=≥750\d(\.\d+)?ms, Throughput=/,
  );
  assert.match(bullet(regressed, "Change"), /^- Change: P99 ≥\+2499\d\d\.\d\d% \(regression\), /);

  // Before censored, after exact: the fall is at most this, so P99 surely improved.
  const [down, vDown] = censoredComparison({ ms: 2500, timeouts: true }, {
    ms: 1,
    timeouts: false,
  });
  const improved = upsertTaskSection(LOG, down, vDown).text;
  assert.match(bullet(improved, "Before"), /^- Before: P50=≥250\d(\.\d+)?ms, /);
  assert.match(bullet(improved, "Change"), /^- Change: P99 ≤-99\.9\d% \(improvement\), /);

  // Both censored: the change is unknown, neither a number nor an improvement.
  const [both, vBoth] = censoredComparison({ ms: 2500, timeouts: true }, {
    ms: 2400,
    timeouts: true,
  });
  assert.ok(both.metrics.p99.changePct! < 0);
  const unknown = upsertTaskSection(LOG, both, vBoth).text;
  assert.match(bullet(unknown, "Change"), /^- Change: P99 censored, Throughput /);
});

Deno.test("log: hand-named headings are found; longer ids and other tasks are not", () => {
  const found = (heading: string, mode: "internal" | "competitive" = "internal") =>
    findTaskSection(`# Log\n\n---\n\n${heading}\n\nnotes\n`, "001", mode);
  for (
    const [heading, name] of [
      ["## Task 001 - Hand Name", "Hand Name"],
      ["## Task 001 — Hand Name", "Hand Name"],
      ["## Task 001 (Hand Name)", "Hand Name"],
      ["## Task 001(Hand Name)", "Hand Name"],
      ["## task 001: Hand Name", "Hand Name"],
      ["## Task 001", null],
    ] as const
  ) {
    assert.equal(found(heading)?.name, name, heading);
  }
  assert.equal(
    found("## Task 001 (Hand Name) (Competitive Scenario)", "competitive")?.name,
    "Hand Name",
  );
  assert.equal(found("## Task 001 (Hand Name) (Competitive Scenario)"), null, "not internal");
  for (const other of ["## Task 0012", "## Task 001-b", "## Task 001.5", "### Task 001"]) {
    assert.equal(found(other), null, other);
  }
});
