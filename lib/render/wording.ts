/**
 * The sentences of a comparison that every rendering shares: the verdict lines, the summary
 * for PERFORMANCE_LOG.md, the commit line, per-run values, notes on noise and the competitive
 * positioning block. The terminal, Markdown, HTML and log renderings quote them as they are.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { formatRunValue } from "./wording.ts";
 * strictEqual(formatRunValue("p99", 10.850), "10.85");
 * strictEqual(formatRunValue("throughput", 999.94), "999.9");
 * ```
 * @module
 */
import { match } from "ts-pattern";
import type { Comparison, CriterionId, Thresholds, Verdict } from "../verdict/types.ts";
import {
  compareCommand,
  confirmCommand,
  DENO_TASK_COMMANDS,
  type ToolCommands,
} from "../report/files.ts";
import {
  METRIC,
  METRIC_IDS,
  type MetricId,
  RUN_METRICS,
  type RunMetricId,
} from "../verdict/metrics.ts";
import {
  ALPHA,
  CONFIDENCE,
  type Evidence,
  signedThreshold,
  standing,
  thresholdsBelowNoise,
} from "../verdict/significance.ts";
import {
  isUnconfirmed,
  onlyUnconfirmed,
  pEquals,
  ruledOutSentence,
  runsWords,
  sequentialWords,
  spreadWords,
} from "./evidence_words.ts";
import { changeBound } from "../verdict/compare.ts";
import { RESOLUTION_PCT, SIGNIFICANT_DIGITS } from "../report/histogram.ts";
import {
  competitorBullet,
  formatChange,
  formatInterval,
  formatMetricChange,
  formatMs,
  formatOps,
  formatThreshold,
  markLowerBound,
  positionWords,
  thresholdWords,
} from "./format.ts";

/** The headline metrics a table shows: each one either run has (old reports have no P99.9). */
export function shownMetrics(c: Comparison): MetricId[] {
  return METRIC_IDS.filter((id) => c.metrics[id].before !== null || c.metrics[id].after !== null);
}

/**
 * What differs as the change under test, one line each (`Engram: 5d54816aa11b (v0.1.0) →
 * 7e1f0c2d9a10 (v0.1.0, uncommitted changes)`, `Reference knobs: none → --ref-latency-ms 2`);
 * none when nothing differs. Every rendering prints these lines above the table.
 */
export function differenceLines(c: Comparison): string[] {
  return c.differences.map((d) => `${d.what}: ${d.before} → ${d.after}`);
}

/**
 * The latency resolution, stated with the thresholds, from the histogram's significant digits:
 * `Resolution: latencies are recorded to ±0.1% (HdrHistogram, 3 significant digits)`.
 */
export function resolutionLine(): string {
  return `Resolution: latencies are recorded to ±${
    Number(RESOLUTION_PCT.toPrecision(2))
  }% (HdrHistogram, ${SIGNIFICANT_DIGITS} significant digits)`;
}

/** The report heading (`=== Performance Comparison: Task 001 ===`). */
export function headerLine(c: Comparison): string {
  const kind = c.mode === "competitive"
    ? "Competitive Performance Comparison"
    : "Performance Comparison";
  return `=== ${kind}: Task ${c.task} ===`;
}

/**
 * One line per failed criterion (`⚠ REGRESSION: …`; on one pair of runs a P99 or throughput
 * failure is `⚠ UNCONFIRMED: …` with the measured spread of identical runs here), or per
 * inconclusive one (`? INCONCLUSIVE: …`), in criterion order; each line says how sure.
 */
export function regressionLines(c: Comparison, v: Verdict): string[] {
  const [prefix, ids] = match(v)
    .with({ kind: "pass" }, () => ["", []] as const)
    .with({ kind: "regression" }, (r) => ["⚠ REGRESSION", r.failed] as const)
    .with(
      { kind: "competitive_regression" },
      (r) => ["⚠ COMPETITIVE REGRESSION", r.failed] as const,
    )
    .with({ kind: "inconclusive" }, (r) => ["? INCONCLUSIVE", r.uncertain] as const)
    .exhaustive();
  const { p99, throughput, errors } = c.metrics;
  const t = v.thresholds;
  const failing = v.kind !== "inconclusive";
  const unconfirmed = (id: CriterionId) => failing && isUnconfirmed(v, id);
  const unconfirmedPrefix = v.kind === "competitive_regression"
    ? "⚠ UNCONFIRMED COMPETITIVE REGRESSION"
    : "⚠ UNCONFIRMED";
  const onOnePair = (id: CriterionId) => unconfirmed(id) ? " on one pair of runs" : "";
  const sureness = (id: CriterionId) =>
    match(v.rule)
      .with("point", () => "")
      .with("significance", () => evidenceWords(c, id, t))
      .with("sequential", () =>
        id === "p99" || id === "throughput"
          ? sequentialWords(c, id, failing ? "fail" : "open")
          : "")
      .exhaustive() +
    (unconfirmed(id) && (id === "p99" || id === "throughput") ? `; ${spreadWords(c, id)}` : "");
  return ids.map((id) =>
    `${unconfirmed(id) ? unconfirmedPrefix : prefix}: ` + match(id)
      .with("p99", () =>
        // An open (inconclusive) change may be either way: its sign is printed, not a verb.
        `P99 latency ${failing ? "increased by" : "changed by"} ${boundWords(changeBound(p99))}${
          failing ? formatChange(p99.changePct).slice(1) : formatChange(p99.changePct)
        }${onOnePair(id)} (${markLowerBound(p99, "before", formatMs(p99.before!))}ms → ${
          markLowerBound(p99, "after", formatMs(p99.after!))
        }ms; threshold: +${formatThreshold(t.p99Pct)}%)`)
      .with("throughput", () =>
        `Throughput ${failing ? "decreased by" : "changed by"} ${
          failing ? formatChange(throughput.changePct).slice(1) : formatChange(throughput.changePct)
        }${onOnePair(id)} ` +
        `(${formatOps(throughput.before!)} → ${formatOps(throughput.after!)} ops/s; ` +
        `threshold: -${formatThreshold(t.throughputPct)}%)`)
      .with("errors", () =>
        `Errors increased from ${errors.before} to ${errors.after} (threshold: no increase)`)
      .with("baseline", () => {
        const pos = c.positioning!;
        return `P99 latency is ${positionWords(pos.gapPct)} than the ${pos.baseline.displayName} ` +
          `baseline (${formatMs(pos.engramP99Ms)}ms vs ${formatMs(pos.baseline.p99Ms)}ms)`;
      })
      .exhaustive() +
    sureness(id)
  );
}

/**
 * What repeated runs rule out, as the line every rendering prints under the verdict
 * (`Ruled out: P99 regressions above +3.8% … (95%, 8 interleaved pairs)`); none for one pair.
 */
export function ruledOutLines(c: Comparison): string[] {
  const sentence = ruledOutSentence(c);
  return sentence === null ? [] : [`Ruled out: ${sentence}`];
}

/** `at least ` / `at most ` before a change that is a bound (censored percentiles). */
function boundWords(bound: ReturnType<typeof changeBound>): string {
  return match(bound)
    .with("lower", () => "at least ")
    .with("upper", () => "at most ")
    .with("unknown", () => "an unknown amount (both sides censored), nominally ")
    .with("exact", () => "")
    .exhaustive();
}

/** The statistic behind a standing, in words (`95% interval [...]`, `p = 0.004 …`). */
function evidenceText(e: Evidence, threshold: string): string {
  return match(e)
    .with({ kind: "interval" }, (i) => `${CONFIDENCE * 100}% interval ${formatInterval(i.ci)}`)
    .with(
      { kind: "runs" },
      (r) => `always-valid ${pEquals(r.pValue)} that after is worse (threshold ${threshold})`,
    )
    .exhaustive();
}

/** Why a failed criterion is (or is not) significant, for the significance rule's lines. */
function evidenceWords(c: Comparison, id: CriterionId, t: Thresholds): string {
  // Errors keep the specification's rule and the baseline is a published number: no statistic.
  if (id === "errors" || id === "baseline") return "";
  const s = standing(c, id, t);
  const limit = signedThreshold(id, t);
  const by = `${limit > 0 ? "+" : "-"}${formatThreshold(Math.abs(limit))}%`;
  return match(s)
    .with({ kind: "beyond" }, (x) => `; significant: ${evidenceText(x.evidence, by)}`)
    .with(
      { kind: "straddles" },
      { kind: "within" },
      (x) => `; not significant: ${evidenceText(x.evidence, by)}`,
    )
    .with({ kind: "unknown" }, (x) => `; not significant: no interval (${x.reason})`)
    .exhaustive();
}

/**
 * One line per saturated side (`after: server saturated, 86% of requests timed out after 10 s;
 * percentiles are censored at the timeout`): a saturated after run is a regression.
 */
export function saturationLines(c: Comparison): string[] {
  return (["before", "after"] as const).flatMap((side) => {
    const note = c[side].saturated;
    return note === null ? [] : [`${side}: ${note}`];
  });
}

/**
 * The success line, with the threshold actually used: with repeated runs what the evidence rules
 * out; with one pair of runs no claim beyond the point change.
 */
export function successLine(c: Comparison, t: Thresholds): string {
  const pct = thresholdWords(t);
  const ruledOut = ruledOutSentence(c);
  if (ruledOut !== null) {
    return `✓ No ${c.mode === "competitive" ? "competitive " : ""}regression: ${ruledOut}`;
  }
  return c.mode === "competitive"
    ? `✓ No competitive regressions detected (within ${pct} threshold)`
    : `✓ No regression past the ${pct} threshold on this pair of runs`;
}

/** Notes for criteria that could not be judged (a before value of zero, no after P99). */
export function notJudgedLines(v: Verdict): string[] {
  return v.criteria.filter((r) => r.status === "n/a").map((r) =>
    "Note: " + match(r.id)
      .with("p99", () => "P99 latency change is N/A (before P99 below 0.001 ms)")
      .with("throughput", () => "throughput change is N/A (before throughput below 0.001 ops/s)")
      .with("errors", () => "error change is N/A")
      .with("baseline", () => "position against the baseline is N/A (after P99 is zero)")
      .exhaustive() +
    ": not judged"
  );
}

/** `Summary for PERFORMANCE_LOG.md:` block (without the heading). */
export function summaryLines(c: Comparison, v: Verdict): string[] {
  const { p50, p95, p99, throughput } = c.metrics;
  const ms = (m: typeof p50, s: "before" | "after") => markLowerBound(m, s, formatMs(m[s]!));
  const side = (s: "before" | "after") =>
    `P50=${ms(p50, s)}ms, P95=${ms(p95, s)}ms, P99=${ms(p99, s)}ms, ` +
    `${formatOps(throughput[s]!)} ops/s`;
  const pct = thresholdWords(v.thresholds);
  const status = match(v)
    .with(
      { kind: "pass" },
      () =>
        c.mode === "competitive" ? `✓ Within ${pct} competitive target` : `✓ Within ${pct} target`,
    )
    .with(
      { kind: "regression" },
      { kind: "competitive_regression" },
      (r) => {
        const what = r.kind === "competitive_regression" ? "competitive regression" : "regression";
        const words = onlyUnconfirmed(v)
          ? `Unconfirmed ${what}`
          : what[0].toUpperCase() + what.slice(1);
        return `⚠ ${words} (${failedSummary(c, r.failed)}${evidenceSuffix(c, v)})`;
      },
    )
    .with(
      { kind: "inconclusive" },
      (r) => `? Inconclusive (${failedSummary(c, r.uncertain)}, ${undecidedWords(c)})`,
    )
    .exhaustive();
  const lines = [
    `- Before: ${side("before")}`,
    `- After:  ${side("after")}`,
    `- Change: ${formatMetricChange(p99)} P99 latency, ${
      formatChange(throughput.changePct)
    } throughput`,
    `- Status: ${status}`,
    ...ruledOutLines(c).map((l) => `- ${l}`),
  ];
  if (c.positioning) lines.push(competitorBullet(c.positioning));
  return lines;
}

/**
 * `; p = 0.004 over 8 interleaved pairs` (the failed P99 or throughput criterion's always-valid
 * p-value, repeated runs) or ` on one pair of runs`.
 */
function evidenceSuffix(c: Comparison, v: Verdict): string {
  if (onlyUnconfirmed(v)) return " on one pair of runs";
  const s = c.statistics;
  const failed = v.kind === "regression" || v.kind === "competitive_regression" ? v.failed : [];
  const id = failed.find((f) => f === "p99" || f === "throughput");
  if (s.method !== "runs" || id === undefined) return "";
  const e = s.perRun[id].evidence;
  return e === null ? "" : `; ${pEquals(e.pValue)} over ${runsWords(c)}`;
}

/** Why an inconclusive verdict is one: `not decided after 4 interleaved pairs`. */
function undecidedWords(c: Comparison): string {
  const runs = runsWords(c);
  return runs === null ? "not significant" : `not decided after ${runs}`;
}

/** Short words for the failed criteria (`P99 +7.4%, errors 0 → 3`). */
export function failedSummary(c: Comparison, failed: CriterionId[], decimals = 1): string {
  const { p99, throughput, errors } = c.metrics;
  return failed.map((id) =>
    match(id)
      .with("p99", () => `P99 ${formatMetricChange(p99, decimals)}`)
      .with("throughput", () => `throughput ${formatChange(throughput.changePct, decimals)}`)
      .with("errors", () => `errors ${errors.before} → ${errors.after}`)
      .with("baseline", () =>
        `${positionWords(c.positioning!.gapPct)} than ${c.positioning!.baseline.displayName}`)
      .exhaustive()
  ).join(", ");
}

/** The ready line for the commit message. */
export function commitLine(c: Comparison, v: Verdict): string {
  const { p99, throughput } = c.metrics;
  const pct = thresholdWords(v.thresholds);
  const ruledOut = ruledOutSentence(c);
  const within = match(v.kind)
    .with("pass", () => `within ${pct} target`)
    .with(
      "regression",
      "competitive_regression",
      () => `exceeds ${pct} target${onlyUnconfirmed(v) ? " on one pair of runs, unconfirmed" : ""}`,
    )
    .with(
      "inconclusive",
      () =>
        runsWords(c) === null
          ? `exceeds ${pct} target, not significant`
          : `not decided against the ${pct} target after ${runsWords(c)}`,
    )
    .exhaustive() + (ruledOut === null ? "" : `; ${ruledOut}`);
  const changes = `P99 latency ${formatMetricChange(p99)}, throughput ${
    formatChange(throughput.changePct)
  }`;
  const pos = c.positioning;
  return pos
    ? `Performance (competitive): ${changes}, ${
      positionWords(pos.gapPct)
    } than ${pos.baseline.displayName} (${within})`
    : `Performance: ${changes} (${within})`;
}

/** One run's value of a metric: ms as `formatMs`, throughput with one decimal, errors whole. */
export function formatRunValue(id: RunMetricId, v: number): string {
  return match(METRIC[id].unit)
    .with("ms", () => formatMs(v))
    .with("ops/s", () => v.toFixed(1))
    .with("count", () => String(v))
    .exhaustive();
}

/** Per-run values of each side when runs were repeated (`check --runs N`). */
export function perRunLines(c: Comparison): string[] {
  const s = c.statistics;
  if (s.method !== "runs") return [];
  const { perRun, runs: { before, after } } = s;
  const sides = RUN_METRICS.map((id) =>
    [id, `before: ${perRun[id].before.map((v) => formatRunValue(id, v)).join(" ")}`] as const
  );
  const width = Math.max(...sides.map(([, b]) => b.length));
  const paired = s.design.kind === "paired"
    ? ` (${runsWords(c)}, each pair's two values in one column)`
    : "";
  return [
    `Runs: ${before.paths.length} before, ${after.paths.length} after${paired}. The table shows ` +
    `per-run medians and changes of medians;`,
    `p: always-valid one-sided p-value that after is worse (mixture SPRT, valid after any number ` +
    `of looks; a regression needs p ≤ ${ALPHA} and the change past the threshold).`,
    ...sides.map(([id, b]) =>
      `${METRIC[id].label.padEnd(20)} ${b.padEnd(width)}   after: ${
        perRun[id].after.map((v) => formatRunValue(id, v)).join(" ")
      }`
    ),
  ];
}

/**
 * Plain-words notes on noise, by the same rule as the verdict (`standing`): with one run per side,
 * a P99 or throughput change whose interval contains the threshold, or why there are no
 * intervals; with repeated runs, a metric that cannot be judged. Undecided repeated-run
 * criteria are said by the verdict lines.
 */
export function noiseLines(
  c: Comparison,
  t: Thresholds,
  via: ToolCommands = DENO_TASK_COMMANDS,
): string[] {
  const s = c.statistics;
  if (s.method === "none") {
    return c.before.legacy || c.after.legacy
      ? []
      : [`Note: no ${CONFIDENCE * 100}% intervals: ${s.reason}`];
  }
  const confirm = `confirm with interleaved runs: ${confirmCommand(c.task, c.mode, via)}`;
  const notes: string[] = [];
  for (const [name, id] of [["P99", "p99"], ["Throughput", "throughput"]] as const) {
    const m = c.metrics[id];
    if (m.changePct === null) continue;
    const limit = signedThreshold(id, t);
    const threshold = `${limit < 0 ? "-" : ""}${formatThreshold(Math.abs(limit))}%`;
    const x = standing(c, id, t);
    // A P99 censored at the timeout is a bound (`≥+400.0%`) or unknown (`censored`), never exact.
    const change = formatMetricChange(m);
    if (x.kind === "unknown") {
      const why = m.noInterval ?? (s.method === "runs" ? x.reason : undefined);
      if (why !== undefined) {
        notes.push(
          s.method === "runs"
            ? `Note: ${name} not judged: ${why}`
            : `Note: no ${CONFIDENCE * 100}% interval for ${name}: ${why}`,
        );
      }
    }
    if (x.kind !== "straddles" || x.evidence.kind !== "interval") continue;
    notes.push(
      `Note: ${name} change ${change} is within noise: its ${CONFIDENCE * 100}% interval ` +
        `${formatInterval(x.evidence.ci)} contains the ${threshold} threshold; ${confirm}`,
    );
  }
  return notes;
}

/**
 * Warnings for gated thresholds below the noise floor of a side with at least 3 runs (runs of one
 * build, so their differences are noise).
 */
export function noiseFloorWarnings(c: Comparison, t: Thresholds, via: ToolCommands): string[] {
  return (["before", "after"] as const).flatMap((side) => {
    const floors = c.statistics.noise[side];
    return floors === null ? [] : thresholdsBelowNoise(floors, t).map((b) => {
      const name = b.metric === "p99" ? "P99" : "throughput";
      return `the ${formatThreshold(b.thresholdPct)}% ${name} threshold is below the noise ` +
        `floor of the ${side} runs: ${name} changed by ${b.floor.p95PairPct.toFixed(1)}% ` +
        `between two runs of the same build (95th percentile over ${b.floor.runs} runs), so a ` +
        `change that size may be noise (see ${compareCommand(c.task, c.mode, via)} --calibrate)`;
    });
  });
}

/** The `Competitive Positioning:` block, laid out as in the specification. */
export function positioningLines(c: Comparison): string[] {
  const pos = c.positioning;
  if (!pos) return [];
  const name = pos.baseline.displayName;
  const b = pos.baseline;
  const origin = [b.source, b.workload].filter(Boolean).join("; ");
  return [
    "Competitive Positioning:",
    `${"Metric".padEnd(20)} vs ${name}`,
    `${"-".repeat(20)} ${"-".repeat(10)}`,
    pos.engramP99Ms < 0.001
      ? `${"P99 latency".padEnd(20)} ${"N/A".padStart(6)}`
      : `${"P99 latency".padEnd(20)} ${positionWords(pos.gapPct).padStart(14)}`,
    `${`${name} P99`.padEnd(20)} ${b.p99Ms.toFixed(2).padStart(6)}ms (baseline)`,
    `${"Engram P99".padEnd(20)} ${pos.engramP99Ms.toFixed(2).padStart(6)}ms (Engram)`,
    `${name} baseline source: ${origin}. ${b.caveat ?? "Indicative only: different workload."}`,
  ];
}
