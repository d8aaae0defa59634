/**
 * Correctness under stalls: the reference server holds every request arriving in the last 1 s of
 * each 10 s period until the period ends. At a constant 1,000 ops/s, 10% of requests wait a
 * uniform 0–1,000 ms, so the truth is P99 ≈ 900 ms and P99.9 ≈ 990 ms (plus service time and,
 * for heavy payloads, the server's catch-up after each stall). Measured with `deno task check`
 * (the report JSON) and, next to it, with the old generator's closed-loop client.
 * @module
 */
import { join } from "node:path";
import { Workload } from "../lib/workload/ops.ts";
import { runCheckChild, taskCommand } from "./check_run.ts";
import { closedLoop } from "./closed_loop.ts";
import { type Benchmark, loadNow, median, round, type Row } from "./harness.ts";
import { scenarioAt } from "./load.ts";
import { startRef } from "./procs.ts";

const TRUTH = { p99: 900, p999: 990 };

const SCENARIOS = [
  { label: "baseline 768-dim", key: "heavy", path: "scenarios/m17_baseline.toml", dim: 768 },
  { label: "light 8-dim", key: "light", path: "bench/scenarios/light_baseline.toml", dim: 8 },
];

const errPct = (x: number, truth: number) => round((100 * (x - truth)) / truth, 2);

export const stalls: Benchmark = {
  name: "stalls",
  title: "Latency under server stalls (coordinated omission)",
  goal:
    "P99 and P99.9 within 3% of the analytic truth (900 / 990 ms), stall 1 s every 10 s, 1,000 ops/s",
  async run(ctx) {
    const reps = ctx.quick ? 1 : 3;
    const seconds = ctx.quick ? 10 : 30;
    const rows: Row[] = [];
    const data: Record<string, unknown> = {};
    const verdicts: { label: string; ok: boolean }[] = [];
    for (const s of SCENARIOS) {
      const args = [
        `bench-stall-${s.key}`,
        "before",
        "--reference",
        "--scenario",
        s.path,
        "--rate",
        "1000",
        "--duration",
        String(seconds),
        "--warmup",
        "5",
        "--ref-stall-every-s",
        "10",
        "--ref-stall-ms",
        "1000",
      ];
      const outDir = join(ctx.workDir, s.key);
      const checks = [];
      for (let r = 0; r < reps; r++) {
        const { code, report, stderr } = await runCheckChild(args, outDir, (seconds + 120) * 1000);
        if (!report) {
          throw new Error(`check exited ${code} without a report: ${stderr.slice(-400)}`);
        }
        checks.push({ code, report, load: loadNow() });
        ctx.log(
          `stalls ${s.label} check rep ${
            r + 1
          }: P99 ${report.p99_latency_ms} P99.9 ${report.p999_latency_ms} ms (exit ${code})`,
        );
      }
      const p50 = median(checks.map((c) => c.report.p50_latency_ms));
      const p99 = median(checks.map((c) => c.report.p99_latency_ms));
      const p999 = median(checks.map((c) => c.report.p999_latency_ms));
      const max = median(checks.map((c) => c.report.max_latency_ms));
      rows.push({
        scenario: s.label,
        client: `m17 check (open loop), median of ${reps}`,
        "P50 ms": p50,
        "P99 ms": p99,
        "P99.9 ms": p999,
        "max ms": max,
        "P99 vs truth %": errPct(p99, TRUTH.p99),
        "P99.9 vs truth %": errPct(p999, TRUTH.p999),
        "P99 per rep": checks.map((c) => c.report.p99_latency_ms).join(", "),
        "valid": checks.map((c) => c.report.valid).join(","),
        "load 1m": checks.map((c) => c.load.split(" / ")[0]).join(", "),
      });
      verdicts.push({
        label: s.label,
        ok: Math.abs(errPct(p99, TRUTH.p99)) <= 3 && Math.abs(errPct(p999, TRUTH.p999)) <= 3,
      });

      // The old client model against the same knobs, same ops.
      const scenario = await scenarioAt(s.path, 1000);
      const server = await startRef(s.dim, { stallEverySeconds: 10, stallMs: 1000 });
      let cl;
      try {
        const w = new Workload(scenario);
        await closedLoop(server.url, w.stream("warmup"), 1000, 5);
        cl = await closedLoop(server.url, w.stream("measured"), 1000, seconds);
      } finally {
        await server.stop();
      }
      const ms = (us: number) => round(us / 1000, 3);
      for (
        const [label, h] of [["closed loop (old client model)", cl.all], [
          "closed loop, samples > 60 ms dropped (old tool)",
          cl.old,
        ]] as const
      ) {
        const q99 = ms(h.percentileUs(99)), q999 = ms(h.percentileUs(99.9));
        rows.push({
          scenario: s.label,
          client: label,
          "P50 ms": ms(h.percentileUs(50)),
          "P99 ms": q99,
          "P99.9 ms": q999,
          "max ms": ms(h.maxUs()),
          "P99 vs truth %": errPct(q99, TRUTH.p99),
          "P99.9 vs truth %": errPct(q999, TRUTH.p999),
          "P99 per rep": `${cl.sent} sent of ${1000 * seconds} due`,
          "valid": "",
          "load 1m": loadNow().split(" / ")[0],
        });
      }
      data[s.key] = {
        command: taskCommand(args),
        checks: checks.map((c) => ({
          exit: c.code,
          load: c.load,
          file: c.report.files.report,
          valid: c.report.valid,
          invalid_reasons: c.report.invalid_reasons,
          response_time: c.report.response_time,
          service_time: c.report.service_time,
          schedule_lag: c.report.schedule_lag,
          achieved_rate: c.report.achieved_rate,
          capped_sends: c.report.capped_sends,
        })),
        closedLoop: {
          sent: cl.sent,
          errors: cl.errors,
          all: cl.all.summaryMs(),
          old: cl.old.summaryMs(),
          dropped: cl.all.count - cl.old.count,
        },
      };
    }
    return {
      verdict: verdicts.every((v) => v.ok)
        ? "met"
        : verdicts.some((v) => v.ok)
        ? `met for ${verdicts.filter((v) => v.ok).map((v) => v.label).join(", ")} only`
        : "not met",
      summary:
        rows.filter((r) => String(r.client).startsWith("m17")).map((r) =>
          `${r.scenario}: P99 ${r["P99 ms"]} ms (${r["P99 vs truth %"]}%), P99.9 ${
            r["P99.9 ms"]
          } ms (${r["P99.9 vs truth %"]}%)`
        ).join("; ") + `; closed loop P99 ${
          rows.filter((r) => r.client === "closed loop (old client model)").map((r) =>
            r["P99 ms"]
          ).join(" / ")
        } ms`,
      rows,
      data,
    };
  },
};
