/**
 * The measured window's running totals: counts, the three latency histograms (response,
 * service, lag), per-op tallies and errors by kind. The warm-up is only counted.
 * @module
 */
import { LatencyHistogram } from "../report/histogram.ts";
import type { OpMeasurement } from "../report/measurement.ts";
import { OP_KINDS, type OpKind } from "../workload/scenario.ts";
import type { ErrorKind, RequestOutcome } from "./outcome.ts";

/** A send later than this after its due time is a late send. */
const LATE_THRESHOLD_MS = 1;

/** Per-operation tallies: what the report records of one operation kind. */
export type OpTally = OpMeasurement;

/** An empty tally: no requests, empty histograms. */
export function newTally(): OpTally {
  return {
    count: 0,
    errors: 0,
    fallbacks: 0,
    errorsByKind: {},
    response: new LatencyHistogram(),
    service: new LatencyHistogram(),
  };
}

function countError(byKind: Record<string, number>, kind: ErrorKind): void {
  byKind[kind] = (byKind[kind] ?? 0) + 1;
}

/** Totals of one load run; the driver records into it, `LoadResult` is made from it. */
export class Tallies {
  readonly response = new LatencyHistogram();
  readonly service = new LatencyHistogram();
  readonly lag = new LatencyHistogram();
  /** Lag of sends not held back by the in-flight cap: the generator's own punctuality. */
  readonly generatorLag = new LatencyHistogram();
  readonly perOp = Object.fromEntries(OP_KINDS.map((k) => [k, newTally()])) as Record<
    OpKind,
    OpTally
  >;
  readonly errorsByKind: Record<string, number> = {};
  sent = 0;
  completed = 0;
  errors = 0;
  fallbacks = 0;
  lateSends = 0;
  cappedSends = 0;
  warmupOps = 0;
  warmupErrors = 0;
  /** Stores answered 2xx in the warm-up and the measured window: what could add memories. */
  storesAccepted = 0;
  lastCompletionMs = 0;
  lastMeasuredSendMs = 0;
  /** `performance.now()` at the start of the measured window. */
  windowStartMs = 0;

  /** A measured request was sent `lagMs` after its due time; `capped` if it waited for a slot. */
  recordSend(sentMs: number, lagMs: number, capped: boolean): void {
    this.sent++;
    this.lastMeasuredSendMs = Math.max(this.lastMeasuredSendMs, sentMs);
    this.lag.recordMs(lagMs);
    if (!capped) this.generatorLag.recordMs(lagMs);
    if (lagMs > LATE_THRESHOLD_MS) this.lateSends++;
    if (capped) this.cappedSends++;
  }

  /** A warm-up request ended: counted, never timed. */
  recordWarmup(kind: OpKind, outcome: RequestOutcome): void {
    this.warmupOps++;
    if (outcome.kind === "error") this.warmupErrors++;
    if (kind === "Store" && outcome.kind === "ok") this.storesAccepted++;
  }

  /**
   * A measured request was answered (or failed) at `endMs`; `sentMs` is null for one that timed
   * out while queued. Aborted requests are not recorded.
   */
  recordAnswer(
    kind: OpKind,
    dueMs: number,
    sentMs: number | null,
    endMs: number,
    outcome: Exclude<RequestOutcome, { kind: "aborted" }>,
    fallback: boolean,
  ): void {
    this.completed++;
    this.lastCompletionMs = Math.max(this.lastCompletionMs, endMs);
    const respMs = endMs - dueMs;
    this.response.recordMs(respMs);
    const t = this.perOp[kind];
    t.count++;
    t.response.recordMs(respMs);
    if (sentMs !== null) {
      this.service.recordMs(endMs - sentMs);
      t.service.recordMs(endMs - sentMs);
    }
    if (kind === "Store" && outcome.kind === "ok") this.storesAccepted++;
    if (fallback) {
      t.fallbacks++;
      this.fallbacks++;
    }
    if (outcome.kind === "error") {
      this.errors++;
      t.errors++;
      countError(t.errorsByKind, outcome.error);
      countError(this.errorsByKind, outcome.error);
    }
  }

  /** A measured request still unanswered at the drain deadline: a timeout without a latency. */
  recordUnanswered(kind: OpKind): void {
    this.errors++;
    countError(this.errorsByKind, "timeout");
    const t = this.perOp[kind];
    t.count++;
    t.errors++;
    countError(t.errorsByKind, "timeout");
  }
}
