/**
 * `m17_compare --history` on synthetic milestones written to disk: the budget breach that no
 * task's own compare sees, a step hidden in noise found at its task, a host change excluded, and
 * tasks whose reports are gone read from PERFORMANCE_LOG.md.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { compareCli } from "../fixtures/pair.ts";
import { type MilestoneRun, steadyMilestone, writeMilestone } from "../fixtures/milestone.ts";
import { Prng } from "../../lib/workload/prng.ts";
import { readReport } from "../../lib/report/read.ts";
import { compareRuns } from "../../lib/verdict/compare.ts";
import { decideVerdict, defaultThresholds } from "../../lib/verdict/verdict.ts";
import { upsertTaskSection } from "../../lib/render/perflog.ts";

async function milestoneDir(runs: MilestoneRun[]): Promise<{ cwd: string; dir: string }> {
  const cwd = await Deno.makeTempDir({ prefix: "m17_history_" });
  const dir = join(cwd, "tmp/m17_performance");
  await writeMilestone(dir, runs);
  return { cwd, dir };
}

Deno.test("--history: ten tasks of +4% each pass their own compares and breach the 5% budget", async () => {
  const { cwd } = await milestoneDir(steadyMilestone(4));
  try {
    for (const task of ["001", "005", "010"]) {
      const own = await compareCli(cwd, [task]);
      strictEqual(own.code, 0, `compare ${task} passes on its own: ${own.stdout}${own.stderr}`);
    }
    const ran = await compareCli(cwd, ["--history"]);
    strictEqual(ran.code, 1, ran.stdout + ran.stderr);
    match(ran.stdout, /BUDGET EXCEEDED: P99 latency \+48\.\d% is past the \+5% budget/);
    match(ran.stdout, /contributed most: task 010, 009, 008|contributed most: task 009, 010, 008/);
    match(ran.stdout, /Cumulative, task 001 before → task 010 after/);
    const json = JSON.parse((await compareCli(cwd, ["--history", "--json"])).stdout);
    strictEqual(json.exit_code, 1);
    strictEqual(json.histories[0].breaches[0].metric, "p99");
    strictEqual(json.histories[0].tasks.length, 10);
    // A budget wide enough for the milestone passes it.
    const wide = await compareCli(cwd, ["--history", "--budget-p99", "50"]);
    strictEqual(wide.code, 0, wide.stdout);
    match(wide.stdout, /WITHIN BUDGET/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("--history: a +12% step hidden in ±3% noise is found at its task and run", async () => {
  const rng = new Prng(26n);
  const runs: MilestoneRun[] = [];
  let level = 1;
  for (let k = 1; k <= 10; k++) {
    const task = String(k).padStart(3, "0");
    const noise = () => 1 + (rng.nextFloat() * 2 - 1) * 0.03;
    for (let i = 0; i < 3; i++) runs.push({ task, phase: "before", scale: level * noise() });
    if (task === "006") level *= 1.12;
    for (let i = 0; i < 3; i++) runs.push({ task, phase: "after", scale: level * noise() });
  }
  const { cwd } = await milestoneDir(runs);
  try {
    const ran = await compareCli(cwd, ["--history", "--json"]);
    const h = JSON.parse(ran.stdout).histories[0];
    const p99 = h.changePoints.filter((c: { metric: string }) => c.metric === "p99");
    strictEqual(p99.length, 1, JSON.stringify(h.changePoints));
    strictEqual(p99[0].run.task, "006");
    strictEqual(p99[0].run.phase, "after");
    ok(p99[0].shiftPct > 8 && p99[0].shiftPct < 16, `shift ${p99[0].shiftPct}`);
    strictEqual(ran.code, 1, "the +12% step is past the 5% budget");
    match(
      (await compareCli(cwd, ["--history"])).stdout,
      /P99 latency: at task 006 after \(.*006_after_.*\.json\)/,
    );
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("--history: tasks measured on another host are excluded and named", async () => {
  // Tasks 006-010 ran on a host 30% slower; no task changed the code.
  const runs = steadyMilestone(0).map((r) =>
    Number(r.task) >= 6 ? { ...r, scale: 1.3, host: "other-host" } : r
  );
  const { cwd } = await milestoneDir(runs);
  try {
    const ran = await compareCli(cwd, ["--history"]);
    strictEqual(ran.code, 0, `within budget once the other host is excluded: ${ran.stdout}`);
    match(ran.stdout, /Task 006, .*comparable: NO \(excluded\)/);
    match(
      ran.stdout,
      /excluded: .*task 006 before ran on different hosts \(fixture vs other-host\)/,
    );
    match(ran.stdout, /Cumulative, task 001 before → task 005 after/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("--history: tasks whose reports are gone are read from PERFORMANCE_LOG.md", async () => {
  const { cwd, dir } = await milestoneDir(steadyMilestone(4));
  try {
    // The log as `compare <task> --log` writes it, for every task.
    let log = "";
    for (let k = 1; k <= 10; k++) {
      const task = String(k).padStart(3, "0");
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith(task));
      const [before, after] = await Promise.all(
        ["before", "after"].map((p) => readReport(join(dir, names.find((n) => n.includes(p))!))),
      );
      const c = compareRuns({ task, mode: "internal", before, after });
      log = upsertTaskSection(log, c, decideVerdict(c, defaultThresholds("internal")), `T${k}`)
        .text;
    }
    await Deno.writeTextFile(join(cwd, "PERFORMANCE_LOG.md"), log);
    for (const e of [...Deno.readDirSync(dir)]) {
      if (/^00[123]_/.test(e.name)) await Deno.remove(join(dir, e.name));
    }
    const ran = await compareCli(cwd, ["--history", "--log", "PERFORMANCE_LOG.md"]);
    strictEqual(ran.code, 1, ran.stdout + ran.stderr);
    match(ran.stdout, /Task 001 \(T1\), .*from PERFORMANCE_LOG\.md, comparable: unchecked/);
    match(ran.stdout, /Task 004 \(T4\), .*reports, comparable: yes/);
    match(ran.stdout, /Cumulative, task 001 before → task 010 after/);
    match(ran.stdout, /P99 latency +0\.606 → 0\.897 ms \(\+48\.0%\)/);
    // Without the log, the milestone starts at task 004.
    const without = await compareCli(cwd, ["--history"]);
    match(without.stdout, /Cumulative, task 004 before → task 010 after/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("--history: --html and --markdown draw the steps and the cumulative line", async () => {
  const { cwd, dir } = await milestoneDir(steadyMilestone(4, 4));
  try {
    const ran = await compareCli(cwd, ["--history", "--markdown", "--html"]);
    strictEqual(ran.code, 1, ran.stderr);
    match(ran.stdout, /^## Milestone history/);
    match(ran.stdout, /\*\*Budget exceeded\*\*: P99 latency \+17\.\d% is past the \+5% budget/);
    const html = await Deno.readTextFile(join(dir, "history.html"));
    match(html, /data-plot="history-p99"/);
    strictEqual(html.match(/<rect data-step=/g)?.length, 8, "4 tasks × (P99, throughput)");
    match(html, /data-series="cumulative" data-points="4"/);
    match(html, /data-interval="001"/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("--history: the competitive series is judged apart (exit 2 when only it breaches)", async () => {
  const competitive = steadyMilestone(6, 3).map((r) => ({ ...r, mode: "competitive" as const }));
  const { cwd } = await milestoneDir([...steadyMilestone(0, 3), ...competitive]);
  try {
    const ran = await compareCli(cwd, ["--history"]);
    strictEqual(ran.code, 2, ran.stdout + ran.stderr);
    match(ran.stdout, /internal series: 3 task\(s\), budget 5%[\s\S]*WITHIN BUDGET/);
    match(ran.stdout, /competitive series: 3 task\(s\), budget 10%[\s\S]*BUDGET EXCEEDED: P99/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("--history: runs marked invalid are left out, a task without a valid side named", async () => {
  const runs = steadyMilestone(0, 3).map((r) =>
    r.task === "002" && r.phase === "after" ? { ...r, valid: false } : r
  );
  const { cwd } = await milestoneDir(runs);
  try {
    const ran = await compareCli(cwd, ["--history"]);
    strictEqual(ran.code, 0, ran.stderr);
    match(
      ran.stderr,
      /1 report marked invalid by check left out of the history; the first: .*002_after_/,
    );
    match(ran.stderr, /task 002 has no valid 'after' run in tmp\/m17_performance; left out/);
    match(ran.stdout, /internal series: 2 task\(s\)/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("--history: bad input is one line and exit 3", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "m17_history_" });
  try {
    const empty = await compareCli(cwd, ["--history"]);
    strictEqual(empty.code, 3);
    match(
      empty.stderr,
      /no task with both a valid before and a valid after run in tmp\/m17_performance;/,
    );
    const task = await compareCli(cwd, ["--history", "001"]);
    strictEqual(task.code, 3);
    match(task.stderr, /--history reads every task in --dir; remove the task '001'/);
    const budget = await compareCli(cwd, ["001", "--budget-p99", "5"]);
    strictEqual(budget.code, 3);
    match(budget.stderr, /--budget-p99 only applies with --history/);
    const log = await compareCli(cwd, ["--history", "--log", "missing.md"]);
    strictEqual(log.code, 3);
    match(log.stderr, /--log missing\.md: no such file/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
