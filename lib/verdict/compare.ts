/**
 * Comparison of a before and an after run. Pure: reports in, a typed `Comparison` out; the
 * verdict on it is lib/verdict/verdict.ts, renderers (lib/render/) turn both into text.
 *
 * Change = (after − before) / before × 100, "N/A" (null) when before < 0.001 — the old compare
 * script's rule. Each change carries its statistics (lib/verdict/significance.ts). With several runs
 * on a side, that side's values are per-run medians.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { percentChange } from "./compare.ts";
 * strictEqual(Math.round(percentChange(10, 11)!), 10);
 * strictEqual(percentChange(0, 5), null);
 * ```
 * @module
 */
import { resolve } from "node:path";
import { match } from "ts-pattern";
import type { Baseline } from "./baselines.ts";
import type { LoadedReport } from "../report/read.ts";
import { type Mode, type Phase, type RunReport, THROUGHPUT_DEFINITIONS } from "../report/schema.ts";
import { UsageError } from "../shared/errors.ts";
import { checkCommand, filesOfReport, type ToolCommands } from "../report/files.ts";
import { OP_KINDS } from "../workload/scenario.ts";
import { isLowerBound, operationCensoring, runCensoring } from "../report/censoring.ts";
import { expectedDifferences } from "./differences.ts";
import { capacityChange, capacityProblems } from "./capacity.ts";
import { setupProblems, unrecordedWarnings } from "./setup.ts";
import { indexProbeWarnings } from "../report/index_probe.ts";
import {
  INTERVAL_METRICS,
  METRIC,
  METRIC_IDS,
  type MetricId,
  metricValue,
  RUN_METRICS,
} from "./metrics.ts";
import { bootstrapIntervals, noiseFloors, pairedRuns, repeatedRunTests } from "./significance.ts";
import { median } from "./stats.ts";
import type {
  ChangeBound,
  Comparison,
  HostSpread,
  MetricChange,
  OperationChange,
  RunInfo,
  RunSeries,
  Statistics,
} from "./types.ts";

/** Percent change, or null when either side is missing or before is (nearly) zero. */
export function percentChange(before: number | null, after: number | null): number | null {
  if (before === null || after === null || Math.abs(before) < 0.001) return null;
  return (after - before) / before * 100;
}

/**
 * Both sides of a metric with their difference and relative change; `censored` says which
 * sides are lower bounds (recorded only when one is).
 */
export function metricChange(
  before: number | null,
  after: number | null,
  censored: { before: boolean; after: boolean } = { before: false, after: false },
): MetricChange {
  return {
    before,
    after,
    delta: before === null || after === null ? null : after - before,
    changePct: percentChange(before, after),
    ...(censored.before || censored.after ? { censored } : {}),
  };
}

/**
 * What a change is, given which sides are lower bounds (`ChangeBound`).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { changeBound, metricChange } from "./compare.ts";
 * strictEqual(changeBound(metricChange(2000, 10000, { before: false, after: true })), "lower");
 * strictEqual(changeBound(metricChange(10000, 10000, { before: true, after: true })), "unknown");
 * strictEqual(changeBound(metricChange(1, 2)), "exact");
 * ```
 */
export function changeBound(m: MetricChange): ChangeBound {
  const b = m.censored?.before ?? false, a = m.censored?.after ?? false;
  return b && a ? "unknown" : a ? "lower" : b ? "upper" : "exact";
}

/** An operation kind's numbers in one run. */
interface OperationNumbers {
  count: number;
  p99Ms: number;
  /** Its P99 is a lower bound (censored at the timeout). */
  censored: boolean;
}

/** The numbers of one run that compare reads, the same for current and old-tool reports. */
interface RunNumbers {
  metrics: Record<MetricId, number | null>;
  /** Which latency percentiles are lower bounds (old-tool reports: none known). */
  censored: Record<MetricId, boolean>;
  serviceP99Ms: number | null;
  operations: Map<string, OperationNumbers>;
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function numbersOf(loaded: LoadedReport): RunNumbers {
  const r = loaded.report;
  const current = loaded.kind === "current" ? loaded.report : null;
  const operations = new Map<string, OperationNumbers>();
  const stats = r.per_operation_stats as Record<
    string,
    { count: number; p99_latency_us: number; errors_by_kind?: Record<string, number> }
  >;
  const known: readonly string[] = OP_KINDS;
  const kinds = [
    ...OP_KINDS.filter((k) => k in stats),
    ...Object.keys(stats).filter((k) => !known.includes(k)).sort(),
  ];
  for (const kind of kinds) {
    const s = stats[kind];
    operations.set(kind, {
      count: s.count,
      p99Ms: s.p99_latency_us / 1000,
      censored: current !== null && isLowerBound(operationCensoring(s), 99),
    });
  }
  const censoring = current && runCensoring(current);
  return {
    metrics: byMetric((id) => metricValue(loaded, id)),
    censored: byMetric((id) => {
      const p = METRIC[id].percentile;
      return p !== null && isLowerBound(censoring, p);
    }),
    serviceP99Ms: finiteOrNull(current?.service_time?.p99_ms),
    operations,
  };
}

/** A record over the headline metrics, in table order. */
function byMetric<T>(f: (id: MetricId) => T): Record<MetricId, T> {
  return Object.fromEntries(METRIC_IDS.map((id) => [id, f(id)])) as Record<MetricId, T>;
}

/** Identity and file locations of a loaded report. */
export function runInfo(loaded: LoadedReport): RunInfo {
  const { diag, sys } = filesOfReport(loaded.path);
  const derived = { diag, sys };
  return match(loaded)
    .with({ kind: "legacy" }, ({ path, report }) => ({
      path,
      legacy: true,
      schemaVersion: null,
      scenario: report.config_name,
      workloadFingerprint: null,
      targetKind: null,
      provenance: null,
      mode: null,
      files: derived,
      saturated: null,
    }))
    .with({ kind: "current" }, ({ path, report }) => ({
      path,
      legacy: false,
      schemaVersion: report.schema_version,
      scenario: report.scenario.name,
      workloadFingerprint: report.workload_fingerprint,
      targetKind: report.target.kind,
      provenance: {
        targetVersion: report.target.version,
        targetCommit: typeof report.target.details.git_commit === "string"
          ? report.target.details.git_commit
          : null,
        targetDirty: typeof report.target.details.git_dirty === "boolean"
          ? report.target.details.git_dirty
          : null,
        toolVersion: report.tool.version,
        toolCommit: report.tool.commit,
      },
      mode: report.mode,
      // Paths as check recorded them; derived from the report's name when absent.
      files: { diag: report.files?.diag || derived.diag, sys: report.files?.sys || derived.sys },
      saturated: report.notes?.find((n) => n.startsWith("server saturated")) ?? null,
    }))
    .exhaustive();
}

/** One side's numbers over several runs: the median of each value (kinds: over runs that ran it). */
function medianNumbers(list: RunNumbers[]): RunNumbers {
  if (list.length === 1) return list[0];
  const med = (f: (n: RunNumbers) => number | null): number | null => {
    const values = list.map(f).filter((v): v is number => v !== null);
    return values.length === 0 ? null : median(values);
  };
  // A median is a lower bound when any run's value is one (a median never falls as a value rises).
  const operations = new Map<string, OperationNumbers>();
  for (const kind of new Set(list.flatMap((n) => [...n.operations.keys()]))) {
    const ran = list.flatMap((n) => n.operations.get(kind) ?? []).filter((o) => o.count > 0);
    if (ran.length === 0) continue;
    operations.set(kind, {
      count: median(ran.map((o) => o.count)),
      p99Ms: median(ran.map((o) => o.p99Ms)),
      censored: ran.some((o) => o.censored),
    });
  }
  return {
    metrics: byMetric((id) => med((n) => n.metrics[id])),
    censored: byMetric((id) => list.some((n) => n.censored[id])),
    serviceP99Ms: med((n) => n.serviceP99Ms),
    operations,
  };
}

/** Refuses a run its own check marked invalid (`valid: false`), quoting the reasons. */
export function refuseInvalid(
  loaded: LoadedReport,
  task: string,
  phase: Phase,
  mode: Mode,
  via: ToolCommands,
): void {
  if (loaded.kind !== "current" || loaded.report.valid) return;
  const reasons = loaded.report.invalid_reasons.join("; ") || "no reason recorded";
  throw new UsageError(
    `${loaded.path} is marked invalid (${reasons}); rerun: ${checkCommand(task, phase, mode, via)}`,
  );
}

/**
 * Why the two runs should not be compared, and warnings. Refused (without `--force`): the same
 * file on both sides; an old-generator report against a new one (their P99s are defined
 * differently); a report whose own task, phase or mode is not what was asked (before and after
 * swapped, a report of another task); different scenarios, rates, durations or workloads
 * (fingerprint); different target kinds, URL origins (`--url` targets), Engram checkout paths
 * or hosts. What is expected to differ (the Engram commit, the reference server's knobs) is not
 * a problem: `expectedDifferences` (differences.ts) lists it for the output. Warned: checks
 * that could not be made (two old-tool reports), a before run that started after the after run.
 */
export function comparability(
  before: LoadedReport,
  after: LoadedReport,
  asked: { task: string; mode: Mode },
): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (resolve(before.path) === resolve(after.path)) {
    problems.push(`before and after are the same file (${before.path})`);
  }
  if (before.kind !== after.kind) {
    const old = before.kind === "legacy" ? "before" : "after";
    problems.push(
      `the ${old} report is from the old load generator and the other is not: their P99s are ` +
        `defined differently (maximum of per-operation P99s vs the merged histogram)`,
    );
    return { problems, warnings };
  }
  if (before.kind === "legacy" || after.kind === "legacy") {
    warnings.push(
      `${before.path} and ${after.path} are old load-test reports (no schema_version): ` +
        `workload fingerprint, scenario and target checks skipped`,
    );
    return { problems, warnings };
  }
  const sides = [["before", before.report], ["after", after.report]] as const;
  for (const [side, r] of sides) {
    if (r.task !== asked.task) {
      problems.push(`the ${side} report is a run of task ${r.task}, not of task ${asked.task}`);
    }
    if (r.phase !== side) {
      problems.push(`the ${side} report is a '${r.phase}' run (before and after swapped?)`);
    }
    if (r.mode !== asked.mode) {
      problems.push(`the ${side} run was measured in ${r.mode} mode, not ${asked.mode} mode`);
    }
  }
  const b = before.report, a = after.report;
  problems.push(...measurementProblems(b, a));
  warnings.push(...unrecordedWarnings(b, a), ...indexProbeWarnings(b, a));
  if (Date.parse(b.started_at) > Date.parse(a.started_at)) {
    warnings.push(
      `the before run started after the after run (${b.started_at} vs ${a.started_at})`,
    );
  }
  return { problems, warnings };
}

/**
 * Why two runs are not measurements of the same thing (different scenario, rate, duration,
 * workload, timeout, in-flight cap, target kind, server, Engram checkout, host, and how the load
 * was generated: lib/verdict/setup.ts): compare's
 * rule, also used across the tasks of a milestone (`--history`). `pair` names the two runs in
 * the messages ("before and after").
 */
export function measurementProblems(
  b: RunReport,
  a: RunReport,
  pair = "before and after",
): string[] {
  const problems: string[] = [];
  if (b.schema_version !== a.schema_version) {
    const [older, newer] = [b, a].sort((x, y) => x.schema_version - y.schema_version);
    problems.push(
      `${pair} count throughput differently (schema_version ${older.schema_version}: ${
        THROUGHPUT_DEFINITIONS[older.schema_version]
      }; ${newer.schema_version}: ${
        THROUGHPUT_DEFINITIONS[newer.schema_version]
      }); rerun the check of schema_version ${older.schema_version} with this m17_check`,
    );
  }
  const differ = (what: string, x: unknown, y: unknown) => {
    if (x !== y) problems.push(`${pair} ${what} (${x} vs ${y})`);
  };
  differ("ran different scenarios", `'${b.scenario.name}'`, `'${a.scenario.name}'`);
  // Two --find-rate runs measured at the rates they found: those differ by design.
  if (!b.capacity || !a.capacity) {
    differ("ran at different rates", `${b.scenario.rate} ops/s`, `${a.scenario.rate} ops/s`);
  }
  problems.push(...capacityProblems(b, a));
  differ(
    "ran for different durations",
    `${b.scenario.duration_seconds} s`,
    `${a.scenario.duration_seconds} s`,
  );
  if (b.workload_fingerprint !== a.workload_fingerprint) {
    problems.push(
      `${pair} ran different workloads (workload_fingerprint ${
        b.workload_fingerprint?.slice(0, 12)
      } vs ${a.workload_fingerprint?.slice(0, 12)})`,
    );
  }
  problems.push(...setupProblems(b, a, pair));
  if (b.settings && a.settings) {
    differ(
      "used different request timeouts",
      `${b.settings.timeout_ms} ms`,
      `${a.settings.timeout_ms} ms`,
    );
    differ(
      "used different in-flight caps",
      `--max-in-flight ${b.settings.max_in_flight}`,
      `--max-in-flight ${a.settings.max_in_flight}`,
    );
  }
  differ("measured different target kinds", b.target.kind, a.target.kind);
  if (b.target.kind === "engram" && a.target.kind === "engram") {
    differ(
      "measured different Engram checkouts",
      b.target.details.checkout,
      a.target.details.checkout,
    );
  }
  if (b.host?.hostname !== undefined && a.host?.hostname !== undefined) {
    differ("ran on different hosts", b.host.hostname, a.host.hostname);
  }
  return problems;
}

/**
 * Builds the comparison of two loaded reports (and the after run against a baseline), with its
 * statistics. `runs` lists every run of each side (default: just `before` / `after`); a side
 * with several runs is represented by per-run medians.
 */
export function compareRuns(options: {
  task: string;
  mode: Mode;
  before: LoadedReport;
  after: LoadedReport;
  runs?: { before: LoadedReport[]; after: LoadedReport[] };
  baseline?: Baseline | null;
  /** The spread of identical runs here (lib/verdict/spread.ts), for a single pair. */
  spread?: HostSpread | null;
}): Comparison {
  const runs = options.runs ?? { before: [options.before], after: [options.after] };
  const b = medianNumbers(runs.before.map(numbersOf));
  const a = medianNumbers(runs.after.map(numbersOf));
  const kinds = [...new Set([...b.operations.keys(), ...a.operations.keys()])];
  const operations: OperationChange[] = [];
  for (const kind of kinds) {
    const ob = b.operations.get(kind);
    const oa = a.operations.get(kind);
    const countBefore = ob?.count ?? 0;
    const countAfter = oa?.count ?? 0;
    if (countBefore === 0 && countAfter === 0) continue;
    operations.push({
      kind,
      countBefore,
      countAfter,
      p99Ms: metricChange(
        countBefore > 0 ? ob!.p99Ms : null,
        countAfter > 0 ? oa!.p99Ms : null,
        { before: ob?.censored ?? false, after: oa?.censored ?? false },
      ),
    });
  }
  const baseline = options.baseline ?? null;
  const metrics = byMetric((id) =>
    metricChange(b.metrics[id], a.metrics[id], { before: b.censored[id], after: a.censored[id] })
  );
  const afterP99 = a.metrics.p99 ?? 0;
  return {
    task: options.task,
    mode: options.mode,
    before: runInfo(options.before),
    after: runInfo(options.after),
    differences: expectedDifferences(options.before, options.after, runs),
    metrics,
    statistics: statisticsOf(metrics, runs),
    operations,
    serviceP99Ms: b.serviceP99Ms === null && a.serviceP99Ms === null
      ? null
      : metricChange(b.serviceP99Ms, a.serviceP99Ms),
    positioning: baseline === null ? null : {
      baseline,
      engramP99Ms: afterP99,
      gapPct: (baseline.p99Ms - afterP99) / baseline.p99Ms * 100,
    },
    capacity: capacityChange(options.before, options.after, baseline),
    ...(options.spread ? { spread: options.spread } : {}),
  };
}

/**
 * Fills in the statistics (and the `ci` / `pValue` of the metrics they cover): the sequential
 * rule's evidence when a side has several runs or the runs are pairs of an interleaved session,
 * else bootstrap intervals from the per-second histograms.
 */
function statisticsOf(
  metrics: Record<MetricId, MetricChange>,
  runs: { before: LoadedReport[]; after: LoadedReport[] },
): Statistics {
  const series = (list: LoadedReport[]): RunSeries => ({
    group: list[0].kind === "current" ? list[0].report.run?.group ?? null : null,
    paths: list.map((r) => r.path),
  });
  const common = {
    runs: { before: series(runs.before), after: series(runs.after) },
    noise: { before: noiseFloors(runs.before), after: noiseFloors(runs.after) },
  };
  // An interleaved session is judged by the sequential rule from its first pair on: a single
  // pair of it is one look, never a point-estimate verdict that would end the session.
  const session = pairedRuns(runs.before, runs.after) !== null;
  if (runs.before.length > 1 || runs.after.length > 1 || session) {
    const { design, perRun } = repeatedRunTests(runs.before, runs.after);
    for (const id of RUN_METRICS) {
      const e = perRun[id].evidence;
      if (e !== null) metrics[id].pValue = e.pValue;
    }
    return { method: "runs", design, perRun, ...common };
  }
  const ci = bootstrapIntervals(runs.before[0], runs.after[0]);
  if (ci.kind === "unavailable") return { method: "none", reason: ci.reason, ...common };
  for (const id of INTERVAL_METRICS) {
    const interval = ci.value[id];
    if (metrics[id].changePct === null) continue;
    if (interval.kind === "ok") metrics[id].ci = interval.ci;
    else metrics[id].noInterval = interval.reason;
  }
  return { method: "bootstrap", ...common };
}
