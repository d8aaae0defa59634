/**
 * One complete `check` run, in the order the old script ran its steps:
 * scenario → files claimed → target up → preload → (`--find-rate`: capacity search) → warm-up
 * and measured run → artifacts → target down. The steps live in lib/run/steps.ts and lib/target/start.ts; `runCheck` strings
 * them together and guarantees teardown.
 * @module
 */
import { claimRunFiles, releaseClaim, type RunFiles } from "../report/files.ts";
import type { RunReport } from "../report/schema.ts";
import { describeReason } from "../report/validity.ts";
import { messageOf, RunError } from "../shared/errors.ts";
import { oneLine } from "../shared/sanitize.ts";
import { startTarget, stopTarget, type TargetSpec } from "../target/start.ts";
import type { Target } from "../target/target.ts";
import { Workload, workloadFingerprint } from "../workload/ops.ts";
import { prepareScenario } from "../workload/prepare.ts";
import { withOverrides } from "../workload/scenario.ts";
import { capacityPlan, searchCapacity, searchSkipped } from "./capacity_step.ts";
import { ArtifactWriter } from "./artifacts.ts";
import type { CheckOptions } from "./options.ts";
import { applyPinning } from "./pin_step.ts";
import type { FlameGraphRenderer } from "./profile_step.ts";
import type { RunLog } from "./run_log.ts";
import {
  announce,
  checkAfterRun,
  checkUsage,
  interruption,
  measure,
  memoryCount,
  type RunContext,
  targetSpec,
  writeArtifacts,
} from "./steps.ts";
import { PreloadCache, preloadStep } from "./preload_step.ts";
import { removeKilledRuns } from "./leftovers.ts";
import { printSummary } from "./summary.ts";

export type { CheckOptions } from "./options.ts";

/** Renderers the run uses but may not import (lib/render sits beside lib/run, not below it). */
export interface CheckRenderers {
  /** The self-contained single-run page (`--html`) of a report written at `reportPath`. */
  runHtml(report: RunReport, reportPath: string): string;
  /** The flame graph of `--profile` (lib/render/flamegraph.ts). */
  flameGraph?: FlameGraphRenderer;
}

/** The outcome of `runCheck`. */
export interface CheckOutcome {
  report: RunReport | null;
  files: RunFiles | null;
  exitCode: number;
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
  render: CheckRenderers,
): Promise<CheckOutcome> {
  // ---- scenario, and what must be checked before any file is claimed ----
  const engramDir = await checkUsage(o);
  // In an Engram checkout its own scenarios come first, as the old scripts used them.
  const prepared = await prepareScenario({ ...o, scenarioDir: engramDir ?? undefined });
  const capacity = o.findRate ? capacityPlan(o.findRate, prepared.scenario) : null;
  const files = await claimRunFiles(
    o.outDir,
    o.task,
    o.phase,
    o.competitive ? "competitive" : "internal",
    new Date(),
    o.keepData,
  );
  log.attach(files.log);
  const ctx: RunContext = {
    o,
    log,
    signal,
    prepared,
    fingerprint: workloadFingerprint(prepared.scenario),
    files,
    stage: "target start-up",
    invalid: [],
    flameGraph: render.flameGraph,
  };
  const startedAt = new Date();
  let target: Target | null = null;
  let diskFailed = false;
  try {
    announce(ctx);
    // A run killed with SIGKILL (a session's end) left its data dir behind: removed, and said.
    await removeKilledRuns(o.outDir, (line) => log.line(line));
    // ---- target up ----
    const spec = targetSpec(ctx, engramDir);
    ctx.cpus = await applyPinning(o, spec.kind !== "url", (line) => log.line(line));
    // Preload snapshots: only for an Engram the tool starts (lib/run/preload_step.ts).
    const cache = spec.kind === "engram" && prepared.scenario.preload > 0 && !o.noPreloadCache
      ? new PreloadCache(ctx, spec)
      : null;
    const start = (s: TargetSpec) =>
      startTarget({
        spec: s,
        serverLog: files.serverLog,
        signal,
        say: (line) => log.line(line),
        serverCpus: ctx.cpus?.server,
      });
    target = await (cache ? cache.start(start) : start(spec));
    // Nothing ran yet: no report.
    if (signal.aborted) throw new RunError(describeReason(interruption(signal, ctx.stage)));

    // ---- preload (not measured) ----
    let w = new Workload(prepared.scenario);
    const { counts, skipped: preloadSkipped } = await preloadStep(
      ctx,
      target,
      w,
      cache,
      start,
      (t) => target = t,
    );
    let skipped = preloadSkipped;

    // ---- --find-rate: the search, then the full-length run at the rate found ----
    if (capacity && !skipped) {
      const { result, fullRate } = await searchCapacity(ctx, target, capacity);
      ctx.capacity = { plan: capacity, result };
      skipped = searchSkipped(ctx, target, result);
      ctx.prepared = {
        ...prepared,
        scenario: withOverrides(prepared.scenario, { rate: fullRate }),
      };
      w = new Workload(ctx.prepared.scenario);
    }
    const afterPreload = skipped ? null : await memoryCount(ctx, target);

    // ---- warm-up and measured window ----
    const measured = await measure(ctx, target, w, skipped);
    // Without a measured window there is nothing to check and no target state to report.
    if (measured.noWindow === null) {
      await checkAfterRun(ctx, target, measured.result);
      ctx.memories = { afterPreload, atEnd: await memoryCount(ctx, target) };
    }

    // ---- artifacts: a file that cannot be written is said in one line, never thrown ----
    const out = new ArtifactWriter();
    const { report, reportPath } = await writeArtifacts(
      ctx,
      target,
      measured,
      counts,
      startedAt,
      out,
    );
    const others = [...(log.fileError ? [] : [files.log]), ...out.written];
    printSummary(
      report,
      { report: reportPath, others: others.filter((f) => f !== reportPath) },
      log,
    );
    // Derived from the report just written; written after it, so it never marks a run complete.
    if (o.html && reportPath && await out.write(files.html, render.runHtml(report, reportPath))) {
      log.line(`HTML report: ${oneLine(files.html)}`);
    }
    const failures = log.fileError ? [log.fileError, ...out.failures] : out.failures;
    diskFailed = failures.length > 0;
    // Each names a path that may hold a newline (`--out-dir`): one line each, whatever it holds.
    for (const failure of failures) log.warn(`m17_check: ${oneLine(failure, Infinity)}`);
    return { report, files, exitCode: report.valid && failures.length === 0 ? 0 : 1 };
  } catch (e) {
    log.record(`run failed: ${messageOf(e)}`);
    throw e;
  } finally {
    // ---- target down ----
    if (target) await stopTarget(target, (line) => log.line(line));
    await releaseClaim(files);
    log.close();
    // A full disk leaves the logs opened before it filled empty: no empty file stays behind.
    if (diskFailed || log.fileError) {
      for (const path of [files.log, files.serverLog]) await removeIfEmpty(path);
    }
  }
}

/** Removes `path` when it is an empty regular file (never anything else). */
async function removeIfEmpty(path: string): Promise<void> {
  const info = await Deno.lstat(path).catch(() => null);
  if (info?.isFile && info.size === 0) await Deno.remove(path).catch(() => {});
}
