/**
 * Overhead: client-measured service time minus the server's own Server-Timing (app + inject),
 * per request, at 1,000 ops/s with the baseline payloads (768 dims), against the reference server.
 *
 *   A (the tool): `runLoad` unchanged, with FetchProbe around the global `fetch` its Sender calls:
 *     fetch() call → arrayBuffer() done, minus the header's durations.
 *   B (peer, floor): a bare HTTP/1.1 client on one keep-alive socket (raw_client.ts), same ops,
 *     same rate, one request at a time: socket write → last body byte, minus the same header.
 * A and B alternate in short segments against the same server process, so both see the same
 * host load. What remains in B is loopback TCP, Deno.serve's parsing and writing outside the
 * handler, and scheduling of the two event loops; A − B is what fetch and the driver add.
 * @module
 */
import { setImmediate } from "node:timers";
import { Workload } from "../lib/workload/ops.ts";
import { type Benchmark, loadNow, round, type Row } from "./harness.ts";
import { measureLoad, scenarioAt } from "./load.ts";
import { startRef } from "./procs.ts";
import { RawHttpClient } from "./raw_client.ts";
import { type FetchPair, FetchProbe, percentile } from "./timed_fetch.ts";

const immediate = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Peer B: paced sequential requests over one raw socket; returns its pairs. */
async function rawSegment(
  url: string,
  ops: ReturnType<Workload["stream"]>,
  rate: number,
  seconds: number,
) {
  const client = await RawHttpClient.connect(url);
  const pairs: FetchPair[] = [];
  const n = Math.round(rate * seconds);
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const due = t0 + (i * 1000) / rate;
      for (let guard = 0; guard < 1_000_000; guard++) {
        const left = due - performance.now();
        if (left <= 0) break;
        if (left > 4) await sleep(left - 3);
        else await immediate();
      }
      const op = ops.next();
      const s = performance.now();
      const res = await client.request(op.method, op.path, op.body);
      const clientMs = performance.now() - s;
      const app = Number(res.head.match(/app;dur=([\d.]+)/)?.[1] ?? NaN);
      const inject = Number(res.head.match(/inject;dur=([\d.]+)/)?.[1] ?? NaN);
      const q = op.path.indexOf("?");
      pairs.push({
        route: `${op.method} ${q < 0 ? op.path : op.path.slice(0, q)}`,
        clientMs,
        serverMs: app + inject,
        appMs: app,
      });
    }
  } finally {
    client.close();
  }
  return pairs;
}

function stats(pairs: FetchPair[]) {
  const over = pairs.map((p) => p.clientMs - p.serverMs).filter(Number.isFinite);
  const client = pairs.map((p) => p.clientMs);
  const server = pairs.map((p) => p.serverMs).filter(Number.isFinite);
  const r = (x: number) => round(x, 3);
  return {
    count: pairs.length,
    overheadP50: r(percentile(over, 50)),
    overheadP99: r(percentile(over, 99)),
    overheadP999: r(percentile(over, 99.9)),
    clientP50: r(percentile(client, 50)),
    clientP99: r(percentile(client, 99)),
    serverP50: r(percentile(server, 50)),
    serverP99: r(percentile(server, 99)),
  };
}

export const overhead: Benchmark = {
  name: "overhead",
  title: "Client overhead over the server's own time",
  goal: "service time − Server-Timing (app + inject) P50 < 0.2 ms at 1,000 ops/s, 768-dim payloads",
  async run(ctx) {
    const rate = 1000;
    const segments = ctx.quick ? 1 : 4;
    const segSeconds = ctx.quick ? 2 : 5;
    const scenario = await scenarioAt("scenarios/m17_baseline.toml", rate);
    const server = await startRef(768);
    const probe = new FetchProbe();
    const a: FetchPair[] = [], b: FetchPair[] = [];
    const driverService: number[] = [];
    const loads: string[] = [];
    const rawOps = new Workload(scenario).stream("measured");
    try {
      // Warm both paths (JIT, connection pool, server) before anything is kept.
      await measureLoad({
        url: server.url,
        source: { scenario },
        rate,
        seconds: 2,
        warmupSeconds: 0,
      });
      await rawSegment(server.url, new Workload(scenario).stream("warmup"), rate, 1);
      for (let s = 0; s < segments; s++) {
        const { result } = await measureLoad({
          url: server.url,
          source: { scenario },
          rate,
          seconds: segSeconds,
          warmupSeconds: 0,
          probe,
        });
        a.push(...probe.pairs);
        driverService.push(result.service.percentileUs(50) / 1000);
        b.push(...await rawSegment(server.url, rawOps, rate, segSeconds));
        loads.push(loadNow());
        ctx.log(
          `overhead segment ${s + 1}/${segments}: A ${a.length} pairs, B ${b.length} pairs, load ${
            loads.at(-1)
          }`,
        );
      }
    } finally {
      await server.stop();
    }
    const sa = stats(a), sb = stats(b);
    const rows: Row[] = [
      {
        client: "A: runLoad + fetch (the tool)",
        ...sa,
        load: loads.map((l) => l.split(" / ")[0]).join(", "),
      },
      { client: "B: raw socket (floor)", ...sb, load: "" },
      {
        client: "ratio A / B",
        count: "",
        overheadP50: round(sa.overheadP50 / sb.overheadP50, 2),
        overheadP99: round(sa.overheadP99 / sb.overheadP99, 2),
        overheadP999: round(sa.overheadP999 / sb.overheadP999, 2),
        clientP50: round(sa.clientP50 / sb.clientP50, 2),
        clientP99: round(sa.clientP99 / sb.clientP99, 2),
        serverP50: round(sa.serverP50 / sb.serverP50, 2),
        serverP99: round(sa.serverP99 / sb.serverP99, 2),
      },
    ];
    const routes = [...new Set(a.map((p) => p.route))].sort();
    for (const route of routes) {
      const ra = stats(a.filter((p) => p.route === route));
      const rb = stats(b.filter((p) => p.route === route));
      rows.push({
        client: `  ${route}: A / B`,
        count: `${ra.count} / ${rb.count}`,
        overheadP50: `${ra.overheadP50} / ${rb.overheadP50}`,
        overheadP99: `${ra.overheadP99} / ${rb.overheadP99}`,
      });
    }
    const driverP50 = round(percentile(driverService, 50), 3);
    return {
      verdict: sa.overheadP50 < 0.2 ? "met" : "not met",
      summary:
        `overhead P50 ${sa.overheadP50} ms, P99 ${sa.overheadP99} ms (tool) vs ${sb.overheadP50} / ${sb.overheadP99} ms (raw-socket floor): ratio ${
          round(sa.overheadP50 / sb.overheadP50, 2)
        }× at P50; driver's own service-time P50 ${driverP50} ms (median of segments) vs probe client P50 ${sa.clientP50} ms`,
      rows,
      data: {
        rate,
        segments,
        segSeconds,
        a: sa,
        b: sb,
        driverServiceP50PerSegment: driverService,
        loads,
      },
    };
  },
};
