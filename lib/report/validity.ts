/**
 * Every rule that marks a run invalid, in one place. Invalid means the instrument failed, never
 * that the server was slow: the generator fell behind on its own, the run was interrupted, the
 * target died, preload failed, or too many requests got no answer for the latencies to mean
 * anything. Rules are pure functions from measured facts to typed reasons; `describeReason`
 * gives the text stored in the report's `invalid_reasons`.
 *
 * @example
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * import { describeReason, windowValidity } from "./validity.ts";
 * const { reasons } = windowValidity({
 *   interrupted: false, due: 1000, sent: 1000, achievedRate: 1000, targetRate: 1000,
 *   arrival: "constant", cappedSends: 0, generatorLagP99Ms: 25,
 * });
 * deepStrictEqual(reasons, [{ kind: "generator_lag", lagP99Ms: 25 }]);
 * strictEqual(
 *   describeReason(reasons[0]),
 *   "the load generator fell behind: schedule lag P99 25.0 ms > 10 ms (host overloaded?)",
 * );
 * ```
 * @module
 */
import { match } from "ts-pattern";

/** Generator lag P99 above this means the load generator could not keep its schedule. */
export const GENERATOR_LAG_P99_LIMIT_MS = 10;
/** Mean host CPU busy (% of all cores) at or above which a lagging generator is blamed on it. */
export const HOST_CPU_SATURATED_PCT = 90;
/** Allowed relative shortfall of the achieved send rate. */
export const RATE_TOLERANCE = 0.01;
/** Share of measured requests without an answer (timeout, no connection) that makes a run invalid. */
export const UNANSWERED_LIMIT = 0.01;

/** Where a run was when it was interrupted (the stage named in the message). */
export type RunStage =
  | "target start-up"
  | "preload"
  | "the capacity search"
  | "warm-up"
  | "the measured window";

/** A signal (SIGINT, SIGTERM) stopped the run during `stage`; `signal` null when unnamed. */
export interface Interrupted {
  kind: "interrupted";
  signal: string | null;
  stage: RunStage;
}

/** The target stopped being usable (`death` is the target's own description). */
export interface TargetDied {
  kind: "target_died";
  death: string;
  during: "preload" | "the run";
}

/** Why a run's numbers cannot be trusted; `describeReason` renders each. */
export type InvalidReason =
  | Interrupted
  | TargetDied
  | { kind: "preload_errors"; errors: number; firstError: string | null }
  /** The run stopped before warm-up (interrupted or target dead during preload). */
  | { kind: "no_measured_window"; cause: Interrupted | TargetDied }
  | { kind: "window_interrupted" }
  | { kind: "off_schedule"; achievedRate: number; targetRate: number }
  /** `hostCpuPct`: the host's mean CPU busy when it was saturated (≥ 90%), else absent. */
  | { kind: "generator_lag"; lagP99Ms: number; hostCpuPct?: number }
  | {
    kind: "unanswered";
    timeouts: number;
    refused: number;
    requests: number;
    timeoutMs: number;
  };

/** Facts a reader should know that do not invalidate the run. */
export type RunNote =
  | { kind: "capped_sends"; achievedRate: number; targetRate: number; cappedSends: number }
  /**
   * More than 1% of the due requests were never sent: each waited a whole timeout for an
   * in-flight slot (the server held every slot) and counts as a timeout.
   */
  | { kind: "unsent"; sent: number; due: number }
  /** The server did not keep up: a measurement (errors, censored percentiles), not a failure. */
  | { kind: "saturated"; timeouts: number; requests: number; timeoutMs: number };

/** The report text of a reason (byte-identical to what reports have always stored). */
export function describeReason(r: InvalidReason): string {
  return match(r)
    .with(
      { kind: "interrupted" },
      (i) => `interrupted by ${i.signal ?? "a signal"} during ${i.stage}`,
    )
    .with({ kind: "target_died" }, (d) => `${d.death} during ${d.during}`)
    .with(
      { kind: "preload_errors" },
      (p) => `preload had ${p.errors} errors (first: ${p.firstError})`,
    )
    .with({ kind: "no_measured_window" }, (n) => `${describeReason(n.cause)}: no measured window`)
    .with({ kind: "window_interrupted" }, () => "run interrupted before the measured window ended")
    .with(
      { kind: "off_schedule" },
      (o) =>
        `${
          rateOffTarget(o.achievedRate, o.targetRate)
        }: the load generator did not send on schedule`,
    )
    .with(
      { kind: "generator_lag" },
      (g) =>
        g.hostCpuPct === undefined
          ? `the load generator fell behind: schedule lag P99 ${
            g.lagP99Ms.toFixed(1)
          } ms > ${GENERATOR_LAG_P99_LIMIT_MS} ms (host overloaded?)`
          : `the load generator fell behind while the host's CPU was saturated (${
            g.hostCpuPct.toFixed(0)
          }% busy on average): schedule lag P99 ${
            g.lagP99Ms.toFixed(1)
          } ms > ${GENERATOR_LAG_P99_LIMIT_MS} ms; pin the generator and the server to ` +
            `disjoint CPUs (--client-cpus/--server-cpus), run the generator on another host ` +
            `with --url, or lower the rate`,
    )
    .with({ kind: "unanswered" }, (u) => {
      const missing = u.timeouts + u.refused;
      return `${missing} of ${u.requests} requests (${
        ((100 * missing) / u.requests).toFixed(1)
      }%) got no answer (${u.timeouts} timed out after ${u.timeoutMs} ms, ${u.refused} could not connect): ` +
        `over ${UNANSWERED_LIMIT * 100}%, the percentiles are not response times`;
    })
    .exhaustive();
}

/** The report text of a note. */
export function describeNote(n: RunNote): string {
  return match(n)
    .with(
      { kind: "capped_sends" },
      (c) =>
        `${
          rateOffTarget(c.achievedRate, c.targetRate)
        }: ${c.cappedSends} requests waited for one of the --max-in-flight slots; their response times include that wait`,
    )
    .with(
      { kind: "unsent" },
      (u) =>
        `sent ${u.sent} of ${u.due} due requests: the other ${
          u.due - u.sent
        } waited a whole timeout for one of the --max-in-flight slots (the server held them all) and count as timeouts`,
    )
    .with({ kind: "saturated" }, (x) => saturationText(x.timeouts, x.requests, x.timeoutMs))
    .exhaustive();
}

/** `server saturated, 86% of requests timed out after 10 s; percentiles are censored …`. */
export function saturationText(timeouts: number, requests: number, timeoutMs: number): string {
  const pct = (100 * timeouts / Math.max(1, requests)).toFixed(0);
  const after = timeoutMs % 1000 === 0 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`;
  return `server saturated, ${pct}% of requests timed out after ${after}; percentiles are censored at the timeout`;
}

/**
 * A saturated server: more than `UNANSWERED_LIMIT` of the requests timed out (sent, or still
 * waiting for a slot). A measurement of the server, never a reason to call the run invalid.
 */
export function saturationNote(
  f: { errorsByKind: Record<string, number>; sent: number; completed: number; due: number },
  timeoutMs: number,
): RunNote | null {
  const timeouts = f.errorsByKind.timeout ?? 0;
  const requests = Math.max(f.due, f.sent, f.completed, 1);
  return timeouts > requests * UNANSWERED_LIMIT
    ? { kind: "saturated", timeouts, requests, timeoutMs }
    : null;
}

function rateOffTarget(achievedRate: number, targetRate: number): string {
  return `achieved send rate ${
    achievedRate.toFixed(1)
  } ops/s is more than 1% off the target ${targetRate} ops/s`;
}

/** What the measured window tells about the generator's own punctuality. */
export interface WindowFacts {
  interrupted: boolean;
  /** Measured requests due in the window, and how many were sent. */
  due: number;
  sent: number;
  /** Sends per second over the send span. */
  achievedRate: number;
  targetRate: number;
  /** The scenario's arrival pattern; only a constant rate has a target to miss. */
  arrival: string;
  /** Requests that waited for an in-flight slot. */
  cappedSends: number;
  /** Schedule lag P99 of sends not held by the in-flight cap. */
  generatorLagP99Ms: number;
  /** The host's mean CPU busy over the run (% of all cores, from the system samples), if known. */
  hostCpuPct?: number | null;
}

/**
 * The window's reasons (in report order) and notes. Invalid only when the instrument failed: the
 * run was interrupted, or the generator itself missed a constant rate or fell behind its
 * schedule. A server that held every in-flight slot is a measurement, said in a note: requests
 * that waited a whole timeout for a slot and were never sent (the only way a request of an
 * uninterrupted window stays unsent), and a rate missed because sends waited for slots.
 */
export function windowValidity(f: WindowFacts): { reasons: InvalidReason[]; notes: RunNote[] } {
  const reasons: InvalidReason[] = [];
  const notes: RunNote[] = [];
  if (f.interrupted) reasons.push({ kind: "window_interrupted" });
  const unsent = f.interrupted ? 0 : Math.max(0, f.due - f.sent);
  if (f.due > 0 && unsent > f.due * RATE_TOLERANCE) {
    notes.push({ kind: "unsent", sent: f.sent, due: f.due });
  }
  if (
    !f.interrupted && f.arrival === "constant" && f.sent > 0 &&
    Math.abs(f.achievedRate - f.targetRate) > f.targetRate * RATE_TOLERANCE
  ) {
    const rates = { achievedRate: f.achievedRate, targetRate: f.targetRate };
    if (f.cappedSends + unsent > f.sent * RATE_TOLERANCE) {
      notes.push({ kind: "capped_sends", ...rates, cappedSends: f.cappedSends });
    } else {
      reasons.push({ kind: "off_schedule", ...rates });
    }
  }
  if (f.generatorLagP99Ms > GENERATOR_LAG_P99_LIMIT_MS) {
    const cpu = f.hostCpuPct ?? null;
    reasons.push(
      cpu !== null && cpu >= HOST_CPU_SATURATED_PCT
        ? { kind: "generator_lag", lagP99Ms: f.generatorLagP99Ms, hostCpuPct: cpu }
        : { kind: "generator_lag", lagP99Ms: f.generatorLagP99Ms },
    );
  }
  return { reasons, notes };
}

/** What `unansweredReason` needs from a measured window. */
export interface AnswerFacts {
  errorsByKind: Record<string, number>;
  sent: number;
  completed: number;
}

/**
 * Why a run's latencies are not measurements: more than 1% of its requests never reached the
 * target (no TCP connection: refused, unreachable). Every answer is a measurement of the server,
 * never a failed instrument: an HTTP error status, a body that is not the API's (`bad_response`),
 * bytes that are not HTTP (`malformed_response`), a connection closed mid-response
 * (`connection_closed`), and a server too slow to answer (`timeout`, see `saturationNote`).
 */
export function unansweredReason(f: AnswerFacts, timeoutMs: number): InvalidReason | null {
  const timeouts = 0;
  const refused = f.errorsByKind.connect_failed ?? 0;
  const requests = Math.max(f.sent, f.completed, 1);
  if (timeouts + refused <= requests * UNANSWERED_LIMIT) return null;
  return { kind: "unanswered", timeouts, refused, requests, timeoutMs };
}

/** Preload errors make the run invalid (the measured state is not the scenario's). */
export function preloadReason(errors: number, firstError: string | null): InvalidReason | null {
  return errors > 0 ? { kind: "preload_errors", errors, firstError } : null;
}
