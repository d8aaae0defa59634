/**
 * `m17_check milestone confirm` without load: its refusals on synthetic milestones (exit 3, one
 * line, nothing run or written), its help, the reserved task id, and `--history` leaving the
 * milestone confirm's runs (task `milestone`) out of the steps while printing the session's
 * verdict under the cumulative change. The runs themselves: tests/e2e/milestone_confirm_test.ts.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { compareCli, run as scaled } from "../fixtures/pair.ts";
import { type MilestoneRun, steadyMilestone, writeMilestone } from "../fixtures/milestone.ts";
import { makeReport, writeReport } from "../fixtures/make_report.ts";
import { listing, ROOT, run } from "../fixtures/reliability.ts";

/** The milestone `runs` in a fresh directory's tmp/m17_performance (removed after `body`). */
async function withMilestone(
  runs: MilestoneRun[],
  body: (dir: string, cwd: string) => Promise<void>,
): Promise<void> {
  const cwd = await Deno.makeTempDir({ prefix: "m17_milestone_confirm_" });
  const dir = join(cwd, "tmp/m17_performance");
  await writeMilestone(dir, runs);
  try {
    await body(dir, cwd);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** Rewrites every report of `dir` with `edit`. */
async function editReports(dir: string, edit: (r: Json, name: string) => void): Promise<void> {
  for (const name of (listing(dir) ?? []).filter((n) => n.endsWith(".json"))) {
    const r = JSON.parse(await Deno.readTextFile(join(dir, name)));
    edit(r, name);
    await Deno.writeTextFile(join(dir, name), JSON.stringify(r));
  }
}

const BASELINE_SHA = createHash("sha256")
  .update(Deno.readTextFileSync(join(ROOT, "scenarios/m17_baseline.toml"))).digest("hex");

/** `m17_check milestone confirm --out-dir dir`: refused in one line, exit 3, nothing written. */
async function assertRefused(dir: string, expected: RegExp, what: string): Promise<void> {
  const before = JSON.stringify(listing(dir));
  const r = await run(["milestone", "confirm", "--out-dir", dir]);
  assert.equal(r.code, 3, `${what}: ${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, expected, what);
  assert.equal(r.stderr.trim().split("\n").length, 1, `${what}: one line: ${r.stderr}`);
  assert.equal(r.stdout, "", what);
  assert.equal(JSON.stringify(listing(dir)), before, `${what}: nothing written`);
}

Deno.test("milestone confirm refuses: no task, a latest task on another host, other warm-ups, a changed scenario, no kept build", async () => {
  const empty = await Deno.makeTempDir({ prefix: "m17_milestone_empty_" });
  try {
    await assertRefused(
      empty,
      /^m17_check: milestone confirm: no task with both a valid before and a valid after internal run in .*; run: deno task check <task> before \(and after\) first$/m,
      "empty",
    );
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
  const hostChange = steadyMilestone(4, 3).map((r) =>
    r.task === "003" ? { ...r, host: "other" } : r
  );
  await withMilestone(hostChange, async (dir) => {
    await assertRefused(
      dir,
      /the milestone's latest task 003 is not comparable \(.*ran on different hosts \(fixture vs other\).*\), so --history leaves it out of the cumulative change; refusing to confirm/,
      "host change",
    );
  });
  await withMilestone(steadyMilestone(4, 3), async (dir) => {
    await editReports(dir, (r, name) => {
      if (name.startsWith("003_after")) r.scenario.warmup_seconds = 2;
    });
    await assertRefused(
      dir,
      /milestone confirm: before and after warmed up differently \(5 s vs 2 s\); refusing to confirm/,
      "warm-up",
    );
  });
  await withMilestone(steadyMilestone(4, 3), async (dir) => {
    // The fixtures name scenarios/m17_baseline.toml with another SHA-256 than the file's.
    await assertRefused(
      dir,
      /the scenario file scenarios\/m17_baseline\.toml changed since the reports/,
      "scenario",
    );
    await editReports(dir, (r) => {
      r.scenario.sha256 = BASELINE_SHA;
      r.target = { kind: "engram", url: "http://x", details: { checkout: dir } };
    });
    await assertRefused(
      dir,
      /the before run 001_before_\w+\.json has no kept build \(made before m17 kept builds\); re-run 'deno task check 001 before' from that build/,
      "no kept build",
    );
    // --history prints no confirm command when the confirm would be refused.
    const history = await run(["--history", "--dir", dir], { tool: "m17_compare" });
    assert.doesNotMatch(history.stdout, /Confirm it|milestone confirm/, history.stdout);
  });
});

Deno.test("check refuses the reserved task id 'milestone'; milestone confirm --help", async () => {
  const r = await run(["milestone", "before", "--reference", "--dry-run"]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    /task id 'milestone' is reserved: its runs are written by 'm17_check milestone confirm'/,
  );
  const help = await run(["milestone", "confirm", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: m17_check milestone confirm \[--budget MIN\] \[--pairs N\]/);
  assert.match(help.stdout, /first before run, B = the build of its latest after run/);
  const check = await run(["--help"]);
  assert.match(check.stdout, /m17_check milestone confirm \[--budget MIN\] \[--pairs N\]/);
});

Deno.test("--history: the milestone confirm's runs are not a step; its session's verdict is printed under the cumulative change", async () => {
  await withMilestone(steadyMilestone(10, 3), async (dir, cwd) => {
    const session = (pair: number) => ({
      group: "5e55104e-0000-4000-8000-000000000000",
      index: pair,
      count: 20,
      design: "interleaved" as const,
      pair,
      block: 1,
      order: "AB" as const,
      order_seed: "5",
    });
    // Three pairs (each pair's scale ±1%), the after arm +33%: decided by the sequential rule.
    for (const pair of [1, 2, 3]) {
      for (const [phase, scale] of [["before", 1], ["after", 1.33]] as const) {
        const minute = 28 + 2 * pair + (phase === "after" ? 1 : 0);
        const report = makeReport({
          ...scaled(scale * (1 + (pair - 2) / 100), { task: "milestone", phase }),
          run: session(pair),
        });
        report.started_at = `2026-01-01T10:${minute}:00.000Z`;
        report.ended_at = `2026-01-01T10:${minute}:30.000Z`;
        await writeReport(dir, `milestone_${phase}_20260101_10${minute}00.json`, report);
      }
    }
    const ran = await compareCli(cwd, ["--history"]);
    assert.equal(ran.code, 1, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /internal series: 3 task\(s\)/);
    assert.doesNotMatch(ran.stdout, /^Task milestone/m);
    assert.match(ran.stdout, /Cumulative, task 001 before → task 003 after:/);
    assert.match(
      ran.stdout,
      /^ {2}Confirmed on one host: REGRESSION \(milestone confirm session 5e55104e, 3 pairs interleaved, ended 2026-01-01 10:35Z\)\n {4}P99 [\d.]+ → [\d.]+ ms \(\+33\.\d% p=[\d.]+\), throughput /m,
    );
    assert.match(
      ran.stdout,
      /\(task milestone, 6 reports: the milestone confirm's runs, not a step; left out of the tasks\)/,
    );
    const json = JSON.parse((await compareCli(cwd, ["--history", "--json"])).stdout);
    assert.equal(json.histories[0].tasks.length, 3);
    assert.equal(json.milestone_confirms[0].session.verdict.kind, "regression");
    assert.equal(json.milestone_confirms[0].session.current, true);
    assert.equal(json.milestone_confirms[0].command, null); // the fixtures' scenario SHA differs
    const md = await compareCli(cwd, ["--history", "--markdown"]);
    assert.match(md.stdout, /Confirmed on one host: REGRESSION/);
    // Its own compare reads the session as any group.
    const own = await compareCli(cwd, ["milestone"]);
    assert.equal(own.code, 1, own.stdout + own.stderr);
  });
});
