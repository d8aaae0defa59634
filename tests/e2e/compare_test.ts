/**
 * m17_compare: every exit path through the real CLI (spawned, cwd in a temp dir), the
 * discovery rules, the old script's jq fields, the spec's output wording, and a golden file.
 * Update the golden file with `UPDATE_GOLDEN=1 deno test --allow-all tests/compare_test.ts`.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { compareRuns, percentChange } from "../../lib/verdict/compare.ts";
import { decideVerdict, defaultThresholds, exitCodeOf } from "../../lib/verdict/verdict.ts";
import { findNewestReport } from "../../lib/verdict/discovery.ts";
import { type LoadedReport, parseReport, readReport } from "../../lib/report/read.ts";
import type { LegacyReport } from "../../lib/report/schema.ts";
import { Prng } from "../../lib/workload/prng.ts";
import { OLD_COMPARE_FIELDS } from "../../lib/report/schema.ts";
import { sectionContent } from "../../lib/render/perflog.ts";
import { loadBaseline, parseBaselines } from "../../lib/verdict/baselines.ts";
import {
  ANSI,
  formatChange,
  formatInterval,
  formatMs,
  formatPValue,
  useColor,
} from "../../lib/render/format.ts";
import { renderTerminal } from "../../lib/render/terminal.ts";
import { summaryLines } from "../../lib/render/wording.ts";
import { VERSION } from "../../lib/shared/version.ts";
import {
  type FixtureOptions,
  makeReport,
  shapedSamples,
  toLegacy,
  writeReport,
} from "../fixtures/make_report.ts";
import { type Ran, runCli } from "./cli.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/reports/", import.meta.url));
const GOLDEN = fileURLToPath(new URL("../golden/compare_basic.txt", import.meta.url));
const BASELINES = fileURLToPath(
  new URL("../../scenarios/competitive/baselines.toml", import.meta.url),
);
const OUT = "tmp/m17_performance";
/** Start of every ANSI escape sequence. */
const ESC = "\x1b[";

/** Runs the CLI with the permissions of `deno task compare`, in `cwd`, without colour. */
function cli(cwd: string, ...args: string[]): Promise<Ran> {
  return runCli("m17_compare", args, { cwd });
}

/** A temp working directory with an empty `tmp/m17_performance`, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "m17_compare_test_" });
  try {
    await Deno.mkdir(join(dir, OUT), { recursive: true });
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const BASE = { p50: 0.417, p95: 0.561, p99: 0.606, p999: 0.9 };

/** A run whose latencies are BASE × `scale` (exactly representable in the histogram). */
function run(scale: number, extra: Partial<FixtureOptions> = {}): FixtureOptions {
  const q = (f: number) => Math.round(f * scale * 1000) / 1000;
  return {
    throughput: 999.91,
    samplesMs: {
      Store: shapedSamples({
        p50: q(BASE.p50),
        p95: q(BASE.p95),
        p99: q(BASE.p99),
        p999: q(BASE.p999),
      }),
      Recall: shapedSamples({ p50: q(0.3), p95: q(0.5), p99: q(0.55), p999: q(0.8) }),
    },
    ...extra,
  };
}

/** Writes a before/after pair for task 001 into `<dir>/tmp/m17_performance`. */
async function writePair(
  dir: string,
  before: FixtureOptions,
  after: FixtureOptions,
  mode: "internal" | "competitive" = "internal",
): Promise<void> {
  const prefix = mode === "competitive" ? "competitive_" : "";
  await writeReport(
    join(dir, OUT),
    `${prefix}001_before_20250101_120000.json`,
    makeReport({ mode, phase: "before", ...before }),
  );
  await writeReport(
    join(dir, OUT),
    `${prefix}001_after_20250101_130000.json`,
    makeReport({ mode, phase: "after", ...after }),
  );
}

/** A refusal: exit 3 and exactly one line on stderr, prefixed `m17_compare: `. */
function assertRefusal(r: Ran, pattern: RegExp): void {
  assert.equal(r.code, 3, `expected exit 3, got ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one stderr line, got: ${r.stderr}`);
  assert.match(lines[0], /^m17_compare: /);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, "");
}

function regressionLines(stdout: string): string[] {
  return stdout.split("\n").filter((l) =>
    l.startsWith("⚠ ") && (l.includes("REGRESSION:") || l.includes("UNCONFIRMED:"))
  );
}

// ---- exit 0 --------------------------------------------------------------------------------

Deno.test("compare exits 0 when P99, throughput and errors are within target", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.02));
    const r = await cli(dir, "001");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^✓ No regression past the 5% threshold on this pair of runs$/m);
    assert.match(r.stdout, /^- Status: ✓ Within 5% target$/m);
    assert.match(
      r.stdout,
      /^Performance: P99 latency \+2\.0%, throughput \+0\.0% \(within 5% target\)$/m,
    );
    assert.deepEqual(regressionLines(r.stdout), []);
    assert.equal(r.stderr, "");
  });
});

// ---- exit 1 --------------------------------------------------------------------------------

Deno.test("compare exits 1 on a P99 increase above 5%", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.1));
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(regressionLines(r.stdout), [
      "⚠ UNCONFIRMED: P99 latency increased by 10.1% on one pair of runs (0.606ms → 0.667ms; " +
      "threshold: +5%); the spread of identical runs on this host is unknown (fewer than 3 earlier runs of the before build)",
    ]);
    assert.match(
      r.stdout,
      /^- Status: ⚠ Unconfirmed regression \(P99 \+10\.1% on one pair of runs\)$/m,
    );
    // One pair cannot tell: no call to action, no claim of significance, the confirm command.
    assert.doesNotMatch(r.stdout, /Action required|significant(?! digits)/);
    assert.match(r.stdout, /^ {2}deno task check 001 confirm$/m);
    assert.doesNotMatch(r.stdout, /cargo flamegraph/);
    assert.match(
      r.stdout,
      /^ {5}on the before build: deno task check 001 before --profile\n {5}on this build: deno task check 001 after --profile && deno task compare 001$/m,
    );
    assert.match(r.stdout, /cat tmp\/m17_performance\/001_after_20250101_130000_diag\.txt/);
    assert.match(r.stdout, /cat tmp\/m17_performance\/001_after_20250101_130000_sys\.txt/);
  });
});

Deno.test("one pair past the threshold: the measured spread of earlier runs of the before build", async () => {
  await inTempDir(async (dir) => {
    // Three earlier single runs of the same build on this host: the spread is measured.
    for (const [i, scale] of [1.03, 0.98, 1.01].entries()) {
      await writeReport(
        join(dir, OUT),
        `001_before_20250101_0${i + 7}0000.json`,
        makeReport({ phase: "before", ...run(scale) }),
      );
    }
    // A run of another workload is not an identical run.
    await writeReport(
      join(dir, OUT),
      "001_before_20250101_060000.json",
      makeReport({ phase: "before", ...run(2), workloadFingerprint: "beef".repeat(16) }),
    );
    await writePair(dir, run(1), run(1.1));
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      regressionLines(r.stdout)[0],
      /on one pair of runs \(.*\); identical runs on this host spread ±[4-5]\.\d% \(4 runs of the before build\)$/,
    );
    const j = JSON.parse((await cli(dir, "001", "--json")).stdout);
    assert.equal(j.spread.runs.length, 4);
    assert.ok(j.spread.p99_pct > 4 && j.spread.p99_pct < 6, String(j.spread.p99_pct));
  });
});

Deno.test("compare exits 1 on a throughput drop below -5%", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1, { throughput: 900 }));
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(regressionLines(r.stdout), [
      "⚠ UNCONFIRMED: Throughput decreased by 10.0% on one pair of runs (999.91 → 900 ops/s; " +
      "threshold: -5%); the spread of identical runs on this host is unknown (fewer than 3 earlier runs of the before build)",
    ]);
  });
});

Deno.test("compare exits 1 when the after run has more errors", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1, { errors: { Store: 3 } }));
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(regressionLines(r.stdout), [
      "⚠ REGRESSION: Errors increased from 0 to 3 (threshold: no increase)",
    ]);
  });
});

Deno.test("custom thresholds are used for the verdict and named in the output", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.1));
    const r = await cli(dir, "001", "--threshold-p99", "12", "--threshold-throughput", "12");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^✓ No regression past the 12% threshold on this pair of runs$/m);
  });
});

// ---- exit 2 --------------------------------------------------------------------------------

Deno.test("competitive: +7% P99 is within the 10% target (exit 0), with the spec's wording", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.07), "competitive");
    const r = await cli(dir, "001", "--competitive");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^=== Competitive Performance Comparison: Task 001 ===$/m);
    assert.match(
      r.stdout,
      /^Checking for competitive regressions \(>10% threshold\)\.\.\.\n\n✓ No competitive regressions detected \(within 10% threshold\)$/m,
    );
    assert.match(r.stdout, /^- Status: ✓ Within 10% competitive target$/m);
    assert.match(r.stdout, /^- vs Neo4j: 97\.7% \(baseline: 27\.96ms\)$/m);
    // The baselines file was found next to the script although cwd is a temp dir.
    assert.match(r.stdout, /^Neo4j baseline source: 2022 third-party graph database benchmark/m);
  });
});

Deno.test("competitive: exit 2 on P99 above +10%", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.15), "competitive");
    const r = await cli(dir, "001", "--competitive");
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(regressionLines(r.stdout), [
      "⚠ UNCONFIRMED COMPETITIVE REGRESSION: P99 latency increased by 15.0% on one pair of runs " +
      "(0.606ms → 0.697ms; threshold: +10%); the spread of identical runs on this host is unknown (fewer than 3 earlier runs of the before build)",
    ]);
    assert.match(r.stdout, /^COMPETITIVE REGRESSION UNCONFIRMED\n={34}$/m);
  });
});

Deno.test("competitive: exit 2 on throughput below -10%", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1, { throughput: 490 }), run(1, { throughput: 400 }), "competitive");
    const r = await cli(dir, "001", "--competitive");
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(regressionLines(r.stdout), [
      "⚠ UNCONFIRMED COMPETITIVE REGRESSION: Throughput decreased by 18.4% on one pair of runs " +
      "(490 → 400 ops/s; threshold: -10%); the spread of identical runs on this host is unknown (fewer than 3 earlier runs of the before build)",
    ]);
  });
});

Deno.test("competitive: exit 2 on more errors", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1, { errors: { Recall: 1 } }), "competitive");
    const r = await cli(dir, "001", "--competitive");
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(regressionLines(r.stdout), [
      "⚠ COMPETITIVE REGRESSION: Errors increased from 0 to 1 (threshold: no increase)",
    ]);
  });
});

Deno.test("competitive: exit 2 when the after P99 is slower than the baseline's", async () => {
  await inTempDir(async (dir) => {
    const slow = run(1, {
      samplesMs: { Store: shapedSamples({ p50: 20, p95: 28, p99: 30, p999: 40 }) },
    });
    await writePair(dir, slow, slow, "competitive");
    const r = await cli(dir, "001", "--competitive");
    assert.equal(r.code, 2, r.stderr);
    const lines = regressionLines(r.stdout);
    assert.equal(lines.length, 1, r.stdout);
    assert.match(
      lines[0],
      /^⚠ COMPETITIVE REGRESSION: P99 latency is 7\.\d% slower than the Neo4j baseline/,
    );
    assert.match(r.stdout, /^P99 latency {13}7\.\d% slower$/m);
  });
});

Deno.test("competitive: --baseline picks another row; an unknown row is refused", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1), "competitive");
    const r = await cli(dir, "001", "--competitive", "--baseline", "qdrant");
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes("\nMetric               vs Qdrant\n"), r.stdout);
    assertRefusal(
      await cli(dir, "001", "--competitive", "--baseline", "neo4k"),
      /no baseline 'neo4k' .*did you mean 'neo4j'/,
    );
  });
});

// ---- exit 3 --------------------------------------------------------------------------------

Deno.test("refuses: no task", async () => {
  await inTempDir(async (dir) => {
    assertRefusal(await cli(dir), /no task given/);
    assertRefusal(await cli(dir, "--competitive"), /no task given/);
  });
});

Deno.test("refuses: task ids that are paths or have bad characters", async () => {
  await inTempDir(async (dir) => {
    for (const bad of ["../001", "a/b", "..", "x y", "a".repeat(65), "001;rm"]) {
      assertRefusal(await cli(dir, bad), /task id .* is not valid/);
    }
  });
});

Deno.test("refuses: missing before, naming the command to run", async () => {
  await inTempDir(async (dir) => {
    await writeReport(join(dir, OUT), "001_after_20250101_130000.json", makeReport(run(1)));
    assertRefusal(await cli(dir, "001"), /no 'before' run .*; run: deno task check 001 before$/);
    assertRefusal(
      await cli(dir, "001", "--competitive"),
      /run: deno task check 001 before --competitive$/,
    );
  });
});

Deno.test("refuses: missing after, naming the command to run", async () => {
  await inTempDir(async (dir) => {
    await writeReport(join(dir, OUT), "001_before_20250101_120000.json", makeReport(run(1)));
    assertRefusal(await cli(dir, "001"), /no 'after' run .*; run: deno task check 001 after$/);
  });
});

Deno.test("refuses: a results directory that does not exist", async () => {
  await inTempDir(async (dir) => {
    assertRefusal(
      await cli(dir, "001", "--dir", "nowhere"),
      /no 'before' run for task 001 in nowhere/,
    );
  });
});

Deno.test("refuses: invalid JSON, naming the file", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1));
    await Deno.writeTextFile(join(dir, OUT, "001_after_20250101_140000.json"), "{ nope }\n");
    assertRefusal(await cli(dir, "001"), /001_after_20250101_140000\.json is not valid JSON/);
  });
});

Deno.test("refuses: truncated JSON, naming the file", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1));
    const full = JSON.stringify(makeReport(run(1)), null, 2);
    await Deno.writeTextFile(join(dir, OUT, "001_after_20250101_140000.json"), full.slice(0, 700));
    assertRefusal(await cli(dir, "001"), /001_after_20250101_140000\.json is truncated/);
    await Deno.writeTextFile(join(dir, OUT, "001_after_20250101_140000.json"), "");
    assertRefusal(await cli(dir, "001"), /is truncated or empty/);
  });
});

Deno.test("refuses: unknown schema_version", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1));
    const future = { ...makeReport(run(1)), schema_version: 99 };
    await writeReport(join(dir, OUT), "001_after_20250101_140000.json", future);
    assertRefusal(
      await cli(dir, "001"),
      /001_after_20250101_140000\.json: unknown schema_version 99/,
    );
  });
});

Deno.test("refuses: a schema-1 report (throughput counted inside the window) against a schema-2 one, unless --force", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1));
    const old = { ...makeReport({ phase: "before", ...run(1) }), schema_version: 1 };
    await writeReport(join(dir, OUT), "001_before_20250101_120000.json", old);
    assertRefusal(
      await cli(dir, "001"),
      /before and after count throughput differently \(schema_version 1: responses that arrived inside the measured window; 2: responses to the requests due in the measured window, however late\); rerun the check of schema_version 1 with this m17_check; refusing to compare \(use --force/,
    );
    const forced = await cli(dir, "001", "--force");
    assert.notEqual(forced.code, 3, forced.stderr);
    assert.match(
      forced.stderr,
      /count throughput differently .*compared anyway because of --force/,
    );
  });
});

Deno.test("refuses: a report missing a field compare needs", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1));
    const broken: Record<string, unknown> = { ...makeReport(run(1)) };
    delete broken.p99_latency_ms;
    await writeReport(join(dir, OUT), "001_after_20250101_140000.json", broken);
    assertRefusal(await cli(dir, "001"), /field 'p99_latency_ms' is missing or not a number/);
  });
});

Deno.test("refuses: a run marked invalid, quoting its reasons", async () => {
  await inTempDir(async (dir) => {
    await writePair(
      dir,
      run(1),
      run(1, {
        valid: false,
        invalidReasons: ["achieved rate 912/s missed the target 1000/s by more than 1%"],
      }),
    );
    assertRefusal(
      await cli(dir, "001"),
      /001_after_20250101_130000\.json is marked invalid \(achieved rate 912\/s missed .*\); rerun: deno task check 001 after$/,
    );
    // Not even --force compares an invalid run.
    assert.equal((await cli(dir, "001", "--force")).code, 3);
  });
});

Deno.test("refuses: different workload fingerprints", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1, { workloadFingerprint: "beef".repeat(16) }));
    assertRefusal(
      await cli(dir, "001"),
      /different workloads \(workload_fingerprint feedfeed.* vs beefbeef.*--force/,
    );
  });
});

Deno.test("refuses: different scenarios", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1, { scenarioName: "other" }));
    assertRefusal(await cli(dir, "001"), /different scenarios \('m17_baseline' vs 'other'\)/);
  });
});

Deno.test("refuses: different target kinds", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1, { targetKind: "engram" }));
    assertRefusal(await cli(dir, "001"), /different target kinds \(reference vs engram\)/);
  });
});

Deno.test("refuses: before and after swapped (each report's own phase), exit 3 naming it", async () => {
  await inTempDir(async (dir) => {
    // A +50% regression whose files were swapped would read -33.3% and pass.
    await writeReport(
      join(dir, OUT),
      "001_before_20250101_120000.json",
      makeReport({ phase: "after", ...run(1.5) }),
    );
    await writeReport(
      join(dir, OUT),
      "001_after_20250101_130000.json",
      makeReport({ phase: "before", ...run(1) }),
    );
    assertRefusal(
      await cli(dir, "001"),
      /the before report is a 'after' run \(before and after swapped\?\); the after report is a 'before' run/,
    );
  });
});

Deno.test("refuses: the same file on both sides, and a report of another task", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.1));
    const file = join(dir, OUT, "001_before_20250101_120000.json");
    assertRefusal(
      await cli(dir, "001", "--before", file, "--after", file),
      /before and after are the same file/,
    );
    await writeReport(
      join(dir, OUT),
      "777_before_20250101_120000.json",
      makeReport({ phase: "before", task: "001", ...run(1) }),
    );
    await writeReport(
      join(dir, OUT),
      "777_after_20250101_130000.json",
      makeReport({ phase: "after", task: "001", ...run(1) }),
    );
    assertRefusal(
      await cli(dir, "777"),
      /the before report is a run of task 001, not of task 777; the after report is a run of task 001, not of task 777/,
    );
  });
});

Deno.test("refuses: an old-generator report against a new one, unless --force", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1));
    const args = [
      "005",
      "--before",
      join(FIXTURES, "legacy_005_before_20251109_232213.json"),
      "--after",
      join(dir, OUT, "001_after_20250101_130000.json"),
    ];
    assertRefusal(
      await cli(dir, ...args),
      /the before report is from the old load generator and the other is not: their P99s are defined differently/,
    );
    assert.notEqual((await cli(dir, ...args, "--force")).code, 3);
  });
});

Deno.test("a saturated after run is a REGRESSION (exit 1) with the saturation line, not 'cannot compare'", async () => {
  await inTempDir(async (dir) => {
    await writeReport(
      join(dir, OUT),
      "001_before_20250101_120000.json",
      makeReport({ phase: "before", ...run(1) }),
    );
    const note =
      "server saturated, 86% of requests timed out after 10 s; percentiles are censored at the timeout";
    await writeReport(join(dir, OUT), "001_after_20250101_130000.json", {
      ...makeReport({ phase: "after", ...run(1.02, { errors: { Store: 800 } }) }),
      notes: [note],
    });
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`^after: ${note.replace(/[.()]/g, "\\$&")}$`, "m"));
    assert.match(r.stdout, /^⚠ REGRESSION: Errors increased from 0 to 800/m);
  });
});

Deno.test("--force turns a mismatch into a warning line and gives the normal verdict", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.1, { targetKind: "engram" }));
    const r = await cli(dir, "001", "--force");
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "m17_compare: warning: before and after measured different target kinds (reference vs engram) " +
        "(compared anyway because of --force)\n",
    );
    assert.equal(regressionLines(r.stdout).length, 1);
  });
});

Deno.test("refuses: unknown options, bad values and conflicting flags", async () => {
  await inTempDir(async (dir) => {
    assertRefusal(
      await cli(dir, "001", "--forse"),
      /unknown option --forse \(did you mean --force\?\)/,
    );
    assertRefusal(
      await cli(dir, "001", "--threshold-p99", "five"),
      /--threshold-p99 "five": expected a number of percent ≥ 0/,
    );
    assertRefusal(await cli(dir, "001", "--threshold-p99", "-5"), /threshold-p99/);
    assertRefusal(await cli(dir, "001", "after"), /unexpected argument 'after'/);
    assertRefusal(await cli(dir, "001", "--json", "--markdown"), /cannot be combined/);
    assertRefusal(await cli(dir, "001", "--baseline", "neo4j"), /only apply with --competitive/);
    assertRefusal(await cli(dir, "001", "--task-name", "X"), /only applies with --log/);
  });
});

Deno.test("--help and --version exit 0", async () => {
  await inTempDir(async (dir) => {
    const help = await cli(dir, "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: m17_compare <task> \[--competitive\]/m);
    const version = await cli(dir, "--version");
    assert.equal(version.code, 0);
    assert.match(
      version.stdout,
      new RegExp(`^m17_compare ${VERSION.replaceAll(".", "\\.")}( |\\n)`),
    );
  });
});

// ---- outputs -------------------------------------------------------------------------------

Deno.test("--json prints the comparison with inputs, values, criteria, verdict and exit code", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.1, { errors: { Store: 2 } }));
    const r = await cli(dir, "001", "--json");
    assert.equal(r.code, 1);
    assert.ok(!r.stdout.includes(ESC));
    const j = JSON.parse(r.stdout);
    assert.equal(j.inputs.after.path, "tmp/m17_performance/001_after_20250101_130000.json");
    assert.equal(j.metrics.p99_latency_ms.before, 0.606);
    assert.equal(j.metrics.p99_latency_ms.after, 0.667);
    assert.equal(j.metrics.total_errors.delta, 2);
    assert.equal(j.metrics.p99_latency_ms.ci, null);
    assert.deepEqual(j.thresholds, {
      p99_pct: 5,
      throughput_pct: 5,
      latency_resolution_pct: 0.1,
    });
    // Same knobs, commit and tool on both sides: nothing is printed as differing.
    assert.deepEqual(j.differences, []);
    assert.deepEqual(j.metrics.p99_latency_ms.lower_bound, { before: false, after: false });
    assert.equal(j.metrics.p99_latency_ms.change_bound, "exact");
    assert.deepEqual(
      j.criteria.map((c: { id: string; status: string }) => `${c.id}:${c.status}`),
      ["p99:fail", "throughput:pass", "errors:fail"],
    );
    assert.equal(j.verdict, "regression");
    assert.equal(j.exit_code, 1);
    assert.deepEqual(j.operations.map((o: { kind: string }) => o.kind), ["Store", "Recall"]);
  });
});

Deno.test("--markdown prints a pull-request table without ANSI", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.02), "competitive");
    const r = await cli(dir, "001", "--competitive", "--markdown");
    assert.equal(r.code, 0);
    assert.ok(!r.stdout.includes(ESC));
    assert.match(r.stdout, /^\| Metric \| Before \| After \| Change \|$/m);
    assert.match(r.stdout, /^\| P99 latency \(ms\) \| 0\.606 \| 0\.618 \| \+2\.0% \|$/m);
    assert.match(r.stdout, /^\| Metric \| vs Neo4j \|$/m);
  });
});

Deno.test("colour: only on a terminal, never with NO_COLOR or --no-color", () => {
  assert.equal(useColor({ noColorFlag: false, isTty: true }), true);
  assert.equal(useColor({ noColorFlag: false, noColorEnv: "", isTty: true }), true);
  assert.equal(useColor({ noColorFlag: false, noColorEnv: "1", isTty: true }), false);
  assert.equal(useColor({ noColorFlag: true, isTty: true }), false);
  assert.equal(useColor({ noColorFlag: false, isTty: false }), false);
});

Deno.test("colour: the terminal renderer colours with ANSI, and a pipe gets none", async () => {
  const c = compareRuns({
    task: "001",
    mode: "internal",
    before: legacy(SPEC_BEFORE),
    after: legacy(SPEC_AFTER),
  });
  const v = decideVerdict(c, defaultThresholds("internal"));
  assert.ok(renderTerminal(c, v, ANSI).startsWith(`${ESC}1m=== Performance Comparison`));
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.1));
    const out = await runCli("m17_compare", ["001"], {
      cwd: dir,
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "" },
    });
    assert.equal(out.code, 1);
    assert.ok(!out.stdout.includes(ESC));
  });
});

Deno.test("golden: full terminal output for a fixture pair (UPDATE_GOLDEN=1 rewrites)", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.02));
    const reports = async () =>
      await Promise.all(
        [...Deno.readDirSync(join(dir, OUT))].map(async (e) =>
          e.name + (await Deno.readTextFile(join(dir, OUT, e.name)))
        ),
      );
    const untouched = await reports();
    const r = await cli(dir, "001");
    assert.equal(r.code, 0, r.stderr);
    // compare never modifies (or adds to) the reports it reads.
    assert.deepEqual(await reports(), untouched);
    if (Deno.env.get("UPDATE_GOLDEN") === "1") await Deno.writeTextFile(GOLDEN, r.stdout);
    assert.equal(r.stdout, await Deno.readTextFile(GOLDEN));
  });
});

// ---- the specification's example, exactly ---------------------------------------------------

function legacyReport(p: { p50: number; p95: number; p99: number; ops: number }): LegacyReport {
  return {
    config_name: "Hybrid Production 100K",
    elapsed_seconds: 60,
    total_operations: p.ops * 60,
    total_errors: 0,
    overall_throughput: p.ops,
    overall_error_rate: 0,
    p50_latency_ms: p.p50,
    p95_latency_ms: p.p95,
    p99_latency_ms: p.p99,
    per_operation_stats: {},
  };
}
const SPEC_BEFORE = legacyReport({ p50: 8.2, p95: 9.5, p99: 10.1, ops: 490 });
const SPEC_AFTER = legacyReport({ p50: 8.7, p95: 10.2, p99: 10.85, ops: 475 });
function legacy(report: LegacyReport): LoadedReport {
  return { kind: "legacy", path: "x.json", report };
}

Deno.test("competitive output reproduces the specification's example block and summary", async () => {
  const neo4j = await loadBaseline(BASELINES, "neo4j");
  const c = compareRuns({
    task: "001",
    mode: "competitive",
    before: legacy(SPEC_BEFORE),
    after: legacy(SPEC_AFTER),
    baseline: neo4j,
  });
  const v = decideVerdict(c, defaultThresholds("competitive"));
  assert.equal(exitCodeOf(v), 0);
  const text = renderTerminal(c, v);
  assert.ok(
    text.includes(
      [
        "Competitive Positioning:",
        "Metric               vs Neo4j",
        "-------------------- ----------",
        "P99 latency            61.2% faster",
        "Neo4j P99             27.96ms (baseline)",
        "Engram P99            10.85ms (Engram)",
      ].join("\n"),
    ),
    text,
  );
  assert.ok(
    text.includes(
      [
        "Checking for competitive regressions (>10% threshold)...",
        "",
        "✓ No competitive regressions detected (within 10% threshold)",
        "",
        "Summary for PERFORMANCE_LOG.md:",
        "- Before: P50=8.2ms, P95=9.5ms, P99=10.1ms, 490 ops/s",
        "- After:  P50=8.7ms, P95=10.2ms, P99=10.85ms, 475 ops/s",
        "- Change: +7.4% P99 latency, -3.1% throughput",
        "- Status: ✓ Within 10% competitive target",
        "- vs Neo4j: 61.2% (baseline: 27.96ms)",
      ].join("\n"),
    ),
    text,
  );
  // The same change is an internal regression (+7.4% > 5%).
  const internal = compareRuns({
    task: "001",
    mode: "internal",
    before: legacy(SPEC_BEFORE),
    after: legacy(SPEC_AFTER),
  });
  const iv = decideVerdict(internal, defaultThresholds("internal"));
  assert.equal(exitCodeOf(iv), 1);
  assert.equal(
    summaryLines(internal, iv)[3],
    "- Status: ⚠ Unconfirmed regression (P99 +7.4% on one pair of runs)",
  );
});

Deno.test("number formats: signed one-decimal changes, N/A, trimmed milliseconds", () => {
  assert.equal(formatChange(7.44), "+7.4%");
  assert.equal(formatChange(-3.06), "-3.1%");
  assert.equal(formatChange(0), "+0.0%");
  assert.equal(formatChange(-0.04), "+0.0%");
  assert.equal(formatChange(null), "N/A");
  assert.equal(percentChange(0.0005, 3), null);
  assert.equal(percentChange(0, 3), null);
  assert.equal(formatMs(0.417), "0.417");
  assert.equal(formatMs(8.2), "8.2");
  assert.equal(formatMs(10.85), "10.85");
});

Deno.test("a before P99 of zero makes the P99 criterion N/A, not a regression", () => {
  const c = compareRuns({
    task: "001",
    mode: "internal",
    before: legacy({ ...SPEC_BEFORE, p99_latency_ms: 0 }),
    after: legacy(SPEC_AFTER),
  });
  const v = decideVerdict(c, defaultThresholds("internal"));
  assert.equal(v.kind, "pass");
  assert.deepEqual(v.criteria.find((r) => r.id === "p99"), { id: "p99", status: "n/a" });
  assert.match(renderTerminal(c, v), /^P99 latency \(ms\) .* N\/A$/m);
});

// ---- the old script's fields and old-tool reports --------------------------------------------

Deno.test("reports carry exactly the old compare script's jq fields; legacy reports are read", async () => {
  const current = makeReport(run(1));
  const legacyPath = join(FIXTURES, "legacy_005_before_20251109_232213.json");
  const oldTool = JSON.parse(await Deno.readTextFile(legacyPath));
  for (const report of [current, oldTool] as Record<string, unknown>[]) {
    for (const field of OLD_COMPARE_FIELDS) {
      assert.equal(typeof report[field], "number", field);
    }
  }
  assert.deepEqual([...OLD_COMPARE_FIELDS], [
    "p50_latency_ms",
    "p95_latency_ms",
    "p99_latency_ms",
    "overall_throughput",
    "total_errors",
    "overall_error_rate",
  ]);
  const loaded = await readReport(legacyPath);
  assert.equal(loaded.kind, "legacy");
  const c = compareRuns({ task: "005", mode: "internal", before: loaded, after: loaded });
  assert.equal(c.metrics.p50.before, oldTool.p50_latency_ms);
  assert.equal(c.metrics.p95.before, oldTool.p95_latency_ms);
  assert.equal(c.metrics.p99.before, oldTool.p99_latency_ms);
  assert.equal(c.metrics.throughput.before, oldTool.overall_throughput);
  assert.equal(c.metrics.errors.before, oldTool.total_errors);
  assert.equal(c.metrics.error_rate.before, oldTool.overall_error_rate);
  // Only kinds that ran are listed; old reports have no P99.9 or service time.
  assert.deepEqual(c.operations.map((o) => o.kind), ["Store", "Recall"]);
  assert.equal(c.metrics.p999.before, null);
  assert.equal(c.serviceP99Ms, null);
  const fromCurrent = parseReport(JSON.stringify(current), "current.json");
  assert.equal(fromCurrent.kind, "current");
  assert.equal(toLegacy(current).p99_latency_ms, 0.606);
});

Deno.test("old-tool report pair via --before/--after: warning line, normal verdict", async () => {
  await inTempDir(async (dir) => {
    const r = await cli(
      dir,
      "005",
      "--before",
      join(FIXTURES, "legacy_005_before_20251109_232213.json"),
      "--after",
      join(FIXTURES, "legacy_005_after_20251112_134836.json"),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^m17_compare: warning: .* are old load-test reports \(no schema_version\): workload fingerprint, scenario and target checks skipped\n$/,
    );
    assert.match(r.stdout, /^- Change: -6\.1% P99 latency, \+0\.0% throughput$/m);
    assert.match(r.stdout, /^Before: legacy_005_before_20251109_232213\.json$/m);
    assert.doesNotMatch(r.stdout, /P99\.9/);
    // No per-second histograms: no interval column and no note about it.
    assert.doesNotMatch(r.stdout, /95%|interval/);
  });
});

// ---- discovery -----------------------------------------------------------------------------

Deno.test("discovery: newest by name timestamp; suffixes, siblings and competitive files", async () => {
  await inTempDir(async (dir) => {
    const d = join(dir, OUT);
    const touch = (name: string) => Deno.writeTextFile(join(d, name), "{}");
    for (
      const name of [
        "001_after_20250101_120000.json",
        "001_after_20250102_080000.json",
        "001_after_20250102_080000_2.json",
        "001_after_20250102_080000_2_loadtest.log",
        "001_after_20250102_080000_2_sys.txt",
        "001_after_20250102_080000_2_diag.txt",
        "001_after_20250102_080000_2_server.log",
        "001_after_20250102_080000_2.hlog",
        "001_after_20250102_080000_2.claim",
        "001_after_20250103_000000_diag.txt",
        "001_after_20250103_000000.json.tmp",
        "001_after_latest.json",
        "0010_after_20250109_000000.json",
        "competitive_001_after_20250105_000000.json",
      ]
    ) await touch(name);
    assert.equal(
      await findNewestReport(d, "001", "after", "internal"),
      join(d, "001_after_20250102_080000_2.json"),
    );
    assert.equal(
      await findNewestReport(d, "001", "after", "competitive"),
      join(d, "competitive_001_after_20250105_000000.json"),
    );
    assert.equal(await findNewestReport(d, "001", "before", "internal"), null);
    assert.equal(await findNewestReport(join(d, "missing"), "001", "after", "internal"), null);
  });
});

Deno.test("discovery: the timestamp wins over mtime; mtime breaks a timestamp tie", async () => {
  await inTempDir(async (dir) => {
    const d = join(dir, OUT);
    const write = async (name: string, mtimeSec: number) => {
      await Deno.writeTextFile(join(d, name), "{}");
      await Deno.utime(join(d, name), mtimeSec, mtimeSec);
    };
    await write("001_before_20250101_000000.json", 2_000_000_000);
    await write("001_before_20250102_000000.json", 1_000_000_000);
    assert.equal(
      await findNewestReport(d, "001", "before", "internal"),
      join(d, "001_before_20250102_000000.json"),
    );
    await write("001_before_20250102_000000_2.json", 1_500_000_000);
    await write("001_before_20250102_000000_3.json", 1_400_000_000);
    assert.equal(
      await findNewestReport(d, "001", "before", "internal"),
      join(d, "001_before_20250102_000000_2.json"),
    );
  });
});

Deno.test("baselines: rows need a p99 and a source", () => {
  assert.throws(
    () => parseBaselines("[x]\nsource = 'y'", "b.toml"),
    /\[x\] needs a positive number p99_ms/,
  );
  assert.throws(() => parseBaselines("[x]\np99_ms = 1", "b.toml"), /\[x\] needs a source/);
  assert.throws(() => parseBaselines("[x", "b.toml"), /not valid TOML/);
  assert.equal(parseBaselines("[x]\np99_ms = 1\nsource = 's'", "b.toml").x.displayName, "x");
});

// ---- noise-aware verdicts: intervals, repeated runs, --significance, --calibrate ------------

/** 60 identical seconds of 100 requests at BASE × `scale`: intervals of zero width. */
function steadyRun(scale: number, extra: Partial<FixtureOptions> = {}): FixtureOptions {
  const q = (f: number) => Math.round(f * scale * 1000) / 1000;
  const second = [
    ...Array(50).fill(q(BASE.p50)),
    ...Array(45).fill(q(BASE.p95)),
    ...Array(4).fill(q(BASE.p99)),
    q(BASE.p999),
  ];
  return { perSecondMs: Array.from({ length: 60 }, () => second), ...extra };
}

/** 60 seconds of 200 requests whose level wanders from second to second (a noisy host). */
function noisyRun(seed: bigint, scale: number): FixtureOptions {
  const rng = new Prng(seed);
  return {
    perSecondMs: Array.from({ length: 60 }, () => {
      const level = Math.exp(0.25 * rng.nextGaussian());
      return Array.from(
        { length: 200 },
        () => Math.round(scale * level * 2000 * Math.exp(0.3 * rng.nextGaussian())) / 1000,
      );
    }),
  };
}

/** Writes one phase's runs of one `check --runs N` group (`count` defaults to the runs given). */
async function writeGroup(
  dir: string,
  phase: "before" | "after",
  runs: FixtureOptions[],
  o: { group?: string; count?: number; hour?: string } = {},
): Promise<void> {
  const group = o.group ?? `${phase}-0f6c1a2e-4b1d-4f8e-9a55-${phase === "before" ? "1" : "2"}`;
  for (const [i, fixture] of runs.entries()) {
    await writeReport(
      join(dir, OUT),
      `001_${phase}_20250101_${o.hour ?? (phase === "before" ? "12" : "13")}000${i}.json`,
      makeReport({
        phase,
        run: { group, index: i + 1, count: o.count ?? runs.length },
        ...fixture,
      }),
    );
  }
}

Deno.test("one run per side: a 95% CI column beside each change and a plain-words noise note", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, noisyRun(1n, 1), noisyRun(2n, 1.06));
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^Metric {20}Before {6}After {7}Change 95% CI$/m);
    for (const label of ["P50 latency \\(ms\\)", "P95 latency \\(ms\\)", "P99 latency \\(ms\\)"]) {
      assert.match(
        r.stdout,
        new RegExp(
          `^${label} +[\\d.]+ +[\\d.]+ +[-+]\\d+\\.\\d% \\[[-+]\\d+\\.\\d%, [-+]\\d+\\.\\d%\\]$`,
          "m",
        ),
      );
    }
    // Context rows get no interval; the point-estimate verdict is unchanged.
    assert.match(r.stdout, /^Store P99 \(ms\) +[\d.]+ +[\d.]+ +\+\d+\.\d%$/m);
    assert.match(
      r.stdout,
      /^Note: P99 change \+12\.9% is within noise: its 95% interval \[-\d+\.\d%, \+\d+\.\d%\] contains the 5% threshold; confirm with interleaved runs: deno task check 001 confirm$/m,
    );
    assert.equal(regressionLines(r.stdout).length, 1);
    // Reproducible: a fixed seed gives the same intervals on every run.
    assert.equal((await cli(dir, "001")).stdout, r.stdout);
  });
});

Deno.test("short runs get no interval, with a note saying why", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, run(1), run(1.02));
    const r = await cli(dir, "001");
    assert.match(r.stdout, /^Metric {20}Before {6}After {7}Change$/m);
    assert.match(
      r.stdout,
      /^Note: no 95% intervals: runs of 2 s; an interval needs at least 20 s a side$/m,
    );
  });
});

Deno.test("--significance: exit 0 within the threshold", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, steadyRun(1), steadyRun(1.02));
    const r = await cli(dir, "001", "--significance");
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Checking for internal regressions \(>5% threshold, significant changes only\)\.\.\.$/m,
    );
    assert.match(r.stdout, /^✓ No regression past the 5% threshold on this pair of runs$/m);
  });
});

Deno.test("--significance: exit 1 when over the threshold and the interval excludes 0", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, steadyRun(1), steadyRun(1.1));
    const r = await cli(dir, "001", "--significance");
    assert.equal(r.code, 1, r.stderr);
    const lines = regressionLines(r.stdout);
    assert.equal(lines.length, 1, r.stdout);
    assert.match(
      lines[0],
      /^⚠ UNCONFIRMED: P99 latency increased by 10\.1% on one pair of runs \(0\.606ms → 0\.667ms; threshold: \+5%\); significant: 95% interval \[\+10\.\d%, \+10\.\d%\]; the spread of identical runs on this host is unknown/,
    );
  });
});

Deno.test("--significance: exit 4 (INCONCLUSIVE) when over the threshold but within noise", async () => {
  await inTempDir(async (dir) => {
    await writePair(dir, noisyRun(1n, 1), noisyRun(2n, 1.06));
    const r = await cli(dir, "001", "--significance");
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stdout,
      /^\? INCONCLUSIVE: P99 latency changed by \+12\.9% \(.*; threshold: \+5%\); not significant: 95% interval \[-\d+\.\d%, \+\d+\.\d%\]$/m,
    );
    assert.match(r.stdout, /^- Status: \? Inconclusive \(P99 \+12\.9%, not significant\)$/m);
    assert.match(r.stdout, /\(exceeds 5% target, not significant\)$/m);
    assert.match(
      r.stdout,
      /^The change is over the threshold but may be noise: re-measure both builds interleaved\n {2}deno task check 001 confirm$/m,
    );
    assert.doesNotMatch(r.stdout, /cargo flamegraph/);

    const j = JSON.parse((await cli(dir, "001", "--significance", "--json")).stdout);
    assert.equal(j.verdict, "inconclusive");
    assert.equal(j.rule, "significance");
    assert.equal(j.exit_code, 4);
    assert.equal(j.statistics.method, "bootstrap");
    assert.deepEqual(j.statistics.bootstrap.min_seconds, 20);
    assert.deepEqual(j.statistics.bootstrap.min_independent_seconds, 8);
    assert.deepEqual(j.statistics.bootstrap.resamples, 2000);
    const ci = j.metrics.p99_latency_ms.ci;
    assert.ok(ci[0] < 0 && ci[1] > 5, String(ci));
    assert.equal(j.metrics.p99_latency_ms.p_value, null);
    assert.equal(j.metrics.total_errors.ci, null);
    assert.deepEqual(
      j.criteria.map((c: { id: string; status: string }) => `${c.id}:${c.status}`),
      ["p99:inconclusive", "throughput:pass", "errors:pass"],
    );
    // Without --significance the same pair is a regression by the specification's rule.
    assert.equal((await cli(dir, "001", "--json")).code, 1);
  });
});

Deno.test("--significance: old-tool reports have no interval, so a change over the threshold is inconclusive", () => {
  const c = compareRuns({
    task: "001",
    mode: "internal",
    before: legacy(SPEC_BEFORE),
    after: legacy(SPEC_AFTER),
  });
  assert.equal(c.statistics.method, "none");
  const v = decideVerdict(c, defaultThresholds("internal"), { significance: true });
  assert.equal(v.kind, "inconclusive");
  assert.equal(exitCodeOf(v), 4);
  const text = renderTerminal(c, v);
  assert.match(
    text,
    /^\? INCONCLUSIVE: P99 latency changed by \+7\.4% .*not significant: no interval \(old-tool reports have no per-second histograms\)$/m,
  );
  assert.doesNotMatch(text, /Note: no 95% intervals/);
  const log = sectionContent(c, v, "Dual Memory Types");
  assert.equal(log.status, "**Status**: ❔ INCONCLUSIVE");
  assert.ok(
    log.results.includes("- Status: ❔ INCONCLUSIVE (P99 +7.43%, not significant; 5% target)"),
    log.results.join("\n"),
  );
  // Errors have no noise model: any increase stays a regression.
  const more = compareRuns({
    task: "001",
    mode: "internal",
    before: legacy(SPEC_BEFORE),
    after: legacy({ ...SPEC_BEFORE, total_errors: 2 }),
  });
  assert.equal(
    decideVerdict(more, defaultThresholds("internal"), { significance: true }).kind,
    "regression",
  );
});

Deno.test("repeated runs: per-run values, medians, ratio of medians and the sequential rule", async () => {
  await inTempDir(async (dir) => {
    await writeGroup(dir, "before", [steadyRun(1), steadyRun(1.01), steadyRun(0.99)]);
    await writeGroup(dir, "after", [steadyRun(1.1), steadyRun(1.12), steadyRun(1.09)]);
    // An older run of another group is not part of the comparison.
    await writeReport(
      join(dir, OUT),
      "001_before_20250101_090000.json",
      makeReport({ phase: "before", ...steadyRun(2) }),
    );
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^Metric {20}Before {6}After {7}Change p \(worse\)$/m);
    // Medians: 0.606 before, 0.667 after (the run at × 1.10).
    assert.match(r.stdout, /^P99 latency \(ms\) +0\.606 +0\.667 +\+10\.1% p=0\.0\d+$/m);
    assert.match(
      r.stdout,
      /^Before: 001_before_20250101_120002\.json and 2 more runs of its group$/m,
    );
    assert.match(r.stdout, /^Runs: 3 before, 3 after\. The table shows per-run medians/m);
    assert.match(r.stdout, /^Checking for internal regressions \(>5% threshold, sequential rule/m);
    assert.match(
      r.stdout,
      /^P99 latency \(ms\) +before: 0\.606 0\.612 0\.6 +after: 0\.667 0\.679 0\.661$/m,
    );
    assert.match(
      regressionLines(r.stdout)[0],
      /^⚠ REGRESSION: P99 latency increased by 10\.1% \(0\.606ms → 0\.667ms; threshold: \+5%\); worse after: always-valid p = 0\.0\d+ over 3 before and 3 after runs$/,
    );
    assert.match(r.stdout, /^Ruled out: .*\(95%, 3 before and 3 after runs\)/m);
    assert.match(r.stdout, /^Action required: investigate and fix the regression/m);
    // --significance does not change the rule for repeated runs.
    assert.equal((await cli(dir, "001", "--significance")).stdout, r.stdout);
    const j = JSON.parse((await cli(dir, "001", "--json")).stdout);
    assert.equal(j.statistics.method, "runs");
    assert.equal(j.rule, "sequential");
    assert.equal(j.statistics.sequential.design, "unpaired");
    assert.equal(j.statistics.runs.before.count, 3);
    assert.ok(j.metrics.p99_latency_ms.p_value < 0.05);
    assert.equal(j.metrics.p99_latency_ms.ci, null);
    assert.deepEqual(j.statistics.per_run.p99_latency_ms.before, [0.606, 0.612, 0.6]);
    assert.equal(j.statistics.per_run.p99_latency_ms.looks, 1);
    assert.equal(j.statistics.per_run.total_errors.p_value, null);
    assert.equal(typeof j.ruled_out, "string");
  });
});

Deno.test("repeated runs: over the threshold but overlapping runs is INCONCLUSIVE (exit 4) with the command that adds pairs", async () => {
  await inTempDir(async (dir) => {
    await writeGroup(dir, "before", [steadyRun(1), steadyRun(1.08), steadyRun(0.98)]);
    await writeGroup(dir, "after", [steadyRun(1.07), steadyRun(1), steadyRun(1.09)]);
    const r = await cli(dir, "001");
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stdout,
      /^\? INCONCLUSIVE: P99 latency changed by \+6\.9% \(.*; threshold: \+5%\); not decided yet: always-valid p = [\d.]+ over 3 before and 3 after runs/m,
    );
    assert.match(
      r.stdout,
      /^- Status: \? Inconclusive \(P99 \+6\.9%, not decided after 3 before and 3 after runs\)$/m,
    );
    assert.match(r.stdout, /^ {2}deno task check 001 confirm --pairs 20$/m);
    assert.doesNotMatch(r.stdout, /significant(?! digits)/);
    // One rule: --significance says the same.
    assert.equal((await cli(dir, "001", "--significance")).code, 4);
  });
});

Deno.test("repeated runs: 2 vs 2 runs cannot decide anything: INCONCLUSIVE, nothing ruled out yet", async () => {
  await inTempDir(async (dir) => {
    // P99 doubled in every run: still too few runs for an always-valid test to be sure.
    await writeGroup(dir, "before", [steadyRun(1), steadyRun(1.01)]);
    await writeGroup(dir, "after", [steadyRun(2), steadyRun(2.02)]);
    const r = await cli(dir, "001");
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stdout,
      /^Ruled out: nothing is ruled out yet \(95%\): 2 before and 2 after runs are too few$/m,
    );
  });
});

/** Writes one interleaved confirm session: pair k = the k-th (before, after) fixtures. */
async function writeSession(
  dir: string,
  pairs: [FixtureOptions, FixtureOptions][],
  group = "c0ffee00-1111-4222-8333-944445555666",
): Promise<void> {
  for (const [k, [b, a]] of pairs.entries()) {
    for (const [phase, fixture] of [["before", b], ["after", a]] as const) {
      const report = makeReport({
        phase,
        run: { group, index: k + 1, count: pairs.length },
        ...fixture,
      });
      Object.assign(report.run, { design: "interleaved", pair: k + 1, order: "AB" });
      await writeReport(
        join(dir, OUT),
        `001_${phase}_20250101_${phase === "before" ? "12" : "13"}00${
          String(k).padStart(2, "0")
        }.json`,
        report,
      );
    }
  }
}

/** Eight levels of a steady run, a little noisy (within ±1.2%). */
const NOISE = [1, 1.012, 0.991, 1.004, 0.996, 1.009, 0.988, 1.003];

Deno.test("interleaved session: paired by run.pair; A/A passes with what is ruled out, +10% is a REGRESSION", async () => {
  await inTempDir(async (dir) => {
    await writeSession(dir, NOISE.map((x, i) => [steadyRun(x), steadyRun(NOISE[(i + 3) % 8])]));
    const r = await cli(dir, "001", "--log", "PERFORMANCE_LOG.md");
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^✓ No regression: P99 (regressions|changes) above [-+]\d+\.\d% and throughput changes below \+0\.0% are ruled out \(95%, 8 interleaved pairs\)$/m,
    );
    assert.match(r.stdout, /^- Ruled out: P99 .* are ruled out \(95%, 8 interleaved pairs\)$/m);
    assert.match(
      r.stdout,
      /^Performance: .*\(within 5% target; P99 .* ruled out \(95%, 8 interleaved pairs\)\)$/m,
    );
    const log = await Deno.readTextFile(join(dir, "PERFORMANCE_LOG.md"));
    assert.match(
      log,
      /^- Status: ✅ PASS \(within 5% target\); P99 .* ruled out \(95%, 8 interleaved pairs\)$/m,
    );
    const j = JSON.parse((await cli(dir, "001", "--json")).stdout);
    assert.equal(j.statistics.sequential.design, "paired");
    assert.equal(j.statistics.sequential.pairs, 8);
    assert.equal(j.statistics.per_run.p99_latency_ms.looks, 8);
    assert.ok(j.statistics.per_run.p99_latency_ms.bound_pct <= 5);
  });
  await inTempDir(async (dir) => {
    await writeSession(
      dir,
      NOISE.map((x, i) => [steadyRun(x), steadyRun(1.1 * NOISE[(i + 3) % 8])]),
    );
    const r = await cli(dir, "001", "--markdown");
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /^- \*\*⚠ REGRESSION: P99 latency increased by 10\.0% .*worse after: always-valid p < 0\.001 over 8 interleaved pairs\*\*$/m,
    );
    assert.match(
      r.stdout,
      /^- Ruled out: P99 regressions above \+\d+\.\d% .*\(95%, 8 interleaved pairs\)$/m,
    );
  });
});

/**
 * Eight pairs whose after runs are 10% slower, but for pair `spoiled` (1-based): its after run is
 * marked invalid for `reason` (and far off, so that comparing it would show).
 */
function sessionSpoiledAt(spoiled: number, reason: string): [FixtureOptions, FixtureOptions][] {
  return NOISE.map((x, i) => [
    steadyRun(x),
    i === spoiled - 1
      ? { ...steadyRun(5), valid: false, invalidReasons: [reason] }
      : steadyRun(1.1 * NOISE[(i + 3) % 8]),
  ]);
}

Deno.test("interleaved session: a run the instrument spoiled (invalid) is left out with its pair, and said", async () => {
  await inTempDir(async (dir) => {
    await writeSession(dir, sessionSpoiledAt(3, "the load generator fell behind"));
    const j = JSON.parse((await cli(dir, "001", "--json")).stdout);
    assert.equal(j.statistics.sequential.pairs, 7, "pair 3 is not compared");
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^m17_compare: warning: 1 invalid after run of confirm group c0ffee00 left out \(pair 3: the instrument failed; its pair is not compared\)$/m,
    );
  });
});

Deno.test("interleaved session: an invalid newest run (the last one spoiled or interrupted) is passed over, named once", async () => {
  await inTempDir(async (dir) => {
    await writeSession(dir, sessionSpoiledAt(8, "interrupted by SIGINT during warm-up"));
    const r = await cli(dir, "001");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /REGRESSION/);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("left out"));
    assert.deepEqual(warnings, [
      `m17_compare: warning: after run ${OUT}/001_after_20250101_130007.json left out: an ` +
      "invalid run of confirm group c0ffee00, pair 8 (interrupted by SIGINT during warm-up), " +
      "newer than the after run used as the newest",
    ]);
    const j = JSON.parse((await cli(dir, "001", "--json")).stdout);
    assert.equal(j.statistics.sequential.pairs, 7, "pair 8 is not compared");
  });
});

Deno.test("repeated runs: a missing run of a group and a noisy host are warned about", async () => {
  await inTempDir(async (dir) => {
    await writeGroup(dir, "before", [steadyRun(1), steadyRun(1.1), steadyRun(0.92)], { count: 4 });
    await writeGroup(dir, "after", [steadyRun(1)]);
    // Three runs against one cannot decide: the repeated-run rule says so (exit 4).
    const r = await cli(dir, "001");
    assert.equal(r.code, 4, r.stderr);
    const warnings = r.stderr.trimEnd().split("\n");
    assert.equal(warnings.length, 2, r.stderr);
    assert.match(
      warnings[0],
      /^m17_compare: warning: only 3 of the 4 before runs of check group before-0 are in tmp\/m17_performance \(missing run 4\); comparing the 3 found$/,
    );
    assert.match(
      warnings[1],
      /^m17_compare: warning: the 5% P99 threshold is below the noise floor of the before runs: P99 changed by 1\d\.\d% between two runs of the same build \(95th percentile over 3 runs\)/,
    );
  });
});

Deno.test("--calibrate: the noise floor of one phase's runs, thresholds below it flagged, exit 0", async () => {
  await inTempDir(async (dir) => {
    await writeGroup(dir, "before", [steadyRun(1), steadyRun(1.1), steadyRun(0.97)]);
    const r = await cli(dir, "001", "--calibrate");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^=== Noise calibration: Task 001, before runs ===$/m);
    assert.match(
      r.stdout,
      /^Runs: the 3 runs of one check --runs group: 001_before_20250101_120000\.json, /m,
    );
    assert.match(
      r.stdout,
      /^P99 latency \(ms\) +0\.606 0\.667 0\.588 +\d+\.\d% +13\.4% +1\d\.\d%$/m,
    );
    assert.match(
      r.stdout,
      /^⚠ The 5% P99 threshold is below this host's noise floor \(1\d\.\d%\): .*use --threshold-p99 above 1\d\.\d, or confirm a change with interleaved runs \(check 001 confirm\)$/m,
    );
    assert.match(
      r.stdout,
      /^✓ The 5% throughput threshold is above this host's noise floor \(0\.0%\)$/m,
    );
    const high = await cli(dir, "001", "--calibrate", "--threshold-p99", "20");
    assert.match(high.stdout, /^✓ The 20% P99 threshold is above this host's noise floor/m);
    const j = JSON.parse((await cli(dir, "001", "--calibrate", "--json")).stdout);
    assert.equal(j.source, "group");
    assert.deepEqual(j.values.p99_latency_ms, [0.606, 0.667, 0.588]);
    assert.ok(
      Math.abs(j.noise_floor.p99_latency_ms.max_pair_pct - (0.667 / 0.588 - 1) * 100) < 1e-9,
    );
    assert.deepEqual(j.below_noise_floor, ["p99_latency_ms"]);
  });
});

Deno.test("--calibrate: single runs of one workload count too; fewer than 3 runs exit 3", async () => {
  await inTempDir(async (dir) => {
    await writeGroup(dir, "after", [steadyRun(1)], { group: "a", hour: "10" });
    await writeGroup(dir, "after", [steadyRun(1.01)], { group: "b", hour: "11" });
    assertRefusal(
      await cli(dir, "001", "--calibrate", "--phase", "after"),
      /calibration needs at least 3 valid runs .*found 2 comparable 'after' runs .*; run: deno task check 001 after --runs 5$/,
    );
    assertRefusal(await cli(dir, "001", "--calibrate"), /no 'before' run for task 001/);
    await writeGroup(dir, "after", [steadyRun(1.02)], { group: "c", hour: "12" });
    // A run of another workload is not noise of this one.
    await writeReport(
      join(dir, OUT),
      "001_after_20250101_090000.json",
      makeReport({ phase: "after", ...steadyRun(3), workloadFingerprint: "beef".repeat(16) }),
    );
    const r = await cli(dir, "001", "--calibrate", "--phase", "after");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Runs: all 3 comparable after reports: /m);
    assertRefusal(
      await cli(dir, "001", "--phase", "after"),
      /--phase only applies with --calibrate/,
    );
    assertRefusal(
      await cli(dir, "001", "--calibrate", "--phase", "during"),
      /--phase needs before or after/,
    );
    assertRefusal(
      await cli(dir, "001", "--calibrate", "--significance"),
      /--calibrate and --significance cannot be combined/,
    );
  });
});

Deno.test("help names exit 4 and the statistics options", async () => {
  await inTempDir(async (dir) => {
    const help = (await cli(dir, "--help")).stdout;
    assert.match(
      help,
      /4 \(inconclusive: repeated runs not decided yet, or --significance\)/,
    );
    assert.match(help, /ruled out \(95%\)/);
    for (const flag of ["--significance", "--calibrate", "--phase before\\|after"]) {
      assert.match(help, new RegExp(`^  ${flag} `, "m"));
    }
  });
});

Deno.test("number formats: intervals and p-values", () => {
  assert.equal(formatInterval([2.14, 12.86]), "[+2.1%, +12.9%]");
  assert.equal(formatInterval([-3, 0.01]), "[-3.0%, +0.0%]");
  assert.equal(formatPValue(0.05), "0.05");
  assert.equal(formatPValue(1 / 252), "0.004");
  assert.equal(formatPValue(0.35), "0.35");
  assert.equal(formatPValue(0.0001), "<0.001");
});

// ---- what is expected to differ, and what may not --------------------------------------------

/** Writes a before/after pair of `kind` targets with the given `target.details` per side. */
async function writeTargets(
  dir: string,
  kind: "reference" | "engram",
  details: [Record<string, unknown>, Record<string, unknown>],
): Promise<void> {
  for (const [k, phase] of (["before", "after"] as const).entries()) {
    const r = makeReport({ ...run(k === 0 ? 1 : 1.02), phase, targetKind: kind });
    r.target.details = details[k];
    const stamp = phase === "before" ? "120000" : "130000";
    await writeReport(join(dir, OUT), `001_${phase}_20250101_${stamp}.json`, r);
  }
}

Deno.test("reference knobs recorded by check differ: printed before → after above the table, never refused", async () => {
  await inTempDir(async (dir) => {
    // As check records `--ref-latency-ms 2` (target.details.knobs; the seed is the scenario's).
    await writeTargets(dir, "reference", [
      { pid: 1, knobs: { seed: "3735928559" }, dim: 768 },
      { pid: 2, knobs: { latencyMs: 2, seed: "3735928559" }, dim: 768 },
    ]);
    const r = await cli(dir, "001");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(
      r.stdout,
      /^After: {2}001_after_20250101_130000\.json\nReference knobs: none → --ref-latency-ms 2\n\nMetric /m,
    );
    const md = await cli(dir, "001", "--markdown");
    assert.match(md.stdout, /^- Reference knobs: none → --ref-latency-ms 2$/m);
    const j = JSON.parse((await cli(dir, "001", "--json")).stdout);
    assert.deepEqual(j.differences, [
      { what: "Reference knobs", before: "none", after: "--ref-latency-ms 2" },
    ]);
  });
});

Deno.test("refuses: Engram runs from different checkouts, unless --force; the commit change is printed", async () => {
  const engram = (checkout: string, commit: string, dirty: boolean) => ({
    pid: 1,
    port: 7432,
    data_dir: "/tmp/d",
    checkout,
    git_commit: commit,
    git_dirty: dirty,
    git_dirty_ignores: [],
  });
  await inTempDir(async (dir) => {
    await writeTargets(dir, "engram", [
      engram("/src/engram", "5d54816aa11b0000", false),
      engram("/src/engram-copy", "7e1f0c2d9a100000", true),
    ]);
    assertRefusal(
      await cli(dir, "001"),
      /before and after measured different Engram checkouts \(\/src\/engram vs \/src\/engram-copy\); refusing to compare \(use --force/,
    );
    const forced = await cli(dir, "001", "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(
      forced.stderr,
      "m17_compare: warning: before and after measured different Engram checkouts " +
        "(/src/engram vs /src/engram-copy) (compared anyway because of --force)\n",
    );
    assert.match(
      forced.stdout,
      /^Engram: 5d54816aa11b \(v0\.1\.0\) → 7e1f0c2d9a10 \(v0\.1\.0, uncommitted changes\)$/m,
    );
  });
  await inTempDir(async (dir) => {
    // Same checkout, another commit: the change under test, compared without a word on stderr.
    await writeTargets(dir, "engram", [
      engram("/src/engram", "5d54816aa11b0000", false),
      engram("/src/engram", "7e1f0c2d9a100000", false),
    ]);
    const r = await cli(dir, "001");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^Engram: 5d54816aa11b \(v0\.1\.0\) → 7e1f0c2d9a10 \(v0\.1\.0\)$/m);
  });
});
