/**
 * Comparison of a before and an after run, and the verdict on it. Pure: reports in, typed
 * values out; renderers (lib/render/terminal.ts, lib/render/perflog.ts) turn them into text.
 *
 * Change = (after − before) / before × 100, "N/A" (null) when before < 0.001 — the old compare
 * script's rule. The default verdict is the specification's rule on these point estimates; with
 * `significance` it also asks whether a change over the threshold is more than noise
 * (lib/verdict/significance.ts). With several runs on a side, that side's values are per-run medians.
 *
 * @example
 * ```ts
 * import { percentChange } from "./compare.ts";
 * console.assert(Math.round(percentChange(10, 11)!) === 10);
 * console.assert(percentChange(0, 5) === null);
 * ```
 * @module
 */
import { match } from "ts-pattern";
import type { Baseline } from "./baselines.ts";
import type { LoadedReport, Mode, Phase } from "./discovery.ts";
import { checkCommand } from "./discovery.ts";
import { EXIT, UsageError } from "../shared/errors.ts";
import { filesFor } from "../report/files.ts";
import { OP_KINDS } from "../workload/scenario.ts";
import {
  bootstrapIntervals,
  INTERVAL_METRICS,
  type NoiseFloors,
  noiseFloors,
  repeatedRunTests,
  RUN_METRICS,
  type RunMetricId,
  type RunTest,
  significantlyWorse,
} from "./significance.ts";
import { median } from "./stats.ts";

/** Headline metrics of a comparison, in table order. */
export const METRIC_IDS = [
  "p50",
  "p95",
  "p99",
  "p999",
  "throughput",
  "errors",
  "error_rate",
] as const;
/** One headline metric. */
export type MetricId = typeof METRIC_IDS[number];

/** One metric on both sides. */
export interface MetricChange {
  /** Null when the run does not have the metric (old-tool reports have no P99.9). */
  before: number | null;
  after: number | null;
  /** after − before. */
  delta: number | null;
  /** (after − before) / before × 100; null ("N/A") when a side is missing or |before| < 0.001. */
  changePct: number | null;
  /** Confidence interval of `changePct` in percent, when a statistics step computed one. */
  ci?: [lo: number, hi: number];
  /** One-sided Mann–Whitney p-value that the after runs are worse (several runs on a side). */
  pValue?: number;
}

/** What identifies a run and where its files are. */
export interface RunInfo {
  path: string;
  /** An old Rust load generator report (no schema_version). */
  legacy: boolean;
  schemaVersion: number | null;
  scenario: string;
  workloadFingerprint: string | null;
  targetKind: string | null;
  mode: Mode | null;
  /** Diagnostics and system-metrics files written next to the report. */
  files: { diag: string; sys: string };
}

/** One operation kind's P99 on both sides (only kinds that ran on at least one side). */
export interface OperationChange {
  kind: string;
  countBefore: number;
  countAfter: number;
  p99Ms: MetricChange;
}

/** The after run against a competitor's published P99. */
export interface Positioning {
  baseline: Baseline;
  engramP99Ms: number;
  /** (baseline − engram) / baseline × 100: positive means Engram is faster. */
  gapPct: number;
}

/** Everything a renderer needs; derived from the two reports only. */
export interface Comparison {
  task: string;
  mode: Mode;
  before: RunInfo;
  after: RunInfo;
  metrics: Record<MetricId, MetricChange>;
  operations: OperationChange[];
  /** Service time (send → response) P99: context, never part of the verdict. */
  serviceP99Ms: MetricChange | null;
  positioning: Positioning | null;
  /** How sure the changes are. */
  statistics: Statistics;
}

/** The runs of one side (several when `check --runs N` wrote a group). */
export interface RunSeries {
  /** `run.group` of the reports; null for old-tool reports. */
  group: string | null;
  /** Report paths in run order. */
  paths: string[];
}

/**
 * How sure the changes are: bootstrap intervals (one run per side: `ci` on P50/P95/P99/
 * throughput), repeated-run tests (several runs on a side: `pValue` on P50/P95/P99/throughput/
 * errors) or neither (`reason` says why).
 */
export interface Statistics {
  method: "bootstrap" | "runs" | "none";
  reason: string | null;
  runs: { before: RunSeries; after: RunSeries };
  /** Per-run values and tests (method "runs"). */
  perRun: Record<RunMetricId, RunTest> | null;
  /** Noise floor of each side with at least 3 runs. */
  noise: { before: NoiseFloors | null; after: NoiseFloors | null };
}

/** Regression thresholds in percent. */
export interface Thresholds {
  p99Pct: number;
  throughputPct: number;
}

/** The criteria of the verdict. */
export type CriterionId = "p99" | "throughput" | "errors" | "baseline";

/**
 * One criterion's outcome; "n/a" when it cannot be judged (change N/A, no baseline);
 * "inconclusive" (significance rule only) when over the threshold but not significantly worse.
 */
export interface CriterionResult {
  id: CriterionId;
  status: "pass" | "fail" | "n/a" | "inconclusive";
}

/**
 * The rule behind a verdict: "point" is the specification's rule on point estimates;
 * "significance" also requires a change over the threshold to be significantly worse.
 */
export type VerdictRule = "point" | "significance";

/** The verdict: which criteria failed and what that means for the exit code. */
export type Verdict =
  | { kind: "pass"; rule: VerdictRule; thresholds: Thresholds; criteria: CriterionResult[] }
  | {
    kind: "regression";
    rule: VerdictRule;
    thresholds: Thresholds;
    criteria: CriterionResult[];
    failed: CriterionId[];
  }
  | {
    kind: "competitive_regression";
    rule: VerdictRule;
    thresholds: Thresholds;
    criteria: CriterionResult[];
    failed: CriterionId[];
  }
  | {
    /** Over a threshold, but not significantly (significance rule only): exit 4. */
    kind: "inconclusive";
    rule: VerdictRule;
    thresholds: Thresholds;
    criteria: CriterionResult[];
    uncertain: CriterionId[];
  };

/** Default thresholds per mode (the specification's targets). */
export function defaultThresholds(mode: Mode): Thresholds {
  const pct = mode === "competitive" ? 10 : 5;
  return { p99Pct: pct, throughputPct: pct };
}

/** Percent change, or null when either side is missing or before is (nearly) zero. */
export function percentChange(before: number | null, after: number | null): number | null {
  if (before === null || after === null || Math.abs(before) < 0.001) return null;
  return (after - before) / before * 100;
}

/** Both sides of a metric with their difference and relative change. */
export function metricChange(before: number | null, after: number | null): MetricChange {
  return {
    before,
    after,
    delta: before === null || after === null ? null : after - before,
    changePct: percentChange(before, after),
  };
}

/** The numbers of one run that compare reads, the same for current and old-tool reports. */
interface RunNumbers {
  p50: number;
  p95: number;
  p99: number;
  p999: number | null;
  throughput: number;
  errors: number;
  errorRate: number;
  serviceP99Ms: number | null;
  operations: Map<string, { count: number; p99Ms: number }>;
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function numbersOf(loaded: LoadedReport): RunNumbers {
  const r = loaded.report;
  const operations = new Map<string, { count: number; p99Ms: number }>();
  const stats = r.per_operation_stats as Record<string, { count: number; p99_latency_us: number }>;
  const known: readonly string[] = OP_KINDS;
  const kinds = [
    ...OP_KINDS.filter((k) => k in stats),
    ...Object.keys(stats).filter((k) => !known.includes(k)).sort(),
  ];
  for (const kind of kinds) {
    operations.set(kind, { count: stats[kind].count, p99Ms: stats[kind].p99_latency_us / 1000 });
  }
  const current = loaded.kind === "current" ? loaded.report : null;
  return {
    p50: r.p50_latency_ms,
    p95: r.p95_latency_ms,
    p99: r.p99_latency_ms,
    p999: finiteOrNull(current?.p999_latency_ms),
    throughput: r.overall_throughput,
    errors: r.total_errors,
    errorRate: r.overall_error_rate,
    serviceP99Ms: finiteOrNull(current?.service_time?.p99_ms),
    operations,
  };
}

/** Identity and file locations of a loaded report. */
export function runInfo(loaded: LoadedReport): RunInfo {
  const { diag, sys } = filesFor(loaded.path.replace(/\.json$/, ""));
  const derived = { diag, sys };
  return match(loaded)
    .with({ kind: "legacy" }, ({ path, report }) => ({
      path,
      legacy: true,
      schemaVersion: null,
      scenario: report.config_name,
      workloadFingerprint: null,
      targetKind: null,
      mode: null,
      files: derived,
    }))
    .with({ kind: "current" }, ({ path, report }) => ({
      path,
      legacy: false,
      schemaVersion: report.schema_version,
      scenario: report.scenario.name,
      workloadFingerprint: report.workload_fingerprint,
      targetKind: report.target.kind,
      mode: report.mode,
      // Paths as check recorded them; derived from the report's name when absent.
      files: { diag: report.files?.diag || derived.diag, sys: report.files?.sys || derived.sys },
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
  const operations = new Map<string, { count: number; p99Ms: number }>();
  for (const kind of new Set(list.flatMap((n) => [...n.operations.keys()]))) {
    const ran = list.flatMap((n) => n.operations.get(kind) ?? []).filter((o) => o.count > 0);
    if (ran.length === 0) continue;
    operations.set(kind, {
      count: median(ran.map((o) => o.count)),
      p99Ms: median(ran.map((o) => o.p99Ms)),
    });
  }
  return {
    p50: med((n) => n.p50)!,
    p95: med((n) => n.p95)!,
    p99: med((n) => n.p99)!,
    p999: med((n) => n.p999),
    throughput: med((n) => n.throughput)!,
    errors: med((n) => n.errors)!,
    errorRate: med((n) => n.errorRate)!,
    serviceP99Ms: med((n) => n.serviceP99Ms),
    operations,
  };
}

/** Refuses a run its own check marked invalid (`valid: false`), quoting the reasons. */
export function refuseInvalid(loaded: LoadedReport, task: string, phase: Phase, mode: Mode): void {
  if (loaded.kind !== "current" || loaded.report.valid) return;
  const reasons = loaded.report.invalid_reasons.join("; ") || "no reason recorded";
  throw new UsageError(
    `${loaded.path} is marked invalid (${reasons}); rerun: ${checkCommand(task, phase, mode)}`,
  );
}

/**
 * Why the two runs should not be compared (different workload, scenario, target kind or mode),
 * and warnings about checks that could not be made (old-tool reports carry no identity).
 */
export function comparability(
  before: LoadedReport,
  after: LoadedReport,
  mode: Mode,
): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const legacy = [before, after].filter((r) => r.kind === "legacy").map((r) => r.path);
  if (legacy.length > 0) {
    warnings.push(
      `${legacy.join(" and ")} ${legacy.length > 1 ? "are" : "is an"} old load-test ` +
        `report${legacy.length > 1 ? "s" : ""} (no schema_version): ` +
        `workload fingerprint, scenario and target checks skipped`,
    );
    return { problems, warnings };
  }
  const b = runInfo(before);
  const a = runInfo(after);
  if (b.workloadFingerprint !== a.workloadFingerprint) {
    problems.push(
      `before and after ran different workloads (workload_fingerprint ${
        b.workloadFingerprint?.slice(0, 12)
      } vs ${a.workloadFingerprint?.slice(0, 12)})`,
    );
  }
  if (b.scenario !== a.scenario) {
    problems.push(`before and after ran different scenarios ('${b.scenario}' vs '${a.scenario}')`);
  }
  if (b.targetKind !== a.targetKind) {
    problems.push(
      `before and after measured different target kinds (${b.targetKind} vs ${a.targetKind})`,
    );
  }
  for (const [side, info] of [["before", b], ["after", a]] as const) {
    if (info.mode !== mode) {
      problems.push(`the ${side} run was measured in ${info.mode} mode, not ${mode} mode`);
    }
  }
  return { problems, warnings };
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
      p99Ms: metricChange(countBefore > 0 ? ob!.p99Ms : null, countAfter > 0 ? oa!.p99Ms : null),
    });
  }
  const baseline = options.baseline ?? null;
  const metrics: Record<MetricId, MetricChange> = {
    p50: metricChange(b.p50, a.p50),
    p95: metricChange(b.p95, a.p95),
    p99: metricChange(b.p99, a.p99),
    p999: metricChange(b.p999, a.p999),
    throughput: metricChange(b.throughput, a.throughput),
    errors: metricChange(b.errors, a.errors),
    error_rate: metricChange(b.errorRate, a.errorRate),
  };
  return {
    task: options.task,
    mode: options.mode,
    before: runInfo(options.before),
    after: runInfo(options.after),
    metrics,
    statistics: statisticsOf(metrics, runs),
    operations,
    serviceP99Ms: b.serviceP99Ms === null && a.serviceP99Ms === null
      ? null
      : metricChange(b.serviceP99Ms, a.serviceP99Ms),
    positioning: baseline === null ? null : {
      baseline,
      engramP99Ms: a.p99,
      gapPct: (baseline.p99Ms - a.p99) / baseline.p99Ms * 100,
    },
  };
}

/**
 * Fills in the statistics (and the `ci` / `pValue` of the metrics they cover): Mann–Whitney
 * tests when a side has several runs, else bootstrap intervals from the per-second histograms.
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
  if (runs.before.length > 1 || runs.after.length > 1) {
    const perRun = repeatedRunTests(runs.before, runs.after);
    for (const id of RUN_METRICS) metrics[id].pValue = perRun[id].test.pValue;
    return { method: "runs", reason: null, perRun, ...common };
  }
  const ci = bootstrapIntervals(runs.before[0], runs.after[0]);
  if (typeof ci === "string") return { method: "none", reason: ci, perRun: null, ...common };
  for (const id of INTERVAL_METRICS) {
    if (ci[id] && metrics[id].changePct !== null) metrics[id].ci = ci[id];
  }
  return { method: "bootstrap", reason: null, perRun: null, ...common };
}

/**
 * Applies the specification's rule to a comparison. With `significance`, a P99, throughput or
 * error criterion over its threshold fails only when the change is significantly worse
 * (lib/verdict/significance.ts); otherwise it is "inconclusive". Errors without repeated runs count as
 * significant (an error is a failure to explain, not timing noise); the baseline criterion
 * compares against a published number and keeps the point rule.
 */
export function decideVerdict(
  comparison: Comparison,
  thresholds: Thresholds,
  options: { significance?: boolean } = {},
): Verdict {
  const rule: VerdictRule = options.significance ? "significance" : "point";
  const { p99, throughput, errors } = comparison.metrics;
  const judge = (id: CriterionId, change: number | null, fails: (c: number) => boolean) => ({
    id,
    status: change === null ? "n/a" as const : fails(change) ? "fail" as const : "pass" as const,
  });
  // Under the significance rule, a failure must also be significantly worse.
  const sure = (result: CriterionResult, sureWorse: boolean | null): CriterionResult =>
    rule === "significance" && result.status === "fail" && sureWorse !== true
      ? { id: result.id, status: "inconclusive" }
      : result;
  const criteria: CriterionResult[] = [
    sure(
      judge("p99", p99.changePct, (c) => c > thresholds.p99Pct),
      significantlyWorse(p99, "higher"),
    ),
    sure(
      judge("throughput", throughput.changePct, (c) => c < -thresholds.throughputPct),
      significantlyWorse(throughput, "lower"),
    ),
    sure(judge("errors", errors.delta, (d) => d > 0), significantlyWorse(errors, "higher") ?? true),
  ];
  if (comparison.mode === "competitive") {
    const pos = comparison.positioning;
    criteria.push(
      pos === null || pos.engramP99Ms < 0.001
        ? { id: "baseline", status: "n/a" }
        : judge("baseline", pos.engramP99Ms, (ms) => ms > pos.baseline.p99Ms),
    );
  }
  const failed = criteria.filter((c) => c.status === "fail").map((c) => c.id);
  const uncertain = criteria.filter((c) => c.status === "inconclusive").map((c) => c.id);
  if (failed.length > 0) {
    return comparison.mode === "competitive"
      ? { kind: "competitive_regression", rule, thresholds, criteria, failed }
      : { kind: "regression", rule, thresholds, criteria, failed };
  }
  if (uncertain.length > 0) return { kind: "inconclusive", rule, thresholds, criteria, uncertain };
  return { kind: "pass", rule, thresholds, criteria };
}

/**
 * The process exit code of a verdict (0 ok, 1 regression, 2 competitive regression,
 * 4 inconclusive).
 */
export function exitCodeOf(verdict: Verdict): number {
  return match(verdict)
    .with({ kind: "pass" }, () => EXIT.ok)
    .with({ kind: "regression" }, () => EXIT.regression)
    .with({ kind: "competitive_regression" }, () => EXIT.competitiveRegression)
    .with({ kind: "inconclusive" }, () => EXIT.inconclusive)
    .exhaustive();
}
