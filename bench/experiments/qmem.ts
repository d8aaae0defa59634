/**
 * Experiment (BENCHMARKS.md, finding 4): RSS of this process while runLoad is offered more
 * 768-dim baseline ops than it can send (the in-flight queue holds rendered ops).
 *
 *   deno run -A bench/experiments/qmem.ts RATE SECONDS      (e.g. 15000 5)
 * @module
 */
import { runLoad } from "../../lib/run/driver.ts";
import { constantSchedule } from "../../lib/workload/schedule.ts";
import { Workload } from "../../lib/workload/ops.ts";
import { scenarioAt } from "../load.ts";
import { startTrivial } from "../procs.ts";
const rate = Number(Deno.args[0]), secs = Number(Deno.args[1]);
const srv = await startTrivial();
const w = new Workload(await scenarioAt("scenarios/m17_baseline.toml", rate));
const rss: string[] = [];
const t = setInterval(() => rss.push((Deno.memoryUsage().rss / 2 ** 20).toFixed(0)), 1000);
const t0 = performance.now();
const r = await runLoad({
  warmup: { stream: w.stream("warmup"), seconds: 0 },
  measured: { stream: w.stream("measured"), seconds: secs },
  schedule: () => constantSchedule(rate),
  baseUrl: srv.url,
  timeoutMs: 10000,
  maxInFlight: 64,
});
clearInterval(t);
console.log(
  JSON.stringify({
    due: r.due,
    sent: r.sent,
    completed: r.completed,
    errors: r.errors,
    byKind: r.errorsByKind,
    interrupted: r.interrupted,
  }),
);
console.log(
  `rate ${rate} for ${secs} s: wall ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s, sent ${r.sent}, capped ${r.cappedSends}, driver achieved ${
    (r.sent / r.sendSpanSeconds).toFixed(0)
  }/s, RSS MiB per second: ${rss.join(" ")}`,
);
await srv.stop();
