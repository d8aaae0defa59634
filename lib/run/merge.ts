/**
 * Merging the results of several workers into one run, exactly: counts add, histograms add
 * (HdrHistogram add, no percentile of percentiles), per-second intervals are merged by second.
 * Results cross the thread boundary in a wire form with the histograms encoded (HdrHistogram's
 * compressed V2 encoding keeps every count).
 * @module
 */
import { LatencyHistogram } from "../report/histogram.ts";
import type { IntervalSummary } from "../report/schema.ts";
import { OP_KINDS, type OpKind } from "../workload/scenario.ts";
import type { IoUsed, LoadResult, OpTally } from "./driver.ts";
import { newTally } from "./tallies.ts";

/** An `OpTally` with its histograms encoded. */
export interface WireTally extends Omit<OpTally, "response" | "service"> {
  response: string;
  service: string;
}

/** A `LoadResult` that can be posted between threads. */
export interface WireLoadResult
  extends Omit<LoadResult, "response" | "service" | "lag" | "generatorLag" | "perOp"> {
  response: string;
  service: string;
  lag: string;
  generatorLag: string;
  perOp: Record<OpKind, WireTally>;
}

/** Encodes a result for `postMessage`. */
export function toWire(r: LoadResult): WireLoadResult {
  const perOp = Object.fromEntries(
    OP_KINDS.map((k) => {
      const t = r.perOp[k];
      return [k, { ...t, response: t.response.encode(), service: t.service.encode() }];
    }),
  ) as Record<OpKind, WireTally>;
  return {
    ...r,
    response: r.response.encode(),
    service: r.service.encode(),
    lag: r.lag.encode(),
    generatorLag: r.generatorLag.encode(),
    perOp,
  };
}

/** Decodes a posted result. */
export function fromWire(w: WireLoadResult): LoadResult {
  const d = LatencyHistogram.decode;
  const perOp = Object.fromEntries(
    OP_KINDS.map((k) => {
      const t = w.perOp[k];
      return [k, { ...t, response: d(t.response), service: d(t.service) }];
    }),
  ) as Record<OpKind, OpTally>;
  return {
    ...w,
    response: d(w.response),
    service: d(w.service),
    lag: d(w.lag),
    generatorLag: d(w.generatorLag),
    perOp,
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

/**
 * One run from its workers' shares. `rate` is the whole run's rate: a worker's send span ends one
 * of its own intervals (`count / rate`) after its last send, the run's one whole-run interval.
 */
export function mergeResults(parts: LoadResult[], rate: number): LoadResult {
  if (parts.length === 1) return parts[0];
  const n = parts.length;
  const first = parts[0];
  const sum = (f: (r: LoadResult) => number) => parts.reduce((a, r) => a + f(r), 0);
  const hist = (f: (r: LoadResult) => LatencyHistogram) => {
    const h = new LatencyHistogram();
    for (const r of parts) h.add(f(r));
    return h;
  };
  const errorsByKind: Record<string, number> = {};
  for (const r of parts) addCounts(errorsByKind, r.errorsByKind);
  const perOp = Object.fromEntries(OP_KINDS.map((k) => {
    const t: OpTally = newTally();
    for (const r of parts) {
      const p = r.perOp[k];
      t.count += p.count;
      t.errors += p.errors;
      t.fallbacks += p.fallbacks;
      addCounts(t.errorsByKind, p.errorsByKind);
      t.response.add(p.response);
      t.service.add(p.service);
    }
    return [k, t];
  })) as Record<OpKind, OpTally>;
  const sent = sum((r) => r.sent);
  const lastSend = Math.max(
    ...parts.filter((r) => r.sent > 0).map((r) => r.sendSpanSeconds - n / rate),
  );
  return {
    io: mergeIo(parts.map((r) => r.io)),
    windowStartEpochMs: Math.min(...parts.map((r) => r.windowStartEpochMs)),
    durationSeconds: first.durationSeconds,
    elapsedSeconds: Math.max(...parts.map((r) => r.elapsedSeconds)),
    due: sum((r) => r.due),
    sent,
    completed: sum((r) => r.completed),
    errors: sum((r) => r.errors),
    errorsByKind,
    fallbacks: sum((r) => r.fallbacks),
    storesAccepted: sum((r) => r.storesAccepted),
    lateSends: sum((r) => r.lateSends),
    cappedSends: sum((r) => r.cappedSends),
    sendSpanSeconds: sent > 0 ? lastSend + 1 / rate : 0,
    response: hist((r) => r.response),
    service: hist((r) => r.service),
    lag: hist((r) => r.lag),
    generatorLag: hist((r) => r.generatorLag),
    perOp,
    intervals: mergeIntervals(parts.map((r) => r.intervals)),
    warmup: {
      seconds: first.warmup.seconds,
      operations: sum((r) => r.warmup.operations),
      errors: sum((r) => r.warmup.errors),
    },
    interrupted: parts.some((r) => r.interrupted),
  };
}

/** Per-second intervals of several workers, merged by second (histograms added), in order. */
export function mergeIntervals(lists: IntervalSummary[][]): IntervalSummary[] {
  const bySecond = new Map<number, IntervalSummary[]>();
  for (const list of lists) {
    for (const i of list) {
      const same = bySecond.get(i.second);
      if (same) same.push(i);
      else bySecond.set(i.second, [i]);
    }
  }
  return [...bySecond.keys()].sort((a, b) => a - b).map((s) => mergeSecond(bySecond.get(s)!));
}

/** One second's intervals from several workers as one. */
export function mergeSecond(same: IntervalSummary[]): IntervalSummary {
  if (same.length === 1) return same[0];
  const h = new LatencyHistogram();
  for (const i of same) h.add(LatencyHistogram.decode(i.histogram));
  return {
    second: same[0].second,
    count: same.reduce((a, i) => a + i.count, 0),
    errors: same.reduce((a, i) => a + i.errors, 0),
    p50_ms: h.percentileUs(50) / 1000,
    p99_ms: h.percentileUs(99) / 1000,
    max_ms: Math.max(...same.map((i) => i.max_ms)),
    completed: same.reduce((a, i) => a + i.completed, 0),
    histogram: h.encode(),
  };
}

/**
 * The sockets and clock of a run over several workers, each of which chose for itself: a
 * fallback to Deno's sockets in any of them is what the run used.
 */
export function mergeIo(ios: IoUsed[]): IoUsed {
  return ios.find((io) => io.kind === "deno") ?? ios[0];
}
