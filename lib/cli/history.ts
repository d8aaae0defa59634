/**
 * `m17_compare --history`, step by step: find every task's runs in the results directory → add
 * PERFORMANCE_LOG.md figures for tasks whose reports are gone → build each series' history
 * (steps, cumulative change against the budget, change points; lib/verdict/history.ts) →
 * render (terminal, JSON, Markdown, HTML) → exit code: 0 within budget, 1 internal series past
 * it, 2 only the competitive series past it, 3 bad input (nothing to show).
 *
 * The steps are separate exports so the milestone confirm (lib/cli/milestone_confirm.ts) reuses
 * the same history; under each cumulative change the output shows that confirm (its command,
 * and the verdict of its newest session: lib/cli/milestone_status.ts).
 * @module
 */
import { basename, join } from "node:path";
import type { HistoryOptions } from "./compare_args.ts";
import { writeOut } from "./compare_steps.ts";
import type { Mode } from "../report/schema.ts";
import { MILESTONE_TASK, parseAnyReportName, timestampMs } from "../report/files.ts";
import {
  buildHistory,
  type HistoryRun,
  type MilestoneHistory,
  type TaskRuns,
} from "../verdict/history.ts";
import { findHistoryRuns } from "../verdict/history_runs.ts";
import { defaultThresholds } from "../verdict/verdict.ts";
import { type LoggedResult, logResults } from "../render/perflog_read.ts";
import {
  type HistoryView,
  renderHistoryJson,
  renderHistoryMarkdown,
  renderHistoryTerminal,
} from "../render/history_text.ts";
import { renderHistoryHtml } from "../render/history_html.ts";
import { ANSI, asciiGlyphs, PLAIN, useAscii, useColor } from "../render/format.ts";
import { checkOutputs, type PlannedOutput, writeOutputs } from "../render/outputs.ts";
import { EXIT, UsageError } from "../shared/errors.ts";
import { INPUT_LIMITS, readInputTextOrNull } from "../shared/input_file.ts";
import { startedFromEnv, toolCommands } from "./invocation.ts";
import { milestoneConfirmView } from "./milestone_status.ts";

/** Where the milestone's log is when `--log` does not say (README, "The workflow"). */
export const DEFAULT_LOG = "roadmap/milestone-17/PERFORMANCE_LOG.md";

/** The runs of every task, per mode: reports, then log figures for tasks without reports. */
export async function milestoneRuns(
  options: Pick<HistoryOptions, "dir" | "log">,
): Promise<{
  tasks: Record<Mode, TaskRuns[]>;
  log: string | null;
  invalidCount: number;
  /** Reports of the milestone confirm (task `milestone`), per mode: not steps. */
  milestoneReports: Record<Mode, number>;
  warnings: string[];
}> {
  const found = await findHistoryRuns(options.dir);
  const warnings = [...found.warnings];
  const logPath = options.log ?? DEFAULT_LOG;
  const text = await readInputTextOrNull(logPath, {
    label: "--log",
    maxBytes: INPUT_LIMITS.logBytes,
  });
  if (text === null && options.log !== undefined) {
    throw new UsageError(`--log ${options.log}: no such file`);
  }
  for (const r of text === null ? [] : logResults(text)) {
    if (r.task === MILESTONE_TASK) continue; // the milestone confirm's section: not a step
    const known = found.tasks[r.mode].find((t) => t.task === r.task);
    if (known) {
      known.name = r.name;
      continue;
    }
    const runs = runsOfLog(r);
    if (runs === null) {
      warnings.push(
        `task ${r.task} in ${logPath} names no report file with a time stamp, so its place in ` +
          `the milestone is unknown; left out`,
      );
    } else found.tasks[r.mode].push({ task: r.task, name: r.name, ...runs });
  }
  for (const i of found.incomplete) {
    if (found.tasks[i.mode].some((t) => t.task === i.task)) continue;
    warnings.push(
      `task ${i.task}${i.mode === "competitive" ? " (competitive)" : ""} has no valid ` +
        `'${i.missing}' run in ${options.dir}; left out`,
    );
  }
  return {
    tasks: found.tasks,
    log: text === null ? null : logPath,
    invalidCount: found.invalidCount,
    milestoneReports: found.milestoneConfirmReports,
    warnings,
  };
}

/** A logged task as two runs, timed by the report names its `Files` bullet keeps. */
function runsOfLog(r: LoggedResult): Pick<TaskRuns, "before" | "after" | "all"> | null {
  const run = (phase: "before" | "after", index: number): HistoryRun | null => {
    const path = r.files[index];
    const name = path === undefined ? null : parseAnyReportName(basename(path));
    const startedMs = name === null ? NaN : timestampMs(name.timestamp);
    if (!Number.isFinite(startedMs)) return null;
    const side = r[phase];
    return {
      task: r.task,
      phase,
      startedMs,
      path,
      values: { p99: side.p99Ms, throughput: side.throughput, errors: side.errors },
      loaded: null,
    };
  };
  const before = run("before", 0), after = run("after", 1);
  if (before === null || after === null) return null;
  return { before: [before], after: [after], all: [before, after] };
}

/** Each mode's history (modes without tasks are left out), against its budget. */
export function milestoneHistories(
  tasks: Record<Mode, TaskRuns[]>,
  budget: HistoryOptions["budget"],
): MilestoneHistory[] {
  return (["internal", "competitive"] as const)
    .filter((mode) => tasks[mode].length > 0)
    .map((mode) => {
      const defaults = defaultThresholds(mode);
      return buildHistory(mode, tasks[mode], {
        p99Pct: budget.p99Pct ?? defaults.p99Pct,
        throughputPct: budget.throughputPct ?? defaults.throughputPct,
      });
    });
}

/** 1 when the internal series is past its budget, 2 when only the competitive one is, else 0. */
export function historyExitCode(histories: MilestoneHistory[]): number {
  const past = (mode: Mode) => histories.some((h) => h.mode === mode && h.breaches.length > 0);
  return past("internal")
    ? EXIT.regression
    : past("competitive")
    ? EXIT.competitiveRegression
    : EXIT.ok;
}

/** Runs `m17_compare --history`; returns the exit code. */
export async function runHistory(options: HistoryOptions): Promise<number> {
  const write = (stream: "stdout" | "stderr", text: string) => writeOut(Deno[stream], text);
  const { tasks, log, invalidCount, milestoneReports, warnings } = await milestoneRuns(options);
  if (tasks.internal.length === 0 && tasks.competitive.length === 0) {
    const invalid = invalidCount === 0
      ? ""
      : ` (${invalidCount} report${
        invalidCount === 1 ? "" : "s"
      } marked invalid by check left out)`;
    throw new UsageError(
      `no task with both a valid before and a valid after run in ${options.dir}` +
        (log === null ? "" : ` or in ${log}`) +
        `${invalid}; run check <task> before and check <task> after first`,
    );
  }
  const histories = milestoneHistories(tasks, options.budget);
  const code = historyExitCode(histories);
  const commands = toolCommands(startedFromEnv());
  const confirms = await Promise.all(
    histories.map((h) =>
      milestoneConfirmView(options.dir, h, tasks[h.mode], milestoneReports[h.mode], commands)
    ),
  );
  const view: HistoryView = { dir: options.dir, log, histories, warnings, confirms };
  const outputs: PlannedOutput[] = options.html === null ? [] : [{
    path: options.html === true ? join(options.dir, "history.html") : options.html,
    what: "HTML history",
    text: renderHistoryHtml(view),
  }];
  await checkOutputs(outputs);
  for (const w of warnings) write("stderr", `m17_compare: warning: ${w}\n`);
  const ascii = useAscii(options.ascii, Deno.env.toObject());
  const color = useColor({
    noColorFlag: options.noColor,
    noColorEnv: Deno.env.get("NO_COLOR"),
    isTty: Deno.stdout.isTerminal(),
  });
  const text = options.output === "json"
    ? renderHistoryJson(view, code)
    : options.output === "markdown"
    ? renderHistoryMarkdown(view)
    : renderHistoryTerminal(view, color ? ANSI : PLAIN);
  write("stdout", ascii && options.output !== "json" ? asciiGlyphs(text) : text);
  const done = await writeOutputs(outputs);
  for (const line of done.written) {
    write(options.output === "terminal" ? "stdout" : "stderr", `${line}\n`);
  }
  for (const f of done.failures) write("stderr", `m17_compare: ${f}\n`);
  return done.failures.length > 0 ? EXIT.usage : code;
}
