/**
 * Run discovery: which file is the newest `before`/`after` run of a task, and the other runs of
 * its `check --runs N` group (N reports sharing one `run.group`: a phase's runs are the newest
 * report and the other reports of its group). Names are made and parsed in `report/files.ts`,
 * reports read in `report/read.ts`.
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../shared/errors.ts";
import { INPUT_LIMITS, readInputText, regularOrMissing } from "../shared/input_file.ts";
import type { Mode, Phase, RunGrouping, RunReport } from "../report/schema.ts";
import { oneLine } from "../shared/sanitize.ts";
import {
  checkCommand,
  parseReportName,
  reportPattern,
  timestampMs,
  type ToolCommands,
} from "../report/files.ts";
import { type LoadedReport, parseReport, readReport, startedAtMs } from "../report/read.ts";

/**
 * Path of the newest report of `task`/`phase` in `dir` (by the run's recorded UTC start; the
 * name's time stamp, the file's mtime, then the `_N` suffix break ties), or null when none.
 */
export async function findNewestReport(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
): Promise<string | null> {
  return (await listReports(dir, task, phase, mode)).at(-1) ?? null;
}

/** The newest report of a side to compare, and the newer invalid confirm runs passed over. */
export interface NewestRun {
  path: string;
  /** The reports left out (invalid runs of a confirm session), newest first, each with one line naming it. */
  leftOut: { path: string; run: RunGrouping; warning: string }[];
}

/**
 * The newest report of `task`/`phase` to compare (null: none). A confirm session leaves out a
 * run the instrument spoiled and goes on, so an invalid run of a confirm session
 * (`run.design: "interleaved"`) is passed over here too, with a warning naming it, when an older
 * report is there. Any other invalid newest report stays the newest, for the caller to refuse:
 * a plain run is re-run, never silently replaced by an older one.
 */
export async function findNewestToCompare(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
): Promise<NewestRun | null> {
  const paths = await listReports(dir, task, phase, mode);
  const leftOut: NewestRun["leftOut"] = [];
  for (const path of paths.toReversed()) {
    const spoiled = await spoiledConfirmRun(path);
    if (spoiled === null) return { path, leftOut };
    leftOut.push({
      path,
      run: spoiled.run,
      warning: oneLine(
        `${phase} run ${path} left out: an invalid run of confirm group ${
          spoiled.run.group.slice(0, 8)
        }, pair ${spoiled.run.pair ?? "?"} (${
          spoiled.invalid_reasons.join("; ")
        }), newer than the ${phase} run used as the newest`,
        Infinity,
      ),
    });
  }
  // Only spoiled confirm runs: the newest is refused as invalid, as before.
  return paths.length === 0 ? null : { path: paths.at(-1)!, leftOut: [] };
}

/** The report at `path` when it is an invalid run of a confirm session; else (unreadable too) null. */
async function spoiledConfirmRun(path: string): Promise<RunReport | null> {
  const text = await readInputText(path, { label: "report", maxBytes: INPUT_LIMITS.reportBytes })
    .catch(() => null);
  if (text === null) return null;
  try {
    const r = parseReport(text, path);
    return r.kind === "current" && !r.report.valid && r.report.run?.design === "interleaved"
      ? r.report
      : null;
  } catch {
    return null; // reading it again says what is wrong with it
  }
}

/**
 * When a run started, in UTC ms: the report's recorded `started_at` (read from the first 64 KiB,
 * where it sits before the histograms), else the local time stamp of its file name (old-tool
 * reports). File names keep the local time of the machine that ran check, so a run made under
 * another TZ, or in the repeated hour of a clock change, sorts by its real start.
 */
async function recordedStartMs(path: string, stamp: string): Promise<number> {
  let head = "";
  try {
    using file = await Deno.open(path);
    const buf = new Uint8Array(65536);
    const n = await file.read(buf);
    head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } catch { /* unreadable: the name decides */ }
  // Only a zoned time: a zone-less one would order runs by the comparing host's TZ.
  const recorded = startedAtMs(/"started_at"\s*:\s*"([^"]+)"/.exec(head)?.[1]);
  return recorded ?? timestampMs(stamp);
}

/** Paths of every report of `task`/`phase` in `dir`, oldest first (see `findNewestReport`). */
export async function listReports(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
): Promise<string[]> {
  const candidates: {
    name: string;
    timestamp: string;
    suffix: number;
    mtimeMs: number;
    startedMs: number;
  }[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const parsed = parseReportName(entry.name, task, phase, mode);
      if (!parsed) continue;
      // A report name on a FIFO, directory, device or broken symlink is refused, never opened.
      const path = join(dir, entry.name);
      await regularOrMissing(path, "report");
      const info = await Deno.stat(path).catch(() => null);
      if (!info?.isFile) continue; // removed meanwhile
      const startedMs = await recordedStartMs(join(dir, entry.name), parsed.timestamp);
      candidates.push({
        name: entry.name,
        ...parsed,
        mtimeMs: info.mtime?.getTime() ?? 0,
        startedMs,
      });
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof Deno.errors.NotFound) return [];
    if (e instanceof Deno.errors.NotADirectory) throw new UsageError(`${dir} is not a directory`);
    throw new UsageError(`cannot list ${dir}: ${(e as Error).message.split("\n")[0]}`);
  }
  candidates.sort((a, b) =>
    a.startedMs - b.startedMs || a.timestamp.localeCompare(b.timestamp) ||
    a.mtimeMs - b.mtimeMs || a.suffix - b.suffix ||
    a.name.localeCompare(b.name)
  );
  return candidates.map((c) => join(dir, c.name));
}

/**
 * The runs of the `check --runs N` invocation that wrote `newest`: the reports of `dir` with its
 * prefix and `run.group`, in run order, and a warning when fewer than `run.count` are there.
 * Old-tool reports and single runs are their own group. `said`: invalid runs already named in a
 * warning (`findNewestToCompare`), left out without being counted again.
 */
export async function gatherRunGroup(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
  newest: LoadedReport,
  said: readonly string[] = [],
): Promise<{ runs: LoadedReport[]; warning: string | null }> {
  if (newest.kind === "legacy" || !(newest.report.run?.count > 1)) {
    return { runs: [newest], warning: null };
  }
  const { group, count } = newest.report.run;
  const interleaved = newest.report.run.design === "interleaved";
  const runs: LoadedReport[] = [newest];
  // A confirm session leaves out a pair whose run the instrument spoiled (marked invalid) and
  // goes on; such a run is left out here too, and said, never compared.
  const leftOut: number[] = [];
  for (const path of await listReports(dir, task, phase, mode)) {
    if (path === newest.path) continue;
    const other = await readIfInGroup(path, group);
    if (other === null) continue;
    if (interleaved && other.kind === "current" && other.report.valid === false) {
      if (!said.includes(path)) leftOut.push(runIndex(other));
      continue;
    }
    if (!runs.some((r) => runIndex(r) === runIndex(other))) runs.push(other);
  }
  runs.sort((a, b) => runIndex(a) - runIndex(b));
  const invalidNote = leftOut.length === 0
    ? null
    : `${leftOut.length} invalid ${phase} run${leftOut.length === 1 ? "" : "s"} of confirm group ${
      group.slice(0, 8)
    } left out (pair ${
      leftOut.sort((a, b) => a - b).join(", ")
    }: the instrument failed; its pair is not compared)`;
  // A confirm session stops when the verdict is clear and skips a pair whose run was invalid
  // (the other arm may then never have run): only the pairs with both arms are compared.
  if (interleaved) return { runs, warning: invalidNote };
  const found = new Set(runs.map(runIndex));
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !found.has(i));
  if (missing.length === 0) return { runs, warning: null };
  return {
    runs,
    warning: `only ${runs.length} of the ${count} ${phase} runs of check group ${
      group.slice(0, 8)
    } are in ${dir} (missing run ${missing.join(", ")}); comparing the ${runs.length} found`,
  };
}

/**
 * Every run of each side: the run group of each newest report, or just the given file for
 * `--before FILE` / `--after FILE`; with warnings for incomplete groups. `leftOut`: reports
 * `locateRuns` passed over and already named.
 */
export async function gatherRuns(
  options: {
    dir: string;
    task: string;
    mode: Mode;
    before?: string;
    after?: string;
    leftOut?: readonly string[];
  },
  newest: { before: LoadedReport; after: LoadedReport },
): Promise<{ before: LoadedReport[]; after: LoadedReport[]; warnings: string[] }> {
  const side = (phase: Phase) =>
    options[phase] !== undefined ? { runs: [newest[phase]], warning: null } : gatherRunGroup(
      options.dir,
      options.task,
      phase,
      options.mode,
      newest[phase],
      options.leftOut,
    );
  const before = await side("before");
  const after = await side("after");
  return {
    before: before.runs,
    after: after.runs,
    warnings: [before.warning, after.warning].filter((w) => w !== null),
  };
}

function runIndex(r: LoadedReport): number {
  return r.kind === "current" ? r.report.run?.index ?? 1 : 1;
}

/** The report at `path` when it belongs to run group `group`; unreadable files are skipped. */
async function readIfInGroup(path: string, group: string): Promise<LoadedReport | null> {
  const text = await readInputText(path, { label: "report", maxBytes: INPUT_LIMITS.reportBytes })
    .catch(() => "");
  if (!text.includes(group)) return null;
  try {
    const r = parseReport(text, path);
    return r.kind === "current" && r.report.run?.group === group ? r : null;
  } catch {
    return null;
  }
}

/**
 * Runs of one build for calibration: the newest report's run group when it has at least `min`
 * runs, else every valid report of the phase that ran the same workload, scenario and target kind
 * as the newest one. Unreadable reports are skipped.
 */
export async function calibrationRuns(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
  min: number,
  via: ToolCommands,
): Promise<{ runs: LoadedReport[]; source: "group" | "phase" }> {
  const newestPath = await findNewestReport(dir, task, phase, mode);
  if (newestPath === null) {
    throw new UsageError(
      `no '${phase}' run for task ${task} in ${dir}; run: ${
        checkCommand(task, phase, mode, via)
      } ` +
        `--runs 5`,
    );
  }
  const newest = await readReport(newestPath);
  const { runs } = await gatherRunGroup(dir, task, phase, mode, newest);
  if (runs.length >= min) return { runs, source: "group" };
  const identity = (r: LoadedReport) =>
    r.kind === "legacy"
      ? "legacy"
      : [r.report.workload_fingerprint, r.report.scenario.name, r.report.target.kind].join(" ");
  const all: LoadedReport[] = [];
  for (const path of await listReports(dir, task, phase, mode)) {
    const r = path === newest.path ? newest : await readReport(path).catch(() => null);
    if (r && identity(r) === identity(newest) && (r.kind === "legacy" || r.report.valid)) {
      all.push(r);
    }
  }
  return { runs: all, source: "phase" };
}

/** Where the before and after reports are, and the newer reports passed over to find them. */
export interface LocatedRuns {
  before: string;
  after: string;
  /** Invalid confirm runs passed over (`findNewestToCompare`), each named in one warning. */
  leftOut: NewestRun["leftOut"];
}

/**
 * Where the before and after reports are: given explicitly, else the newest in `dir` to compare
 * (`findNewestToCompare`: an invalid run of a confirm session is passed over).
 */
export async function locateRuns(options: {
  /** How the user runs the tools, for the command a missing run's message suggests. */
  commands: ToolCommands;
  dir: string;
  task: string;
  mode: Mode;
  before?: string;
  after?: string;
}): Promise<LocatedRuns> {
  const leftOut: LocatedRuns["leftOut"] = [];
  const locate = async (phase: Phase, given: string | undefined): Promise<string> => {
    if (given !== undefined) return given;
    const found = await findNewestToCompare(options.dir, options.task, phase, options.mode);
    if (found) {
      leftOut.push(...found.leftOut);
      return found.path;
    }
    const pattern = reportPattern(options.task, phase, options.mode);
    throw new UsageError(
      `no '${phase}' run for task ${options.task} in ${options.dir} (looked for ${pattern}); ` +
        `run: ${checkCommand(options.task, phase, options.mode, options.commands)}`,
    );
  };
  return {
    before: await locate("before", options.before),
    after: await locate("after", options.after),
    leftOut,
  };
}
