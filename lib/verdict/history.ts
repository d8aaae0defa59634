/**
 * A milestone's history: every task's before → after step, the cumulative change from the
 * milestone's first before run to its latest after run against the milestone budget, and the
 * change points of the time-ordered series of all runs. Pure: runs in (lib/verdict/history_runs.ts
 * reads them, PERFORMANCE_LOG.md figures stand in for reports that are gone), a
 * `MilestoneHistory` out; one per mode (internal and competitive series are never mixed).
 *
 * Comparable across tasks means compare's rule (`measurementProblems`, lib/verdict/compare.ts)
 * against the milestone's first run: same scenario, rate, duration, workload, settings, target
 * kind, server, checkout and host. A task whose runs are not is excluded from the cumulative
 * change and the series, and named with the reasons; figures that cannot be checked (log
 * figures, old-tool reports) are included and flagged "unchecked".
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { chainedChange } from "./history.ts";
 * strictEqual(Math.round(chainedChange([4, 4, 4, 4, 4, 4, 4, 4, 4, 4])! * 10) / 10, 48.0);
 * ```
 * @module
 */
import type { LoadedReport } from "../report/read.ts";
import type { Mode, Phase, RunReport } from "../report/schema.ts";
import { type ChangePoint, type ChangePointOptions, changePoints } from "./changepoint.ts";
import {
  comparability,
  compareRuns,
  measurementProblems,
  metricChange,
  percentChange,
} from "./compare.ts";
import { GATED_METRICS, type GatedMetricId, METRIC, metricValue } from "./metrics.ts";
import { pastThreshold, signedThreshold } from "./significance.ts";
import { median } from "./stats.ts";
import type { MetricChange, Thresholds } from "./types.ts";

/** One run of a task, from its report or (the report gone) from PERFORMANCE_LOG.md. */
export interface HistoryRun {
  task: string;
  phase: Phase;
  /** When it ran, UTC ms (the report's `started_at`, else its file name's time stamp). */
  startedMs: number;
  path: string;
  values: Record<GatedMetricId, number | null>;
  /** The report; null when the figures come from PERFORMANCE_LOG.md. */
  loaded: LoadedReport | null;
}

/** A task's runs as found. */
export interface TaskRuns {
  task: string;
  name: string | null;
  /** The newest before and after run groups: what `compare <task>` compares. */
  before: HistoryRun[];
  after: HistoryRun[];
  /** Every run of the task, older groups included (the change-point series). */
  all: HistoryRun[];
}

/** Whether a task's runs measure the same thing as the milestone's first run. */
export type TaskComparability =
  | { kind: "comparable" }
  | { kind: "unchecked"; reason: string }
  | { kind: "excluded"; problems: string[] };

/** One task in the history. */
export interface HistoryTask {
  task: string;
  name: string | null;
  /** When its first run (of the compared groups) started, UTC ms. */
  startedMs: number;
  source: "reports" | "log";
  comparability: TaskComparability;
  /** Its own before → after change, as compare computes it (intervals where compare has them). */
  step: Record<GatedMetricId, MetricChange>;
  /** (after − before) / the milestone's first before × 100; errors: after − before (count). */
  contribution: Record<GatedMetricId, number | null>;
  /** From the milestone's first before to this task's after, % (errors: count difference). */
  cumulative: Record<GatedMetricId, number | null>;
}

/** A value of the series of all runs. */
export interface SeriesPoint {
  task: string;
  phase: Phase;
  path: string;
  startedMs: number;
  value: number;
}

/** A change point placed on the run it falls on (the first run after the shift). */
export interface HistoryChangePoint extends ChangePoint {
  metric: GatedMetricId;
  run: Omit<SeriesPoint, "value">;
}

/** Which runs the cumulative change compares. */
export interface CumulativeChange {
  from: { task: string; paths: string[] };
  to: { task: string; paths: string[] };
  metrics: Record<GatedMetricId, MetricChange>;
}

/** A metric past the milestone budget, and the tasks that contributed most to it. */
export interface Breach {
  metric: GatedMetricId;
  contributors: string[];
}

/** The history of one mode's series. */
export interface MilestoneHistory {
  mode: Mode;
  budget: Thresholds;
  /** In the order they were measured, excluded ones too. */
  tasks: HistoryTask[];
  /** Null when no task is comparable. */
  cumulative: CumulativeChange | null;
  /** Product of the included tasks' own steps, % (each step measured within one session). */
  chainedPct: Record<"p99" | "throughput", number | null>;
  breaches: Breach[];
  /** The time-ordered series of the included runs, per metric. */
  series: Record<GatedMetricId, SeriesPoint[]>;
  changePoints: HistoryChangePoint[];
  /** Runs left out of the series because they are not comparable with the first run. */
  excludedRuns: { path: string; problems: string[] }[];
}

/** How many contributors a breach names. */
const TOP_CONTRIBUTORS = 3;

/**
 * The history of one mode's tasks (any order): steps, cumulative change against `budget`,
 * change points.
 */
export function buildHistory(
  mode: Mode,
  input: readonly TaskRuns[],
  budget: Thresholds,
  changePointOptions: Partial<ChangePointOptions> = {},
): MilestoneHistory {
  const ordered = [...input].sort((a, b) =>
    firstStart(a) - firstStart(b) || a.task.localeCompare(b.task)
  );
  const anchor = ordered.flatMap((t) => [...t.before, ...t.after])
    .find((r) => r.loaded?.kind === "current")?.loaded?.report as RunReport | undefined;
  const problemsOf = (run: HistoryRun): string[] =>
    anchor && run.loaded?.kind === "current"
      ? measurementProblems(
        anchor,
        run.loaded.report,
        `the milestone's first run (task ${anchor.task} ${anchor.phase}) and task ${run.task} ${run.phase}`,
      )
      : [];
  const judged = ordered.map((t) => ({
    runs: t,
    comparability: taskComparability(t, mode, problemsOf),
    step: stepOf(t, mode),
  }));
  const included = judged.filter((t) => t.comparability.kind !== "excluded");
  const cumulative = included.length === 0
    ? null
    : cumulativeOf(included[0].runs, included.at(-1)!.runs, mode);
  const tasks: HistoryTask[] = judged.map((t) => ({
    task: t.runs.task,
    name: t.runs.name,
    startedMs: firstStart(t.runs),
    source: [...t.runs.before, ...t.runs.after].some((r) => r.loaded === null) ? "log" : "reports",
    comparability: t.comparability,
    step: t.step,
    ...positionOf(t.step, cumulative, t.comparability.kind !== "excluded"),
  }));
  const breaches = cumulative === null ? [] : breachesOf(cumulative.metrics, budget, tasks);
  const excludedRuns: MilestoneHistory["excludedRuns"] = [];
  const runs = included.flatMap((t) => t.runs.all).filter((run) => {
    const problems = problemsOf(run);
    if (problems.length > 0) excludedRuns.push({ path: run.path, problems });
    return problems.length === 0;
  }).sort((a, b) => a.startedMs - b.startedMs || a.path.localeCompare(b.path));
  const series = byGated((id) =>
    runs.flatMap((r) => {
      const value = r.values[id];
      return value === null
        ? []
        : [{ task: r.task, phase: r.phase, path: r.path, startedMs: r.startedMs, value }];
    })
  );
  return {
    mode,
    budget,
    tasks,
    cumulative,
    chainedPct: {
      p99: chainedChange(included.map((t) => t.step.p99.changePct)),
      throughput: chainedChange(included.map((t) => t.step.throughput.changePct)),
    },
    breaches,
    series,
    changePoints: GATED_METRICS.flatMap((metric) =>
      changePoints(series[metric].map((p) => p.value), changePointOptions).map((cp) => {
        const { value: _, ...run } = series[metric][cp.index];
        return { ...cp, metric, run };
      })
    ),
    excludedRuns,
  };
}

/**
 * The change of the product of steps: Π(1 + stepᵢ/100) − 1, in %; null when a step is unknown
 * or there is none.
 */
export function chainedChange(stepsPct: readonly (number | null)[]): number | null {
  if (stepsPct.length === 0 || stepsPct.some((s) => s === null)) return null;
  return (stepsPct.reduce<number>((p, s) => p * (1 + s! / 100), 1) - 1) * 100;
}

/** A record over the gated metrics (P99, throughput, errors). */
function byGated<T>(f: (id: GatedMetricId) => T): Record<GatedMetricId, T> {
  return Object.fromEntries(GATED_METRICS.map((id) => [id, f(id)])) as Record<GatedMetricId, T>;
}

function firstStart(t: TaskRuns): number {
  return Math.min(...[...t.before, ...t.after].map((r) => r.startedMs));
}

/** The task's own pair (compare's rule) and each of its runs against the first run. */
function taskComparability(
  t: TaskRuns,
  mode: Mode,
  problemsOf: (run: HistoryRun) => string[],
): TaskComparability {
  const runs = [...t.before, ...t.after];
  if (runs.some((r) => r.loaded === null)) {
    return {
      kind: "unchecked",
      reason: "figures from PERFORMANCE_LOG.md (reports gone): host and settings not checked",
    };
  }
  if (runs.some((r) => r.loaded?.kind === "legacy")) {
    return {
      kind: "unchecked",
      reason: "old load-generator reports: host and settings not recorded",
    };
  }
  const own = comparability(t.before[0].loaded!, t.after[0].loaded!, { task: t.task, mode });
  const problems = [...new Set([...own.problems, ...runs.flatMap(problemsOf)])];
  return problems.length === 0 ? { kind: "comparable" } : { kind: "excluded", problems };
}

/** Every run's report, or null when one side has only log figures. */
function reportsOf(runs: HistoryRun[]): LoadedReport[] | null {
  return runs.every((r) => r.loaded !== null) ? runs.map((r) => r.loaded!) : null;
}

/**
 * `from`'s before runs against `to`'s after runs: compare's figures (medians over runs,
 * intervals or tests) when both have reports, else the medians of the logged figures.
 */
function changeBetween(
  before: HistoryRun[],
  after: HistoryRun[],
  task: string,
  mode: Mode,
): Record<GatedMetricId, MetricChange> {
  const b = reportsOf(before), a = reportsOf(after);
  if (b !== null && a !== null && b[0].kind === a[0].kind) {
    const c = compareRuns({ task, mode, before: b[0], after: a[0], runs: { before: b, after: a } });
    return byGated((id) => c.metrics[id]);
  }
  const side = (runs: HistoryRun[], id: GatedMetricId) => {
    const values = runs.map((r) => r.values[id]).filter((v) => v !== null);
    return values.length === runs.length ? median(values) : null;
  };
  return byGated((id) => metricChange(side(before, id), side(after, id)));
}

function stepOf(t: TaskRuns, mode: Mode): Record<GatedMetricId, MetricChange> {
  return changeBetween(t.before, t.after, t.task, mode);
}

function cumulativeOf(first: TaskRuns, latest: TaskRuns, mode: Mode): CumulativeChange {
  const paths = (runs: HistoryRun[]) => runs.map((r) => r.path);
  return {
    from: { task: first.task, paths: paths(first.before) },
    to: { task: latest.task, paths: paths(latest.after) },
    metrics: changeBetween(first.before, latest.after, latest.task, mode),
  };
}

/** A task's contribution to, and position on, the cumulative change (null when excluded). */
function positionOf(
  step: Record<GatedMetricId, MetricChange>,
  cumulative: CumulativeChange | null,
  included: boolean,
): Pick<HistoryTask, "contribution" | "cumulative"> {
  const anchorOf = (id: GatedMetricId) => included ? cumulative?.metrics[id].before ?? null : null;
  return {
    contribution: byGated((id) => {
      const anchor = anchorOf(id), delta = step[id].delta;
      if (anchor === null || delta === null) return null;
      return id === "errors" ? delta : percentChange(anchor, anchor + delta);
    }),
    cumulative: byGated((id) => {
      const anchor = anchorOf(id), after = step[id].after;
      if (anchor === null || after === null) return null;
      return id === "errors" ? after - anchor : percentChange(anchor, after);
    }),
  };
}

/**
 * The metrics whose cumulative change is past the budget (compare's rule: P99 above +budget,
 * throughput below −budget, more errors), each with the included tasks that moved it most in
 * the worse direction.
 */
function breachesOf(
  cumulative: Record<GatedMetricId, MetricChange>,
  budget: Thresholds,
  tasks: HistoryTask[],
): Breach[] {
  return GATED_METRICS.flatMap((metric) => {
    const m = cumulative[metric];
    const past = metric === "errors"
      ? m.delta !== null && m.delta > 0
      : m.changePct !== null && pastThreshold(m.changePct, signedThreshold(metric, budget));
    if (!past) return [];
    const sign = METRIC[metric].worse === "higher" ? 1 : -1;
    const contributors = tasks
      .filter((t) => t.contribution[metric] !== null && sign * t.contribution[metric]! > 0)
      .sort((a, b) => sign * (b.contribution[metric]! - a.contribution[metric]!))
      .slice(0, TOP_CONTRIBUTORS)
      .map((t) => t.task);
    return [{ metric, contributors }];
  });
}

/** A run of a task from its loaded report (task and phase as its file name says). */
export function runOfReport(
  loaded: LoadedReport,
  named: { task: string; phase: Phase },
  startedMs: number,
): HistoryRun {
  return {
    ...named,
    startedMs,
    path: loaded.path,
    values: byGated((id) => metricValue(loaded, id)),
    loaded,
  };
}
