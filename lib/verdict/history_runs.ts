/**
 * Finding a milestone's runs for `--history`: every task's reports in the results directory,
 * per mode, with each task's newest before and after run groups (what `compare <task>`
 * compares; lib/verdict/discovery.ts) and all its other runs. A report that cannot be read or
 * that its own check marked invalid is left out with a warning: one broken file of an old task
 * does not hide the milestone. The milestone confirm's runs (task `milestone`) re-measure the
 * milestone's two ends: they are counted, never a step.
 * @module
 */
import type { Mode, Phase } from "../report/schema.ts";
import {
  MILESTONE_TASK,
  parseAnyReportName,
  type ReportName,
  timestampMs,
} from "../report/files.ts";
import { type LoadedReport, readReport } from "../report/read.ts";
import { UsageError } from "../shared/errors.ts";
import { gatherRunGroup, listReports } from "./discovery.ts";
import { type HistoryRun, runOfReport, type TaskRuns } from "./history.ts";

/** The tasks found, per mode, and what was left out. */
export interface FoundRuns {
  tasks: Record<Mode, TaskRuns[]>;
  /** Tasks with runs of one phase only (no before → after step yet). */
  incomplete: { task: string; mode: Mode; missing: Phase }[];
  /** Reports left out because their check marked them invalid. */
  invalidCount: number;
  /** Reports of the milestone confirm (task `milestone`): not a step, left out of the tasks. */
  milestoneConfirmReports: Record<Mode, number>;
  warnings: string[];
}

/** Every task's runs in `dir` (a missing directory has none). */
export async function findHistoryRuns(dir: string): Promise<FoundRuns> {
  const names = new Map<string, ReportName>();
  const milestoneConfirmReports = { internal: 0, competitive: 0 };
  try {
    for await (const entry of Deno.readDir(dir)) {
      const parsed = parseAnyReportName(entry.name);
      if (parsed?.task === MILESTONE_TASK) milestoneConfirmReports[parsed.mode]++;
      else if (parsed) names.set(`${parsed.mode} ${parsed.task}`, parsed);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        tasks: emptyTasks(),
        incomplete: [],
        invalidCount: 0,
        milestoneConfirmReports: { internal: 0, competitive: 0 },
        warnings: [],
      };
    }
    if (e instanceof Deno.errors.NotADirectory) throw new UsageError(`${dir} is not a directory`);
    throw new UsageError(`cannot list ${dir}: ${(e as Error).message.split("\n")[0]}`);
  }
  const found: FoundRuns = {
    tasks: emptyTasks(),
    incomplete: [],
    invalidCount: 0,
    milestoneConfirmReports,
    warnings: [],
  };
  const invalid: string[] = [];
  for (const { mode, task } of names.values()) {
    const before = await sideRuns(dir, task, "before", mode, found.warnings, invalid);
    const after = await sideRuns(dir, task, "after", mode, found.warnings, invalid);
    if (before === null || after === null) {
      found.incomplete.push({ task, mode, missing: before === null ? "before" : "after" });
      continue;
    }
    found.tasks[mode].push({
      task,
      name: null,
      before: before.group,
      after: after.group,
      all: [...before.all, ...after.all],
    });
  }
  found.invalidCount = invalid.length;
  if (invalid.length > 0) {
    found.warnings.push(
      `${invalid.length} report${invalid.length === 1 ? "" : "s"} marked invalid by check ` +
        `left out of the history; the first: ${invalid[0]}`,
    );
  }
  return found;
}

function emptyTasks(): Record<Mode, TaskRuns[]> {
  return { internal: [], competitive: [] };
}

/**
 * A phase's valid runs (oldest first) and the newest one's run group; null when it has none.
 */
async function sideRuns(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
  warnings: string[],
  invalid: string[],
): Promise<{ all: HistoryRun[]; group: HistoryRun[] } | null> {
  const all: HistoryRun[] = [];
  let newest: LoadedReport | null = null;
  for (const path of await listReports(dir, task, phase, mode)) {
    const loaded = await readValid(path, warnings, invalid);
    if (loaded === null) continue;
    all.push(runOf(loaded, task, phase));
    newest = loaded;
  }
  if (newest === null) return null;
  const { runs, warning } = await gatherRunGroup(dir, task, phase, mode, newest);
  if (warning !== null) warnings.push(warning);
  const group = runs.filter((r) => r.kind === "legacy" || r.report.valid)
    .map((r) => all.find((run) => run.path === r.path) ?? runOf(r, task, phase));
  return { all, group };
}

/**
 * The report at `path` when it can be read and is valid; else null, with a warning (unreadable)
 * or in `invalid` (marked invalid by its check).
 */
async function readValid(
  path: string,
  warnings: string[],
  invalid: string[],
): Promise<LoadedReport | null> {
  try {
    const loaded = await readReport(path);
    if (loaded.kind === "current" && !loaded.report.valid) {
      const reasons = loaded.report.invalid_reasons.join("; ") || "no reason recorded";
      invalid.push(`${path} (${reasons})`);
      return null;
    }
    return loaded;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    warnings.push(`${e.message}; left out of the history`);
    return null;
  }
}

/** A run with its start: the recorded `started_at`, else its file name's time stamp. */
function runOf(loaded: LoadedReport, task: string, phase: Phase): HistoryRun {
  const recorded = loaded.kind === "current" ? Date.parse(loaded.report.started_at) : NaN;
  const name = parseAnyReportName(loaded.path.split(/[\\/]/).at(-1) ?? "");
  const startedMs = Number.isFinite(recorded) ? recorded : timestampMs(name?.timestamp ?? "");
  return runOfReport(loaded, { task, phase }, startedMs);
}
