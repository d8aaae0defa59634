/**
 * The steps of one `check` run, each a function over one `RunContext`: announce → target spec →
 * preload → warm-up and measured window → checks after the run → artifacts. `runCheck`
 * (lib/run/check.ts) strings them together and guarantees teardown.
 * @module
 */
import { dirname, resolve } from "node:path";
import { assembleReport } from "../report/assemble.ts";
import type { RunFiles } from "../report/files.ts";
import { IntervalLogWriter } from "../report/histogram.ts";
import type { RunReport } from "../report/schema.ts";
import {
  describeReason,
  type Interrupted,
  type InvalidReason,
  preloadReason,
  type RunStage,
  type TargetDied,
  unansweredReason,
} from "../report/validity.ts";
import { writeNewFile } from "../shared/atomic.ts";
import { toolCommit } from "../shared/build_info.ts";
import { UsageError } from "../shared/errors.ts";
import { VERSION } from "../shared/version.ts";
import { findEngramCheckout } from "../target/engram.ts";
import { healthLost } from "../target/health.ts";
import type { TargetSpec } from "../target/start.ts";
import { diagnostics, SystemSampler } from "../target/system.ts";
import type { Target } from "../target/target.ts";
import type { Workload } from "../workload/ops.ts";
import type { PreparedScenario } from "../workload/prepare.ts";
import { formatSeed } from "../workload/prng.ts";
import { makeSchedule } from "../workload/schedule.ts";
import { type LoadResult, runLoad } from "./driver.ts";
import type { CheckOptions } from "./options.ts";
import { runPreload } from "./preload.ts";
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
 * Checks what can be checked before any file is claimed, so a bad `--engram-dir` or
 * `--ref-record` is a usage error; returns the Engram checkout to measure, if any.
 */
export async function checkUsage(o: CheckOptions): Promise<string | null> {
  const engramDir = o.url || o.reference ? null : await findEngramCheckout(Deno.cwd(), o.engramDir);
  if (o.knobs.record !== undefined) await checkRecordPath(o.knobs.record);
  return engramDir;
}

/** `--ref-record FILE` must be creatable: its directory exists and it is not a directory. */
async function checkRecordPath(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  if (!(await Deno.stat(dir).catch(() => null))?.isDirectory) {
    throw new UsageError(`--ref-record ${path}: directory ${dir} does not exist`);
  }
  if ((await Deno.stat(path).catch(() => null))?.isDirectory) {
    throw new UsageError(`--ref-record ${path}: is a directory`);
  }
}

/** The run's first lines: tool, task, scenario, fingerprint. */
export function announce(ctx: RunContext): void {
  const { o, log } = ctx;
  const { scenario, path } = ctx.prepared;
  log.line(
    `m17_check ${VERSION}: task ${o.task}, phase ${o.phase}${o.competitive ? ", competitive" : ""}${
      o.runCount > 1 ? `, run ${o.runIndex}/${o.runCount}` : ""
    }`,
  );
  log.line(
    `scenario ${scenario.name} (${path}), seed ${
      formatSeed(scenario.seed)
    }, ${scenario.rate} ops/s for ${scenario.durationSeconds} s after ${scenario.warmupSeconds} s warm-up`,
  );
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
    };
  }
  return { kind: "reference", knobs: o.knobs, dim: ctx.prepared.scenario.embeddingDim };
}

/** What the preload did, for the report. */
export interface PreloadCounts {
  count: number;
  errors: number;
  seconds: number;
}

/**
 * Stores the scenario's preload (not measured). Returns its counts and, when the run was
 * interrupted or the target died meanwhile, why the warm-up and measured window are skipped.
 */
export async function preload(
  ctx: RunContext,
  target: Target,
  w: Workload,
): Promise<{ counts: PreloadCounts; skipped: Skipped | null }> {
  const { o, log, signal } = ctx;
  const total = ctx.prepared.scenario.preload;
  if (total <= 0) return { counts: { count: 0, errors: 0, seconds: 0 }, skipped: null };
  ctx.stage = "preload";
  log.line(`preload: storing ${total} memories (not measured)`);
  const p = await runPreload(w.stream("preload"), total, {
    baseUrl: target.url,
    timeoutMs: o.timeoutMs,
    concurrency: o.preloadConcurrency,
    signal,
    onPreloadProgress: (done) =>
      log.status(
        `preload: ${done}/${total} (${((100 * done) / total).toFixed(0)}%)`,
        done % 10000 < 3000,
      ),
  });
  log.line(`preload: ${p.count} memories in ${p.seconds.toFixed(1)} s, ${p.errors} errors`);
  const preloadInvalid = preloadReason(p.errors, p.firstError);
  if (preloadInvalid) ctx.invalid.push(preloadInvalid);
  const dead = target.deathReason();
  let skipped: Skipped | null = null;
  if (signal.aborted) skipped = interruption(signal, ctx.stage);
  else if (dead) skipped = { kind: "target_died", death: dead, during: "preload" };
  if (skipped) {
    ctx.invalid.push({ kind: "no_measured_window", cause: skipped });
    log.warn(`${describeReason(skipped)}: skipping the warm-up and the measured window`);
  }
  return { counts: { count: p.count, errors: p.errors, seconds: p.seconds }, skipped };
}

/** The measured run's outputs: the driver's result, the interval log and the system samples. */
export interface Measured {
  result: LoadResult;
  intervalLog: string;
  sampler: SystemSampler;
}

/**
 * The warm-up and the measured window, with system metrics sampled meanwhile. When `skipped`,
 * the driver returns at once with an empty, interrupted window.
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
  const hlog = new IntervalLogWriter(
    Date.now(),
    `m17 ${o.task} ${o.phase} response time (µs as recorded; MaxValueDivisor 1000 gives ms)`,
  );
  let lastPlain = -1;
  sampler.start();
  try {
    log.line(
      `measuring: ${scenario.warmupSeconds} s warm-up, then ${scenario.durationSeconds} s measured`,
    );
    const result = await runLoad({
      warmup: { stream: w.stream("warmup"), seconds: scenario.warmupSeconds },
      measured: { stream: w.stream("measured"), seconds: scenario.durationSeconds },
      schedule: () => makeSchedule(scenario.arrival, scenario.seed),
      baseUrl: target.url,
      timeoutMs: o.timeoutMs,
      maxInFlight: o.maxInFlight,
      signal: skipped ? AbortSignal.abort() : ctx.signal,
      onPhaseStart: (phase) => {
        ctx.stage = phase === "warmup" ? "warm-up" : "the measured window";
        log.line(
          phase === "warmup"
            ? `warm-up started: ${scenario.warmupSeconds} s, not recorded`
            : `measured window started: ${scenario.durationSeconds} s at ${scenario.rate} ops/s`,
        );
      },
      onProgress: (p) => {
        const plain = p.elapsedSeconds - lastPlain >= 10 || p.elapsedSeconds === 0;
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
      onInterval: (i) => hlog.add(i.second, 1, i.max_ms, i.histogram),
    });
    return { result, intervalLog: hlog.text(), sampler };
  } finally {
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

/** Assembles the report and writes the run's files, the report last. */
export async function writeArtifacts(
  ctx: RunContext,
  target: Target,
  measured: Measured,
  preload: PreloadCounts,
  startedAt: Date,
): Promise<RunReport> {
  const { o, files, prepared } = ctx;
  const report = assembleReport(measured.result, {
    tool: { name: "m17_check", version: VERSION, commit: await toolCommit() },
    task: o.task,
    phase: o.phase,
    mode: o.competitive ? "competitive" : "internal",
    run: { group: o.runGroup, index: o.runIndex, count: o.runCount },
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
  });
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
  await writeNewFile(files.sys, measured.sampler.text(sysHeader));
  await writeNewFile(files.diag, await diagnostics(port));
  await writeNewFile(files.hlog, measured.intervalLog);
  // The report goes last: its presence means the run's files are complete.
  await writeNewFile(files.report, JSON.stringify(report, null, 2) + "\n");
  return report;
}
