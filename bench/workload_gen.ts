/**
 * Workload generation (issue 2): ops per second of `Workload.stream("measured").next()` plus
 * `serializeOp` (the request bytes), on one thread, for the baseline (768 dims), the competitive
 * scenario and the light 8-dim baseline mix. Also per CPU-second, which is less sensitive to
 * other work on the host than per wall-second.
 * @module
 */
import { serializeOp, Workload } from "../lib/workload/ops.ts";
import { type Benchmark, loadNow, median, round, type Row } from "./harness.ts";
import { scenarioAt } from "./load.ts";
import { selfCpuSeconds } from "./procs.ts";

const SCENARIOS = [
  { label: "baseline (768 dims)", path: "scenarios/m17_baseline.toml" },
  {
    label: "competitive (768 dims, scale-free)",
    path: "scenarios/competitive/hybrid_production_100k.toml",
  },
  { label: "light baseline mix (8 dims)", path: "bench/scenarios/light_baseline.toml" },
];

/** Generates ops for `seconds`; returns ops, bytes, wall and CPU seconds. */
function generate(w: Workload, seconds: number) {
  const st = w.stream("measured");
  let ops = 0, bytes = 0;
  const cpu0 = selfCpuSeconds();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  // Bounded by time; the clock is read every 256 ops.
  for (;;) {
    for (let i = 0; i < 256; i++) bytes += serializeOp(st.next()).length;
    ops += 256;
    if (performance.now() >= end) break;
  }
  const wall = (performance.now() - t0) / 1000;
  return { ops, bytes, wall, cpu: selfCpuSeconds() - cpu0 };
}

export const workloadGen: Benchmark = {
  name: "workload",
  title: "Workload generation speed",
  goal: "≥ 50,000 baseline ops/s (next() + serialized request) on one core",
  async run(ctx) {
    const reps = ctx.quick ? 1 : 3;
    const seconds = ctx.quick ? 1 : 3;
    const rows: Row[] = [];
    const data: unknown[] = [];
    let baselineOps = NaN;
    for (const s of SCENARIOS) {
      const w = new Workload(await scenarioAt(s.path));
      generate(w, 0.5); // JIT warm-up
      const runs = [];
      for (let r = 0; r < reps; r++) runs.push({ ...generate(w, seconds), load: loadNow() });
      const perWall = median(runs.map((r) => r.ops / r.wall));
      const perCpu = median(runs.map((r) => r.ops / r.cpu));
      if (s.path.includes("m17_baseline")) baselineOps = perWall;
      rows.push({
        scenario: s.label,
        "ops/s (wall)": Math.round(perWall),
        "ops per CPU-s": Math.round(perCpu),
        "µs/op": round(1e6 / perWall, 2),
        "bytes/op": Math.round(runs[0].bytes / runs[0].ops),
        "ops/s per rep": runs.map((r) => Math.round(r.ops / r.wall)).join(", "),
        "load 1m per rep": runs.map((r) => r.load.split(" / ")[0]).join(", "),
      });
      data.push({ scenario: s, runs });
      ctx.log(`workload ${s.label}: ${Math.round(perWall)} ops/s`);
    }
    return {
      verdict: baselineOps >= 50_000 ? "met" : "not met",
      summary: `baseline ${
        Math.round(baselineOps)
      } ops/s (median of ${reps} × ${seconds} s, goal ≥ 50,000)`,
      rows,
      data,
    };
  },
};
