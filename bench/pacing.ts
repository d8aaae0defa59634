/**
 * Pacing: achieved rate versus target at 1,000, 5,000 and 10,000 ops/s through `runLoad`
 * against the reference server (a separate process), and schedule lag. The light read-only
 * scenario (8 dims) is used at every rate so the server can keep up; the baseline (768 dims) is
 * also run at 1,000 ops/s.
 * @module
 */
import { type Benchmark, median, round, type Row } from "./harness.ts";
import { type LoadFigures, measureLoad, preload, scenarioAt } from "./load.ts";
import { startRef } from "./procs.ts";

interface Config {
  label: string;
  scenario: string;
  dim: number;
  rate: number;
}

const CONFIGS: Config[] = [
  { label: "baseline 768-dim", scenario: "scenarios/m17_baseline.toml", dim: 768, rate: 1000 },
  { label: "light 8-dim read", scenario: "bench/scenarios/light_recall.toml", dim: 8, rate: 1000 },
  { label: "light 8-dim read", scenario: "bench/scenarios/light_recall.toml", dim: 8, rate: 5000 },
  { label: "light 8-dim read", scenario: "bench/scenarios/light_recall.toml", dim: 8, rate: 10000 },
];

/** Relative error of the actual send rate, in %. */
export const rateErrorPct = (f: LoadFigures) =>
  round((100 * (f.actualSendRate - f.target)) / f.target, 3);

/** The median of each numeric field over repetitions (keeps the last load average). */
export function medianFigures(fs: LoadFigures[]): LoadFigures {
  const out = { ...fs[fs.length - 1] } as Record<string, unknown>;
  for (const k of Object.keys(out)) {
    if (typeof out[k] === "number") {
      out[k] = round(median(fs.map((f) => f[k as keyof LoadFigures] as number)), 3);
    }
  }
  out.load = fs.map((f) => f.load.split(" / ")[0]).join(", ");
  return out as unknown as LoadFigures;
}

export const pacing: Benchmark = {
  name: "pacing",
  title: "Pacing accuracy and schedule lag",
  goal: "actual send rate within 0.1% of target at 1k/5k/10k ops/s; schedule lag P99 < 1 ms at 1k",
  async run(ctx) {
    const reps = ctx.quick ? 1 : 3;
    const seconds = ctx.quick ? 3 : 20;
    const servers = new Map<number, Awaited<ReturnType<typeof startRef>>>();
    const all: { config: Config; rep: number; figures: LoadFigures }[] = [];
    try {
      for (const c of CONFIGS) {
        if (servers.has(c.dim)) continue;
        const srv = await startRef(c.dim);
        servers.set(c.dim, srv);
        await preload(srv.url, await scenarioAt(c.scenario));
      }
      for (let rep = 1; rep <= reps; rep++) {
        for (const c of CONFIGS) {
          const srv = servers.get(c.dim)!;
          const { figures } = await measureLoad({
            url: srv.url,
            source: { scenario: await scenarioAt(c.scenario, c.rate) },
            rate: c.rate,
            seconds,
            warmupSeconds: 2,
            serverPid: srv.process?.pid,
          });
          all.push({ config: c, rep, figures });
          ctx.log(
            `pacing ${c.label} @${c.rate} rep ${rep}: actual ${figures.actualSendRate}/s, lag P99 ${figures.lagP99Ms} ms, gen lag P99 ${figures.genLagP99Ms} ms, client CPU ${figures.clientCpuPct}%, load ${figures.load}`,
          );
        }
      }
    } finally {
      for (const s of servers.values()) await s.stop();
    }
    const rows: Row[] = [];
    const medians: { config: Config; m: LoadFigures }[] = [];
    for (const c of CONFIGS) {
      const m = medianFigures(all.filter((x) => x.config === c).map((x) => x.figures));
      medians.push({ config: c, m });
      rows.push({
        workload: c.label,
        "target/s": c.rate,
        "actual sends/s": m.actualSendRate,
        "error %": rateErrorPct(m),
        "driver achieved/s": m.driverAchieved,
        "completed/s": m.throughput,
        "lag P50 ms": m.lagP50Ms,
        "lag P99 ms": m.lagP99Ms,
        "lag max ms": m.lagMaxMs,
        "gen lag P99 ms": m.genLagP99Ms,
        "gen lag max ms": m.genLagMaxMs,
        "late/capped": `${m.lateSends}/${m.cappedSends}`,
        "client CPU %": m.clientCpuPct,
        "server CPU %": m.serverCpuPct,
        "load 1m (per rep)": m.load,
      });
    }
    const rateOk = medians.every(({ m }) => Math.abs(rateErrorPct(m)) <= 0.1);
    const lag1k = medians.filter(({ config }) => config.rate === 1000);
    const lagOk = lag1k.every(({ m }) => m.lagP99Ms < 1);
    const worst = medians.reduce((a, b) =>
      Math.abs(rateErrorPct(b.m)) > Math.abs(rateErrorPct(a.m)) ? b : a
    );
    return {
      verdict: rateOk && lagOk ? "met" : "not met",
      summary:
        `median of ${reps} × ${seconds} s: worst rate error ${
          rateErrorPct(worst.m)
        }% (${worst.config.label} @${worst.config.rate}); ` +
        `lag P99 at 1,000 ops/s ${
          lag1k.map(({ config, m }) => `${m.lagP99Ms} ms (${config.label})`).join(", ")
        }`,
      rows,
      data: { reps, seconds, runs: all, medians },
    };
  },
};
