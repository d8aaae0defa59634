/**
 * `m17_check milestone confirm` end to end on the reference server: a short milestone of tasks
 * whose knobs are the "code change", re-measured as its first before build against its latest
 * after build; the runs are task `milestone`, which `compare milestone` compares and `--history`
 * shows under the cumulative change (never as a step). Short, low-rate runs: the host is shared.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listing, run } from "../fixtures/reliability.ts";
import { inFreshDir, OVERLOAD, Overloaded } from "../fixtures/overload.ts";

/** Short runs: 2 s each (225 measured requests at 150 ops/s). */
const SHORT = ["--duration", "1.5", "--warmup", "0.5", "--rate", "150", "--quiet", "--reference"];

interface ReportJson {
  task: string;
  phase: "before" | "after";
  valid: boolean;
  run: { group: string; design?: string; pair?: number; order_seed?: string };
  target: { details: { knobs?: Record<string, unknown> } };
}

function reports(dir: string): { name: string; report: ReportJson }[] {
  return (listing(dir) ?? []).filter((n) => n.endsWith(".json")).map((name) => ({
    name,
    report: JSON.parse(Deno.readTextFileSync(join(dir, name))),
  }));
}

/**
 * `m17_check <task> <phase>` with reference knobs; a run the host overloaded is made valid (these
 * reports only name the milestone's builds; the confirm runs must be valid themselves).
 */
async function check(dir: string, task: string, phase: string, knobs: string[]): Promise<void> {
  const r = await run([task, phase, ...SHORT, "--out-dir", dir, ...knobs]);
  if (r.code === 1 && OVERLOAD.test(r.stderr)) {
    for (const { name, report } of reports(dir).filter((x) => !x.report.valid)) {
      Deno.writeTextFileSync(
        join(dir, name),
        JSON.stringify({ ...report, valid: true, invalid_reasons: [] }),
      );
    }
    return;
  }
  assert.equal(r.code, 0, `check ${task} ${phase}: ${r.stdout}\n${r.stderr}`);
}

/** Each task's before and after knobs, checked in order. */
async function milestone(dir: string, tasks: [string, string[], string[]][]): Promise<void> {
  for (const [task, before, after] of tasks) {
    await check(dir, task, "before", before);
    await check(dir, task, "after", after);
  }
}

async function milestoneConfirm(args: string[]) {
  const r = await run(["milestone", "confirm", ...args]);
  if (r.code === 1 && OVERLOAD.test(r.stdout)) throw new Overloaded(r.stdout);
  return r;
}

function confirmRuns(dir: string): ReportJson[] {
  return reports(dir).map((r) => r.report).filter((r) => r.task === "milestone");
}

Deno.test("milestone confirm on the reference server: first before (no knob) → latest after (+5 ms) is a REGRESSION (exit 1)", async () => {
  await inFreshDir("m17_milestone_ref_", async (dir) => {
    const ms = (n: number) => ["--ref-latency-ms", String(n)];
    await milestone(dir, [["t1", [], ms(2)], ["t2", ms(2), ms(2)], ["t3", ms(2), ms(5)]]);
    const history = await run(["--history", "--dir", dir], { tool: "m17_compare" });
    assert.match(history.stdout, /Cumulative, task t1 before → task t3 after:/);
    assert.match(
      history.stdout,
      new RegExp(`Confirm it: deno task check milestone confirm --out-dir ${dir}`),
    );
    const r = await milestoneConfirm(["--pairs", "10", "--seed-order", "5", "--out-dir", dir]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stdout,
      /milestone confirm: the cumulative change of 'deno task compare --history', task t1 before → task t3 after, measured again as task milestone/,
    );
    assert.match(r.stdout, /A = before: +reference server \(no knobs\), from t1_before_/);
    assert.match(r.stdout, /B = after: +reference server \(latencyMs=5\), from t3_after_/);
    // compare's own output (a session that stops after one pair is a point verdict: unconfirmed)
    assert.match(r.stdout, /⚠ (REGRESSION|UNCONFIRMED): P99 latency increased/);
    const runs = confirmRuns(dir);
    assert.ok(runs.length >= 2 && runs.every((x) => x.valid && x.run.design === "interleaved"));
    assert.equal(new Set(runs.map((x) => x.run.group)).size, 1);
    for (const x of runs) {
      assert.equal(x.target.details.knobs?.latencyMs, x.phase === "after" ? 5 : undefined);
    }
    // Its runs are an ordinary group of task milestone ...
    const compare = await run(["milestone", "--dir", dir], { tool: "m17_compare" });
    assert.equal(compare.code, 1, compare.stderr);
    // ... that --history shows under the cumulative change, never as a step.
    const after = await run(["--history", "--dir", dir], { tool: "m17_compare" });
    assert.match(after.stdout, /internal series: 3 task\(s\)/);
    assert.doesNotMatch(after.stdout, /^Task milestone/m);
    assert.match(
      after.stdout,
      /Confirmed on one host: (UNCONFIRMED )?REGRESSION \(milestone confirm session/,
    );
    assert.match(after.stdout, /Continue the confirm: deno task check milestone confirm/);
    assert.match(
      after.stdout,
      /\(task milestone, \d+ reports: the milestone confirm's runs, not a step/,
    );
    // The same two ends: the session continues (same group, the next pair).
    const again = await milestoneConfirm(["--pairs", "1", "--out-dir", dir]);
    assert.ok([1, 4].includes(again.code), `exit ${again.code}: ${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout, /continued after pair \d+/);
    assert.equal(confirmRuns(dir).length, runs.length + 2);
    assert.equal(new Set(confirmRuns(dir).map((x) => x.run.group)).size, 1);
  });
});

Deno.test("milestone confirm on the reference server: first and latest builds with the same knobs do not regress", async () => {
  await inFreshDir("m17_milestone_aa_", async (dir) => {
    // A fixed 100 ms answer dominates each P99, so scheduling noise stays below 5%; the middle
    // of the milestone differs (120 ms), its ends do not.
    const ms = (n: number) => ["--ref-latency-ms", String(n)];
    await milestone(dir, [["t1", ms(100), ms(120)], ["t2", ms(120), ms(100)]]);
    const r = await milestoneConfirm(["--pairs", "2", "--seed-order", "3", "--out-dir", dir]);
    assert.ok([0, 4].includes(r.code), `exit ${r.code}: ${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /A = before: +reference server \(latencyMs=100\), from t1_before_/);
    assert.match(r.stdout, /B = after: +reference server \(latencyMs=100\), from t2_after_/);
    const history = await run(["--history", "--dir", dir], { tool: "m17_compare" });
    assert.match(history.stdout, /Confirmed on one host: (PASS|INCONCLUSIVE) \(milestone confirm/);
  });
});
