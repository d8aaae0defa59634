/**
 * Turns a measured window (`LoadResult`) and its context into the `RunReport`, including the
 * validity verdict: a run is invalid when the server died, the achieved rate missed the target
 * by more than 1%, or the generator itself fell behind.
 * @module
 */
import type { LoadResult } from "../run/driver.ts";
import { METHODS, type OpStats, type RunReport, SCHEMA_VERSION } from "./schema.ts";
import { OP_KINDS, type OpKind, type Scenario } from "../workload/scenario.ts";
import type { Target } from "../target/target.ts";
import { formatSeed } from "../workload/prng.ts";
import type { RunFiles } from "./files.ts";

/** Generator lag P99 above this means the load generator could not keep its schedule. */
export const GENERATOR_LAG_P99_LIMIT_MS = 10;
/** Allowed relative shortfall of the achieved send rate. */
export const RATE_TOLERANCE = 0.01;

/** Everything besides the measurements that a report records. */
export interface ReportContext {
  tool: { name: string; version: string; commit: string | null };
  task: string;
  phase: "before" | "after";
  mode: "internal" | "competitive";
  run: { group: string; index: number; count: number };
  scenario: Scenario;
  scenarioPath: string;
  scenarioSha256: string;
  fingerprint: string;
  target: Target;
  startedAt: Date;
  endedAt: Date;
  preload: { count: number; errors: number; seconds: number };
  files: RunFiles;
  /** Reasons found outside the measurement (server died, interrupted, …). */
  extraInvalidReasons: string[];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round1 = (x: number) => Math.round(x * 10) / 10;

function opStats(r: LoadResult, k: OpKind): OpStats {
  const t = r.perOp[k];
  return {
    count: t.count,
    success_count: t.count - t.errors,
    error_count: t.errors,
    p50_latency_us: t.response.percentileUs(50),
    p95_latency_us: t.response.percentileUs(95),
    p99_latency_us: t.response.percentileUs(99),
    p999_latency_us: t.response.percentileUs(99.9),
    mean_latency_us: round1(t.response.meanUs()),
    max_latency_us: t.response.maxUs(),
    fallback_count: t.fallbacks,
    service_p99_latency_us: t.service.percentileUs(99),
    errors_by_kind: t.errorsByKind,
  };
}

/** Builds the report; `valid` and `invalid_reasons` are decided here. */
export function assembleReport(r: LoadResult, c: ReportContext): RunReport {
  const s = c.scenario;
  const resp = r.response.summaryMs();
  const reasons = [...c.extraInvalidReasons];
  if (r.interrupted) reasons.push("run interrupted before the measured window ended");
  const achievedRate = r.sendSpanSeconds > 0 ? r.sent / r.sendSpanSeconds : 0;
  const expectedSent = r.due;
  if (!r.interrupted && expectedSent > 0 && r.sent < expectedSent * (1 - RATE_TOLERANCE)) {
    reasons.push(
      `achieved rate off target: sent ${r.sent} of ${expectedSent} due requests (more than ${
        RATE_TOLERANCE * 100
      }% short)`,
    );
  }
  const notes: string[] = [];
  if (
    !r.interrupted && s.arrival.pattern === "constant" && r.sent > 0 &&
    Math.abs(achievedRate - s.rate) > s.rate * RATE_TOLERANCE
  ) {
    const what = `achieved send rate ${
      achievedRate.toFixed(1)
    } ops/s is more than 1% off the target ${s.rate} ops/s`;
    if (r.cappedSends > r.sent * RATE_TOLERANCE) {
      // Requests waited for an in-flight slot: the server (or this client) did not keep up.
      // Their response times include the wait, so the numbers stay true; say so, don't discard.
      notes.push(
        `${what}: ${r.cappedSends} requests waited for one of the --max-in-flight slots; their response times include that wait`,
      );
    } else {
      reasons.push(`${what}: the load generator did not send on schedule`);
    }
  }
  const genLagP99 = r.generatorLag.percentileUs(99) / 1000;
  if (genLagP99 > GENERATOR_LAG_P99_LIMIT_MS) {
    reasons.push(
      `the load generator fell behind: schedule lag P99 ${
        genLagP99.toFixed(1)
      } ms > ${GENERATOR_LAG_P99_LIMIT_MS} ms (host overloaded?)`,
    );
  }
  const perOpHist: Partial<Record<OpKind, string>> = {};
  for (const k of OP_KINDS) if (r.perOp[k].count > 0) perOpHist[k] = r.perOp[k].response.encode();

  const throughput = r.elapsedSeconds > 0 ? r.completed / r.elapsedSeconds : 0;
  const errorRate = r.completed > 0 ? r.errors / r.completed : 0;
  const validation = evaluateValidation(s, resp.p99_ms, throughput, errorRate);

  return {
    config_name: s.name,
    elapsed_seconds: round3(r.elapsedSeconds),
    total_operations: r.completed,
    total_errors: r.errors,
    overall_throughput: round3(throughput),
    overall_error_rate: errorRate,
    p50_latency_ms: resp.p50_ms,
    p95_latency_ms: resp.p95_ms,
    p99_latency_ms: resp.p99_ms,
    per_operation_stats: Object.fromEntries(OP_KINDS.map((k) => [k, opStats(r, k)])) as Record<
      OpKind,
      OpStats
    >,
    schema_version: SCHEMA_VERSION,
    tool: c.tool,
    task: c.task,
    phase: c.phase,
    mode: c.mode,
    run: c.run,
    scenario: {
      path: c.scenarioPath,
      name: s.name,
      sha256: c.scenarioSha256,
      seed: formatSeed(s.seed),
      rate: s.rate,
      arrival: s.arrival.pattern,
      duration_seconds: s.durationSeconds,
      warmup_seconds: s.warmupSeconds,
      preload: s.preload,
      embedding_dim: s.embeddingDim,
    },
    workload_fingerprint: c.fingerprint,
    target: {
      kind: c.target.kind,
      url: c.target.url,
      version: c.target.version,
      details: c.target.details,
    },
    host: {
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
      hostname: Deno.hostname(),
      deno: Deno.version.deno,
      v8: Deno.version.v8,
    },
    started_at: c.startedAt.toISOString(),
    ended_at: c.endedAt.toISOString(),
    p90_latency_ms: resp.p90_ms,
    p999_latency_ms: resp.p999_ms,
    p9999_latency_ms: resp.p9999_ms,
    max_latency_ms: resp.max_ms,
    mean_latency_ms: resp.mean_ms,
    response_time: resp,
    service_time: r.service.summaryMs(),
    schedule_lag: r.lag.summaryMs(),
    target_rate: s.rate,
    achieved_rate: round3(achievedRate),
    late_sends: r.lateSends,
    capped_sends: r.cappedSends,
    errors_by_kind: r.errorsByKind,
    fallbacks: r.fallbacks,
    preload: {
      count: c.preload.count,
      errors: c.preload.errors,
      seconds: round3(c.preload.seconds),
    },
    warmup: r.warmup,
    histograms: {
      response_time: r.response.encode(),
      service_time: r.service.encode(),
      schedule_lag: r.lag.encode(),
      per_operation: perOpHist,
    },
    intervals: r.intervals,
    validation,
    valid: reasons.length === 0,
    invalid_reasons: reasons,
    notes,
    methods: METHODS,
    files: {
      report: c.files.report,
      log: c.files.log,
      sys: c.files.sys,
      diag: c.files.diag,
      hlog: c.files.hlog,
    },
  };
}

/** The scenario's `[validation]` criteria checked against the run (informational). */
function evaluateValidation(
  s: Scenario,
  p99Ms: number,
  throughput: number,
  errorRate: number,
): RunReport["validation"] {
  const v = s.validation;
  const criteria: Record<string, number> = {};
  const failures: string[] = [];
  if (v.expectedP99LatencyMs !== undefined) {
    criteria.expected_p99_latency_ms = v.expectedP99LatencyMs;
    if (p99Ms > v.expectedP99LatencyMs) {
      failures.push(`P99 ${p99Ms} ms > expected ${v.expectedP99LatencyMs} ms`);
    }
  }
  if (v.expectedThroughputOpsSec !== undefined) {
    criteria.expected_throughput_ops_sec = v.expectedThroughputOpsSec;
    if (throughput < v.expectedThroughputOpsSec) {
      failures.push(
        `throughput ${throughput.toFixed(1)} ops/s < expected ${v.expectedThroughputOpsSec}`,
      );
    }
  }
  if (v.maxErrorRate !== undefined) {
    criteria.max_error_rate = v.maxErrorRate;
    if (errorRate > v.maxErrorRate) {
      failures.push(`error rate ${errorRate} > max ${v.maxErrorRate}`);
    }
  }
  if (Object.keys(criteria).length === 0) return null;
  return { criteria, passed: failures.length === 0, failures };
}
