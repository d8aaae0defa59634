/**
 * The two arms of the milestone confirm (`m17_check milestone confirm`): A = the build of the
 * milestone's first before run, B = the build of its latest after run, the two ends of the
 * cumulative change `m17_compare --history` shows (`MilestoneHistory.cumulative`). Refused
 * (UsageError: one line, exit 3) as a task's confirm is (lib/cli/confirm_arms.ts), and also when
 * the two ends are not measurements of the same thing (compare's `measurementProblems`, the rule
 * `--history` applies across tasks) or an end has no report to run again (figures from
 * PERFORMANCE_LOG.md, an old load-generator report).
 * @module
 */
import { basename } from "node:path";
import { checkCommand, MILESTONE_TASK, type ToolCommands } from "../report/files.ts";
import { type LoadedReport, readReport } from "../report/read.ts";
import type { Mode, Phase, RunReport } from "../report/schema.ts";
import { UsageError } from "../shared/errors.ts";
import { measurementProblems } from "../verdict/compare.ts";
import { findNewestToCompare, type NewestRun } from "../verdict/discovery.ts";
import type { HistoryRun, MilestoneHistory, TaskRuns } from "../verdict/history.ts";
import {
  armOf,
  type Arms,
  checkScenarioFile,
  commonOptions,
  type PreviousSession,
  previousSession,
  refuseOtherOrder,
  sharedSettingProblems,
} from "./confirm_arms.ts";
import type { ConfirmOptions } from "./confirm_args.ts";

/** A report of the current schema. */
type Current = LoadedReport & { kind: "current" };

/** The milestone confirm's arms, the tasks they come from, and a note for the header. */
export interface MilestoneArms extends Arms {
  from: string;
  to: string;
  /** Why the newest milestone confirm session is not continued, when it is not; else null. */
  note: string | null;
  /** The continued session's invalid runs passed over to find its newest reports, one line each. */
  warnings: string[];
}

/** What the build of a run is: the kept binary's sha256, or the reference server's knobs. */
export function buildOf(r: RunReport): string {
  const d = r.target.details;
  if (r.target.kind === "engram") return `engram ${String(d.binary_sha256 ?? "none")}`;
  if (r.target.kind === "url") return `url ${r.target.url}`;
  const knobs = Object.entries((d.knobs ?? {}) as Record<string, unknown>)
    .filter(([k]) => k !== "record").sort(([a], [b]) => a.localeCompare(b));
  return `reference ${JSON.stringify(knobs)}`;
}

/** The `phase` end of the cumulative change as a report (the newest run of its group). */
function endReport(
  runs: HistoryRun[],
  end: { task: string; paths: string[] },
  phase: Phase,
  mode: Mode,
  commands: ToolCommands,
): Current {
  const which = phase === "before" ? "first before" : "latest after";
  const run = runs.filter((r) => end.paths.includes(r.path)).at(-1);
  const rerun = checkCommand(end.task, phase, mode, commands);
  if (run === undefined || run.loaded === null) {
    throw new UsageError(
      `milestone confirm: the milestone's ${which} run (task ${end.task}) has only ` +
        `PERFORMANCE_LOG.md figures (its reports are gone): no build to run again; ` +
        `re-run '${rerun}' from that build`,
    );
  }
  if (run.loaded.kind === "legacy") {
    throw new UsageError(
      `milestone confirm: the milestone's ${which} run ${
        basename(run.path)
      } is an old load-generator report: nothing recorded to run again; re-run '${rerun}' from that build`,
    );
  }
  return run.loaded;
}

/** The newest milestone confirm session of `mode` in `dir`: its two newest reports. */
export interface NewestSession {
  session: PreviousSession;
  before: RunReport;
  after: RunReport;
  loaded: { before: Current; after: Current };
  /** Its invalid runs passed over to find the newest reports (`findNewestToCompare`). */
  leftOut: NewestRun["leftOut"];
}

/**
 * The newest milestone confirm session of `mode` in `dir` (its newest runs to compare: an invalid
 * run of it is passed over), or null when its newest runs are not one.
 */
export async function newestSession(dir: string, mode: Mode): Promise<NewestSession | null> {
  const leftOut: NewestRun["leftOut"] = [];
  const read = async (phase: Phase): Promise<Current | null> => {
    const found = await findNewestToCompare(dir, MILESTONE_TASK, phase, mode);
    const loaded = found === null ? null : await readReport(found.path).catch(() => null);
    if (loaded?.kind !== "current") return null;
    leftOut.push(...found!.leftOut);
    return loaded;
  };
  const before = await read("before"), after = await read("after");
  if (before === null || after === null) return null;
  const session = previousSession(before.report, after.report, leftOut);
  return session === null
    ? null
    : { session, before: before.report, after: after.report, loaded: { before, after }, leftOut };
}

/**
 * Whether a milestone confirm session measured these two ends: the same builds, and runs that
 * measure the same thing as the ends' reports (compare's rule).
 */
export function measuresEnds(
  run: { before: RunReport; after: RunReport },
  ends: { before: RunReport; after: RunReport },
): boolean {
  return (["before", "after"] as const).every((p) =>
    buildOf(run[p]) === buildOf(ends[p]) && measurementProblems(run[p], ends[p]).length === 0
  );
}

/**
 * The ends of `history`'s cumulative change as reports; refuses (UsageError) when there is
 * none, an end has no report, or the two are not comparable.
 */
export function milestoneEnds(
  history: MilestoneHistory | undefined,
  tasks: readonly TaskRuns[],
  o: Pick<ConfirmOptions, "outDir" | "competitive">,
  commands: ToolCommands,
): { before: Current; after: Current; from: string; to: string } {
  const mode: Mode = o.competitive ? "competitive" : "internal";
  if (history === undefined || history.cumulative === null) {
    throw new UsageError(
      history === undefined
        ? `milestone confirm: no task with both a valid before and a valid after ${mode} run in ${o.outDir}; ` +
          `run: ${checkCommand("<task>", "before", mode, commands)} (and after) first`
        : `milestone confirm: no task in ${o.outDir} is comparable with the milestone's first run ` +
          `(${commands.compare} --history names why)`,
    );
  }
  // The ends are the first and the latest task: one that --history leaves out is refused, never
  // silently replaced by its neighbour.
  const c = history.cumulative;
  const [first, latest] = [history.tasks[0], history.tasks[history.tasks.length - 1]];
  for (const t of first === latest ? [first] : [first, latest]) {
    if (t.comparability.kind !== "excluded") continue;
    throw new UsageError(
      `milestone confirm: the milestone's ${t === first ? "first" : "latest"} task ${t.task} is ` +
        `not comparable (${
          t.comparability.problems.join("; ")
        }), so --history leaves it out of the ` +
        `cumulative change; refusing to confirm`,
    );
  }
  const runsOf = (task: string) => tasks.find((t) => t.task === task);
  const before = endReport(runsOf(c.from.task)?.before ?? [], c.from, "before", mode, commands);
  const after = endReport(runsOf(c.to.task)?.after ?? [], c.to, "after", mode, commands);
  const problems = [
    ...measurementProblems(
      before.report,
      after.report,
      `the milestone's first before (task ${c.from.task}) and latest after (task ${c.to.task})`,
    ),
    ...sharedSettingProblems(before.report, after.report),
  ];
  if (problems.length > 0) {
    throw new UsageError(`milestone confirm: ${problems.join("; ")}; refusing to confirm`);
  }
  return { before, after, from: c.from.task, to: c.to.task };
}

/**
 * The milestone confirm's arms (runs of task `milestone`), continuing the newest milestone
 * confirm session when it measured these same two ends; refuses (UsageError) as `milestoneEnds`
 * and `confirmArms` do.
 */
export async function milestoneArms(
  history: MilestoneHistory | undefined,
  tasks: readonly TaskRuns[],
  o: ConfirmOptions,
  commands: ToolCommands,
): Promise<MilestoneArms> {
  const ends = milestoneEnds(history, tasks, o, commands);
  await checkScenarioFile(ends.before.report);
  const mode: Mode = o.competitive ? "competitive" : "internal";
  const newest = o.newSession ? null : await newestSession(o.outDir, mode);
  const same = newest !== null &&
    measuresEnds(newest, { before: ends.before.report, after: ends.after.report });
  const previous = same ? newest.session : null;
  refuseOtherOrder(previous, o);
  // The runs are task `milestone`'s, whatever task the caller's options name.
  const milestone = { ...o, task: MILESTONE_TASK };
  const common = commonOptions(ends.before.report, milestone);
  return {
    before: await armOf(ends.before, "before", common, milestone, commands),
    after: await armOf(ends.after, "after", common, milestone, commands),
    previous,
    from: ends.from,
    to: ends.to,
    warnings: same ? newest.leftOut.map((l) => l.warning) : [],
    note: newest === null || same
      ? null
      : `the newest milestone confirm session (group ${
        newest.session.group.slice(0, 8)
      }) measured other builds or settings (the milestone moved on since): a new session starts`,
  };
}
