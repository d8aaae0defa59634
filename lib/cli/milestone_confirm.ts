/**
 * `m17_check milestone confirm`: the milestone's cumulative change (`m17_compare --history`: the
 * first task's before run → the latest task's after run) measured again on one host in one
 * session. The arms are the two ends' builds (lib/cli/milestone_arms.ts); the session is a task
 * confirm's (lib/cli/confirm.ts: the same blocks, stopping rule, progress, verdict and exit
 * codes), its runs written as reports of task `milestone`.
 * @module
 */
import { MILESTONE_TASK } from "../report/files.ts";
import { EXIT } from "../shared/errors.ts";
import { confirmSession } from "./confirm.ts";
import { CONFIRM_DEFAULTS, DEFAULT_OUT_DIR, parseConfirmArgs } from "./confirm_args.ts";
import { milestoneHistories, milestoneRuns } from "./history.ts";
import { startedFromEnv, toolCommands } from "./invocation.ts";
import { milestoneArms } from "./milestone_arms.ts";

/** `m17_check milestone confirm --help`. */
export const MILESTONE_CONFIRM_USAGE =
  `Usage: m17_check milestone confirm [--budget MIN] [--pairs N] [--competitive] [--seed-order N]
                                   [--new-session] [--out-dir D] [--port N] [--quiet]

Re-measures the milestone's cumulative change, the one 'm17_compare --history' shows (the first
task's before run → the latest task's after run), on one host in one session: A = the build of the
milestone's first before run, B = the build of its latest after run (for Engram the binaries the
checks kept, for the reference server their recorded knobs), interleaved in ABBA/BAAB blocks and
judged after each pair as 'compare' judges a group, until the verdict is clear: the same session
as 'm17_check <task> confirm' (see its --help), with the same options, stopping rule and output.
Every run is an ordinary report of task 'milestone' (milestone_before_*.json: the first build,
milestone_after_*.json: the latest), so 'm17_compare milestone' compares them, and
'm17_compare --history' prints the session's verdict under the cumulative change (task
'milestone' is never counted as a step). When the newest milestone runs are a confirm session of
the same two builds and settings, it is continued; when the milestone moved on, a new one starts.

  --budget MIN      stop starting pairs that would end past MIN minutes (default ${CONFIRM_DEFAULTS.budgetMinutes})
  --pairs N         at most N pairs this time (default ${CONFIRM_DEFAULTS.maxPairs}, 1..200)
  --competitive     confirm the competitive series
  --seed-order N    seed of the block order (default: random; printed and recorded in the reports)
  --new-session     start a new session even when the newest milestone runs could be continued
  --out-dir D       results directory: the milestone's reports, the kept builds, the new runs
                    (default ${DEFAULT_OUT_DIR}); PERFORMANCE_LOG.md is read as --history reads it
  --port N          Engram's HTTP port for the runs (default 7432)
  --startup-timeout-s S  how long Engram may take to answer /health (default 60)
  --quiet           no line per run: the header, a line per pair, warnings and the comparison

Refused (exit 3, one line, nothing run): no task with both a before and an after run; the first
before and the latest after not comparable (different scenario, rate, duration, workload,
settings, target kind, checkout or host: compare's rule; or a different scenario file, warm-up or
pinning); an end with only PERFORMANCE_LOG.md figures or an old-tool report; an end with no kept
build (a report made before builds were kept, a pruned or damaged build, a --url target): re-run
that task's 'check <task> before|after' from that build.
Exit codes: compare's (0 pass, 1 regression, 2 competitive regression, 4 inconclusive);
1 also when a run failed; 3 refused; 130/143/129 interrupted (the finished runs stay as reports).`;

/** Runs `m17_check milestone confirm …`; returns the exit code. Bad input throws `UsageError`. */
export async function milestoneConfirmCommand(argv: string[]): Promise<number> {
  const cmd = parseConfirmArgs(argv);
  if (cmd.kind === "help") {
    console.log(MILESTONE_CONFIRM_USAGE);
    return EXIT.ok;
  }
  const o = { ...cmd.options, task: MILESTONE_TASK };
  const mode = o.competitive ? "competitive" : "internal";
  const commands = toolCommands(startedFromEnv());
  const { tasks, warnings } = await milestoneRuns({ dir: o.outDir, log: undefined });
  const history = milestoneHistories(tasks, {}).find((h) => h.mode === mode);
  const arms = await milestoneArms(history, tasks[mode], o, commands);
  for (const w of [...warnings, ...arms.warnings]) console.error(`m17_check: warning: ${w}`);
  console.log(
    `milestone confirm: the cumulative change of '${commands.compare} --history', ` +
      `task ${arms.from} before → task ${arms.to} after, measured again as task ${MILESTONE_TASK}`,
  );
  if (arms.note !== null) console.log(`milestone confirm: ${arms.note}`);
  return await confirmSession(o, arms, commands);
}
