/**
 * The reference server (issue 3): the baseline scenario at 1,000 ops/s for 60 s must show
 * P99 < 5 ms, the competitive scenario (100,000 memories preloaded) P99 < 20 ms.
 *
 * Two kinds of run per scenario: the official `deno task check … --reference` (client P99 from
 * the report), and a companion in-process run of the same scenario through `runLoad` with
 * FetchProbe, which also yields the server-side P99 from the `Server-Timing` header (check's
 * report does not carry it).
 * @module
 */
import { join } from "node:path";
import { runCheckChild, taskCommand } from "./check_run.ts";
import { type Benchmark, loadNow, round, type Row } from "./harness.ts";
import { measureLoad, preload, scenarioAt } from "./load.ts";
import { startRef } from "./procs.ts";
import { FetchProbe, percentile } from "./timed_fetch.ts";

const CASES = [
  { label: "baseline", path: "scenarios/m17_baseline.toml", flags: [] as string[], goalMs: 5 },
  {
    label: "competitive (100k preload)",
    path: "scenarios/competitive/hybrid_production_100k.toml",
    flags: ["--competitive"],
    goalMs: 20,
  },
];

export const reference: Benchmark = {
  name: "reference",
  title: "Reference server latency",
  goal: "baseline P99 < 5 ms; competitive (100k preload) P99 < 20 ms; 1,000 ops/s, 60 s",
  async run(ctx) {
    const seconds = ctx.quick ? 10 : 60;
    const rows: Row[] = [];
    const data: Record<string, unknown> = {};
    const ok: boolean[] = [];
    for (const c of CASES) {
      // Official run.
      const args = [
        "bench-ref",
        "before",
        "--reference",
        ...c.flags,
        "--duration",
        String(seconds),
      ];
      const outDir = join(ctx.workDir, c.flags.length ? "competitive" : "baseline");
      const { code, report, stderr } = await runCheckChild(args, outDir, (seconds + 900) * 1000);
      if (!report) throw new Error(`check exited ${code}: ${stderr.slice(-300)}`);
      const loadCheck = loadNow();
      ctx.log(`reference ${c.label} check: P99 ${report.p99_latency_ms} ms (exit ${code})`);

      // Companion run with Server-Timing.
      const scenario = await scenarioAt(c.path, 1000);
      const server = await startRef(768);
      const probe = new FetchProbe();
      let comp;
      let preloadS = 0;
      try {
        preloadS = await preload(server.url, scenario);
        comp = await measureLoad({
          url: server.url,
          source: { scenario },
          rate: 1000,
          seconds,
          warmupSeconds: scenario.warmupSeconds,
          serverPid: server.process?.pid,
          probe,
        });
      } finally {
        await server.stop();
      }
      const serverMs = probe.pairs.map((p) => p.serverMs).filter(Number.isFinite);
      const sP50 = round(percentile(serverMs, 50), 3), sP99 = round(percentile(serverMs, 99), 3);
      const f = comp.figures;
      rows.push({
        scenario: c.label,
        run: "deno task check (official)",
        "client P50 ms": report.p50_latency_ms,
        "client P99 ms": report.p99_latency_ms,
        "client P99.9 ms": report.p999_latency_ms,
        "service P99 ms": report.service_time.p99_ms,
        "server P50 ms": "",
        "server P99 ms": "",
        "goal P99 ms": c.goalMs,
        valid: report.valid,
        "preload s": round(report.preload.seconds, 1),
        load: loadCheck,
      });
      rows.push({
        scenario: c.label,
        run: "companion runLoad + Server-Timing",
        "client P50 ms": f.responseP50Ms,
        "client P99 ms": f.responseP99Ms,
        "client P99.9 ms": round(comp.result.response.percentileUs(99.9) / 1000, 3),
        "service P99 ms": f.serviceP99Ms,
        "server P50 ms": sP50,
        "server P99 ms": sP99,
        "goal P99 ms": c.goalMs,
        valid: f.genLagP99Ms <= 10,
        "preload s": round(preloadS, 1),
        load: f.load,
      });
      ok.push(report.p99_latency_ms < c.goalMs);
      data[c.label] = {
        command: taskCommand(args),
        check: {
          exit: code,
          file: report.files.report,
          valid: report.valid,
          invalid_reasons: report.invalid_reasons,
          response_time: report.response_time,
          service_time: report.service_time,
          schedule_lag: report.schedule_lag,
          preload: report.preload,
          load: loadCheck,
        },
        companion: {
          figures: f,
          serverP50Ms: sP50,
          serverP99Ms: sP99,
          serverP999Ms: round(percentile(serverMs, 99.9), 3),
          pairs: serverMs.length,
          preloadSeconds: preloadS,
        },
      };
    }
    return {
      verdict: ok.every((x) => x)
        ? "met"
        : ok[0]
        ? "met for baseline only"
        : ok[1]
        ? "met for competitive only"
        : "not met",
      summary:
        rows.filter((r) => r.run === "deno task check (official)").map((r) =>
          `${r.scenario}: P99 ${r["client P99 ms"]} ms (goal < ${r["goal P99 ms"]})`
        ).join("; ") + "; server-side P99 " + rows.filter((r) =>
          r.run !== "deno task check (official)"
        ).map((r) => `${r["server P99 ms"]} ms`).join(" / "),
      rows,
      data,
    };
  },
};
