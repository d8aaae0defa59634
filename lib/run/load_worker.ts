/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * One worker of a multi-worker run (lib/run/engine.ts): rebuilds the op streams and the schedule
 * from the scenario, keeps its share (lib/run/shard.ts), runs the ordinary driver on it with its
 * own connections, pacer and histograms, and posts progress, closed seconds and its result.
 * @module
 */
import { makeSchedule } from "../workload/schedule.ts";
import { Workload } from "../workload/ops.ts";
import { runLoad } from "./driver.ts";
import { toWire } from "./merge.ts";
import { shardOps, shardSchedule } from "./shard.ts";
import { sleepWaker, type Waker } from "../shared/waker.ts";
import { type ReactorChoice, reactorFor } from "./epoll.ts";
import type { ToWorker, WorkerStart } from "./engine.ts";
import type { FromWorker } from "./engine.ts";

const abort = new AbortController();
const post = (m: FromWorker) => self.postMessage(m);

let prepared: { s: WorkerStart; w: Workload; io: ReactorChoice; waker: Waker | undefined } | null =
  null;

async function run(
  s: WorkerStart,
  w: Workload,
  io: ReactorChoice,
  waker: Waker | undefined,
  startAtEpochMs: number,
): Promise<void> {
  const ops = (name: "warmup" | "measured") => shardOps(w.stream(name), s.shard);
  const result = await runLoad({
    startAtEpochMs,
    io,
    waker,
    warmup: { stream: ops("warmup"), seconds: s.warmupSeconds },
    measured: { stream: ops("measured"), seconds: s.durationSeconds },
    schedule: () => shardSchedule(makeSchedule(s.scenario.arrival, s.scenario.seed), s.shard),
    baseUrl: s.baseUrl,
    timeoutMs: s.timeoutMs,
    maxInFlight: s.maxInFlight,
    signal: abort.signal,
    onPhaseStart: (phase) => post({ type: "phase", phase }),
    onProgress: (progress) => post({ type: "progress", progress }),
    onInterval: (interval) => post({ type: "interval", interval }),
  });
  post({ type: "done", result: toWire(result) });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === "abort") abort.abort();
  else if (m.type === "start") {
    // The sockets and clock are chosen, and a ticker thread (Deno's sockets only) started, here,
    // before "ready": a ticker started after "go" (a nested Worker, ~1 s with two load workers
    // starting theirs at once on 2 cores) made the first second of the shared schedule late (lag
    // P99 928 ms at 2,000 ops/s over 2 workers).
    const io = reactorFor(m.baseUrl);
    const waker = io.kind === "deno" ? sleepWaker() : undefined;
    prepared = { s: m, w: new Workload(m.scenario), io, waker };
    const used = io.kind === "epoll"
      ? { kind: "epoll" as const }
      : { kind: "deno" as const, why: io.why };
    (waker?.ready ?? Promise.resolve()).then(() => post({ type: "ready", io: used }));
  } else if (prepared !== null) {
    run(prepared.s, prepared.w, prepared.io, prepared.waker, m.startAtEpochMs).catch((err) =>
      post({
        type: "failed",
        message: err instanceof Error ? err.stack ?? err.message : String(err),
      })
    );
  }
};
