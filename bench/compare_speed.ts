/**
 * Compare speed: wall time of `m17_compare` on two real 60-second reports (with their
 * per-second intervals and .hlog files), by hyperfine, next to the start-up floor of an empty
 * `deno run` measured in the same hyperfine invocation.
 * @module
 */
import { join } from "node:path";
import { runCheckChild, taskCommand } from "./check_run.ts";
import { type Benchmark, loadNow, round, type Row } from "./harness.ts";
import { ROOT } from "./procs.ts";

const TASK = "bench-cmp";

/** True when `dir` already holds a before and an after report of `TASK` with this duration. */
async function havePair(dir: string, seconds: number): Promise<boolean> {
  const seen = new Set<string>();
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = e.name.match(new RegExp(`^${TASK}_(before|after)_.*\\d\\.json$`));
      if (!m) continue;
      const r = JSON.parse(await Deno.readTextFile(join(dir, e.name)));
      if (r.scenario?.duration_seconds === seconds) seen.add(m[1]);
    }
  } catch { /* none yet */ }
  return seen.has("before") && seen.has("after");
}

export const compareSpeed: Benchmark = {
  name: "compare",
  title: "Speed of m17_compare",
  goal: "`deno task compare` on two 60-second reports with interval logs < 0.5 s",
  async run(ctx) {
    const seconds = ctx.quick ? 10 : 60;
    const runsDir = join(ctx.workDir, `runs_${seconds}s`);
    const made: string[] = [];
    let reused = true;
    if (!(await havePair(runsDir, seconds))) {
      reused = false;
      for (const phase of ["before", "after"]) {
        const args = [
          TASK,
          phase,
          "--reference",
          "--scenario",
          "bench/scenarios/light_baseline.toml",
          "--duration",
          String(seconds),
          "--warmup",
          "2",
        ];
        const { code, report, stderr } = await runCheckChild(args, runsDir, (seconds + 120) * 1000);
        if (!report) throw new Error(`check ${phase} exited ${code}: ${stderr.slice(-300)}`);
        made.push(`${taskCommand([...args, "--out-dir", runsDir])} → ${report.files.report}`);
        ctx.log(`compare: made ${report.files.report}`);
      }
    }
    const empty = join(ctx.workDir, "empty.ts");
    await Deno.writeTextFile(empty, "// start-up floor: an empty module\n");
    const compareRun = `${Deno.execPath()} run --allow-read --allow-write --allow-env ${
      join(ROOT, "m17_compare.ts")
    } ${TASK} --dir ${runsDir}`;
    const compareTask = `${Deno.execPath()} task compare ${TASK} --dir ${runsDir}`;
    const emptyRun = `${Deno.execPath()} run ${empty}`;
    const runs = ctx.quick ? 3 : 10;
    const json = join(ctx.workDir, "hyperfine.json");
    const load = loadNow();
    const hf = await new Deno.Command("hyperfine", {
      args: [
        "-N",
        "-i",
        "--warmup",
        "2",
        "--runs",
        String(runs),
        "--export-json",
        json,
        emptyRun,
        compareRun,
        compareTask,
      ],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!hf.success) {
      throw new Error(`hyperfine failed: ${new TextDecoder().decode(hf.stderr).slice(-300)}`);
    }
    const results = JSON.parse(await Deno.readTextFile(json)).results as {
      command: string;
      mean: number;
      stddev: number;
      median: number;
      min: number;
      max: number;
      exit_codes: number[];
    }[];
    const labels = [
      "deno run <empty module> (start-up floor)",
      "deno run m17_compare.ts",
      "deno task compare",
    ];
    const floor = results[0].median;
    const rows: Row[] = results.map((r, i) => ({
      command: labels[i],
      "median s": round(r.median, 3),
      "mean s": round(r.mean, 3),
      "± s": round(r.stddev, 3),
      "min s": round(r.min, 3),
      "max s": round(r.max, 3),
      "× floor": round(r.median / floor, 2),
      "exit codes": [...new Set(r.exit_codes)].join(","),
    }));
    const task = results[2];
    return {
      verdict: task.median < 0.5 ? "met" : "not met",
      summary: `deno task compare median ${round(task.median, 3)} s (${runs} runs; ${
        round(task.median / floor, 2)
      }× an empty deno run, ${round(results[1].median - floor, 3)} s above it); load ${load}`,
      rows,
      data: { reused, made, runsDir, runs, load, hyperfine: results },
    };
  },
};
