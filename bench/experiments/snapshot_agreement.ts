/**
 * Experiment (issue 24, item 2): does a restored Engram measure like a freshly preloaded one?
 * Runs alternated `check` runs on real Engram with Engram's competitive scenario and a
 * `preload = N` copy: arm F preloads afresh (`--no-preload-cache`: the live store the preload
 * built), arm R starts on a fresh copy of the preload snapshot (made once first, by a run that is
 * not counted). Pairs alternate F R, R F, … so drift on the host hits both arms alike. Prints,
 * per metric, each arm's median and range (run-to-run spread) and the paired differences
 * (R − F); the arms agree when each arm's median lies inside the other arm's range. The first 5 s
 * of the window are shown apart from the rest, to see an index Engram rebuilds lazily after a
 * restore.
 *
 *   deno run -A bench/experiments/snapshot_agreement.ts --engram-dir /work/engram \
 *     [--preload 10000] [--pairs 5] [--rate 50] [--duration 20] [--warmup 5] \
 *     [--port 7432] [--out-dir tmp/snapshot_agreement]
 *
 * Each run's report is also in the out dir. Needs a quiet host (a run whose generator fell behind is invalid and says so) and a built
 * Engram (`--no-build` is passed). Bounded: at most 20 pairs, each run at most 30 min.
 * Writes `<out-dir>/agreement.json` and `<out-dir>/agreement.md`.
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { runCheckChild } from "../check_run.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    "engram-dir": { type: "string" },
    preload: { type: "string", default: "10000" },
    pairs: { type: "string", default: "5" },
    rate: { type: "string", default: "50" },
    duration: { type: "string", default: "20" },
    warmup: { type: "string", default: "5" },
    port: { type: "string", default: "7432" },
    "out-dir": { type: "string", default: "tmp/snapshot_agreement" },
  },
});
const engramDir = v["engram-dir"];
const pairs = Number(v.pairs);
const preload = Number(v.preload);
if (!engramDir || !(pairs >= 1 && pairs <= 20) || !(preload >= 1 && preload <= 200_000)) {
  console.error(
    "usage: snapshot_agreement.ts --engram-dir D [--preload N≤200000] [--pairs 1..20] [--rate R] [--duration S] [--warmup S] [--port P] [--out-dir D]",
  );
  Deno.exit(3);
}
const outDir = resolve(v["out-dir"]!);
await Deno.mkdir(outDir, { recursive: true });

// Engram's competitive scenario with a preload of N (its seed comes from the competitive mode).
const source = join(engramDir, "scenarios/competitive/hybrid_production_100k.toml");
const scenario = join(outDir, `competitive_${preload}.toml`);
const text = await Deno.readTextFile(source);
if (!/^num_nodes\s*=.*$/m.test(text) || /^preload\s*=/m.test(text)) {
  console.error(`${source}: expected a [data] num_nodes line and no preload line`);
  Deno.exit(3);
}
await Deno.writeTextFile(
  scenario,
  text.replace(/^(num_nodes\s*=.*)$/m, `$1\npreload = ${preload}`),
);

/** The report fields this study reads. */
interface Report {
  valid: boolean;
  invalid_reasons: string[];
  total_errors: number;
  p50_latency_ms: number;
  p99_latency_ms: number;
  service_time: { p99_ms: number };
  per_operation_stats: Record<string, { p99_latency_us: number }>;
  intervals: { p99_ms: number }[];
  preload: { seconds: number; snapshot?: { action: string; memories: number } };
  target_state?: { memories_after_preload: number | null; memories_at_end: number | null };
}

async function run(task: string, arm: "F" | "R" | "make"): Promise<Report> {
  const args = [
    task,
    "before",
    "--competitive",
    "--engram-dir",
    engramDir!,
    "--no-build",
    "--scenario",
    scenario,
    "--rate",
    v.rate!,
    "--duration",
    v.duration!,
    "--warmup",
    v.warmup!,
    "--port",
    v.port!,
    ...(arm === "F" ? ["--no-preload-cache"] : []),
  ];
  // A run that wrote no report (e.g. Engram not healthy in time) is started once more.
  for (let attempt = 1;; attempt++) {
    const { code, report, stderr } = await runCheckChild(args, outDir, 30 * 60_000);
    if (report) return report as unknown as Report;
    const last = stderr.trim().split("\n").at(-1) ?? "";
    if (attempt === 2) throw new Error(`${task}: no report written twice (exit ${code}): ${last}`);
    console.log(`${task}: no report written (exit ${code}: ${last}); once more`);
  }
}

const metrics: [string, (r: Report) => number][] = [
  ["response P50 ms", (r) => r.p50_latency_ms],
  ["response P99 ms", (r) => r.p99_latency_ms],
  ["service P99 ms", (r) => r.service_time.p99_ms],
  ...["Recall", "Search", "Store", "PatternCompletion"].map((op) =>
    [`${op} P99 ms`, (r: Report) => (r.per_operation_stats[op]?.p99_latency_us ?? NaN) / 1000] as [
      string,
      (r: Report) => number,
    ]
  ),
  ["P99 of the first 5 s", (r) => Math.max(...r.intervals.slice(0, 5).map((i) => i.p99_ms))],
  ["P99 after 5 s (max)", (r) => Math.max(...r.intervals.slice(5).map((i) => i.p99_ms))],
  ["errors", (r) => r.total_errors],
  ["Engram's memories after the preload", (r) => r.target_state?.memories_after_preload ?? NaN],
];

console.log(`making the snapshot (${preload} memories) once: not counted`);
const made = await run("agree_make", "make");
console.log(`snapshot: ${JSON.stringify(made.preload.snapshot)}`);
const runs: { arm: "F" | "R"; pair: number; report: Report }[] = [];
for (let p = 1; p <= pairs; p++) {
  const order: ("F" | "R")[] = p % 2 === 1 ? ["F", "R"] : ["R", "F"];
  for (const arm of order) {
    const report = await run(`agree_${arm}${p}`, arm);
    console.log(
      `pair ${p} ${arm}: valid ${report.valid}, P99 ${report.p99_latency_ms} ms, errors ${report.total_errors}, preload ${report.preload.seconds} s, memories ${
        report.target_state?.memories_after_preload ?? "?"
      }${report.valid ? "" : ` (${report.invalid_reasons.join("; ")})`}`,
    );
    runs.push({ arm, pair: p, report });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x: number) => Number.isFinite(x) ? x.toFixed(2) : "–";
const lines = [
  `| metric | fresh preload: median [range] | restored: median [range] | paired R − F: median [range] | agree |`,
  `| --- | --- | --- | --- | --- |`,
];
const table: Record<string, unknown>[] = [];
for (const [name, get] of metrics) {
  const F = runs.filter((r) => r.arm === "F").map((r) => get(r.report));
  const R = runs.filter((r) => r.arm === "R").map((r) => get(r.report));
  const d = Array.from({ length: pairs }, (_, i) => R[i] - F[i]);
  const inside = (x: number, xs: number[]) => x >= Math.min(...xs) && x <= Math.max(...xs);
  const agree = inside(median(F), R) && inside(median(R), F);
  table.push({ metric: name, fresh: F, restored: R, agree });
  lines.push(
    `| ${name} | ${f(median(F))} [${f(Math.min(...F))}, ${f(Math.max(...F))}] | ${f(median(R))} [${
      f(Math.min(...R))
    }, ${f(Math.max(...R))}] | ${f(median(d))} [${f(Math.min(...d))}, ${f(Math.max(...d))}] | ${
      agree ? "yes" : "NO"
    } |`,
  );
}
const invalid = runs.filter((r) => !r.report.valid).map((r) =>
  `${r.arm}${r.pair}: ${r.report.invalid_reasons.join("; ")}`
);
const md = [
  `${pairs} pairs, ${preload} memories, ${v.rate} ops/s for ${v.duration} s after ${v.warmup} s warm-up; snapshot ${
    JSON.stringify(made.preload.snapshot)
  }`,
  "",
  ...lines,
  "",
  invalid.length ? `invalid runs: ${invalid.join(" | ")}` : "every run valid",
].join("\n");
console.log(md);
await Deno.writeTextFile(join(outDir, "agreement.md"), md + "\n");
await Deno.writeTextFile(
  join(outDir, "agreement.json"),
  JSON.stringify({ preload, pairs, snapshot: made.preload.snapshot, table, invalid }, null, 2),
);
