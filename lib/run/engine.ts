/**
 * Runs one load across N worker threads (`--workers N`): worker k sends requests k, k + N, … of
 * the single-worker run (same bytes, same due offsets; lib/run/shard.ts), each with its own
 * connections, pacer and histograms; the results are merged exactly (lib/run/merge.ts). With one
 * worker the driver runs on this thread, as before.
 * @module
 */
import type { IntervalSummary } from "../report/schema.ts";
import type { Scenario } from "../workload/scenario.ts";
import { makeSchedule } from "../workload/schedule.ts";
import type { Workload } from "../workload/ops.ts";
import {
  type DriverOptions,
  type IoUsed,
  type LoadResult,
  type Progress,
  runLoad,
} from "./driver.ts";
import { fromWire, mergeIo, mergeResults, mergeSecond, type WireLoadResult } from "./merge.ts";
import type { Shard } from "./shard.ts";

/** The run a worker is asked to make. */
export interface WorkerStart {
  type: "start";
  scenario: Scenario;
  shard: Shard;
  warmupSeconds: number;
  durationSeconds: number;
  baseUrl: string;
  timeoutMs: number;
  maxInFlight: number;
}

/** Messages to a worker: prepare, then start the schedule at one instant shared by all. */
export type ToWorker =
  | WorkerStart
  | { type: "go"; startAtEpochMs: number }
  | { type: "abort" };

/** Messages from a worker. */
export type FromWorker =
  /** Prepared, with the sockets and clock it chose (it chooses for itself: `reactorFor`). */
  | { type: "ready"; io: IoUsed }
  | { type: "phase"; phase: "warmup" | "measured" }
  | { type: "progress"; progress: Progress }
  | { type: "interval"; interval: IntervalSummary }
  | { type: "done"; result: WireLoadResult }
  | { type: "failed"; message: string };

/** How far ahead of the last worker's readiness the shared schedule starts. */
const START_AHEAD_MS = 50;

/** A load run: the scenario's warm-up and measured window, split over `workers`. */
export interface EngineOptions extends DriverOptions {
  scenario: Scenario;
  /** The scenario's workload on this thread (worker threads build their own from the scenario). */
  workload: Workload;
  warmupSeconds: number;
  durationSeconds: number;
  /** Worker threads (1 = pace on this thread). */
  workers: number;
}

/** Runs the warm-up and the measured window of `o.scenario`; one merged result. */
export function runEngine(o: EngineOptions): Promise<LoadResult> {
  if (o.workers <= 1) {
    const w = o.workload;
    return runLoad({
      ...o,
      warmup: { stream: w.stream("warmup"), seconds: o.warmupSeconds },
      measured: { stream: w.stream("measured"), seconds: o.durationSeconds },
      schedule: () => makeSchedule(o.scenario.arrival, o.scenario.seed),
    });
  }
  return runWorkers(o);
}

async function runWorkers(o: EngineOptions): Promise<LoadResult> {
  const n = o.workers;
  const url = new URL("./load_worker.ts", import.meta.url);
  const workers = Array.from(
    { length: n },
    () => new Worker(url, { type: "module" }),
  );
  const onAbort = () => workers.forEach((w) => w.postMessage({ type: "abort" } satisfies ToWorker));
  o.signal?.addEventListener("abort", onAbort);
  const progress: (Progress | undefined)[] = new Array(n);
  const openSeconds = new Map<number, IntervalSummary[]>();
  const emitted = new Set<number>();
  const announced = new Set<"warmup" | "measured">();
  const chosen: IoUsed[] = [];
  try {
    const parts = await Promise.all(
      workers.map((w, k) =>
        new Promise<LoadResult>((resolve, reject) => {
          w.onerror = (e) => {
            e.preventDefault();
            reject(new Error(`load worker ${k} failed: ${e.message}`));
          };
          w.onmessage = (e: MessageEvent<FromWorker>) => {
            const m = e.data;
            switch (m.type) {
              case "ready":
                // All loaded: say which sockets they chose, then one start instant a little
                // ahead, the same for every worker.
                chosen.push(m.io);
                if (chosen.length === n) {
                  o.onIo?.(mergeIo(chosen));
                  const go: ToWorker = {
                    type: "go",
                    startAtEpochMs: Date.now() + START_AHEAD_MS,
                  };
                  workers.forEach((x) => x.postMessage(go));
                }
                break;
              case "phase":
                // Announce a phase once, when the first worker enters it.
                if (!announced.has(m.phase)) {
                  announced.add(m.phase);
                  o.onPhaseStart?.(m.phase);
                }
                break;
              case "progress":
                progress[k] = m.progress;
                if (k === 0) o.onProgress?.(sumProgress(progress));
                break;
              case "interval": {
                const same = openSeconds.get(m.interval.second) ?? [];
                same.push(m.interval);
                openSeconds.set(m.interval.second, same);
                if (same.length === n) {
                  openSeconds.delete(m.interval.second);
                  emitted.add(m.interval.second);
                  o.onInterval?.(mergeSecond(same));
                }
                break;
              }
              case "done":
                resolve(fromWire(m.result));
                break;
              case "failed":
                reject(new Error(`load worker ${k} failed: ${m.message}`));
                break;
            }
          };
          const start: WorkerStart = {
            type: "start",
            scenario: o.scenario,
            shard: { index: k, count: n },
            warmupSeconds: o.warmupSeconds,
            durationSeconds: o.durationSeconds,
            baseUrl: o.baseUrl,
            timeoutMs: o.timeoutMs,
            maxInFlight: Math.max(1, Math.ceil(o.maxInFlight / n)),
          };
          w.postMessage(start);
        })
      ),
    );
    const merged = mergeResults(parts, o.scenario.arrival.rate);
    // Seconds some worker had no request in were never complete above: announce them now.
    for (const i of merged.intervals) {
      if (!emitted.has(i.second)) o.onInterval?.(i);
    }
    return merged;
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    for (const w of workers) w.terminate();
  }
}

/** All workers' latest progress as one (P99 so far: the largest worker's, for display). */
function sumProgress(ps: (Progress | undefined)[]): Progress {
  const first = ps[0]!;
  let completed = 0, errors = 0, inFlight = 0, p99 = 0;
  for (const p of ps) {
    if (p === undefined) continue;
    completed += p.completedLastSecond;
    errors += p.errors;
    inFlight += p.inFlight;
    p99 = Math.max(p99, p.p99SoFarMs);
  }
  return {
    ...first,
    completedLastSecond: completed,
    errors,
    inFlight,
    p99SoFarMs: p99,
  };
}
