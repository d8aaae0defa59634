/**
 * The run report: the JSON file `check` writes and `compare` reads. Reports are the source of
 * truth; every table, summary and plot is derived from them.
 *
 * The first fields are exactly those of the old Rust load generator, with the same names and
 * units, so old consumers (the old compare script reads them with jq) keep working. Overall
 * percentiles come from the merged histogram of all response times, not a max of per-op values.
 * @module
 */
import type { OpKind, PreloadOrigin, SeedOrigin } from "../workload/scenario.ts";
import type { ProfileRecord } from "./profile.ts";
import type { CapacityRecord } from "./capacity.ts";
import type { IndexProbeRecord } from "./index_probe.ts";

export type { CapacityRecord, CapacityStep } from "./capacity.ts";

/**
 * Current schema version; compare refuses versions it does not know. 2: throughput counts the
 * responses to the requests due in the window, however late (1: the responses that arrived
 * inside it; `THROUGHPUT_DEFINITIONS`).
 */
export const SCHEMA_VERSION = 2;

/** The versions `compare` reads, each with what its throughput counts (compare names it). */
export const THROUGHPUT_DEFINITIONS: Readonly<Record<number, string>> = {
  1: "responses that arrived inside the measured window",
  2: "responses to the requests due in the measured window, however late",
};

/** Latency statistics in milliseconds. */
export interface LatencySummaryMs {
  p50_ms: number;
  p90_ms: number;
  p95_ms: number;
  p99_ms: number;
  p999_ms: number;
  p9999_ms: number;
  max_ms: number;
  mean_ms: number;
  count: number;
}

/** Internal runs use the baseline scenario; competitive runs the competitive one. */
export type Mode = "internal" | "competitive";
/** Which side of the task a run measured. */
export type Phase = "before" | "after";

/**
 * The per-operation fields of the old Rust load generator, in its order: all numbers
 * (latencies in microseconds). `LegacyOpStats` and the report check derive from this list.
 */
export const OLD_OP_STAT_FIELDS = [
  "count",
  "success_count",
  "error_count",
  "p50_latency_us",
  "p95_latency_us",
  "p99_latency_us",
  "p999_latency_us",
  "mean_latency_us",
  "max_latency_us",
] as const;

/** Per-operation statistics of the old Rust load generator (microseconds). */
export type LegacyOpStats = Record<typeof OLD_OP_STAT_FIELDS[number], number>;

/**
 * The top-level fields of the old Rust load generator's report, in its order, with their JSON
 * kind. `LegacyReport`, the first fields of `RunReport` and the report check derive from it.
 */
export const OLD_REPORT_FIELDS = [
  { key: "config_name", kind: "string" },
  { key: "elapsed_seconds", kind: "number" },
  { key: "total_operations", kind: "number" },
  { key: "total_errors", kind: "number" },
  { key: "overall_throughput", kind: "number" },
  { key: "overall_error_rate", kind: "number" },
  { key: "p50_latency_ms", kind: "number" },
  { key: "p95_latency_ms", kind: "number" },
  { key: "p99_latency_ms", kind: "number" },
  { key: "per_operation_stats", kind: "op_stats" },
] as const;

/** One entry of `OLD_REPORT_FIELDS`. */
export type OldReportField = typeof OLD_REPORT_FIELDS[number];

interface OldFieldTypes {
  string: string;
  number: number;
  op_stats: Record<string, LegacyOpStats>;
}

/** A report of the old Rust load generator: no `schema_version`, only these fields. */
export type LegacyReport = {
  [F in OldReportField as F["key"]]: OldFieldTypes[F["kind"]];
};

/** The old tool's number fields (`OLD_COMPARE_FIELDS` picks from them). */
export type OldNumberField = Extract<OldReportField, { kind: "number" }>["key"];

/** Per-operation statistics: the old tool's fields plus m17's. */
export interface OpStats extends LegacyOpStats {
  /** Requests answered by the plain-recall fallback because the server rejected the mode. */
  fallback_count: number;
  /** Service time (send → response) P99 in microseconds. */
  service_p99_latency_us: number;
  errors_by_kind: Record<string, number>;
}

/** One second of the measured window. */
export interface IntervalSummary {
  /** Seconds since the start of the measured window (0-based). */
  second: number;
  /** Requests whose due time fell in this second. */
  count: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /**
   * Responses (success or HTTP error) to the requests due in this second, however late (up to
   * the timeout): the second's share of `overall_throughput`. Schema 1: responses that arrived
   * in this second.
   */
  completed: number;
  /** Compressed base64 HdrHistogram of response times (µs) of requests due in this second. */
  histogram: string;
}

/**
 * The target's memory count after the preload and at the end of the run, read from Engram's system
 * health API (`GET /api/v1/system/health`, `spaces[].memories` summed over spaces; the reference
 * server answers it too), next to the stores it accepted in between (`METHODS.target_state`).
 */
export interface TargetState {
  /**
   * Memories after the preload (and the `--find-rate` search, when one ran), before the warm-up;
   * null: the target does not report a count.
   */
  memories_after_preload: number | null;
  /** Memories once the last measured request ended; null: the target does not report a count. */
  memories_at_end: number | null;
  /** Stores answered 2xx after the preload (warm-up and measured window). */
  stores_accepted: number;
}

/** How the run was measured: the definitions a reader needs. */
export interface MethodNotes {
  latency: string;
  service_time: string;
  schedule_lag: string;
  percentiles: string;
  histogram: string;
  throughput: string;
  /** The timeout rule (absent in reports written before it was stated). */
  timeout?: string;
  /** Which percentiles are lower bounds when requests timed out (absent in older reports). */
  censoring?: string;
  /** `check --find-rate`: how the sustained rate is searched (only in such reports). */
  capacity?: string;
  /** What `preload.snapshot` records (absent in reports before preload snapshots). */
  preload_snapshot?: string;
  /** What `preload.snapshot.index_probe` counts (absent in reports without one). */
  index_probe?: string;
  /** What `target_state` counts (absent in reports before issue 23). */
  target_state?: string;
}

/**
 * Which runs belong together: a `check --runs N` group (independent runs), or one arm of a
 * `confirm` session (interleaved: both arms share the group; `index` = `pair`).
 */
export interface RunGrouping {
  group: string;
  /** 1-based run number of this phase in the group. */
  index: number;
  /** Runs planned for this phase (`confirm`: at most `--pairs`; it may stop earlier). */
  count: number;
  /** Absent: "independent" (`--runs N`, single runs; reports before `confirm`). */
  design?: "independent" | "interleaved";
  /** Interleaved: 1-based pair; pair k = the k-th before run and the k-th after run. */
  pair?: number;
  /** Interleaved: 1-based block of two pairs, run in ABBA or BAAB order. */
  block?: number;
  /** Interleaved: which arm of this pair ran first (A = before, B = after). */
  order?: "AB" | "BA";
  /** Interleaved: the seed of the PRNG that chose the blocks' orders (decimal). */
  order_seed?: string;
}

/**
 * The report written by `m17_check`: the old tool's fields (same names and units, per-operation
 * stats extended) followed by m17's.
 */
export interface RunReport extends Omit<LegacyReport, "per_operation_stats"> {
  /**
   * Responses (success or HTTP error) to the requests due in the measured window, however late
   * (up to the timeout), per second of the window (`METHODS.throughput`).
   */
  overall_throughput: number;
  per_operation_stats: Record<OpKind, OpStats>;

  // ---- Added by m17 ----
  schema_version: number;
  tool: { name: string; version: string; commit: string | null };
  task: string;
  phase: Phase;
  mode: Mode;
  /** Run grouping for `--runs N` and `confirm` (index is 1-based). */
  run: RunGrouping;
  scenario: {
    path: string;
    name: string;
    sha256: string;
    seed: string;
    /**
     * Where `seed` came from: `{"from": "scenario"}`, `{"from": "flag"}` (`--seed`) or
     * `{"from": "mode", "mode": "baseline" | "competitive"}` (the scenario has none). Absent in
     * reports written before issue 18.
     */
    seed_source?: SeedOrigin;
    rate: number;
    arrival: string;
    duration_seconds: number;
    warmup_seconds: number;
    preload: number;
    /**
     * Where `preload` came from: `{"from": "scenario"}` (`[data] preload`), `{"from": "num_nodes"}`
     * (`[data] num_nodes`, no `preload`) or `{"from": "none"}` (neither: 0). Absent in reports
     * written before issue 18.
     */
    preload_source?: PreloadOrigin;
    embedding_dim: number;
  };
  workload_fingerprint: string;
  /** Request timeout and in-flight cap of the run (absent in reports before issue 16). */
  settings?: { timeout_ms: number; max_in_flight: number };
  target: {
    kind: "reference" | "url" | "engram";
    url: string;
    version: string | null;
    /**
     * Reference server knobs, Engram checkout commit, …: whatever identifies the target. An
     * Engram target started by check also records `binary` (the file started), `binary_sha256`,
     * `kept_binary` (its copy in `<out-dir>/builds/<sha256>/`, null when it could not be kept)
     * and `build_profile` (`release` | `m17-profile`): lib/target/builds.ts; absent in reports
     * made before builds were kept.
     */
    details: Record<string, unknown>;
  };
  host: {
    os: string;
    arch: string;
    cpus: number;
    hostname: string;
    deno: string;
    v8: string;
  };
  started_at: string;
  ended_at: string;

  p90_latency_ms: number;
  p999_latency_ms: number;
  p9999_latency_ms: number;
  max_latency_ms: number;
  mean_latency_ms: number;
  /** Response time (due → response), the headline numbers above, in full. */
  response_time: LatencySummaryMs;
  /** Service time (actual send → response). */
  service_time: LatencySummaryMs;
  /** Schedule lag (due → actual send): how late the generator or in-flight cap sent. */
  schedule_lag: LatencySummaryMs;
  target_rate: number;
  /** Requests due per second of measured window that were actually sent. */
  achieved_rate: number;
  /** Requests sent more than 1 ms after their due time. */
  late_sends: number;
  /** Requests that had to wait for an in-flight slot. */
  capped_sends: number;
  errors_by_kind: Record<string, number>;
  fallbacks: number;
  preload: {
    count: number;
    errors: number;
    seconds: number;
    /** The preload snapshot the run made or restored (Engram targets the tool starts). */
    snapshot?: PreloadSnapshotRecord;
  };
  warmup: { seconds: number; operations: number; errors: number };
  histograms: {
    response_time: string;
    service_time: string;
    schedule_lag: string;
    per_operation: Partial<Record<OpKind, string>>;
  };
  intervals: IntervalSummary[];
  validation: {
    criteria: Record<string, number>;
    passed: boolean;
    failures: string[];
  } | null;
  valid: boolean;
  invalid_reasons: string[];
  /**
   * Why the run stopped before its measured window started (`interrupted by SIGINT during
   * preload`, `engram exited (code 1) during preload`); absent when the window ran. Such a run is
   * invalid, its latency and throughput fields are zeros (nothing was measured), its `validation`
   * is null and it has no `target_state`.
   */
  no_measured_window?: string;
  /** Facts a reader should know that do not invalidate the run (e.g. sends held by the cap). */
  notes?: string[];
  /** How the load was generated (absent in reports before the HTTP/1.1 engine). */
  generator?: {
    workers: number;
    http_client: "http1-keepalive";
    /**
     * How the measured run's sockets were driven: `epoll` (Linux, libc through FFI: synchronous
     * send/recv, the pacer's waits are the epoll waits) or `deno-sockets` (Deno's async socket
     * ops; absent in reports before the epoll engine).
     */
    io?: "epoll" | "deno-sockets";
    /** Why Deno's sockets were used (no FFI grant, not Linux, a host name, `M17_IO=deno`). */
    io_why?: string;
    /** `epoll-wait` with `io: "epoll"`, else a sleeping ticker thread (lib/shared/waker.ts). */
    pacer: "sleeping-ticker" | "epoll-wait";
    /** CPUs the load generator was pinned to (`--client-cpus`, or the default on ≥ 4 cores). */
    client_cpus?: string;
    /** CPUs the server the tool started was pinned to (`--server-cpus`, or the default). */
    server_cpus?: string;
  };
  /** `check --profile`: the server's CPU profile of the measured window, or why there is none. */
  profile?: ProfileRecord;
  /** `check --find-rate`: the capacity search and its steps (absent in other reports). */
  capacity?: CapacityRecord;
  /** What the run did to the target's store (absent in reports before issue 23). */
  target_state?: TargetState;
  methods: MethodNotes;
  files: { report: string; log: string; sys: string; diag: string; hlog: string };
}

/**
 * The reference server's knobs as a report records them (`target.details.knobs`, keyed as below)
 * and the `check` flag that sets each, in the order `check --help` lists them: the one table
 * `check` parses the flags with and `compare` prints recorded knobs with. `seed` is recorded too
 * but is the scenario's seed (part of the workload fingerprint), not a knob.
 */
export const REFERENCE_KNOB_FLAGS = {
  latencyMs: "ref-latency-ms",
  jitterMs: "ref-jitter-ms",
  errorRate: "ref-error-rate",
  stallEverySeconds: "ref-stall-every-s",
  stallMs: "ref-stall-ms",
  noSpreading: "ref-no-spreading",
  cpuBurn: "ref-cpu-burn",
  record: "ref-record",
} as const;

/** The definitions stored in every report (and shown in the README). */
export const METHODS: MethodNotes = {
  latency:
    "response time in ms: from the instant the request was due under the open-loop schedule (start + i/rate) to the complete response; corrected for coordinated omission",
  service_time: "from the actual send of the request to the complete response",
  schedule_lag: "from the due instant to the actual send",
  percentiles:
    "nearest rank on an HdrHistogram: the smallest recorded value v such that at least p% of samples are ≤ v (within histogram precision)",
  histogram:
    "HdrHistogram, microseconds, 3 significant digits (±0.1%), auto-resizing: no sample is dropped; base64 V2 compressed encoding",
  throughput:
    "responses (success or HTTP error) to the requests due in the measured window, however late they arrive up to the timeout, per second of the window: a server that answers every request has the offered rate as its throughput whatever its latency; requests never sent, timeouts and failed connections are errors, not throughput; intervals[].completed is the same count for the requests due in each second (reports of schema_version 1 counted the responses that arrived inside the window instead)",
  timeout:
    "a request whose complete response has not arrived timeout-ms after the instant it was due is a timeout, whether it was sent on time, sent late (held by the in-flight cap) or never sent; its response time is the timeout",
  target_state:
    "memories_after_preload and memories_at_end: the memories the target reports on GET /api/v1/system/health (spaces[].memories summed over its spaces; Engram and the reference server answer it), read once after the preload and once after the last measured request ended; null when the target does not report a count; stores_accepted: stores answered 2xx after the preload (warm-up and measured window). When fewer memories were added than stores accepted, a note says so (Engram skips a store whose embedding has cosine >= 0.95 with a stored memory: deduplication)",
  censoring:
    "a timed-out request's response time is censored at the timeout (its true value is at least that); with c of n requests timed out, a percentile p whose nearest rank ceil(p/100 × n) exceeds n − c is a lower bound, shown as ≥ (86% timed out: P50, P95 and P99 are lower bounds; 2%: P99 is), and a change computed from one is a bound too (≥+400.0%; ≤ when only the before value is censored; 'censored' when both are)",
};

/** `methods.preload_snapshot` of a report whose preload was a snapshot (made or restored). */
export const PRELOAD_SNAPSHOT_METHOD =
  "Engram targets the tool starts: the measured state is a fresh copy of a preload snapshot (Engram's data dir after the preload and a graceful stop, keyed by the preload stream, its count and the sha256 of the engram binary that wrote it, binary_sha256); made = preloaded by this run, restored = made before, by this build or (written_by_another_build) by another: a build without a snapshot of its own starts on the complete snapshot of the same preload stream and count made first; memories = Engram's count (GET /api/v1/system/health, spaces[].memories summed) after starting on the copy, which must equal the count its writer recorded at the snapshot's first restore, else (or when Engram does not start on another build's snapshot) the run preloads afresh under its own build's key (remade_because says why); restore_seconds = graceful stop (made) or start (restored) to that check, copying included; preload_seconds = time spent preloading the snapshot over all its parts; a partial snapshot is resumed only after a resume check (the stream's next memory stored, Engram restarted on a copy: the same count, else the build loses what it stores after a recovered start and the run preloads from the start), and a made snapshot whose copy holds fewer memories than the live store held before its graceful stop is not kept (the run fails); settle = the wait, after Engram started on the copy and the index probe, until Engram's own CPU stayed under 50% of one core for 3 one-second samples in a row (at most 180 s; seconds waited, quiet false when the bound was reached, last_cpu_pct over the last second)";

/** `methods.capacity` of a `check --find-rate` report. */
export const CAPACITY_METHOD =
  "check --find-rate: on one started target (one preload), short steps at offered rates doubling from the start rate until a step fails, then bisection between the highest passing and the lowest failing rate until they are within the precision (percent of the passing rate); each step is its own warm-up and measured window replaying the scenario's request streams at that rate; a step passes when its response-time P99 is at most the SLO and its error rate (errors / completed requests) at most the maximum; a step that fails while the generator's own schedule lag P99 is over 10 ms is measured once more at the same rate and the repeat decides; the sustained rate is the highest offered rate that passed; the report's headline numbers are one full-length run at that rate (confirmed when it passes the same test); the search is bounded by a maximum step count and a time budget; before the first step, the run's own warm-up (scenario warmup_seconds or --warmup) runs once at the start rate, not measured";

/**
 * A run's preload snapshot (README "Preload snapshots"): `made` = preloaded now (from scratch, or
 * resuming a partial snapshot) and kept, then Engram restarted on a fresh copy; `restored` =
 * Engram started on a fresh copy of a snapshot made before. Either way the measured state is
 * the restored one.
 */
export interface PreloadSnapshotRecord {
  action: "made" | "restored";
  key: string;
  /** The snapshot's directory. */
  path: string;
  /** sha256 of the engram binary that wrote it (the run's own: `target.details.binary_sha256`). */
  binary_sha256: string;
  /** Present when that binary is not the run's: it restored another build's snapshot. */
  written_by_another_build?: true;
  /** Memories of the stream stored by earlier, interrupted runs (a resumed partial snapshot). */
  resumed_from: number;
  /** Engram's memory count after starting on the copy: equal to the snapshot's recorded count. */
  memories: number;
  /** Seconds spent preloading the snapshot, over all its parts. */
  preload_seconds: number;
  /** Seconds from the graceful stop (made) or from the run's start (restored) to Engram healthy on the copy, copying included. */
  restore_seconds: number;
  /** Why the run preloaded afresh though a snapshot was there (count mismatch, failed start). */
  remade_because?: string;
  /** The vector-index probe (lib/run/index_probe.ts); absent when it could not be made. */
  index_probe?: IndexProbeRecord;
  /** The wait for Engram to settle on the copy (lib/run/settle.ts); absent when not made. */
  settle?: SettleRecord;
}

/** `preload.snapshot.settle`: the wait for Engram to settle on a snapshot's copy (lib/run/settle.ts). */
export interface SettleRecord {
  /** True when Engram went quiet within the bound; false: the bound was reached (measured anyway). */
  quiet: boolean;
  /** Seconds waited, the quiet seconds included. */
  seconds: number;
  /** Engram's CPU (% of one core) over the last second sampled; null when never read. */
  last_cpu_pct: number | null;
}

/** The fields the old compare script reads with jq, in its order (compatibility promise). */
export const OLD_COMPARE_FIELDS = [
  "p50_latency_ms",
  "p95_latency_ms",
  "p99_latency_ms",
  "overall_throughput",
  "total_errors",
  "overall_error_rate",
] as const satisfies readonly OldNumberField[];
