/**
 * The steps of one `check` run, each a function over one `RunContext`: announce → target spec →
 * preload → warm-up and measured window → checks after the run → artifacts. `runCheck`
 * (lib/run/check.ts) strings them together and guarantees teardown.
 * @module
 */
import { dirname, resolve } from "node:path";
import { assembleReport } from "../report/assemble.ts";
import { INDEX_PROBE_METHOD } from "../report/index_probe.ts";
import type { RunFiles } from "../report/files.ts";
import { intervalLogText } from "../report/histogram.ts";
import type { ProfileRecord } from "../report/profile.ts";
import {
  CAPACITY_METHOD,
  PRELOAD_SNAPSHOT_METHOD,
  type PreloadSnapshotRecord,
  type RunReport,
} from "../report/schema.ts";
import {
  type Interrupted,
  type InvalidReason,
  type RunStage,
  type TargetDied,
  unansweredReason,
} from "../report/validity.ts";
import { toolCommit } from "../shared/build_info.ts";
import { oneLine } from "../shared/sanitize.ts";
import { UsageError } from "../shared/errors.ts";
import { regularOrMissing } from "../shared/input_file.ts";
import { VERSION } from "../shared/version.ts";
import { findEngramCheckout } from "../target/engram.ts";
import { engramMemoryCount, healthLost } from "../target/health.ts";
import type { TargetSpec } from "../target/start.ts";
import { diagnostics, meanHostCpuPct, SystemSampler } from "../target/system.ts";
import type { Target } from "../target/target.ts";
import type { Workload } from "../workload/ops.ts";
import { describePreload, describeSeedOrigin, type PreparedScenario } from "../workload/prepare.ts";
import { formatSeed } from "../workload/prng.ts";
import type { ArtifactWriter } from "./artifacts.ts";
import { type CapacityPlan, capacityRecord, type RateSearchResult } from "./capacity.ts";
import type { IoUsed, LoadResult } from "./driver.ts";
import { runEngine } from "./engine.ts";
import { defaultWorkers } from "./shard.ts";
import type { CheckOptions } from "./options.ts";
import { checkCpuLists } from "./pin_step.ts";
import {
  beginProfile,
  endProfile,
  type FlameGraphRenderer,
  profileWindowStarted,
} from "./profile_step.ts";
import type { RunLog } from "./run_log.ts";

/** What every step of one run shares: its options, its output, and what is known so far. */
export interface RunContext {
  o: CheckOptions;
  log: RunLog;
  /** Aborted by SIGINT/SIGTERM; its reason is the signal's name. */
  signal: AbortSignal;
  prepared: PreparedScenario;
  fingerprint: string;
  files: RunFiles;
  /** The stage running now, named when the run is interrupted. */
  stage: RunStage;
  /** Why the run is invalid, as the steps find out (the report adds its own rules). */
  invalid: InvalidReason[];
  /** Draws `--profile`'s flame graph (injected: lib/run may not import lib/render). */
  flameGraph?: FlameGraphRenderer;
  /** The CPUs pinned before the target started (lib/run/pin_step.ts); absent: none. */
  cpus?: { client: string | null; server: string | null };
  /** `--find-rate`: the search's plan and outcome, once it ran (lib/run/capacity_step.ts). */
  capacity?: { plan: CapacityPlan; result: RateSearchResult };
  /** The target's memory count after the preload and at the end (null: not reported). */
  memories?: { afterPreload: number | null; atEnd: number | null };
}

/** Why the warm-up and measured window were skipped (the report is still written). */
export type Skipped = Interrupted | TargetDied;

/** The interruption of `stage`: the abort reason is the signal's name (`SIGINT`). */
export function interruption(signal: AbortSignal, stage: RunStage): Interrupted {
  return {
    kind: "interrupted",
    signal: typeof signal.reason === "string" ? signal.reason : null,
    stage,
  };
}

/**
 * The Engram checkout a run measures: none with `--url` or `--reference`, else `--engram-dir` or
 * the current directory's checkout (a UsageError below a checkout's root: never the reference
 * server in its place).
 */
export async function checkoutToMeasure(
  o: Pick<CheckOptions, "url" | "reference" | "engramDir" | "kept">,
): Promise<string | null> {
  if (o.kept) return o.kept.cwd; // a kept build: its checkout may be gone
  return o.url || o.reference ? null : await findEngramCheckout(Deno.cwd(), o.engramDir);
}

/**
 * Checks what can be checked before any file is claimed, so a bad `--engram-dir` or
 * `--ref-record` is a usage error; returns the Engram checkout to measure, if any.
 */
export async function checkUsage(o: CheckOptions): Promise<string | null> {
  const engramDir = await checkoutToMeasure(o);
  if (o.knobs.record !== undefined) await checkRecordPath(o.knobs.record);
  await checkCpuLists(o);
  return engramDir;
}

/**
 * `--ref-record FILE` must be creatable: its directory exists and it is missing or a regular file
 * (a FIFO would block the reference server, a device would swallow the record).
 */
async function checkRecordPath(path: string): Promise<void> {
  // The file first: /dev/null's directory cannot even be stat'ed without --allow-all.
  if (await regularOrMissing(path, "--ref-record") === "file") return;
  const dir = dirname(resolve(path));
  if (!(await Deno.stat(dir).catch(() => null))?.isDirectory) {
    throw new UsageError(`--ref-record ${path}: directory ${dir} does not exist`);
  }
}

/** How a run generated its load (the report's `generator`, without the worker count). */
function generatorOf(io: IoUsed) {
  return io.kind === "epoll"
    ? { http_client: "http1-keepalive", io: "epoll", pacer: "epoll-wait" } as const
    : {
      http_client: "http1-keepalive",
      io: "deno-sockets",
      io_why: io.why,
      pacer: "sleeping-ticker",
    } as const;
}

/** How the log names the sockets and pacer a run uses. */
function ioText(p: IoUsed): string {
  return p.kind === "epoll"
    ? "sockets and pacer waits on Linux epoll (libc through FFI)"
    : `Deno's sockets and a sleeping ticker thread (${p.why})`;
}

/** `--workers`, or one per 5,000 ops/s, at most one fewer than the host's cores. */
export function chooseWorkers(o: CheckOptions, rate: number): { workers: number; why: string } {
  if (o.workers !== undefined) return { workers: o.workers, why: "--workers" };
  const cores = navigator.hardwareConcurrency;
  return {
    workers: defaultWorkers(rate, cores),
    why: `default for ${rate} ops/s on ${cores} cores`,
  };
}

/** The run's first lines: tool, task, scenario, fingerprint. */
export function announce(ctx: RunContext): void {
  const { o, log } = ctx;
  const { scenario, path } = ctx.prepared;
  log.line(
    `m17_check ${VERSION}: task ${o.task}, phase ${o.phase}${o.competitive ? ", competitive" : ""}${
      o.interleaved
        ? `, confirm pair ${o.interleaved.pair} of ≤${o.runCount} (block ${o.interleaved.block}, ${o.interleaved.order})`
        : o.runCount > 1
        ? `, run ${o.runIndex}/${o.runCount}`
        : ""
    }`,
  );
  log.line(
    `scenario ${scenario.name} (${oneLine(path, Infinity)}), seed ${formatSeed(scenario.seed)} (${
      describeSeedOrigin(scenario)
    }), ${scenario.rate} ops/s for ${scenario.durationSeconds} s after ${scenario.warmupSeconds} s warm-up`,
  );
  log.line(`preload: ${describePreload(scenario)}`);
  log.line(`workload fingerprint ${ctx.fingerprint}`);
}

/** Which target the options ask for: `--url`, an Engram checkout, or the reference server. */
export function targetSpec(ctx: RunContext, engramDir: string | null): TargetSpec {
  const { o } = ctx;
  if (o.url) return { kind: "url", url: o.url };
  if (engramDir) {
    return {
      kind: "engram",
      dir: engramDir,
      build: o.build,
      port: o.port,
      outDir: o.outDir,
      stem: ctx.files.stem,
      keepData: o.keepData,
      startupTimeoutMs: o.startupTimeoutMs,
      profile: o.profile,
      ...(o.kept ? { kept: o.kept.sha256 } : {}),
    };
  }
  return {
    kind: "reference",
    knobs: o.knobs,
    dim: ctx.prepared.scenario.embeddingDim,
    profile: o.profile,
  };
}

/** What the preload did, for the report. */
export interface PreloadCounts {
  count: number;
  errors: number;
  seconds: number;
  /** The preload snapshot made or restored (lib/run/preload_step.ts). */
  snapshot?: PreloadSnapshotRecord;
}

/**
 * The memories the target holds now (its system health API, `engramMemoryCount`); null when
 * it does not say, or the run was interrupted or the target died (nothing to ask).
 */
export async function memoryCount(ctx: RunContext, target: Target): Promise<number | null> {
  if (ctx.signal.aborted || target.deathReason() !== null) return null;
  const memories = await engramMemoryCount(target.url, 2000);
  return "count" in memories ? memories.count : null;
}

/** The measured run's outputs: the driver's result, the interval log and the system samples. */
export interface Measured {
  result: LoadResult;
  intervalLog: string;
  sampler: SystemSampler;
  /** `--profile`: the measured window's CPU profile, or why there is none. */
  profile: ProfileRecord | null;
  /** Worker threads the load ran on. */
  workers: number;
  /** Why the measured window never started (skipped, or interrupted in the warm-up); null: it ran. */
  noWindow: Skipped | null;
}

/**
 * The warm-up and the measured window, with system metrics sampled meanwhile. When `skipped`,
 * the driver returns at once with an empty, interrupted window. A window that never started
 * (interrupted during the warm-up) is recorded in `ctx.invalid` as no measured window.
 */
export async function measure(
  ctx: RunContext,
  target: Target,
  w: Workload,
  skipped: Skipped | null,
): Promise<Measured> {
  const { o, log } = ctx;
  const { scenario } = ctx.prepared;
  const sampler = new SystemSampler(target.process?.pid ?? null);
  let lastPlain = 0;
  const profiling = await beginProfile(
    {
      profile: o.profile,
      url: o.url,
      profilePid: o.profilePid,
      targetPid: target.process?.pid ?? null,
      ownPerfMap: target.kind === "reference",
    },
    { folded: ctx.files.profileFolded, svg: ctx.files.profileSvg, perfLog: ctx.files.serverLog },
    ctx.flameGraph ?? (() => ""),
    (line) => log.line(line),
  );
  let profile: ProfileRecord | null = null;
  const engine = chooseWorkers(o, scenario.rate);
  let windowStarted = false;
  sampler.start();
  try {
    // Said only of a window that is going to run (a skipped one was said by its step).
    if (!skipped) {
      log.line(
        `measuring: ${scenario.warmupSeconds} s warm-up, then ${scenario.durationSeconds} s measured`,
      );
    }
    const result = await runEngine({
      scenario,
      workload: w,
      warmupSeconds: scenario.warmupSeconds,
      durationSeconds: scenario.durationSeconds,
      workers: engine.workers,
      baseUrl: target.url,
      timeoutMs: o.timeoutMs,
      maxInFlight: o.maxInFlight,
      signal: skipped ? AbortSignal.abort() : ctx.signal,
      // What the workers chose (each chooses its own sockets), before the warm-up.
      onIo: (io) => {
        if (skipped) return;
        log.line(
          `load engine: ${engine.workers} worker thread${
            engine.workers === 1 ? "" : "s"
          } (${engine.why}), HTTP/1.1 keep-alive connections, ${ioText(io)}`,
        );
      },
      onPhaseStart: (phase) => {
        ctx.stage = phase === "warmup" ? "warm-up" : "the measured window";
        if (phase === "measured") {
          windowStarted = true;
          profileWindowStarted(profiling);
        }
        log.line(
          phase === "warmup"
            ? `warm-up started: ${scenario.warmupSeconds} s, not recorded`
            : `measured window started: ${scenario.durationSeconds} s at ${scenario.rate} ops/s`,
        );
      },
      onProgress: (p) => {
        // Without a terminal, a line every 10 s of the window: never one at 0 s, which says nothing.
        const plain = p.elapsedSeconds - lastPlain >= 10;
        if (plain) lastPlain = p.elapsedSeconds;
        log.status(
          p.phase === "warmup"
            ? `warm-up ${p.elapsedSeconds}/${p.totalSeconds} s`
            : `measured ${p.elapsedSeconds}/${p.totalSeconds} s  ${p.completedLastSecond} ops/s  P99 so far ${
              p.p99SoFarMs.toFixed(3)
            } ms  errors ${p.errors}  in flight ${p.inFlight}`,
          plain && p.phase === "measured",
        );
      },
    });
    profile = await endProfile(profiling, `${o.task} ${o.phase}: server CPU (${target.kind})`);
    // StartTime = the measured window's start, which the intervals' offsets count from.
    const intervalLog = intervalLogText(
      result.windowStartEpochMs,
      `m17 ${o.task} ${o.phase} response time (µs as recorded; MaxValueDivisor 1000 gives ms)`,
      result.intervals,
    );
    // The driver starts the window unless interrupted first.
    const noWindow = skipped ?? (windowStarted ? null : interruption(ctx.signal, ctx.stage));
    if (noWindow && !skipped) ctx.invalid.push({ kind: "no_measured_window", cause: noWindow });
    return { result, intervalLog, sampler, profile, workers: engine.workers, noWindow };
  } finally {
    if (profile === null && profiling !== null && "abandon" in profiling) await profiling.abandon();
    await sampler.stop();
  }
}

/**
 * After the measured window: did the target die (a `--url` server must still answer
 * `/health`), was the run interrupted, did too many requests go unanswered.
 */
export async function checkAfterRun(
  ctx: RunContext,
  target: Target,
  result: LoadResult,
): Promise<void> {
  const { signal } = ctx;
  const dead = target.deathReason() ??
    (target.kind === "url" && !signal.aborted ? await healthLost(target.url) : null);
  if (dead) ctx.invalid.push({ kind: "target_died", death: dead, during: "the run" });
  if (signal.aborted) ctx.invalid.push(interruption(signal, ctx.stage));
  const unanswered = unansweredReason(result, ctx.o.timeoutMs);
  if (unanswered) ctx.invalid.push(unanswered);
}

/** The assembled report and where it was written (null: nowhere, see the writer's failures). */
export interface Artifacts {
  report: RunReport;
  reportPath: string | null;
}

/**
 * Assembles the report and writes the run's files, the report last. A file that cannot be
 * written (a full disk) is recorded in `out` and the others are still written; the report goes
 * to the temp dir when the out dir refuses it.
 */
export async function writeArtifacts(
  ctx: RunContext,
  target: Target,
  measured: Measured,
  preload: PreloadCounts,
  startedAt: Date,
  out: ArtifactWriter,
): Promise<Artifacts> {
  const { o, files, prepared } = ctx;
  const report = assembleReport(measured.result, {
    tool: { name: "m17_check", version: VERSION, commit: await toolCommit() },
    task: o.task,
    phase: o.phase,
    mode: o.competitive ? "competitive" : "internal",
    run: {
      group: o.runGroup,
      index: o.runIndex,
      count: o.runCount,
      ...(o.interleaved
        ? {
          design: "interleaved" as const,
          pair: o.interleaved.pair,
          block: o.interleaved.block,
          order: o.interleaved.order,
          order_seed: o.interleaved.orderSeed,
        }
        : {}),
    },
    scenario: prepared.scenario,
    scenarioPath: prepared.path,
    scenarioSha256: prepared.sha256,
    fingerprint: ctx.fingerprint,
    target,
    startedAt,
    endedAt: new Date(),
    preload,
    files,
    extraInvalidReasons: ctx.invalid,
    settings: { timeoutMs: o.timeoutMs, maxInFlight: o.maxInFlight },
    hostCpuPct: meanHostCpuPct(measured.sampler.samples),
    memories: ctx.memories,
  });
  if (measured.profile !== null) report.profile = measured.profile;
  if (ctx.capacity) {
    // An invalid full-length run (interrupted, skipped, generator behind) confirms nothing.
    report.capacity = capacityRecord(
      ctx.capacity.plan,
      ctx.capacity.result,
      report.valid
        ? {
          achievedRate: report.overall_throughput,
          p99Ms: report.p99_latency_ms,
          p99Censored: false,
          operations: report.total_operations,
          errors: report.total_errors,
        }
        : null,
    );
    report.methods = { ...report.methods, capacity: CAPACITY_METHOD };
  }
  if (preload.snapshot) {
    report.methods = {
      ...report.methods,
      preload_snapshot: PRELOAD_SNAPSHOT_METHOD,
      ...(preload.snapshot.index_probe ? { index_probe: INDEX_PROBE_METHOD } : {}),
    };
  }
  report.generator = {
    ...generatorOf(measured.result.io),
    workers: measured.workers,
    ...(ctx.cpus?.client ? { client_cpus: ctx.cpus.client } : {}),
    ...(ctx.cpus?.server ? { server_cpus: ctx.cpus.server } : {}),
  };
  const sysHeader = [
    `m17 system metrics: task ${report.task}, phase ${report.phase}`,
    `host ${report.host.hostname} ${report.host.os}/${report.host.arch}, ${report.host.cpus} cpus`,
    `server process: ${
      target.process
        ? `pid ${target.process.pid} (${target.kind})`
        : "not local (--url): host metrics only"
    }`,
    `sampled once per second from ${report.started_at}`,
  ];
  const port = Number(new URL(target.url).port) || null;
  await out.write(files.sys, measured.sampler.text(sysHeader));
  await out.write(files.diag, await diagnostics(port));
  await out.write(files.hlog, measured.intervalLog);
  // The report goes last: its presence means the run's files are complete.
  const reportPath = await out.writeReport(files.report, JSON.stringify(report, null, 2) + "\n");
  return { report, reportPath };
}
