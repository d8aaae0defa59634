/**
 * The milestone confirm as `--history` shows it under a series' cumulative change: the command
 * that re-measures it, only when `m17_check milestone confirm` would start (the same arms and
 * refusals: lib/cli/milestone_arms.ts), and the newest milestone confirm session judged as
 * confirm and `compare milestone` judge it (its group → compareRuns → decideVerdict).
 * @module
 */
import { confirmCommand, MILESTONE_TASK, type ToolCommands } from "../report/files.ts";
import type { Mode } from "../report/schema.ts";
import type { MilestoneConfirmView } from "../render/history_confirm.ts";
import { UsageError } from "../shared/errors.ts";
import { defaultBaselinesPath, loadBaseline } from "../verdict/baselines.ts";
import { compareRuns } from "../verdict/compare.ts";
import { gatherRuns } from "../verdict/discovery.ts";
import type { MilestoneHistory, TaskRuns } from "../verdict/history.ts";
import { decideVerdict, defaultThresholds } from "../verdict/verdict.ts";
import { DEFAULT_BASELINE } from "./compare_args.ts";
import { CONFIRM_DEFAULTS, type ConfirmOptions, DEFAULT_OUT_DIR } from "./confirm_args.ts";
import { measuresEnds, milestoneArms, milestoneEnds, newestSession } from "./milestone_arms.ts";

/** `null` when `f` refuses (UsageError): the milestone confirm would not start. */
async function unlessRefused<T>(f: () => T | Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof UsageError) return null;
    throw e;
  }
}

/** The milestone confirm of `history`'s series in `dir`. */
export async function milestoneConfirmView(
  dir: string,
  history: MilestoneHistory,
  tasks: readonly TaskRuns[],
  reports: number,
  commands: ToolCommands,
): Promise<MilestoneConfirmView> {
  const mode: Mode = history.mode;
  const o: ConfirmOptions = {
    task: MILESTONE_TASK,
    competitive: mode === "competitive",
    budgetMinutes: CONFIRM_DEFAULTS.budgetMinutes,
    maxPairs: CONFIRM_DEFAULTS.maxPairs,
    newSession: false,
    outDir: dir,
    startupTimeoutMs: 60_000,
    quiet: false,
  };
  const startable = await unlessRefused(() => milestoneArms(history, tasks, o, commands));
  const command = startable === null
    ? null
    : `${confirmCommand(MILESTONE_TASK, mode, commands)}${
      dir === DEFAULT_OUT_DIR ? "" : ` --out-dir ${dir}`
    }`;
  const newest = await newestSession(dir, mode);
  if (newest === null) return { mode, command, session: null, reports };
  const { before, after } = newest.loaded;
  const runs = await gatherRuns({ dir, task: MILESTONE_TASK, mode }, { before, after });
  const baseline = mode === "competitive"
    ? await loadBaseline(defaultBaselinesPath(), DEFAULT_BASELINE)
    : null;
  const comparison = compareRuns({ task: MILESTONE_TASK, mode, before, after, runs, baseline });
  const ends = await unlessRefused(() => milestoneEnds(history, tasks, o, commands));
  const pair = (r: typeof before) => r.report.run.pair ?? 0;
  return {
    mode,
    command,
    reports,
    session: {
      group: newest.session.group,
      pairs: Math.max(
        ...[...runs.before, ...runs.after].map((r) => r.kind === "current" ? pair(r) : 0),
      ),
      verdict: decideVerdict(comparison, defaultThresholds(mode)),
      metrics: {
        p99: comparison.metrics.p99,
        throughput: comparison.metrics.throughput,
        errors: comparison.metrics.errors,
      },
      endedMs: Math.max(Date.parse(before.report.ended_at), Date.parse(after.report.ended_at)),
      current: ends !== null &&
        measuresEnds(newest, { before: ends.before.report, after: ends.after.report }),
    },
  };
}
