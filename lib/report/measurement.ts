/**
 * What a report is made of, as lib/report sees it: the measured window (the driver's result
 * satisfies `Measurement` structurally) and the target it measured. Defined here so the report
 * does not depend on the run or target code that produces them.
 * @module
 */
import type { LatencyHistogram } from "./histogram.ts";
import type { IntervalSummary, RunReport } from "./schema.ts";
import type { OpKind } from "../workload/scenario.ts";

/** One operation kind's tallies in the measured window. */
export interface OpMeasurement {
  count: number;
  errors: number;
  fallbacks: number;
  errorsByKind: Record<string, number>;
  /** Response times (due → response), µs. */
  response: LatencyHistogram;
  /** Service times (send → response), µs. */
  service: LatencyHistogram;
}

/** A measured window: counts, histograms (µs) and per-second summaries. */
export interface Measurement {
  /** From window start to the last measured response (≥ duration unless interrupted). */
  elapsedSeconds: number;
  /** Measured requests due in the window (all are sent unless interrupted or expired). */
  due: number;
  sent: number;
  completed: number;
  errors: number;
  errorsByKind: Record<string, number>;
  fallbacks: number;
  /** Stores answered 2xx in the warm-up and the measured window (after the preload). */
  storesAccepted: number;
  /** Requests sent more than 1 ms after their due time. */
  lateSends: number;
  /** Requests that had to wait for an in-flight slot. */
  cappedSends: number;
  /** Send span: from window start to the last measured send, plus one interval. */
  sendSpanSeconds: number;
  response: LatencyHistogram;
  service: LatencyHistogram;
  lag: LatencyHistogram;
  /** Lag of sends not held back by the in-flight cap: the generator's own punctuality. */
  generatorLag: LatencyHistogram;
  perOp: Record<OpKind, OpMeasurement>;
  intervals: IntervalSummary[];
  warmup: { seconds: number; operations: number; errors: number };
  interrupted: boolean;
}

/** The target as a report records it (lib/target's `Target` has these fields). */
export type TargetDescription = RunReport["target"];
