/**
 * In-process open-loop runs through the real driver (`runLoad` from lib/run/driver.ts,
 * `runPreload` from lib/run/preload.ts), with the figures the pacing, capacity, overhead and
 * reference benchmarks report: the driver's own rates and lags, the rate of actual `fetch` calls
 * inside the window (FetchProbe), and the CPU time of this process and of the server.
 * @module
 */
import { join } from "node:path";
import { type LoadResult, runLoad } from "../lib/run/driver.ts";
import { runPreload } from "../lib/run/preload.ts";
import { constantSchedule } from "../lib/workload/schedule.ts";
import { loadScenario, type Scenario, withOverrides } from "../lib/workload/scenario.ts";
import { type Op, type OpStream, Workload } from "../lib/workload/ops.ts";
import { loadNow, round } from "./harness.ts";
import { cpuSeconds, ROOT, selfCpuSeconds } from "./procs.ts";
import { FetchProbe } from "./timed_fetch.ts";

/** A shipped or bench scenario by path relative to the repository root, with a rate. */
export async function scenarioAt(relPath: string, rate?: number): Promise<Scenario> {
  const { scenario } = await loadScenario(join(ROOT, relPath));
  return withOverrides(scenario, { rate });
}

/** The same request forever (for the trivial endpoint): `GET /`. */
export function constantStream(op: Omit<Op, "index">): OpStream {
  let index = 0;
  return { next: () => ({ ...op, index: index++ }) } as unknown as OpStream;
}

/** Where the ops come from: a scenario's streams, or a fixed op. */
export type OpSource = { scenario: Scenario } | { op: Omit<Op, "index"> };

/** Stores the scenario's `preload` memories (not measured), as `check` does (concurrency 32). */
export async function preload(url: string, s: Scenario, count = s.preload): Promise<number> {
  if (count <= 0) return 0;
  const t0 = performance.now();
  const r = await runPreload(new Workload(s).stream("preload"), count, {
    baseUrl: url,
    timeoutMs: 10_000,
    concurrency: 32,
  });
  if (r.errors > 0) throw new Error(`preload: ${r.errors} errors (first ${r.firstError})`);
  return (performance.now() - t0) / 1000;
}

/** What one measured window showed. */
export interface LoadFigures {
  target: number;
  seconds: number;
  due: number;
  sent: number;
  completed: number;
  errors: number;
  /** The driver's achieved rate: sent / send span (as in the report). */
  driverAchieved: number;
  /** fetch() calls made inside [first send, first send + seconds), per second. */
  actualSendRate: number;
  /** Completed responses per second of the window (report's overall_throughput). */
  throughput: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  genLagP50Ms: number;
  genLagP99Ms: number;
  genLagMaxMs: number;
  responseP50Ms: number;
  responseP99Ms: number;
  serviceP50Ms: number;
  serviceP99Ms: number;
  lateSends: number;
  cappedSends: number;
  /** CPU of this (the load generator's) process over the window, in % of one core. */
  clientCpuPct: number;
  /** CPU of the server process over the window, in % of one core (NaN when not local). */
  serverCpuPct: number;
  load: string;
}

/** Options of one in-process run. */
export interface LoadOptions {
  url: string;
  source: OpSource;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  maxInFlight?: number;
  serverPid?: number;
  /** Installed for the measured window only when given (cleared first). */
  probe?: FetchProbe;
}

/** Warm-up (a separate, unrecorded runLoad), then the measured window; returns its figures. */
export async function measureLoad(
  o: LoadOptions,
): Promise<{ figures: LoadFigures; result: LoadResult }> {
  const streams = (): [OpStream, OpStream] => {
    if ("op" in o.source) return [constantStream(o.source.op), constantStream(o.source.op)];
    const w = new Workload(o.source.scenario);
    return [w.stream("warmup"), w.stream("measured")];
  };
  const opts = { baseUrl: o.url, timeoutMs: 10_000, maxInFlight: o.maxInFlight ?? 64 };
  const sched = () => constantSchedule(o.rate);
  if (o.warmupSeconds > 0) {
    const [warm] = streams();
    await runLoad({
      warmup: { stream: warm, seconds: 0 },
      measured: { stream: warm, seconds: o.warmupSeconds },
      schedule: sched,
      ...opts,
    });
  }
  const [, measured] = streams();
  const probe = o.probe ?? new FetchProbe();
  probe.clear();
  probe.install();
  const cpu0 = selfCpuSeconds();
  const srv0 = o.serverPid ? await cpuSeconds(o.serverPid) : null;
  const t0 = performance.now();
  let result: LoadResult;
  try {
    result = await runLoad({
      warmup: { stream: measured, seconds: 0 },
      measured: { stream: measured, seconds: o.seconds },
      schedule: sched,
      ...opts,
    });
  } finally {
    probe.uninstall();
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = selfCpuSeconds();
  const srv1 = o.serverPid ? await cpuSeconds(o.serverPid) : null;
  const first = probe.callTimes[0] ?? t0;
  const ms = (us: number) => round(us / 1000, 3);
  const r = result;
  const figures: LoadFigures = {
    target: o.rate,
    seconds: o.seconds,
    due: r.due,
    sent: r.sent,
    completed: r.completed,
    errors: r.errors,
    driverAchieved: round(r.sendSpanSeconds > 0 ? r.sent / r.sendSpanSeconds : 0, 2),
    actualSendRate: round(probe.callsBetween(first, first + o.seconds * 1000) / o.seconds, 2),
    throughput: round(r.completed / r.elapsedSeconds, 2),
    lagP50Ms: ms(r.lag.percentileUs(50)),
    lagP99Ms: ms(r.lag.percentileUs(99)),
    lagMaxMs: ms(r.lag.maxUs()),
    genLagP50Ms: ms(r.generatorLag.percentileUs(50)),
    genLagP99Ms: ms(r.generatorLag.percentileUs(99)),
    genLagMaxMs: ms(r.generatorLag.maxUs()),
    responseP50Ms: ms(r.response.percentileUs(50)),
    responseP99Ms: ms(r.response.percentileUs(99)),
    serviceP50Ms: ms(r.service.percentileUs(50)),
    serviceP99Ms: ms(r.service.percentileUs(99)),
    lateSends: r.lateSends,
    cappedSends: r.cappedSends,
    clientCpuPct: round((100 * (cpu1 - cpu0)) / wall, 1),
    serverCpuPct: srv0 !== null && srv1 !== null ? round((100 * (srv1 - srv0)) / wall, 1) : NaN,
    load: loadNow(),
  };
  return { figures, result };
}
