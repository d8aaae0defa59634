/**
 * The values a comparison produces and renderers consume: a `Comparison` (both runs, their
 * changes and statistics) and a `Verdict` on it. Types only, so every verdict module and
 * renderer can share them without importing each other.
 * @module
 */
import type { Baseline } from "./baselines.ts";
import type { CapacityChange } from "./capacity.ts";
import type { Mode } from "../report/schema.ts";
import type { GatedMetricId, MetricId, NoiseMetricId, RunMetricId } from "./metrics.ts";
import type { NoiseFloor } from "./stats.ts";
import type { SequentialEvidence } from "./sequential.ts";

/** A value, or why it could not be had (no per-second histograms, runs too short, …). */
export type Availability<T> =
  | { kind: "ok"; value: T }
  | { kind: "unavailable"; reason: string };

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
  /** Why the statistics step printed no interval for this metric (e.g. seconds too correlated). */
  noInterval?: string;
  /**
   * Always-valid one-sided p-value that after is worse than before (several runs on a side;
   * lib/verdict/sequential.ts).
   */
  pValue?: number;
  /**
   * Which sides' values are lower bounds: a latency percentile whose rank falls among the
   * requests that timed out (censored at the timeout; lib/report/censoring.ts). Absent: neither.
   */
  censored?: { before: boolean; after: boolean };
}

/**
 * What a change shown is, given censoring: "exact"; "lower" (only the after value is a lower
 * bound, so the change is at least this); "upper" (only the before value is, so at most this);
 * "unknown" (both are lower bounds: the change could be anything).
 */
export type ChangeBound = "exact" | "lower" | "upper" | "unknown";

/**
 * Something expected to differ between before and after because it is the change under test
 * (the Engram commit, the reference server's knobs, the tool's version), each side in words.
 * Printed as `what: before → after` above the table; never a reason to refuse.
 */
export interface ExpectedDifference {
  /** `Engram`, `Server version`, `Reference knobs`, `m17`. */
  what: string;
  before: string;
  after: string;
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
  /** What measured it, for the PERFORMANCE_LOG.md provenance line; null for old-tool reports. */
  provenance: {
    targetVersion: string | null;
    /** The Engram checkout's git commit (and whether it had other changes). */
    targetCommit: string | null;
    targetDirty: boolean | null;
    toolVersion: string;
    toolCommit: string | null;
  } | null;
  mode: Mode | null;
  /** Diagnostics and system-metrics files written next to the report. */
  files: { diag: string; sys: string };
  /** The report's saturation note (`server saturated, 86% of requests timed out …`), or null. */
  saturated: string | null;
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

/** The runs of one side (several when `check --runs N` wrote a group). */
export interface RunSeries {
  /** `run.group` of the reports; null for old-tool reports. */
  group: string | null;
  /** Report paths in run order. */
  paths: string[];
}

/**
 * How repeated runs are compared: "paired" by `run.pair` (both sides one interleaved confirm
 * session; `pairs` complete pairs), else "unpaired" (independent `check --runs N` groups).
 */
export type RunDesign = { kind: "paired"; pairs: number } | { kind: "unpaired" };

/**
 * The sequential rule's evidence on one metric (lib/verdict/sequential.ts), with the bound as a
 * change in the metric's own terms: `boundPct` is after/before − 1 in % that the evidence rules
 * out going beyond (P99: any change above it; throughput: any change below it); null when
 * nothing is ruled out yet.
 */
export interface RunEvidence extends SequentialEvidence {
  boundPct: number | null;
}

/** One metric over repeated runs: the values (in pair order when paired) and the evidence. */
export interface RunTest {
  before: number[];
  after: number[];
  /** Null for errors (the specification's rule) or when a value is not positive. */
  evidence: RunEvidence | null;
}

/** The noise floor of each noise metric over runs of one build. */
export type NoiseFloors = Record<NoiseMetricId, NoiseFloor>;

/** What every statistics method records: the runs of each side and their noise floors. */
interface StatisticsBase {
  runs: { before: RunSeries; after: RunSeries };
  /** Noise floor of each side with at least 3 runs. */
  noise: { before: NoiseFloors | null; after: NoiseFloors | null };
}

/**
 * How sure the changes are: bootstrap intervals (one run per side: `ci` on P50/P95/P99/
 * throughput), the sequential rule's evidence (several runs on a side: `pValue` on P50/P95/P99/
 * throughput, with the per-run values) or neither (`reason` says why).
 */
export type Statistics =
  | StatisticsBase & { method: "bootstrap" }
  | StatisticsBase & {
    method: "runs";
    design: RunDesign;
    perRun: Record<RunMetricId, RunTest>;
  }
  | StatisticsBase & { method: "none"; reason: string };

/**
 * The spread of identical runs on this host and target (lib/verdict/spread.ts): the noise floor
 * over earlier runs of the before build, and where it comes from.
 */
export interface HostSpread {
  floors: NoiseFloors;
  /** The runs it was measured on, oldest first. */
  paths: string[];
}

/** Everything a renderer needs; derived from the reports only. */
export interface Comparison {
  task: string;
  mode: Mode;
  before: RunInfo;
  after: RunInfo;
  /** What differs as the change under test (empty when nothing does), in display order. */
  differences: ExpectedDifference[];
  metrics: Record<MetricId, MetricChange>;
  operations: OperationChange[];
  /** Service time (send → response) P99: context, never part of the verdict. */
  serviceP99Ms: MetricChange | null;
  positioning: Positioning | null;
  /** Both runs are `check --find-rate` runs: the change of the sustained rate; else null. */
  capacity?: CapacityChange | null;
  /** How sure the changes are. */
  statistics: Statistics;
  /** One run per side: the spread of identical runs here, when earlier runs measured it. */
  spread?: HostSpread;
}

/** Regression thresholds in percent. */
export interface Thresholds {
  p99Pct: number;
  throughputPct: number;
}

/** The criteria of the verdict: the gated metrics, and the competitor baseline. */
export type CriterionId = GatedMetricId | "baseline";

/**
 * One criterion's outcome; "n/a" when it cannot be judged (change N/A, no baseline);
 * "inconclusive" when its statistic cannot tell yet (the sequential rule: neither surely worse
 * nor ruled out past the threshold; --significance: over the threshold, interval across it).
 */
export interface CriterionResult {
  id: CriterionId;
  status: "pass" | "fail" | "n/a" | "inconclusive";
}

/**
 * The rule behind a verdict: "sequential" for repeated runs (lib/verdict/sequential.ts: always
 * valid, whatever `--significance` says); for one run per side "point", the specification's rule
 * on point estimates (a failure is unconfirmed), or "significance" (`--significance`: a change
 * over the threshold must also have its whole within-run 95% interval past it).
 */
export type VerdictRule = "point" | "significance" | "sequential";

interface VerdictBase {
  rule: VerdictRule;
  thresholds: Thresholds;
  criteria: CriterionResult[];
  /**
   * The sequential rule's evidence on the gated metrics (rule "sequential" only): estimate,
   * always-valid p-value, the bound ruled out and the number of looks.
   */
  evidence?: {
    design: RunDesign;
    p99: RunEvidence | null;
    throughput: RunEvidence | null;
  };
}

/** The verdict: which criteria failed and what that means for the exit code. */
export type Verdict =
  | VerdictBase & { kind: "pass" }
  | VerdictBase & { kind: "regression"; failed: CriterionId[] }
  | VerdictBase & { kind: "competitive_regression"; failed: CriterionId[] }
  /** Not decided by the evidence yet: exit 4. */
  | VerdictBase & { kind: "inconclusive"; uncertain: CriterionId[] };
