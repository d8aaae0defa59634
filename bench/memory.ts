/**
 * Memory: RSS of a real `m17_check` process (a child `deno run m17_check.ts … --url`) after 1 and
 * after 10 minutes of its measured window at 2,000 ops/s, with the read-only light scenario
 * against a reference server started separately (so the server's memory is not counted).
 * @module
 */
import { join } from "node:path";
import { type Benchmark, loadNow, median, round, type Row } from "./harness.ts";
import { checkArgv, latestReport, type ReportView } from "./check_run.ts";
import { ROOT, rssMiB, startRef } from "./procs.ts";

export const memory: Benchmark = {
  name: "memory",
  title: "Memory of a long check run",
  goal: "RSS growth of the m17_check process from minute 1 to minute 10 < 20 MB (2,000 ops/s)",
  async run(ctx) {
    const rate = 2000;
    const marks = ctx.quick ? [10, 60] : [60, 600];
    const duration = marks[1] + 10;
    const server = await startRef(8);
    const outDir = join(ctx.workDir, ctx.quick ? "runs_quick" : "runs");
    const args = checkArgv([
      "bench-memory",
      "before",
      "--scenario",
      join(ROOT, "bench/scenarios/light_recall.toml"),
      "--rate",
      String(rate),
      "--duration",
      String(duration),
      "--warmup",
      "2",
      "--url",
      server.url,
      "--out-dir",
      outDir,
    ]);
    ctx.log(`memory: deno ${args.join(" ")}`);
    const startedMs = Date.now();
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const samples: { t: number; rss: number; serverRss: number; load: string }[] = [];
    const atMark: Record<number, { rss: number; hwm: number; serverRss: number; load: string }> =
      {};
    let measuredStart: number | null = null;
    let stdout = "";
    const pump = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stdout) {
        stdout += dec.decode(chunk, { stream: true });
        if (measuredStart === null && /measuring:/.test(stdout)) measuredStart = performance.now();
      }
    })();
    const stderr = new Response(child.stderr).text();
    let done = false;
    const status = child.status.then((s) => (done = true, s));
    try {
      // Bounded: the run's duration plus generous margins for startup, preload and drain.
      const deadline = performance.now() + (duration + 120) * 1000;
      let next = 0;
      while (!done && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1000));
        if (measuredStart === null || done) continue;
        const t = (performance.now() - measuredStart) / 1000;
        const m = await rssMiB(child.pid);
        if (m === null) break; // exited
        const serverRss = server.process ? (await rssMiB(server.process.pid))?.rss ?? NaN : NaN;
        if (t >= next) {
          samples.push({
            t: round(t, 1),
            rss: round(m.rss, 1),
            serverRss: round(serverRss, 1),
            load: loadNow(),
          });
          next += 5;
        }
        for (const mark of marks) {
          if (atMark[mark] === undefined && t >= mark) {
            atMark[mark] = { rss: m.rss, hwm: m.hwm, serverRss, load: loadNow() };
            ctx.log(`memory: at ${mark} s RSS ${m.rss.toFixed(1)} MiB (peak ${m.hwm.toFixed(1)})`);
          }
        }
      }
      if (!done) child.kill("SIGTERM");
    } finally {
      const s = await status;
      await pump.catch(() => {});
      await server.stop();
      if (s.code !== 0) ctx.log(`memory: check exited ${s.code}: ${(await stderr).slice(-500)}`);
    }
    const report = await latestReport(outDir, startedMs);
    const a = atMark[marks[0]], b = atMark[marks[1]];
    const growthMiB = a && b ? b.rss - a.rss : NaN;
    const growthMB = growthMiB * 1.048576;
    // RSS moves with V8's garbage collection; the median over a window before each mark (half
    // the first mark: 30 s, after start-up has settled) is the steadier figure, the
    // instantaneous value the one the goal names.
    const windowS = marks[0] / 2;
    const windowMedian = (mark: number) =>
      median(samples.filter((x) => x.t > mark - windowS && x.t <= mark).map((x) => x.rss));
    const medA = windowMedian(marks[0]), medB = windowMedian(marks[1]);
    const rows: Row[] = marks.map((mark) => ({
      "at (s of measured window)": mark,
      "check RSS MiB": round(atMark[mark]?.rss ?? NaN, 1),
      "median RSS, window before": round(windowMedian(mark), 1),
      "check peak RSS MiB": round(atMark[mark]?.hwm ?? NaN, 1),
      "server RSS MiB": round(atMark[mark]?.serverRss ?? NaN, 1),
      "load avg": atMark[mark]?.load ?? "",
    }));
    rows.push({
      "at (s of measured window)": "growth",
      "check RSS MiB": round(growthMiB, 1),
      "median RSS, window before": round(medB - medA, 1),
      "server RSS MiB": round((b?.serverRss ?? NaN) - (a?.serverRss ?? NaN), 1),
    });
    const runNote = report
      ? `run valid ${report.valid}, achieved ${report.achieved_rate} ops/s, ${report.total_operations} ops, lag P99 ${report.schedule_lag?.p99_ms} ms`
      : "no report found";
    const toMB = 1.048576;
    return {
      verdict: Number.isFinite(growthMB) && growthMB < 20 && (medB - medA) * toMB < 20
        ? "met"
        : "not met",
      summary: `RSS ${round(a?.rss ?? NaN, 1)} MiB at ${marks[0]} s → ${
        round(b?.rss ?? NaN, 1)
      } MiB at ${marks[1]} s: growth ${round(growthMB, 1)} MB; ${windowS}-s window medians ${
        round(medA, 1)
      } → ${round(medB, 1)} MiB: growth ${
        round((medB - medA) * toMB, 1)
      } MB (goal < 20 MB); ${runNote}`,
      rows,
      data: {
        marks,
        atMark,
        samples,
        growthMB,
        windowS,
        windowMedians: [medA, medB],
        report: report && pick(report),
      },
    };
  },
};

function pick(r: ReportView) {
  return {
    file: r.files?.report,
    valid: r.valid,
    invalid_reasons: r.invalid_reasons,
    target_rate: r.target_rate,
    achieved_rate: r.achieved_rate,
    total_operations: r.total_operations,
    total_errors: r.total_errors,
    schedule_lag: r.schedule_lag,
    p99_latency_ms: r.p99_latency_ms,
  };
}
