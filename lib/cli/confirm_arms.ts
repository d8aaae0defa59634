/**
 * The two arms of a `confirm` session from the task's newest before and after reports: what
 * each arm starts (a kept Engram build, or the reference server with its recorded knobs) and the
 * settings both share. Everything that would make the session measure something else than the
 * reports did is refused here, before anything runs (UsageError: one line, exit 3).
 * @module
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { CheckOptions } from "../run/check.ts";
import { checkCommand, type ToolCommands } from "../report/files.ts";
import { type LoadedReport, readReport } from "../report/read.ts";
import type { Phase, RunGrouping, RunReport } from "../report/schema.ts";
import { INPUT_LIMITS, readInputText } from "../shared/input_file.ts";
import { UsageError } from "../shared/errors.ts";
import { verifyKeptBuild } from "../target/builds.ts";
import { DEFAULT_ENGRAM_PORT } from "../target/engram.ts";
import type { ReferenceKnobs } from "../target/target.ts";
import { comparability, refuseInvalid } from "../verdict/compare.ts";
import { locateRuns } from "../verdict/discovery.ts";
import { parseSeed } from "../workload/prng.ts";
import type { ConfirmOptions } from "./confirm_args.ts";

/** One arm: the report it repeats, the options of its runs, and how it is named. */
export interface Arm {
  phase: Phase;
  /** The report whose build this arm runs again. */
  source: LoadedReport & { kind: "current" };
  /** Options of its runs, without the per-run fields (index, pair, block, order). */
  options: CheckOptions;
  /** "engram build 3f2a9c01d4e5 (commit 5d54816ab1c2)", "reference server --ref-latency-ms 2". */
  label: string;
}

/** Both arms, ready to run, and the session they continue (null: a new one). */
export interface Arms {
  before: Arm;
  after: Arm;
  previous: PreviousSession | null;
}

/** A task's arms, and a warning for each invalid confirm run passed over to find the reports. */
export interface TaskArms extends Arms {
  warnings: string[];
}

/** The confirm session the newest before and after runs belong to. */
export interface PreviousSession {
  group: string;
  orderSeed: bigint;
  /** The last pair of which a run is there (the next pair is this + 1). */
  lastPair: number;
}

/**
 * The session both reports are runs of, when they are (same group, interleaved, seed known).
 * `spoiled`: newer invalid runs passed over to find them; a pair one of them ran is not run again.
 */
export function previousSession(
  b: RunReport,
  a: RunReport,
  spoiled: readonly { run: RunGrouping }[] = [],
): PreviousSession | null {
  const seed = parseSeed(b.run.order_seed ?? "");
  if (
    b.run.design !== "interleaved" || a.run.design !== "interleaved" ||
    b.run.group !== a.run.group || seed === undefined
  ) return null;
  const pairs = [b.run, a.run, ...spoiled.map((s) => s.run).filter((r) => r.group === b.run.group)]
    .map((r) => r.pair ?? 0);
  return { group: b.run.group, orderSeed: seed, lastPair: Math.max(...pairs) };
}

/**
 * Reads the task's newest before and after reports and makes the arms; refuses (UsageError) when
 * a report is invalid, the two differ in scenario or settings, the scenario file changed since,
 * or a side has no kept build to run.
 */
export async function confirmArms(o: ConfirmOptions, commands: ToolCommands): Promise<TaskArms> {
  const mode = o.competitive ? "competitive" : "internal";
  const paths = await locateRuns({ commands, dir: o.outDir, task: o.task, mode });
  const before = await readReport(paths.before);
  const after = await readReport(paths.after);
  for (const r of [before, after]) {
    if (r.kind === "current" && !r.report.valid && r.report.run.design === "interleaved") {
      throw new UsageError(
        `confirm: ${r.path} is an invalid run of confirm session ${
          r.report.run.group.slice(0, 8)
        } (${r.report.invalid_reasons.join("; ")}): remove it to continue the session`,
      );
    }
  }
  refuseInvalid(before, o.task, "before", mode, commands);
  refuseInvalid(after, o.task, "after", mode, commands);
  const { problems } = comparability(before, after, { task: o.task, mode });
  if (before.kind === "legacy" || after.kind === "legacy") {
    throw new UsageError(
      `confirm: ${
        before.kind === "legacy" ? before.path : after.path
      } is an old load-generator report: nothing recorded to run again; rerun: ${
        checkCommand(o.task, before.kind === "legacy" ? "before" : "after", mode, commands)
      }`,
    );
  }
  problems.push(...sharedSettingProblems(before.report, after.report));
  if (problems.length > 0) {
    throw new UsageError(`confirm: ${problems.join("; ")}; refusing to confirm`);
  }
  await checkScenarioFile(before.report);
  const previous = o.newSession
    ? null
    : previousSession(before.report, after.report, paths.leftOut);
  refuseOtherOrder(previous, o);
  const common = commonOptions(before.report, o);
  return {
    before: await armOf(before, "before", common, o, commands),
    after: await armOf(after, "after", common, o, commands),
    previous,
    warnings: paths.leftOut.map((l) => l.warning),
  };
}

/** A continued session keeps its own block order: another `--seed-order` is refused. */
export function refuseOtherOrder(previous: PreviousSession | null, o: ConfirmOptions): void {
  if (previous && o.orderSeed !== undefined && o.orderSeed !== previous.orderSeed) {
    throw new UsageError(
      `confirm: the newest runs are confirm session ${
        previous.group.slice(0, 8)
      } (order seed ${previous.orderSeed}), ` +
        `which continues in its own order; --new-session starts another with --seed-order ${o.orderSeed}`,
    );
  }
}

/** Settings a confirm session repeats that `comparability` does not check. */
export function sharedSettingProblems(b: RunReport, a: RunReport): string[] {
  const problems: string[] = [];
  const differ = (what: string, x: unknown, y: unknown) => {
    if (x !== y) problems.push(`before and after ${what} (${x} vs ${y})`);
  };
  differ("read different scenario files", b.scenario.path, a.scenario.path);
  differ(
    "read different scenario texts",
    b.scenario.sha256.slice(0, 12),
    a.scenario.sha256.slice(0, 12),
  );
  differ(
    "warmed up differently",
    `${b.scenario.warmup_seconds} s`,
    `${a.scenario.warmup_seconds} s`,
  );
  differ(
    "pinned the load generator differently",
    b.generator?.client_cpus ?? "none",
    a.generator?.client_cpus ?? "none",
  );
  differ(
    "pinned the server differently",
    b.generator?.server_cpus ?? "none",
    a.generator?.server_cpus ?? "none",
  );
  return problems;
}

/** The scenario file must still be the one the reports ran (same path, same bytes). */
export async function checkScenarioFile(r: RunReport): Promise<void> {
  const path = r.scenario.path;
  const text = await readInputText(path, { label: "scenario", maxBytes: INPUT_LIMITS.tomlBytes })
    .catch(() => null);
  if (text === null) {
    throw new UsageError(
      `confirm: the reports' scenario file ${path} is gone: restore it, or re-run both checks`,
    );
  }
  const now = createHash("sha256").update(text).digest("hex");
  if (now !== r.scenario.sha256) {
    throw new UsageError(
      `confirm: the scenario file ${path} changed since the reports (sha256 ${
        r.scenario.sha256.slice(0, 12)
      } then, ${now.slice(0, 12)} now): restore it, or re-run both checks`,
    );
  }
}

/** The options both arms share, from the before report (the after one is checked equal). */
export function commonOptions(r: RunReport, o: ConfirmOptions): CheckOptions {
  // The seed is passed only where the reports got it from --seed, so seed_source stays the same.
  const seedFromFlag = r.scenario.seed_source === undefined ||
    r.scenario.seed_source.from === "flag";
  return {
    task: o.task,
    phase: "before",
    competitive: o.competitive,
    scenario: r.scenario.path,
    seed: seedFromFlag ? parseSeed(r.scenario.seed) : undefined,
    rate: r.scenario.rate,
    durationSeconds: r.scenario.duration_seconds,
    warmupSeconds: r.scenario.warmup_seconds,
    reference: false,
    knobs: {},
    build: false,
    port: o.port ?? DEFAULT_ENGRAM_PORT,
    keepData: false,
    startupTimeoutMs: o.startupTimeoutMs,
    outDir: o.outDir,
    timeoutMs: r.settings?.timeout_ms ?? 10_000,
    maxInFlight: r.settings?.max_in_flight ?? 64,
    preloadConcurrency: 32,
    workers: r.generator?.workers,
    clientCpus: r.generator?.client_cpus,
    serverCpus: r.generator?.server_cpus,
    quiet: true,
    profile: false,
    html: false,
    runIndex: 1,
    runCount: o.maxPairs,
    runGroup: "", // set per run (lib/cli/confirm.ts)
  };
}

/** One arm's options: the kept build, or the reference server's recorded knobs. */
export async function armOf(
  source: LoadedReport & { kind: "current" },
  phase: Phase,
  common: CheckOptions,
  o: ConfirmOptions,
  commands: ToolCommands,
): Promise<Arm> {
  const r = source.report;
  const rerun = `re-run '${checkCommand(r.task, phase, r.mode, commands)}' from that build`;
  const name = basename(source.path);
  const d = r.target.details;
  if (r.target.kind === "url") {
    throw new UsageError(
      `confirm: the ${phase} run ${name} measured a server m17 did not start (--url ${r.target.url}): ` +
        `there is no build to run again; ${rerun} (an Engram checkout or the reference server)`,
    );
  }
  if (r.target.kind === "reference") {
    const { record: _record, ...knobs } = (d.knobs ?? {}) as ReferenceKnobs;
    const flags = Object.entries(knobs).filter(([k]) => k !== "seed")
      .map(([k, v]) => `${k}=${v}`).join(" ");
    return {
      phase,
      source,
      options: { ...common, phase, reference: true, knobs },
      label: `reference server${flags ? ` (${flags})` : " (no knobs)"}`,
    };
  }
  const sha = typeof d.binary_sha256 === "string" ? d.binary_sha256 : null;
  if (sha === null) {
    throw new UsageError(
      `confirm: the ${phase} run ${name} has no kept build (made before m17 kept builds); ${rerun}`,
    );
  }
  const kept = await verifyKeptBuild(o.outDir, sha);
  if (kept.kind !== "ok") {
    throw new UsageError(
      `confirm: the ${phase} run's kept build ${sha.slice(0, 12)} is ${
        kept.kind === "missing" ? "gone (pruned?)" : "damaged (its bytes no longer match)"
      }: ${kept.path}; ${rerun}`,
    );
  }
  const checkout = String(d.checkout);
  const cwd = (await Deno.stat(checkout).catch(() => null))?.isDirectory ? checkout : o.outDir;
  const commit = kept.build.record.git_commit?.slice(0, 12) ?? "no git";
  return {
    phase,
    source,
    options: { ...common, phase, kept: { sha256: sha, cwd } },
    label: `engram build ${sha.slice(0, 12)} (commit ${commit}${
      kept.build.record.git_dirty ? ", uncommitted changes" : ""
    }, ${kept.build.record.build_profile})`,
  };
}
