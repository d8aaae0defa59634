/**
 * Turns a measured window (`Measurement`) and its context into the `RunReport`; the validity
 * rules it applies live in `validity.ts`.
 * @module
 */
import {
  METHODS,
  type Mode,
  type OpStats,
  type Phase,
  type PreloadSnapshotRecord,
  type RunGrouping,
  type RunReport,
  SCHEMA_VERSION,
  type TargetState,
} from "./schema.ts";
import { deduplicationNote, serverName } from "./target_state.ts";
import { indexProbeNotes } from "./index_probe.ts";
import { sameClusterCosine } from "../workload/dedup.ts";
import { OP_KINDS, type OpKind, type Scenario } from "../workload/scenario.ts";
import { formatSeed } from "../workload/prng.ts";
import type { RunFiles } from "./files.ts";
import type { Measurement, TargetDescription } from "./measurement.ts";
import {
  describeNote,
  describeReason,
  type InvalidReason,
  saturationNote,
  windowValidity,
} from "./validity.ts";
import { PLATFORM } from "../shared/platform.ts";

/** Everything besides the measurements that a report records. */
export interface ReportContext {
  tool: { name: string; version: string; commit: string | null };
  task: string;
  phase: Phase;
  mode: Mode;
  run: RunGrouping;
  scenario: Scenario;
  scenarioPath: string;
  scenarioSha256: string;
  fingerprint: string;
  target: TargetDescription;
  startedAt: Date;
  endedAt: Date;
  preload: { count: number; errors: number; seconds: number; snapshot?: PreloadSnapshotRecord };
  files: RunFiles;
  /** Reasons found outside the measurement (server died, interrupted, …). */
  extraInvalidReasons: InvalidReason[];
  /** The settings that shape response times besides the workload (compare checks them). */
  settings: { timeoutMs: number; maxInFlight: number };
  /** The host's mean CPU busy over the run (% of all cores, system samples); null: unknown. */
  hostCpuPct?: number | null;
  /**
   * The target's memory count after the preload and at the end (`engramMemoryCount`; null:
   * not reported). Absent: not read, and the report has no `target_state`.
   */
  memories?: { afterPreload: number | null; atEnd: number | null };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round1 = (x: number) => Math.round(x * 10) / 10;

function opStats(r: Measurement, k: OpKind): OpStats {
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

/**
 * The window's throughput (METHODS.throughput) and error rate (errors / completed requests):
 * the one definition of both, for the report and for `--find-rate`'s steps.
 */
export function windowRates(
  r: Measurement,
  durationSeconds: number,
): { throughput: number; errorRate: number } {
  // Responses to the requests due in the measured window, however late (up to the timeout), per
  // second of it (METHODS.throughput): latency neither lowers it nor stretches the window.
  const windowSeconds = Math.min(durationSeconds, r.elapsedSeconds);
  const responses = r.intervals.reduce((n, i) => n + i.completed, 0);
  return {
    throughput: windowSeconds > 0 ? responses / windowSeconds : 0,
    errorRate: r.completed > 0 ? r.errors / r.completed : 0,
  };
}

/** Builds the report; `valid` and `invalid_reasons` come from the rules of `validity.ts`. */
export function assembleReport(r: Measurement, c: ReportContext): RunReport {
  const s = c.scenario;
  const resp = r.response.summaryMs();
  const achievedRate = r.sendSpanSeconds > 0 ? r.sent / r.sendSpanSeconds : 0;
  // A run that stopped before its window has no window to judge: no window rules, no validation.
  const noWindow = c.extraInvalidReasons.find((x) => x.kind === "no_measured_window");
  const window = noWindow ? { reasons: [], notes: [] } : windowValidity({
    interrupted: r.interrupted,
    due: r.due,
    sent: r.sent,
    achievedRate,
    targetRate: s.rate,
    arrival: s.arrival.pattern,
    cappedSends: r.cappedSends,
    generatorLagP99Ms: r.generatorLag.percentileUs(99) / 1000,
    hostCpuPct: c.hostCpuPct,
  });
  const reasons = [...c.extraInvalidReasons, ...window.reasons].map(describeReason);
  const saturated = saturationNote(r, c.settings.timeoutMs);
  const targetState: TargetState | undefined = c.memories && {
    memories_after_preload: c.memories.afterPreload,
    memories_at_end: c.memories.atEnd,
    stores_accepted: r.storesAccepted,
  };
  const deduplicated = targetState && deduplicationNote({
    state: targetState,
    preloadAccepted: c.preload.count - c.preload.errors,
    server: serverName(c.target.kind),
    clusterCosine: sameClusterCosine(s),
  });
  const notes = [
    ...[...window.notes, ...(saturated ? [saturated] : [])].map(describeNote),
    ...(deduplicated ? [deduplicated] : []),
    ...indexProbeNotes(c.preload.snapshot),
  ];
  const perOpHist: Partial<Record<OpKind, string>> = {};
  for (const k of OP_KINDS) if (r.perOp[k].count > 0) perOpHist[k] = r.perOp[k].response.encode();

  const { throughput, errorRate } = windowRates(r, s.durationSeconds);
  const validation = noWindow ? null : evaluateValidation(s, resp.p99_ms, throughput, errorRate);

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
      seed_source: s.origins.seed,
      rate: s.rate,
      arrival: s.arrival.pattern,
      duration_seconds: s.durationSeconds,
      warmup_seconds: s.warmupSeconds,
      preload: s.preload,
      preload_source: s.origins.preload,
      embedding_dim: s.embeddingDim,
    },
    workload_fingerprint: c.fingerprint,
    settings: { timeout_ms: c.settings.timeoutMs, max_in_flight: c.settings.maxInFlight },
    target: {
      kind: c.target.kind,
      url: c.target.url,
      version: c.target.version,
      details: c.target.details,
    },
    host: {
      os: PLATFORM.os,
      arch: PLATFORM.arch,
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
      ...(c.preload.snapshot ? { snapshot: c.preload.snapshot } : {}),
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
    ...(noWindow ? { no_measured_window: describeReason(noWindow.cause) } : {}),
    notes,
    ...(targetState ? { target_state: targetState } : {}),
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
