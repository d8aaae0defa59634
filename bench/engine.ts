/**
 * Benchmark `engine`: m17's load engine against vegeta (open loop), alternately against the same
 * small JSON server, at 1,000 and 5,000 ops/s with light (8-dim) and baseline (768-dim) payloads.
 * Per run: CPU seconds per 1,000 requests of the generator's whole process (bash `times`, i.e.
 * wait4 rusage over the process and its children, threads included), schedule lag P50/P99
 * (due → send), service time (send → response) and response time (due → response) P50/P99, and
 * the achieved rate. vegeta gets the same requests (the first ops of the same stream as JSON
 * targets, cycled); its lag is measured against its own start and rate from the per-request
 * timestamps (`vegeta encode`).
 *
 * m17 runs twice per step: on its default socket layer (Linux epoll through FFI) and with
 * `M17_IO=deno` (Deno's sockets and the ticker-thread pacer), so the two are compared in one run.
 *
 * Also a child entrypoint: `deno run -A bench/engine.ts child URL SCENARIO RATE SECONDS WORKERS`
 * runs m17's engine once and prints one JSON line.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { type BenchContext, type Benchmark, median, round, type Row } from "./harness.ts";
import { ensureVegeta, ensureWrk } from "./peers.ts";
import { runTimed } from "./procs.ts";
import { ServerProcess } from "../lib/target/process.ts";
import { SCENARIOS_DIR } from "../lib/paths.ts";
import { loadScenario, withOverrides } from "../lib/workload/scenario.ts";
import { Workload } from "../lib/workload/ops.ts";
import { runEngine } from "../lib/run/engine.ts";

const HERE = fileURLToPath(import.meta.url);
const PAYLOADS = {
  light: fileURLToPath(new URL("./scenarios/light_baseline.toml", import.meta.url)),
  baseline: join(SCENARIOS_DIR, "m17_baseline.toml"),
} as const;
type Payload = keyof typeof PAYLOADS;

/** An instant JSON server: reads the body, answers `{"ok":true}`. */
const SERVER_CODE = `
const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  if (req.body) await req.arrayBuffer();
  return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
});
console.log("listening on http://127.0.0.1:" + s.addr.port);
Deno.addSignalListener("SIGTERM", () => s.shutdown());
await s.finished;`;

/** What one generator run measured. */
interface RunFigures {
  requests: number;
  errors: number;
  cpuSeconds: number;
  wallSeconds: number;
  lagP50Ms: number;
  lagP99Ms: number;
  serviceP50Ms: number;
  serviceP99Ms: number;
  responseP50Ms: number;
  responseP99Ms: number;
  achievedRate: number;
}

/** The child's printed line. */
interface ChildLine {
  sent: number;
  completed: number;
  errors: number;
  errorsByKind: Record<string, number>;
  lag: [number, number];
  service: [number, number];
  response: [number, number];
  achievedRate: number;
  inRunCpuSeconds: number;
}

async function childMain(args: string[]): Promise<void> {
  const [url, scenarioPath, rateS, secondsS, workersS] = args;
  const { scenario: base } = await loadScenario(scenarioPath);
  const scenario = withOverrides(base, {
    rate: Number(rateS),
    durationSeconds: Number(secondsS),
    warmupSeconds: 0,
  });
  const cpu0 = process.cpuUsage();
  const r = await runEngine({
    scenario,
    workload: new Workload(scenario),
    warmupSeconds: 0,
    durationSeconds: scenario.durationSeconds,
    workers: Number(workersS),
    baseUrl: url,
    timeoutMs: 10_000,
    maxInFlight: 256,
  });
  const cpu = process.cpuUsage(cpu0);
  const ms = (us: number) => round(us / 1000, 3);
  const line: ChildLine = {
    sent: r.sent,
    completed: r.completed,
    errors: r.errors,
    errorsByKind: r.errorsByKind,
    lag: [ms(r.lag.percentileUs(50)), ms(r.lag.percentileUs(99))],
    service: [ms(r.service.percentileUs(50)), ms(r.service.percentileUs(99))],
    response: [ms(r.response.percentileUs(50)), ms(r.response.percentileUs(99))],
    achievedRate: r.sendSpanSeconds > 0 ? round(r.sent / r.sendSpanSeconds, 1) : 0,
    inRunCpuSeconds: round((cpu.user + cpu.system) / 1e6, 3),
  };
  console.log(JSON.stringify(line));
}

/** m17's two socket layers: epoll through FFI (the default on Linux) and Deno's sockets. */
type Io = "epoll" | "deno";

async function runM17(
  url: string,
  payload: Payload,
  rate: number,
  seconds: number,
  workers: number,
  io: Io = "epoll",
): Promise<RunFigures & { inRunCpuSeconds: number; errorsByKind: Record<string, number> }> {
  const t = await runTimed([
    ...(io === "deno" ? ["env", "M17_IO=deno"] : []),
    Deno.execPath(),
    "run",
    "-A",
    HERE,
    "child",
    url,
    PAYLOADS[payload],
    String(rate),
    String(seconds),
    String(workers),
  ], (seconds + 60) * 1000);
  const line = t.stdout.trim().split("\n").at(-1) ?? "";
  if (t.code !== 0 || !line.startsWith("{")) {
    throw new Error(`m17 child failed (exit ${t.code}): ${t.stderr.slice(-400)}`);
  }
  const c = JSON.parse(line) as ChildLine;
  return {
    requests: c.completed,
    errors: c.errors,
    errorsByKind: c.errorsByKind,
    cpuSeconds: t.cpuSeconds,
    wallSeconds: t.wallSeconds,
    lagP50Ms: c.lag[0],
    lagP99Ms: c.lag[1],
    serviceP50Ms: c.service[0],
    serviceP99Ms: c.service[1],
    responseP50Ms: c.response[0],
    responseP99Ms: c.response[1],
    achievedRate: c.achievedRate,
    inRunCpuSeconds: c.inRunCpuSeconds,
  };
}

/** vegeta JSON targets: the first `n` ops of the payload's measured stream (vegeta cycles them). */
async function writeTargets(url: string, payload: Payload, n: number, path: string) {
  const { scenario } = await loadScenario(PAYLOADS[payload]);
  const stream = new Workload(scenario).stream("measured");
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const op = stream.next();
    const t: Record<string, unknown> = { method: op.method, url: url + op.path };
    if (op.body !== null) {
      t.body = btoa(op.body);
      t.header = { "Content-Type": ["application/json"] };
    }
    lines.push(JSON.stringify(t));
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

/** Nanoseconds since the epoch of an RFC 3339 timestamp with up to 9 fraction digits. */
function epochNs(ts: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) throw new Error(`bad vegeta timestamp ${ts}`);
  const whole = Date.parse(m[1] + m[3]);
  return whole * 1e6 + Number((m[2] ?? "0").padEnd(9, "0").slice(0, 9));
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * wrk2 (`-R`, coordinated-omission corrected, GET / only: it sends no body) when `WRK2` names its
 * binary: wrk2 is in no registry this project reaches (build it from github.com/giltene/wrk2 with
 * `make`), so it is optional. Lag and service time are not reported by wrk2; its latency is
 * measured from the intended send time, i.e. m17's response time.
 */
async function runWrk2(
  wrk2: string,
  url: string,
  rate: number,
  seconds: number,
): Promise<RunFigures> {
  const t = await runTimed(
    [wrk2, "-t", "1", "-c", "16", "-d", `${seconds}s`, "-R", String(rate), "--latency", url + "/"],
    (seconds + 60) * 1000,
  );
  const requests = Number(t.stdout.match(/(\d+) requests in/)?.[1] ?? NaN);
  const at = (p: string) => {
    const m = t.stdout.match(
      new RegExp(`^\\s*${p.replace(".", "\\.")}%\\s+([\\d.]+)(us|ms|s)`, "m"),
    );
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === "us" ? 1e-3 : m[2] === "s" ? 1e3 : 1);
  };
  if (t.code !== 0 || !Number.isFinite(requests)) {
    throw new Error(`wrk2 failed (exit ${t.code}): ${t.stderr.slice(-400)}`);
  }
  const errors = Number(t.stdout.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0) +
    Number(
      t.stdout.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/)
        ?.slice(1).reduce((a, b) => a + Number(b), 0) ?? 0,
    );
  return {
    requests,
    errors,
    cpuSeconds: t.cpuSeconds,
    wallSeconds: t.wallSeconds,
    lagP50Ms: NaN,
    lagP99Ms: NaN,
    serviceP50Ms: NaN,
    serviceP99Ms: NaN,
    responseP50Ms: round(at("50.000")),
    responseP99Ms: round(at("99.000")),
    achievedRate: round(Number(t.stdout.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN), 1),
  };
}

async function runVegeta(
  vegeta: string,
  targets: string,
  rate: number,
  seconds: number,
  dir: string,
): Promise<RunFigures> {
  const out = join(dir, "vegeta.bin");
  const t = await runTimed([
    vegeta,
    "attack",
    "-format=json",
    `-targets=${targets}`,
    `-rate=${rate}/s`,
    `-duration=${seconds}s`,
    "-timeout=10s",
    `-output=${out}`,
  ], (seconds + 60) * 1000);
  if (t.code !== 0) throw new Error(`vegeta failed (exit ${t.code}): ${t.stderr.slice(-400)}`);
  const enc = await new Deno.Command(vegeta, {
    args: ["encode", "--to", "json", out],
    stdout: "piped",
  })
    .output();
  const rows = new TextDecoder().decode(enc.stdout).trim().split("\n").filter((l) => l)
    .map((l) => JSON.parse(l) as { timestamp: string; latency: number; code: number });
  const sends = rows.map((r) => ({ at: epochNs(r.timestamp), lat: r.latency, code: r.code }))
    .sort((a, b) => a.at - b.at);
  const n = sends.length;
  const lag = new Float64Array(n), service = new Float64Array(n), response = new Float64Array(n);
  const t0 = n > 0 ? sends[0].at : 0;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1e9) / rate;
    lag[i] = Math.max(0, sends[i].at - due) / 1e6;
    service[i] = sends[i].lat / 1e6;
    response[i] = lag[i] + service[i];
    if (sends[i].code < 200 || sends[i].code > 299) errors++;
  }
  lag.sort();
  service.sort();
  response.sort();
  const span = n > 0 ? (sends[n - 1].at - t0) / 1e9 + 1 / rate : 0;
  return {
    requests: n,
    errors,
    cpuSeconds: t.cpuSeconds,
    wallSeconds: t.wallSeconds,
    lagP50Ms: round(pct(lag, 50)),
    lagP99Ms: round(pct(lag, 99)),
    serviceP50Ms: round(pct(service, 50)),
    serviceP99Ms: round(pct(service, 99)),
    responseP50Ms: round(pct(response, 50)),
    responseP99Ms: round(pct(response, 99)),
    achievedRate: span > 0 ? round(n / span, 1) : 0,
  };
}

const MAX_RATE_SECONDS = 5;
const MAX_RATE_STEPS = [2_000, 5_000, 10_000, 15_000, 20_000, 30_000];

/**
 * What wrk (closed loop, no rate limit: one thread, `connections` keep-alive connections) gets
 * from the server in `seconds`: the server's capacity on this host, the yardstick for the
 * maximum paced rate when the server cannot take 20,000 ops/s.
 */
async function wrkCapacity(
  wrk: string,
  url: string,
  connections: number,
  seconds: number,
): Promise<{ rate: number; cpuSeconds: number }> {
  const r = await runTimed(
    [wrk, "-t", "1", "-c", String(connections), "-d", `${seconds}s`, url + "/"],
    (seconds + 30) * 1000,
  );
  const m = r.stdout.match(/Requests\/sec:\s+([\d.]+)/);
  if (r.code !== 0 || !m) throw new Error(`wrk failed (exit ${r.code}): ${r.stderr.trim()}`);
  return { rate: Number(m[1]), cpuSeconds: r.cpuSeconds };
}

/** The highest rate of the steps run with lag P99 < 1 ms and the achieved rate within 0.5%. */
async function maxPacedRate(
  ctx: BenchContext,
  run: (rate: number) => Promise<RunFigures>,
): Promise<number> {
  let best = 0, failed = false;
  // Every step runs (the figures above the limit say how it degrades); the best rate is the last
  // of an unbroken run of passing steps.
  for (const rate of MAX_RATE_STEPS) {
    const f = await run(rate);
    const ok = f.lagP99Ms < 1 && Math.abs(f.achievedRate - rate) <= rate * 0.005 && f.errors === 0;
    ctx.log(
      `  ${rate}/s: lag P99 ${f.lagP99Ms} ms, response P99 ${f.responseP99Ms} ms, achieved ${f.achievedRate}/s, ` +
        `CPU ${round(f.cpuSeconds, 2)} s, errors ${f.errors} → ${ok ? "ok" : "no"}`,
    );
    if (!ok) failed = true;
    if (ok && !failed) best = rate;
  }
  return best;
}

function row(tool: string, payload: Payload, rate: number, rep: number, f: RunFigures): Row {
  return {
    tool,
    payload,
    rate,
    rep,
    requests: f.requests,
    errors: f.errors,
    "cpu s/1k req": round(f.cpuSeconds / (f.requests / 1000), 4),
    "core %": round((100 * f.cpuSeconds) / f.wallSeconds, 1),
    "lag P50/P99 ms": Number.isNaN(f.lagP50Ms) ? "–" : `${f.lagP50Ms} / ${f.lagP99Ms}`,
    "service P50/P99 ms": Number.isNaN(f.serviceP50Ms)
      ? "–"
      : `${f.serviceP50Ms} / ${f.serviceP99Ms}`,
    "response P50/P99 ms": `${f.responseP50Ms} / ${f.responseP99Ms}`,
    "achieved /s": f.achievedRate,
  };
}

/** The benchmark. */
export const engine: Benchmark = {
  name: "engine",
  title: "Load engine: m17 vs vegeta, CPU and pacing",
  goal:
    "CPU/request ≤ vegeta's at 1,000 and 5,000 ops/s; ≤ 15% of a core at 1,000 ops/s; lag P99 ≤ 1 ms",
  async run(ctx: BenchContext) {
    const vegeta = await ensureVegeta(ctx.log);
    const seconds = ctx.quick ? 5 : 20;
    const reps = ctx.quick ? 1 : 2;
    // ENGINE_MAX_RATE_ONLY=1: only the maximum-paced-rate search (and wrk's capacity).
    const payloads: Payload[] = Deno.env.get("ENGINE_MAX_RATE_ONLY") === "1"
      ? []
      : ctx.quick
      ? ["light"]
      : ["light", "baseline"];
    const server = new ServerProcess("json server", Deno.execPath(), ["eval", SERVER_CODE], {});
    const url = (await server.waitForLine(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1];
    const rows: Row[] = [];
    const data: Record<string, unknown>[] = [];
    const verdicts: string[] = [];
    try {
      for (const payload of payloads) {
        for (const rate of [1000, 5000]) {
          const targets = join(ctx.workDir, `targets_${payload}.jsonl`);
          await writeTargets(url, payload, Math.min(rate * seconds, 20_000), targets);
          const m17Cpu: number[] = [], denoCpu: number[] = [], vegCpu: number[] = [];
          for (let rep = 1; rep <= reps; rep++) {
            ctx.log(`${payload} ${rate}/s rep ${rep}: m17`);
            const m = await runM17(url, payload, rate, seconds, 1);
            rows.push(row("m17", payload, rate, rep, m));
            data.push({ tool: "m17", payload, rate, rep, ...m });
            m17Cpu.push(m.cpuSeconds / m.requests);
            ctx.log(`${payload} ${rate}/s rep ${rep}: m17 on Deno's sockets (M17_IO=deno)`);
            const md = await runM17(url, payload, rate, seconds, 1, "deno");
            rows.push(row("m17 M17_IO=deno", payload, rate, rep, md));
            data.push({ tool: "m17 M17_IO=deno", payload, rate, rep, ...md });
            denoCpu.push(md.cpuSeconds / md.requests);
            ctx.log(`${payload} ${rate}/s rep ${rep}: vegeta`);
            const v = await runVegeta(vegeta, targets, rate, seconds, ctx.workDir);
            rows.push(row("vegeta", payload, rate, rep, v));
            data.push({ tool: "vegeta", payload, rate, rep, ...v });
            vegCpu.push(v.cpuSeconds / v.requests);
          }
          const ratio = median(m17Cpu) / median(vegCpu);
          verdicts.push(`${payload} ${rate}/s: m17/vegeta CPU per request ${round(ratio, 2)}`);
          verdicts.push(
            `${payload} ${rate}/s: m17 on Deno's sockets/vegeta CPU per request ${
              round(median(denoCpu) / median(vegCpu), 2)
            } (informational)`,
          );
          const wrk2 = Deno.env.get("WRK2");
          if (wrk2 && payload === "light") {
            const w2Cpu: number[] = [];
            for (let rep = 1; rep <= reps; rep++) {
              ctx.log(`${payload} ${rate}/s rep ${rep}: wrk2 (GET /)`);
              const w = await runWrk2(wrk2, url, rate, seconds);
              rows.push(row("wrk2 (GET /)", payload, rate, rep, w));
              data.push({ tool: "wrk2", payload, rate, rep, ...w });
              w2Cpu.push(w.cpuSeconds / w.requests);
            }
            verdicts.push(
              `${payload} ${rate}/s: m17/wrk2 CPU per request ${
                round(median(m17Cpu) / median(w2Cpu), 2)
              } (informational)`,
            );
          }
        }
      }
    } finally {
      await server.stop(2000);
    }
    const met = verdicts.filter((v) => v.includes("m17/vegeta CPU per request"))
      .every((v) => Number(v.split(" ").at(-1)) <= 1);
    if (!ctx.quick) {
      const server2 = new ServerProcess("json server", Deno.execPath(), ["eval", SERVER_CODE], {});
      const url2 =
        (await server2.waitForLine(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1];
      try {
        const targets = join(ctx.workDir, "targets_light_max.jsonl");
        await writeTargets(url2, "light", 20_000, targets);
        const wrk = await ensureWrk(ctx.log);
        for (const connections of [1, 16]) {
          const w = await wrkCapacity(wrk, url2, connections, MAX_RATE_SECONDS);
          ctx.log(`  wrk -t 1 -c ${connections}: ${round(w.rate, 0)} req/s closed loop`);
          rows.push({
            tool: `wrk -t 1 -c ${connections} (closed loop)`,
            payload: "GET /",
            "closed-loop req/s": round(w.rate, 0),
            "cpu s/1k req": round(w.cpuSeconds / (w.rate * MAX_RATE_SECONDS / 1000), 4),
          });
          data.push({ tool: "wrk", connections, closedLoopRate: w.rate, cpuSeconds: w.cpuSeconds });
          verdicts.push(`wrk -c ${connections} closed loop ${round(w.rate, 0)}/s`);
        }
        for (const tool of ["m17 1 worker", "m17 2 workers", "vegeta"] as const) {
          const best = await maxPacedRate(
            ctx,
            (rate) =>
              tool === "vegeta"
                ? runVegeta(vegeta, targets, rate, MAX_RATE_SECONDS, ctx.workDir)
                : runM17(url2, "light", rate, MAX_RATE_SECONDS, tool === "m17 1 worker" ? 1 : 2),
          );
          rows.push({ tool, payload: "light", "max paced /s (lag P99 < 1 ms, rate ±0.5%)": best });
          data.push({ tool, maxPacedRate: best });
          verdicts.push(`${tool} max paced ${best}/s`);
        }
      } finally {
        await server2.stop(2000);
      }
    }
    const verdict = payloads.length === 0 ? "max-rate search only" : met ? "met" : "not met";
    return { verdict, summary: verdicts.join("; "), rows, data };
  },
};

if (import.meta.main) {
  const [mode, ...rest] = Deno.args;
  if (mode !== "child" || rest.length !== 5) {
    console.error("usage: bench/engine.ts child URL SCENARIO RATE SECONDS WORKERS");
    Deno.exit(3);
  }
  await childMain(rest);
  Deno.exit(0);
}
