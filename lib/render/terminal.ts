/**
 * The terminal report of a comparison: the old compare script's layout, plus P99.9,
 * per-operation P99, service time and the statistics column. The table rows are shared with
 * the Markdown rendering (lib/render/markdown.ts).
 * @module
 */
import { capacityLines } from "./capacity_words.ts";
import { basename } from "node:path";
import { match } from "ts-pattern";
import type { Comparison, MetricChange, Verdict } from "../verdict/types.ts";
import type { Phase } from "../report/schema.ts";
import { METRIC, type MetricId, type Worse } from "../verdict/metrics.ts";
import {
  checkCommand,
  compareCommand,
  confirmCommand,
  DENO_TASK_COMMANDS,
  MILESTONE_TASK,
  type ToolCommands,
} from "../report/files.ts";
import { CONFIDENCE } from "../verdict/significance.ts";
import { onlyUnconfirmed, SUGGESTED_PAIRS } from "./evidence_words.ts";
import {
  formatChange,
  formatInterval,
  formatMetricChange,
  formatMs,
  formatPointsChange,
  formatPValue,
  formatRatioPct,
  markLowerBound,
  PLAIN,
  positionWords,
  signedInt,
  type Style,
  thresholdWords,
} from "./format.ts";
import {
  commitLine,
  differenceLines,
  headerLine,
  noiseLines,
  notJudgedLines,
  perRunLines,
  positioningLines,
  regressionLines,
  resolutionLine,
  ruledOutLines,
  saturationLines,
  shownMetrics,
  successLine,
  summaryLines,
} from "./wording.ts";

/** One row of the comparison table, as text. */
export interface Row {
  label: string;
  before: string;
  after: string;
  change: string;
  /** The change's interval or p-value (`[+2.1%, +12.9%]`, `p=0.004`); empty when none. */
  stats: string;
  /** True when the change moves in the bad direction (for colour only). */
  worse: boolean;
}

const dash = "-";

/** The statistics cell of a metric: its interval, else its p-value, else empty. */
function statsCell(m: MetricChange): string {
  if (m.ci) return formatInterval(m.ci);
  return m.pValue === undefined ? "" : `p=${formatPValue(m.pValue)}`;
}

/** Heading of the statistics column, or null when no row has statistics. */
export function statsHeading(c: Comparison): string | null {
  return match(c.statistics.method)
    .with("bootstrap", () => `${CONFIDENCE * 100}% CI`)
    .with("runs", () => "p (worse)")
    .with("none", () => null)
    .exhaustive();
}

/** Whether a change (a percent or a delta) moves in the metric's worse direction. */
function movesWorse(worse: Worse, change: number | null): boolean {
  return worse === "higher" ? (change ?? 0) > 0 : (change ?? 0) < 0;
}

/** A latency row; a value censored at the timeout is marked as a lower bound (`≥10000.000`). */
function msRow(label: string, m: MetricChange): Row {
  return {
    label,
    before: m.before === null ? dash : markLowerBound(m, "before", m.before.toFixed(3)),
    after: m.after === null ? dash : markLowerBound(m, "after", m.after.toFixed(3)),
    change: formatMetricChange(m),
    stats: statsCell(m),
    worse: movesWorse("higher", m.changePct),
  };
}

/** A headline metric's row, laid out by its unit. */
function metricRow(id: MetricId, m: MetricChange): Row {
  const { label, unit, worse } = METRIC[id];
  return match(unit)
    .with("ms", () => msRow(label, m))
    .with("ops/s", () => ({
      label,
      before: m.before!.toFixed(1),
      after: m.after!.toFixed(1),
      change: formatChange(m.changePct),
      stats: statsCell(m),
      worse: movesWorse(worse, m.changePct),
    }))
    .with("count", () => ({
      label,
      before: String(m.before),
      after: String(m.after),
      change: signedInt(m.delta!),
      stats: statsCell(m),
      worse: movesWorse(worse, m.delta),
    }))
    .with("ratio", () => ({
      label,
      before: formatRatioPct(m.before!),
      after: formatRatioPct(m.after!),
      change: formatPointsChange(m.delta!),
      stats: "",
      worse: movesWorse(worse, m.delta),
    }))
    .exhaustive();
}

/** The rows of the comparison table: headline metrics, per-operation P99, service time. */
export function tableRows(c: Comparison): Row[] {
  const rows = shownMetrics(c).map((id) => metricRow(id, c.metrics[id]));
  // Intervals and tests cover the headline metrics only.
  const context = (label: string, m: MetricChange) => ({ ...msRow(label, m), stats: "" });
  for (const op of c.operations) rows.push(context(`${op.kind} P99 (ms)`, op.p99Ms));
  if (c.serviceP99Ms) rows.push(context("P99 service time (ms)", c.serviceP99Ms));
  return rows;
}

function tableLines(c: Comparison, style: Style): string[] {
  const rows = tableRows(c);
  const width = Math.max(20, ...rows.map((r) => r.label.length));
  const line = (a: string, b: string, d: string, e: string) =>
    `${a.padEnd(width)} ${b.padStart(10)} ${d.padStart(10)} ${e.padStart(12)}`;
  // The statistics column follows the change (`+7.4% [+2.1%, +12.9%]`), only when there is one.
  const heading = statsHeading(c);
  const withStats = (text: string, stats: string) =>
    heading === null || stats === "" ? text : `${text} ${stats}`;
  const statsWidth = Math.max(heading?.length ?? 0, ...rows.map((r) => r.stats.length));
  return [
    withStats(line("Metric", "Before", "After", "Change"), heading ?? ""),
    withStats(
      line("-".repeat(width), "-".repeat(10), "-".repeat(10), "-".repeat(12)),
      "-".repeat(statsWidth),
    ),
    ...rows.map((r) => {
      const text = line(r.label, r.before, r.after, r.change);
      return withStats(
        r.worse ? text.slice(0, -12) + style.yellow(text.slice(-12)) : text,
        r.stats,
      );
    }),
  ];
}

/**
 * What the runs' CPU profiles (`check --profile`) offer as the first step after a regression:
 * the profiles were compared (the table follows the report; the differential flame graph is the
 * file named), or the phases whose profile must be recorded (again) for compare to name the
 * functions (not profiled, unreadable, or too few samples).
 */
export type ProfileStep =
  | { readonly kind: "compared"; readonly diffSvg: string }
  | { readonly kind: "profile_again"; readonly phases: readonly Phase[] };

/** Neither run profiled (or both need it again): profile both. */
export const PROFILE_BOTH: ProfileStep = { kind: "profile_again", phases: ["before", "after"] };

/** Step 1 after a regression: where the CPU went, or the commands that will say. */
function profileStepLines(c: Comparison, step: ProfileStep, via: ToolCommands): string[] {
  const compare = compareCommand(c.task, c.mode, via);
  const check = (phase: Phase) => `${checkCommand(c.task, phase, c.mode, via)} --profile`;
  return match(step)
    .with({ kind: "compared" }, (s) => [
      "  1. See where the server's CPU went: the profile table below and the differential",
      `     flame graph ${s.diffSvg} (red: self share grew)`,
    ])
    .with({ kind: "profile_again" }, (s) => {
      const [before, after] = [s.phases.includes("before"), s.phases.includes("after")];
      if (before && after) {
        return [
          "  1. Profile both builds, then compare names the functions that grew:",
          `     on the before build: ${check("before")}`,
          `     on this build: ${check("after")} && ${compare}`,
        ];
      }
      return after
        ? [`  1. Profile this build (the before run is profiled): ${check("after")} && ${compare}`]
        : [
          "  1. Profile the before build too (the after run is profiled):",
          `     on the before build: ${check("before")}, then ${compare}`,
        ];
    })
    .exhaustive();
}

function nextStepLines(
  c: Comparison,
  v: Verdict,
  via: ToolCommands,
  profile: ProfileStep,
): string[] {
  const compare = compareCommand(c.task, c.mode, via);
  const confirm = confirmCommand(c.task, c.mode, via);
  const s = c.statistics;
  if (v.kind === "inconclusive") {
    if (s.method !== "runs") {
      return [
        "The change is over the threshold but may be noise: re-measure both builds interleaved",
        `  ${confirm}`,
      ];
    }
    return [
      "Not decided yet: measure more interleaved pairs (confirm continues the newest session and " +
      "stops as soon as the rule decides)",
      `  ${confirm} --pairs ${SUGGESTED_PAIRS}`,
    ];
  }
  // The milestone's own runs are made by its confirm only: the regression is found in a task.
  const steps = c.task === MILESTONE_TASK
    ? [
      `  1. Find the task that added it (steps and change points): ${via.compare} --history`,
      "  2. Profile, fix and re-check that task as its own compare says",
    ]
    : [
      ...profileStepLines(c, profile, via),
      `  2. Check diagnostics: cat ${c.after.files.diag}`,
      `  3. Review system stats: cat ${c.after.files.sys}`,
      `  4. Fix, then re-run: ${checkCommand(c.task, "after", c.mode, via)} && ${compare}`,
    ];
  if (onlyUnconfirmed(v)) {
    return [
      "Unconfirmed: one pair of runs cannot tell a change this size from run-to-run noise.",
      "Re-measure both builds interleaved until the answer is clear:",
      `  ${confirm}`,
      "If it confirms the regression:",
      ...steps,
    ];
  }
  return [
    "Action required: investigate and fix the regression before completing the task",
    "Suggested steps:",
    ...steps,
  ];
}

/**
 * The full terminal report; `extra.afterTable` lines (the P99 sparklines) go under the table;
 * `extra.profile` is what the profiles offer after a regression (default: neither run profiled).
 */
export function renderTerminal(
  c: Comparison,
  v: Verdict,
  style: Style = PLAIN,
  extra: { afterTable?: string[]; commands?: ToolCommands; profile?: ProfileStep } = {},
): string {
  const more = (n: number) => n > 1 ? ` and ${n - 1} more run${n > 2 ? "s" : ""} of its group` : "";
  const out: string[] = [
    style.bold(headerLine(c)),
    `Before: ${basename(c.before.path)}${more(c.statistics.runs.before.paths.length)}`,
    `After:  ${basename(c.after.path)}${more(c.statistics.runs.after.paths.length)}`,
    ...differenceLines(c),
    "",
    ...tableLines(c, style),
  ];
  if (c.serviceP99Ms) {
    out.push(
      "(Service time is send → response, shown as context; the verdict uses response time.)",
    );
  }
  const perRun = perRunLines(c);
  if (perRun.length > 0) out.push("", ...perRun);
  const noise = noiseLines(c, v.thresholds, extra.commands ?? DENO_TASK_COMMANDS);
  if (noise.length > 0) out.push("", ...noise);
  if (extra.afterTable && extra.afterTable.length > 0) out.push("", ...extra.afterTable);
  out.push("");
  const positioning = positioningLines(c);
  if (positioning.length > 0) out.push(...positioning, "");
  const capacity = capacityLines(c.capacity);
  if (capacity.length > 0) out.push(...capacity, "");

  const pct = thresholdWords(v.thresholds) + match(v.rule)
    .with("significance", () => " threshold, significant changes only")
    .with("sequential", () => " threshold, sequential rule over repeated runs")
    .with("point", () => " threshold")
    .exhaustive();
  // The resolution goes right above the thresholds line: the specification's block (that line,
  // a blank line, the verdict) stays as it is.
  out.push(
    resolutionLine(),
    c.mode === "competitive"
      ? `Checking for competitive regressions (>${pct})...`
      : `Checking for internal regressions (>${pct})...`,
    "",
  );
  const rate = c.metrics.error_rate;
  if (rate.before! > 0.1 || rate.after! > 0.1) {
    out.push(
      style.yellow(
        `⚠ WARNING: High error rate (before: ${(rate.before! * 100).toFixed(1)}%, ` +
          `after: ${
            (rate.after! * 100).toFixed(1)
          }%); the comparison may not be valid - fix the errors first`,
      ),
      "",
    );
  }
  const saturated = saturationLines(c);
  if (saturated.length > 0) out.push(...saturated.map(style.yellow), "");
  out.push(...notJudgedLines(v));
  match(v)
    .with({ kind: "pass" }, () => out.push(style.green(successLine(c, v.thresholds))))
    .with({ kind: "regression" }, () =>
      out.push(
        ...regressionLines(c, v).map(style.red),
        ...ruledOutLines(c),
      ))
    .with({ kind: "inconclusive" }, () =>
      out.push(
        ...regressionLines(c, v).map(style.yellow),
        ...ruledOutLines(c),
      ))
    .with({ kind: "competitive_regression" }, () => {
      out.push(...regressionLines(c, v).map(style.red), ...ruledOutLines(c));
      const title = `COMPETITIVE REGRESSION ${onlyUnconfirmed(v) ? "UNCONFIRMED" : "DETECTED"}`;
      out.push("", title, "=".repeat(title.length));
      const pos = c.positioning;
      if (pos) {
        out.push(
          `Impact: Engram competitive positioning degraded vs ${pos.baseline.displayName} baseline`,
          `Current position: ${positionWords(pos.gapPct)} than ${pos.baseline.displayName} ` +
            `(${formatMs(pos.engramP99Ms)}ms vs ${formatMs(pos.baseline.p99Ms)}ms)`,
        );
      }
    })
    .exhaustive();
  out.push("", "Summary for PERFORMANCE_LOG.md:", ...summaryLines(c, v), "");
  out.push("Commit message line:", commitLine(c, v));
  if (v.kind !== "pass") {
    const profile = extra.profile ?? PROFILE_BOTH;
    out.push("", ...nextStepLines(c, v, extra.commands ?? DENO_TASK_COMMANDS, profile));
  }
  return out.join("\n") + "\n";
}
