/**
 * The steps of one `check` run, in the order the old script ran them:
 * scenario → target up → preload → warm-up → measured run → artifacts → target down.
 * Each step is a function; `runCheck` strings them together and guarantees teardown.
 * @module
 */
import { TOOL_ROOT } from "../paths.ts";
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { assembleReport } from "../report/assemble.ts";
import { writeFileAtomic, writeNewFile } from "../shared/atomic.ts";
import { type LoadResult, runLoad, runPreload } from "./driver.ts";
import { buildEngram, findEngramCheckout, startEngram } from "../target/engram.ts";
import { messageOf, RunError, UsageError } from "../shared/errors.ts";
import { IntervalLogWriter } from "../report/histogram.ts";
import { renderRunHtml } from "../render/html.ts";
import { makeSchedule } from "../workload/schedule.ts";
import { formatSeed } from "../workload/prng.ts";
import type { RunReport } from "../report/schema.ts";
import { claimRunFiles, releaseClaim, type RunFiles } from "../report/files.ts";
import { loadScenario, OP_KINDS, type Scenario, withOverrides } from "../workload/scenario.ts";
import { diagnostics, SystemSampler } from "../target/system.ts";
import {
  connectUrl,
  healthLost,
  type ReferenceKnobs,
  startReference,
  type Target,
} from "../target/target.ts";
import { VERSION } from "../shared/version.ts";
import { toolCommit } from "../shared/build_info.ts";
import { serializeOp, Workload, workloadFingerprint } from "../workload/ops.ts";

/** Options of one check run, already parsed from the command line. */
export interface CheckOptions {
  task: string;
  phase: "before" | "after";
  competitive: boolean;
  scenario?: string;
  seed?: bigint;
  rate?: number;
  durationSeconds?: number;
  warmupSeconds?: number;
  url?: string;
  reference: boolean;
  knobs: ReferenceKnobs;
  /** Engram checkout to measure (default: the current directory when it is one). */
  engramDir?: string;
  /** Run `cargo build --release` before starting Engram (false with --no-build). */
  build: boolean;
  /** Engram's HTTP port. */
  port: number;
  /** Keep Engram's fresh data dir after the run. */
  keepData: boolean;
  /** Deadline for Engram's /health to answer 200. */
  startupTimeoutMs: number;
  outDir: string;
  timeoutMs: number;
  maxInFlight: number;
  preloadConcurrency: number;
  quiet: boolean;
  /** Also write `<stem>.html`, the self-contained single-run page (lib/render/html.ts). */
  html: boolean;
  runIndex: number;
  runCount: number;
  runGroup: string;
}

/** Where a run's output goes: the terminal (maybe a TTY) and the `_loadtest.log` file. */
export class RunLog {
  #lines: string[] = [];
  #file: Deno.FsFile | null = null;
  #encoder = new TextEncoder();
  #statusShown = false;
  readonly tty: boolean;

  constructor(readonly quiet: boolean) {
    this.tty = Deno.stdout.isTerminal();
  }

  /** Starts mirroring every line into `path` (earlier lines are written first). */
  attach(path: string): void {
    this.#file = Deno.openSync(path, { create: true, append: true, write: true });
    for (const l of this.#lines) this.#file.writeSync(this.#encoder.encode(l + "\n"));
    this.#lines = [];
  }

  /** A line for the terminal and the log. */
  line(text: string): void {
    this.#clearStatus();
    if (!this.quiet) console.log(text);
    this.#toFile(text);
  }

  /** A line for the log file only (the entrypoint tells the terminal). */
  record(text: string): void {
    this.#toFile(text);
  }

  /** A line that always reaches the terminal (stderr) and the log. */
  warn(text: string): void {
    this.#clearStatus();
    console.error(text);
    this.#toFile(text);
  }

  /** A live status line: rewritten in place on a TTY, a plain line otherwise (every `every` calls). */
  status(text: string, plain: boolean): void {
    if (this.quiet) return;
    if (this.tty) {
      Deno.stdout.writeSync(this.#encoder.encode(`\r\x1b[2K${text}`));
      this.#statusShown = true;
    } else if (plain) {
      console.log(text);
    }
    if (plain) this.#toFile(text);
  }

  #clearStatus() {
    if (this.#statusShown) {
      Deno.stdout.writeSync(this.#encoder.encode("\r\x1b[2K"));
      this.#statusShown = false;
    }
  }

  #toFile(text: string) {
    if (this.#file) this.#file.writeSync(this.#encoder.encode(text + "\n"));
    else this.#lines.push(text);
  }

  /** Closes the log file. */
  close(): void {
    this.#clearStatus();
    try {
      this.#file?.close();
    } catch { /* closed */ }
    this.#file = null;
  }
}

/** The directory holding the tool's own files (scenarios), also inside a compiled binary. */
export function toolRoot(): string {
  return TOOL_ROOT;
}

/**
 * Resolves `--scenario`: an existing path, else a shipped scenario name (`m17_baseline`,
 * `competitive/hybrid_production_100k`), looked up in `./scenarios/` then the tool's own.
 */
export async function resolveScenarioPath(
  arg: string | undefined,
  competitive: boolean,
): Promise<string> {
  const name = arg ?? (competitive ? "competitive/hybrid_production_100k" : "m17_baseline");
  const candidates = arg !== undefined && (arg.includes("/") || arg.endsWith(".toml")) ? [arg] : [];
  const file = name.endsWith(".toml") ? name : `${name}.toml`;
  candidates.push(join("scenarios", file), join(toolRoot(), "scenarios", file));
  for (const c of candidates) {
    try {
      if ((await Deno.stat(c)).isFile) return resolve(c);
    } catch { /* try the next */ }
  }
  throw new UsageError(`scenario ${arg ?? name}: not found (tried ${candidates.join(", ")})`);
}

/** Loads the scenario with command-line overrides applied. */
export async function prepareScenario(
  o: Pick<
    CheckOptions,
    "scenario" | "competitive" | "seed" | "rate" | "durationSeconds" | "warmupSeconds"
  >,
): Promise<{ scenario: Scenario; path: string; sha256: string }> {
  const path = await resolveScenarioPath(o.scenario, o.competitive);
  const { scenario, text } = await loadScenario(path);
  const s = withOverrides(scenario, {
    seed: o.seed,
    rate: o.rate,
    durationSeconds: o.durationSeconds,
    warmupSeconds: o.warmupSeconds,
  });
  new Workload(s); // validates the embedding space size up front
  return { scenario: s, path, sha256: createHash("sha256").update(text).digest("hex") };
}

/** The `--dry-run` text: resolved scenario, op mix, fingerprint, first ops. Contacts nothing. */
export function dryRunText(s: Scenario, path: string, sha256: string, count = 10): string {
  const w = new Workload(s);
  const mix = w.mix();
  const lines = [
    `scenario:     ${s.name} (${path})`,
    `sha256:       ${sha256}`,
    `seed:         ${formatSeed(s.seed)}`,
    `arrival:      ${s.arrival.pattern}, ${s.rate} ops/s`,
    `duration:     ${s.durationSeconds} s measured after ${s.warmupSeconds} s warm-up`,
    `preload:      ${s.preload} memories`,
    `embeddings:   ${s.embeddingDim} dims, ${describeDistribution(s)}`,
    `op mix:       ${
      OP_KINDS.filter((k) => mix[k] > 0).map((k) => `${k} ${(mix[k] * 100).toFixed(1)}%`).join(", ")
    }`,
    `modes:        recall=${s.modes.recall}, semantic=${s.modes.semanticRecall}, blended=${s.modes.blendedRecall}`,
    `fingerprint:  ${workloadFingerprint(s)}`,
    `first ${count} measured ops:`,
  ];
  const st = w.stream("measured");
  for (let i = 0; i < count; i++) {
    const op = st.next();
    const text = serializeOp(op).trimEnd().replace("\n", "  ");
    lines.push(
      `  ${String(i).padStart(3)} ${op.kind.padEnd(17)} ${
        text.length > 150 ? text.slice(0, 150) + "…" : text
      }`,
    );
  }
  return lines.join("\n");
}

function describeDistribution(s: Scenario): string {
  const d = s.distribution;
  switch (d.type) {
    case "uniform":
      return "uniform";
    case "clustered":
      return `clustered (${d.numClusters} clusters, std_dev ${d.stdDev})`;
    case "hot_spot":
      return `hot spot (center ${d.center}, std_dev ${d.stdDev})`;
    case "scale_free":
      return `scale-free (${d.numClusters} clusters, exponent ${d.exponent}, std_dev ${d.stdDev})`;
  }
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

/** The outcome of `runCheck`. */
export interface CheckOutcome {
  report: RunReport | null;
  files: RunFiles | null;
  exitCode: number;
}

/** Share of measured requests without an answer (timeout, no connection) that makes a run invalid. */
export const UNANSWERED_LIMIT = 0.01;

/**
 * Why a run's latencies are not measurements: more than 1% of its requests got no answer. A
 * timeout records the timeout, not the response time, and a refused connection fails at once,
 * so both would pass for latencies. Error responses (HTTP 5xx) are answers and do not count.
 */
export function unansweredReason(r: LoadResult, timeoutMs: number): string | null {
  const timeouts = r.errorsByKind.timeout ?? 0;
  const refused = r.errorsByKind.connection ?? 0;
  const requests = Math.max(r.sent, r.completed, 1);
  if (timeouts + refused <= requests * UNANSWERED_LIMIT) return null;
  return `${timeouts + refused} of ${requests} requests (${
    ((100 * (timeouts + refused)) / requests).toFixed(1)
  }%) got no answer (${timeouts} timed out after ${timeoutMs} ms, ${refused} could not connect): ` +
    `over ${UNANSWERED_LIMIT * 100}%, the percentiles are not response times`;
}

/** `interrupted by SIGINT during preload`: the abort reason is the signal's name. */
function interruptedBy(signal: AbortSignal, stage: string): string {
  return `interrupted by ${
    typeof signal.reason === "string" ? signal.reason : "a signal"
  } during ${stage}`;
}

/**
 * One complete run with guaranteed teardown. `signal` aborts it (SIGINT/SIGTERM; its reason is
 * the signal's name). Once the target is up, an interrupt or a dead server still yields a report,
 * marked invalid, with what was measured until then.
 */
export async function runCheck(
  o: CheckOptions,
  log: RunLog,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const { scenario, path: scenarioPath, sha256 } = await prepareScenario(o);
  const fingerprint = workloadFingerprint(scenario);

  // Before any file is claimed: a bad --engram-dir or --ref-record is a usage error.
  const engramDir = o.url || o.reference ? null : await findEngramCheckout(Deno.cwd(), o.engramDir);
  if (o.knobs.record !== undefined) await checkRecordPath(o.knobs.record);

  const files = await claimRunFiles(o.outDir, o.task, o.phase, o.competitive);
  log.attach(files.log);
  const startedAt = new Date();
  let target: Target | null = null;
  let sampler: SystemSampler | null = null;
  const extraInvalid: string[] = [];
  let stage = "target start-up";
  try {
    log.line(
      `m17_check ${VERSION}: task ${o.task}, phase ${o.phase}${
        o.competitive ? ", competitive" : ""
      }${o.runCount > 1 ? `, run ${o.runIndex}/${o.runCount}` : ""}`,
    );
    log.line(
      `scenario ${scenario.name} (${scenarioPath}), seed ${
        formatSeed(scenario.seed)
      }, ${scenario.rate} ops/s for ${scenario.durationSeconds} s after ${scenario.warmupSeconds} s warm-up`,
    );
    log.line(`workload fingerprint ${fingerprint}`);

    // ---- target up ----
    if (o.url) {
      target = await connectUrl(o.url, signal);
      log.line(
        `target: running server at ${target.url} (version ${
          target.version ?? "unknown"
        }); nothing started or stopped`,
      );
    } else if (engramDir) {
      if (o.build) {
        log.line(
          `target: Engram checkout ${engramDir}: cargo build --release (output in ${files.serverLog})`,
        );
        await buildEngram(engramDir, files.serverLog, signal);
      } else {
        log.line(
          `target: Engram checkout ${engramDir}: --no-build, using the existing target/release/engram`,
        );
      }
      target = await startEngram({
        dir: engramDir,
        port: o.port,
        outDir: o.outDir,
        stem: files.stem,
        logPath: files.serverLog,
        keepData: o.keepData,
        startupTimeoutMs: o.startupTimeoutMs,
        signal,
      });
      const d = target.details;
      const commit = typeof d.git_commit === "string"
        ? d.git_commit.slice(0, 12)
        : "not a git checkout";
      log.line(
        `target: engram ${
          target.version ?? "(version unknown)"
        } at ${target.url} (pid ${d.pid}, commit ${commit}${
          d.git_dirty ? " with uncommitted changes" : ""
        }), fresh data dir ${d.data_dir}${o.keepData ? " (kept)" : ""}`,
      );
    } else {
      log.line(
        "target: BUILT-IN REFERENCE SERVER (not Engram) — starting it on a free loopback port",
      );
      target = await startReference(o.knobs, {
        dim: scenario.embeddingDim,
        logPath: files.serverLog,
        signal,
      });
      log.line(
        `target: reference server ${
          target.version ?? ""
        } at ${target.url} (pid ${target.process?.pid})`,
      );
    }
    // Nothing ran yet: no report.
    if (signal.aborted) throw new RunError(interruptedBy(signal, stage));

    // ---- preload (not measured) ----
    const w = new Workload(scenario);
    let preload = { count: 0, errors: 0, seconds: 0 };
    // Why the warm-up and measured window are skipped (the report still gets written).
    let skipped: string | null = null;
    if (scenario.preload > 0) {
      stage = "preload";
      log.line(`preload: storing ${scenario.preload} memories (not measured)`);
      const p = await runPreload(w.stream("preload"), scenario.preload, {
        baseUrl: target.url,
        timeoutMs: o.timeoutMs,
        maxInFlight: o.maxInFlight,
        concurrency: o.preloadConcurrency,
        signal,
        onPreloadProgress: (done) =>
          log.status(
            `preload: ${done}/${scenario.preload} (${
              ((100 * done) / scenario.preload).toFixed(0)
            }%)`,
            done % 10000 < 3000,
          ),
      });
      preload = { count: p.count, errors: p.errors, seconds: p.seconds };
      log.line(`preload: ${p.count} memories in ${p.seconds.toFixed(1)} s, ${p.errors} errors`);
      if (p.errors > 0) {
        extraInvalid.push(`preload had ${p.errors} errors (first: ${p.firstError})`);
      }
      const dead = target.deathReason();
      if (signal.aborted) skipped = interruptedBy(signal, stage);
      else if (dead) skipped = `${dead} during preload`;
      if (skipped) {
        extraInvalid.push(`${skipped}: no measured window`);
        log.warn(`${skipped}: skipping the warm-up and the measured window`);
      }
    }

    // ---- warm-up and measured window ----
    sampler = new SystemSampler(target.process?.pid ?? null);
    const hlog = new IntervalLogWriter(
      Date.now(),
      `m17 ${o.task} ${o.phase} response time (µs as recorded; MaxValueDivisor 1000 gives ms)`,
    );
    let lastPlain = -1;
    sampler.start();
    log.line(
      `measuring: ${scenario.warmupSeconds} s warm-up, then ${scenario.durationSeconds} s measured`,
    );
    // Skipped: an aborted signal makes runLoad return at once with an empty, interrupted window.
    const result: LoadResult = await runLoad(
      w.stream("warmup"),
      w.stream("measured"),
      () => makeSchedule(scenario.arrival, scenario.seed),
      scenario.warmupSeconds,
      scenario.durationSeconds,
      {
        baseUrl: target.url,
        timeoutMs: o.timeoutMs,
        maxInFlight: o.maxInFlight,
        signal: skipped ? AbortSignal.abort() : signal,
        onPhaseStart: (phase) => {
          stage = phase === "warmup" ? "warm-up" : "the measured window";
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
      },
    );
    await sampler.stop();
    if (!skipped) {
      const dead = target.deathReason() ??
        (target.kind === "url" && !signal.aborted ? await healthLost(target.url) : null);
      if (dead) extraInvalid.push(`${dead} during the run`);
      if (signal.aborted) extraInvalid.push(interruptedBy(signal, stage));
      const unanswered = unansweredReason(result, o.timeoutMs);
      if (unanswered) extraInvalid.push(unanswered);
    }

    // ---- artifacts ----
    const report = assembleReport(result, {
      tool: { name: "m17_check", version: VERSION, commit: await toolCommit() },
      task: o.task,
      phase: o.phase,
      mode: o.competitive ? "competitive" : "internal",
      run: { group: o.runGroup, index: o.runIndex, count: o.runCount },
      scenario,
      scenarioPath,
      scenarioSha256: sha256,
      fingerprint,
      target,
      startedAt,
      endedAt: new Date(),
      preload,
      files,
      extraInvalidReasons: extraInvalid,
    });
    await writeArtifacts(report, files, sampler, hlog.text(), target);
    printSummary(report, files, log);
    if (o.html) {
      // Derived from the report just written; written after it, so it never marks a run complete.
      const htmlPath = `${files.stem}.html`;
      await writeFileAtomic(htmlPath, renderRunHtml(report, files.report));
      log.line(`HTML report: ${htmlPath}`);
    }
    return { report, files, exitCode: report.valid ? 0 : 1 };
  } catch (e) {
    log.record(`run failed: ${messageOf(e)}`);
    throw e;
  } finally {
    await sampler?.stop();
    if (target) {
      const name = target.kind === "engram" ? "engram" : "reference server";
      if (target.process) log.line(`target: stopping the ${name} (pid ${target.process.pid})`);
      await target.stop();
      if (target.process) log.line(`target: ${name} stopped`);
    }
    await releaseClaim(files);
    log.close();
  }
}

async function writeArtifacts(
  report: RunReport,
  files: RunFiles,
  sampler: SystemSampler,
  hlogText: string,
  target: Target,
): Promise<void> {
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
  await writeNewFile(files.sys, sampler.text(sysHeader));
  await writeNewFile(files.diag, await diagnostics(port));
  await writeNewFile(files.hlog, hlogText);
  // The report goes last: its presence means the run's files are complete.
  await writeNewFile(files.report, JSON.stringify(report, null, 2) + "\n");
}

function printSummary(r: RunReport, files: RunFiles, log: RunLog): void {
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  log.line("");
  log.line(`=== Quick Summary (${r.config_name}, ${r.target.kind} target) ===`);
  log.line(
    `operations:    ${r.total_operations} in ${r.elapsed_seconds.toFixed(1)} s  (${
      r.overall_throughput.toFixed(2)
    } ops/s; target ${r.target_rate}, sent at ${r.achieved_rate.toFixed(2)})`,
  );
  log.line(
    `errors:        ${r.total_errors} (${(r.overall_error_rate * 100).toFixed(2)}%)${
      Object.keys(r.errors_by_kind).length ? "  " + JSON.stringify(r.errors_by_kind) : ""
    }`,
  );
  if (r.fallbacks > 0) {
    log.line(
      `fallbacks:     ${r.fallbacks} recalls fell back to similarity mode (server rejected spreading/hybrid)`,
    );
  }
  log.line(
    `response time: P50 ${ms(r.p50_latency_ms)}  P95 ${ms(r.p95_latency_ms)}  P99 ${
      ms(r.p99_latency_ms)
    }  P99.9 ${ms(r.p999_latency_ms)}  max ${ms(r.max_latency_ms)}   (due → response)`,
  );
  log.line(
    `service time:  P50 ${ms(r.service_time.p50_ms)}  P95 ${ms(r.service_time.p95_ms)}  P99 ${
      ms(r.service_time.p99_ms)
    }  P99.9 ${ms(r.service_time.p999_ms)}  max ${ms(r.service_time.max_ms)}   (send → response)`,
  );
  log.line(
    `schedule lag:  P50 ${ms(r.schedule_lag.p50_ms)}  P99 ${ms(r.schedule_lag.p99_ms)}  max ${
      ms(r.schedule_lag.max_ms)
    }  late sends ${r.late_sends}, held by in-flight cap ${r.capped_sends}`,
  );
  if (r.validation && !r.validation.passed) {
    log.line(`scenario validation: ${r.validation.failures.join("; ")}`);
  }
  for (const note of r.notes ?? []) log.line(`note:          ${note}`);
  if (!r.valid) log.warn(`RUN INVALID: ${r.invalid_reasons.join("; ")}`);
  log.line(`report:        ${files.report}`);
  log.line(`files:         ${files.log}, ${files.sys}, ${files.diag}, ${files.hlog}`);
}
