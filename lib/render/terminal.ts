/**
 * Renderings of a comparison: the terminal report (the old compare script's layout, plus
 * P99.9, per-operation P99 and service time), a Markdown table for pull requests, and JSON.
 * Colour is ANSI only on a terminal without NO_COLOR or `--no-color`; Markdown and JSON never
 * carry it.
 *
 * @example
 * ```ts
 * import { formatChange, formatMs } from "./terminal.ts";
 * console.assert(formatChange(7.44) === "+7.4%" && formatChange(null) === "N/A");
 * console.assert(formatMs(10.850) === "10.85");
 * ```
 * @module
 */
import { basename } from "node:path";
import { match } from "ts-pattern";
import type {
  Comparison,
  CriterionId,
  MetricChange,
  MetricId,
  Thresholds,
  Verdict,
} from "../verdict/compare.ts";
import { exitCodeOf, METRIC_IDS } from "../verdict/compare.ts";
import { checkCommand } from "../verdict/discovery.ts";
import {
  ALPHA,
  type Calibration,
  CONFIDENCE,
  NOISE_METRICS,
  type NoiseFloors,
  RUN_METRICS,
  type RunMetricId,
  SUGGESTED_RUNS,
  thresholdsBelowNoise,
} from "../verdict/significance.ts";
import { BLOCK_SECONDS, BOOTSTRAP_SEED, RESAMPLES, SUB_BUCKETS } from "../verdict/stats.ts";
import { VERSION } from "../shared/version.ts";

// ---------------------------------------------------------------------------------------------
// Colour

/** Text decorations; identity functions when colour is off. */
export interface Style {
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

const ansi = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;

/** No decoration at all. */
export const PLAIN: Style = { bold: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s };
/** ANSI SGR colours. */
export const ANSI: Style = { bold: ansi(1), red: ansi(31), green: ansi(32), yellow: ansi(33) };

/** Colour only on a terminal, without NO_COLOR (any non-empty value) and without --no-color. */
export function useColor(
  options: { noColorFlag: boolean; noColorEnv?: string; isTty: boolean },
): boolean {
  return options.isTty && !options.noColorFlag && !options.noColorEnv;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** Milliseconds with at most 3 decimals and no trailing zeros (`0.417`, `8.2`, `10.85`). */
export function formatMs(ms: number): string {
  return String(Number(ms.toFixed(3)));
}

/** Operations per second with at most 2 decimals and no trailing zeros (`999.91`, `490`). */
export function formatOps(opsPerSec: number): string {
  return String(Number(opsPerSec.toFixed(2)));
}

/** A threshold percentage without needless decimals (`5`, `7.5`). */
export function formatThreshold(pct: number): string {
  return String(Number(pct.toFixed(2)));
}

/** Signed percent change (`+7.4%`, `-3.1%`, `+0.0%`), or `N/A`. */
export function formatChange(pct: number | null, decimals = 1): string {
  if (pct === null) return "N/A";
  const fixed = pct.toFixed(decimals);
  // A change that rounds to zero is shown as +0.0%, whatever its sign.
  if (Number(fixed) === 0) return `+${(0).toFixed(decimals)}%`;
  return `${pct > 0 ? "+" : ""}${fixed}%`;
}

/** A confidence interval of a change: `[+2.1%, +12.9%]`. */
export function formatInterval(ci: readonly [number, number]): string {
  return `[${formatChange(ci[0])}, ${formatChange(ci[1])}]`;
}

/** A p-value with two significant digits, `<0.001` below that (`0.05`, `0.004`). */
export function formatPValue(p: number): string {
  return p < 0.001 ? "<0.001" : String(Number(p.toPrecision(2)));
}

/** The threshold in words: `5%` when both are equal, else `5% P99 / 3% throughput`. */
export function thresholdWords(t: Thresholds): string {
  return t.p99Pct === t.throughputPct
    ? `${formatThreshold(t.p99Pct)}%`
    : `${formatThreshold(t.p99Pct)}% P99 / ${formatThreshold(t.throughputPct)}% throughput`;
}

function signedInt(n: number): string {
  return `${n >= 0 ? "+" : ""}${n}`;
}

// ---------------------------------------------------------------------------------------------
// Shared wording

/** Row labels of the headline metrics (as in the old compare script). */
export const METRIC_LABELS: Record<MetricId, string> = {
  p50: "P50 latency (ms)",
  p95: "P95 latency (ms)",
  p99: "P99 latency (ms)",
  p999: "P99.9 latency (ms)",
  throughput: "Throughput (ops/s)",
  errors: "Errors",
  error_rate: "Error rate",
};

/** JSON keys of the headline metrics: the report's own field names. */
export const METRIC_JSON_KEYS: Record<MetricId, string> = {
  p50: "p50_latency_ms",
  p95: "p95_latency_ms",
  p99: "p99_latency_ms",
  p999: "p999_latency_ms",
  throughput: "overall_throughput",
  errors: "total_errors",
  error_rate: "overall_error_rate",
};

function headerLine(c: Comparison): string {
  const kind = c.mode === "competitive"
    ? "Competitive Performance Comparison"
    : "Performance Comparison";
  return `=== ${kind}: Task ${c.task} ===`;
}

function positionWords(gapPct: number): string {
  return `${Math.abs(gapPct).toFixed(1)}% ${gapPct >= 0 ? "faster" : "slower"}`;
}

/**
 * One line per failed criterion (`⚠ REGRESSION: …`), or per inconclusive one
 * (`? INCONCLUSIVE: …`), in criterion order; under the significance rule each line says how sure.
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
  const sureness = (id: CriterionId) =>
    v.rule === "point" ? "" : evidenceWords(c, id, v.kind === "inconclusive");
  return ids.map((id) =>
    `${prefix}: ` + match(id)
      .with("p99", () =>
        `P99 latency increased by ${formatChange(p99.changePct).slice(1)} ` +
        `(${formatMs(p99.before!)}ms → ${formatMs(p99.after!)}ms; threshold: +${
          formatThreshold(t.p99Pct)
        }%)`)
      .with("throughput", () =>
        `Throughput decreased by ${formatChange(throughput.changePct).slice(1)} ` +
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

/** The statistic behind a criterion's change (`95% interval [...]`, `p = 0.004`), or null. */
function evidenceOf(c: Comparison, id: CriterionId): string | null {
  const m = match(id)
    .with("p99", () => c.metrics.p99)
    .with("throughput", () => c.metrics.throughput)
    .with("errors", () => c.metrics.errors)
    .with("baseline", () => null)
    .exhaustive();
  if (m?.pValue !== undefined) {
    const { before, after } = c.statistics.runs;
    return `one-sided Mann–Whitney p = ${formatPValue(m.pValue)} over ${before.paths.length} ` +
      `before and ${after.paths.length} after runs`;
  }
  if (m?.ci !== undefined) return `${CONFIDENCE * 100}% interval ${formatInterval(m.ci)}`;
  return null;
}

/** Why a failed criterion is (or is not) significant, for the significance rule's lines. */
function evidenceWords(c: Comparison, id: CriterionId, inconclusive: boolean): string {
  const evidence = evidenceOf(c, id);
  if (!inconclusive) return evidence ? `; significant: ${evidence}` : "";
  return evidence
    ? `; not significant: ${evidence}`
    : `; not significant: no interval (${c.statistics.reason ?? "no per-second histograms"})`;
}

/** The success line, with the threshold actually used. */
export function successLine(c: Comparison, t: Thresholds): string {
  const pct = thresholdWords(t);
  return c.mode === "competitive"
    ? `✓ No competitive regressions detected (within ${pct} threshold)`
    : `✓ No significant regressions detected (within ${pct} threshold)`;
}

/** Notes for criteria that could not be judged (a before value of zero, no after P99). */
function notJudgedLines(v: Verdict): string[] {
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
  const side = (s: "before" | "after") =>
    `P50=${formatMs(p50[s]!)}ms, P95=${formatMs(p95[s]!)}ms, P99=${formatMs(p99[s]!)}ms, ` +
    `${formatOps(throughput[s]!)} ops/s`;
  const pct = thresholdWords(v.thresholds);
  const status = match(v)
    .with(
      { kind: "pass" },
      () =>
        c.mode === "competitive" ? `✓ Within ${pct} competitive target` : `✓ Within ${pct} target`,
    )
    .with({ kind: "regression" }, (r) => `⚠ Regression (${failedSummary(c, r.failed)})`)
    .with(
      { kind: "competitive_regression" },
      (r) => `⚠ Competitive regression (${failedSummary(c, r.failed)})`,
    )
    .with(
      { kind: "inconclusive" },
      (r) => `? Inconclusive (${failedSummary(c, r.uncertain)}, not significant)`,
    )
    .exhaustive();
  const lines = [
    `- Before: ${side("before")}`,
    `- After:  ${side("after")}`,
    `- Change: ${formatChange(p99.changePct)} P99 latency, ${
      formatChange(throughput.changePct)
    } throughput`,
    `- Status: ${status}`,
  ];
  const pos = c.positioning;
  if (pos) {
    lines.push(
      `- vs ${pos.baseline.displayName}: ${pos.gapPct.toFixed(1)}% (baseline: ${
        formatMs(pos.baseline.p99Ms)
      }ms)`,
    );
  }
  return lines;
}

/** Short words for the failed criteria (`P99 +7.4%, errors 0 → 3`). */
export function failedSummary(c: Comparison, failed: CriterionId[], decimals = 1): string {
  const { p99, throughput, errors } = c.metrics;
  return failed.map((id) =>
    match(id)
      .with("p99", () => `P99 ${formatChange(p99.changePct, decimals)}`)
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
  const within = match(v.kind)
    .with("pass", () => `within ${pct} target`)
    .with("regression", "competitive_regression", () => `exceeds ${pct} target`)
    .with("inconclusive", () => `exceeds ${pct} target, not significant`)
    .exhaustive();
  const changes = `P99 latency ${formatChange(p99.changePct)}, throughput ${
    formatChange(throughput.changePct)
  }`;
  const pos = c.positioning;
  return pos
    ? `Performance (competitive): ${changes}, ${
      positionWords(pos.gapPct)
    } than ${pos.baseline.displayName} (${within})`
    : `Performance: ${changes} (${within})`;
}

// ---------------------------------------------------------------------------------------------
// Terminal

interface Row {
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
function statsHeading(c: Comparison): string | null {
  return match(c.statistics.method)
    .with("bootstrap", () => `${CONFIDENCE * 100}% CI`)
    .with("runs", () => "p (worse)")
    .with("none", () => null)
    .exhaustive();
}

function msRow(label: string, m: MetricChange): Row {
  return {
    label,
    before: m.before === null ? dash : m.before.toFixed(3),
    after: m.after === null ? dash : m.after.toFixed(3),
    change: formatChange(m.changePct),
    stats: statsCell(m),
    worse: (m.changePct ?? 0) > 0,
  };
}

function tableRows(c: Comparison): Row[] {
  const m = c.metrics;
  const rows = METRIC_IDS.flatMap((id): Row[] =>
    match(id)
      .with("p50", "p95", "p99", (id) => [msRow(METRIC_LABELS[id], m[id])])
      .with("p999", (id) =>
        m[id].before === null && m[id].after === null ? [] : [msRow(METRIC_LABELS[id], m[id])])
      .with("throughput", (id) => [{
        label: METRIC_LABELS[id],
        before: m[id].before!.toFixed(1),
        after: m[id].after!.toFixed(1),
        change: formatChange(m[id].changePct),
        stats: statsCell(m[id]),
        worse: (m[id].changePct ?? 0) < 0,
      }])
      .with("errors", (id) => [{
        label: METRIC_LABELS[id],
        before: String(m[id].before),
        after: String(m[id].after),
        change: signedInt(m[id].delta!),
        stats: statsCell(m[id]),
        worse: m[id].delta! > 0,
      }])
      .with("error_rate", (id) => [{
        label: METRIC_LABELS[id],
        before: `${(m[id].before! * 100).toFixed(2)}%`,
        after: `${(m[id].after! * 100).toFixed(2)}%`,
        change: `${formatChange(m[id].delta! * 100, 2).slice(0, -1)}pp`,
        stats: "",
        worse: m[id].delta! > 0,
      }])
      .exhaustive()
  );
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

/** One run's value of a metric: ms as `formatMs`, throughput with one decimal, errors whole. */
function formatRunValue(id: RunMetricId, v: number): string {
  return match(id)
    .with("p50", "p95", "p99", () => formatMs(v))
    .with("throughput", () => v.toFixed(1))
    .with("errors", () => String(v))
    .exhaustive();
}

/** Per-run values of each side when runs were repeated (`check --runs N`). */
export function perRunLines(c: Comparison): string[] {
  const perRun = c.statistics.perRun;
  if (!perRun) return [];
  const { before, after } = c.statistics.runs;
  const sides = RUN_METRICS.map((id) =>
    [id, `before: ${perRun[id].before.map((v) => formatRunValue(id, v)).join(" ")}`] as const
  );
  const width = Math.max(...sides.map(([, b]) => b.length));
  return [
    `Runs: ${before.paths.length} before, ${after.paths.length} after. The table shows per-run ` +
    `medians and changes of medians;`,
    `p: one-sided Mann–Whitney p-value that after is worse (significant when p ≤ ${ALPHA}).`,
    ...sides.map(([id, b]) =>
      `${METRIC_LABELS[id].padEnd(20)} ${b.padEnd(width)}   after: ${
        perRun[id].after.map((v) => formatRunValue(id, v)).join(" ")
      }`
    ),
  ];
}

/**
 * Plain-words notes on noise: a gated change whose interval contains the threshold, a change
 * over the threshold that the runs do not show to be significant, or why there are no intervals.
 */
export function noiseLines(c: Comparison, t: Thresholds): string[] {
  const s = c.statistics;
  if (s.method === "none") {
    return c.before.legacy || c.after.legacy
      ? []
      : [`Note: no ${CONFIDENCE * 100}% intervals: ${s.reason}`];
  }
  const runs = Math.max(s.runs.before.paths.length, s.runs.after.paths.length);
  const rerun = `rerun both phases with --runs ${
    runs > 1 ? Math.max(SUGGESTED_RUNS, 2 * runs) : SUGGESTED_RUNS
  }`;
  const gated = [
    ["P99", c.metrics.p99, t.p99Pct],
    ["Throughput", c.metrics.throughput, -t.throughputPct],
  ] as const;
  return gated.flatMap(([name, m, threshold]) => {
    if (m.changePct === null) return [];
    const change = formatChange(m.changePct);
    if (m.ci) {
      const [lo, hi] = m.ci;
      return lo <= threshold && threshold <= hi
        ? [
          `Note: ${name} change ${change} is within noise: its ${CONFIDENCE * 100}% interval ` +
          `${formatInterval(m.ci)} contains the ${threshold < 0 ? "-" : ""}` +
          `${formatThreshold(Math.abs(threshold))}% threshold; ${rerun}`,
        ]
        : [];
    }
    const over = threshold > 0 ? m.changePct > threshold : m.changePct < threshold;
    return m.pValue !== undefined && over && m.pValue > ALPHA
      ? [
        `Note: ${name} change ${change} is over the threshold but not significant: one-sided ` +
        `Mann–Whitney p = ${formatPValue(m.pValue)} over ${s.runs.before.paths.length} before ` +
        `and ${s.runs.after.paths.length} after runs (needs p ≤ ${ALPHA}); ${rerun}`,
      ]
      : [];
  });
}

/**
 * Warnings for gated thresholds below the noise floor of a side with at least 3 runs (runs of one
 * build, so their differences are noise).
 */
export function noiseFloorWarnings(c: Comparison, t: Thresholds): string[] {
  return (["before", "after"] as const).flatMap((side) => {
    const floors = c.statistics.noise[side];
    return floors === null ? [] : thresholdsBelowNoise(floors, t).map((b) => {
      const name = b.metric === "p99" ? "P99" : "throughput";
      return `the ${formatThreshold(b.thresholdPct)}% ${name} threshold is below the noise ` +
        `floor of the ${side} runs: ${name} changed by ${b.floor.p95PairPct.toFixed(1)}% ` +
        `between two runs of the same build (95th percentile over ${b.floor.runs} runs), so a ` +
        `change that size may be noise (see m17_compare ${c.task} --calibrate)`;
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
      : `${"P99 latency".padEnd(20)} ${Math.abs(pos.gapPct).toFixed(1).padStart(6)}% ${
        pos.gapPct >= 0 ? "faster" : "slower"
      }`,
    `${`${name} P99`.padEnd(20)} ${b.p99Ms.toFixed(2).padStart(6)}ms (baseline)`,
    `${"Engram P99".padEnd(20)} ${pos.engramP99Ms.toFixed(2).padStart(6)}ms (Engram)`,
    `${name} baseline source: ${origin}. ${b.caveat ?? "Indicative only: different workload."}`,
  ];
}

function nextStepLines(c: Comparison, v: Verdict): string[] {
  const compare = `deno task compare ${c.task}${c.mode === "competitive" ? " --competitive" : ""}`;
  if (v.kind === "inconclusive") {
    const runs = Math.max(SUGGESTED_RUNS, 2 * c.statistics.runs.after.paths.length);
    return [
      "The change is over the threshold but may be noise: measure again with more runs",
      `  ${checkCommand(c.task, "before", c.mode)} --runs ${runs} && ` +
      `${checkCommand(c.task, "after", c.mode)} --runs ${runs} && ${compare} --significance`,
    ];
  }
  return [
    "Action required: investigate and fix the regression before completing the task",
    "Suggested steps:",
    "  1. Profile with: cargo flamegraph --bin engram",
    `  2. Check diagnostics: cat ${c.after.files.diag}`,
    `  3. Review system stats: cat ${c.after.files.sys}`,
    `  4. Fix, then re-run: ${
      checkCommand(c.task, "after", c.mode)
    } && deno task compare ${c.task}` +
    (c.mode === "competitive" ? " --competitive" : ""),
  ];
}

/** The full terminal report; `extra.afterTable` lines (the P99 sparklines) go under the table. */
export function renderTerminal(
  c: Comparison,
  v: Verdict,
  style: Style = PLAIN,
  extra: { afterTable?: string[] } = {},
): string {
  const more = (n: number) => n > 1 ? ` and ${n - 1} more run${n > 2 ? "s" : ""} of its group` : "";
  const out: string[] = [
    style.bold(headerLine(c)),
    `Before: ${basename(c.before.path)}${more(c.statistics.runs.before.paths.length)}`,
    `After:  ${basename(c.after.path)}${more(c.statistics.runs.after.paths.length)}`,
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
  const noise = noiseLines(c, v.thresholds);
  if (noise.length > 0) out.push("", ...noise);
  if (extra.afterTable && extra.afterTable.length > 0) out.push("", ...extra.afterTable);
  out.push("");
  const positioning = positioningLines(c);
  if (positioning.length > 0) out.push(...positioning, "");

  const pct = thresholdWords(v.thresholds) +
    (v.rule === "significance" ? " threshold, significant changes only" : " threshold");
  out.push(
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
  out.push(...notJudgedLines(v));
  match(v)
    .with({ kind: "pass" }, () => out.push(style.green(successLine(c, v.thresholds))))
    .with({ kind: "regression" }, () => out.push(...regressionLines(c, v).map(style.red)))
    .with({ kind: "inconclusive" }, () => out.push(...regressionLines(c, v).map(style.yellow)))
    .with({ kind: "competitive_regression" }, () => {
      out.push(...regressionLines(c, v).map(style.red), "", "COMPETITIVE REGRESSION DETECTED");
      out.push("=".repeat(31));
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
  if (v.kind !== "pass") out.push("", ...nextStepLines(c, v));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** A Markdown rendering for a pull request (no ANSI, no terminal layout). */
export function renderMarkdown(c: Comparison, v: Verdict): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const heading = statsHeading(c);
  const out = [
    `### ${headerLine(c).replaceAll("=", "").trim()}`,
    "",
    heading === null
      ? "| Metric | Before | After | Change |"
      : `| Metric | Before | After | Change | ${heading} |`,
    heading === null ? "| --- | ---: | ---: | ---: |" : "| --- | ---: | ---: | ---: | ---: |",
    ...tableRows(c).map((r) =>
      `| ${cell(r.label)} | ${r.before} | ${r.after} | ${r.change} |` +
      (heading === null ? "" : ` ${r.stats} |`)
    ),
    "",
  ];
  const perRun = perRunLines(c);
  if (perRun.length > 0) {
    out.push(`_${perRun.slice(0, 2).join(" ")}_`, "", "```", ...perRun.slice(2), "```", "");
  }
  const pos = c.positioning;
  if (pos) {
    const b = pos.baseline;
    out.push(
      `| Metric | vs ${cell(b.displayName)} |`,
      "| --- | ---: |",
      `| P99 latency | ${positionWords(pos.gapPct)} |`,
      `| ${cell(b.displayName)} P99 | ${b.p99Ms.toFixed(2)}ms (baseline) |`,
      `| Engram P99 | ${pos.engramP99Ms.toFixed(2)}ms (Engram) |`,
      "",
      `_${cell(b.displayName)} baseline: ${[b.source, b.workload].filter(Boolean).join("; ")}. ` +
        `${b.caveat ?? "Indicative only: different workload."}_`,
      "",
    );
  }
  const verdict = v.kind === "pass"
    ? [`**${successLine(c, v.thresholds)}**`]
    : regressionLines(c, v).map((l) => `- **${l}**`);
  out.push(
    ...[...notJudgedLines(v), ...noiseLines(c, v.thresholds)].map((l) => `_${l}_`),
    ...verdict,
    "",
  );
  out.push(`\`${commitLine(c, v)}\``, "");
  out.push(
    `<sub>Before: \`${c.before.path}\` · After: \`${c.after.path}\` · m17_compare ${VERSION}</sub>`,
  );
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// JSON

function metricJson(m: MetricChange) {
  return {
    before: m.before,
    after: m.after,
    delta: m.delta,
    change_pct: m.changePct,
    ci: m.ci ?? null,
    p_value: m.pValue ?? null,
  };
}

function noiseFloorJson(floors: NoiseFloors | null) {
  return floors && Object.fromEntries(NOISE_METRICS.map((id) => [METRIC_JSON_KEYS[id], {
    runs: floors[id].runs,
    mean: floors[id].mean,
    cv_pct: floors[id].cvPct,
    max_pair_pct: floors[id].maxPairPct,
    p95_pair_pct: floors[id].p95PairPct,
  }]));
}

/** How the statistics were made, with the per-run values and tests when runs were repeated. */
function statisticsJson(c: Comparison) {
  const s = c.statistics;
  const series = (r: Comparison["statistics"]["runs"]["before"]) => ({
    group: r.group,
    count: r.paths.length,
    paths: r.paths,
  });
  return {
    method: s.method,
    reason: s.reason,
    confidence: CONFIDENCE,
    alpha: ALPHA,
    bootstrap: s.method === "bootstrap"
      ? {
        block_seconds: BLOCK_SECONDS,
        resamples: RESAMPLES,
        seed: `0x${BOOTSTRAP_SEED.toString(16).toUpperCase()}`,
        latency_bucket_relative_width: 1 / SUB_BUCKETS,
        throughput: "completed requests per second (intervals[].completed)",
      }
      : null,
    runs: { before: series(s.runs.before), after: series(s.runs.after) },
    per_run: s.perRun && Object.fromEntries(RUN_METRICS.map((id) => {
      const r = s.perRun![id];
      return [METRIC_JSON_KEYS[id], {
        before: r.before,
        after: r.after,
        u: r.test.u,
        p_value: r.test.pValue,
        test: r.test.method,
      }];
    })),
    noise_floor: { before: noiseFloorJson(s.noise.before), after: noiseFloorJson(s.noise.after) },
  };
}

/** The machine-readable comparison (`--json`). */
export function comparisonJson(c: Comparison, v: Verdict, warnings: string[]) {
  const input = (r: Comparison["before"]) => ({
    path: r.path,
    legacy: r.legacy,
    schema_version: r.schemaVersion,
    scenario: r.scenario,
    workload_fingerprint: r.workloadFingerprint,
    target_kind: r.targetKind,
    mode: r.mode,
    diag: r.files.diag,
    sys: r.files.sys,
  });
  const pos = c.positioning;
  return {
    tool: { name: "m17_compare", version: VERSION },
    task: c.task,
    mode: c.mode,
    inputs: { before: input(c.before), after: input(c.after) },
    thresholds: { p99_pct: v.thresholds.p99Pct, throughput_pct: v.thresholds.throughputPct },
    metrics: Object.fromEntries(
      METRIC_IDS.map((id) => [METRIC_JSON_KEYS[id], metricJson(c.metrics[id])]),
    ),
    operations: c.operations.map((op) => ({
      kind: op.kind,
      count_before: op.countBefore,
      count_after: op.countAfter,
      p99_latency_ms: metricJson(op.p99Ms),
    })),
    service_p99_ms: c.serviceP99Ms ? metricJson(c.serviceP99Ms) : null,
    positioning: pos
      ? {
        baseline: {
          id: pos.baseline.id,
          display_name: pos.baseline.displayName,
          p99_ms: pos.baseline.p99Ms,
          qps: pos.baseline.qps,
          source: pos.baseline.source,
          workload: pos.baseline.workload,
          caveat: pos.baseline.caveat,
        },
        engram_p99_ms: pos.engramP99Ms,
        gap_pct: pos.gapPct,
        faster: pos.gapPct >= 0,
      }
      : null,
    statistics: statisticsJson(c),
    criteria: v.criteria.map((r) => ({
      id: r.id,
      status: r.status,
      threshold_pct: match(r.id)
        .with("p99", () => v.thresholds.p99Pct)
        .with("throughput", () => v.thresholds.throughputPct)
        .with("errors", "baseline", () => null)
        .exhaustive(),
    })),
    verdict: v.kind,
    rule: v.rule,
    exit_code: exitCodeOf(v),
    warnings,
  };
}

/** `comparisonJson` as pretty-printed text. */
export function renderJson(c: Comparison, v: Verdict, warnings: string[]): string {
  return JSON.stringify(comparisonJson(c, v, warnings), null, 2) + "\n";
}

// ---------------------------------------------------------------------------------------------
// Calibration

/** The warning and advice lines of a calibration, one per gated metric. */
function calibrationVerdictLines(cal: Calibration): string[] {
  const gated = [
    ["P99", "p99", cal.thresholds.p99Pct, "--threshold-p99"],
    ["throughput", "throughput", cal.thresholds.throughputPct, "--threshold-throughput"],
  ] as const;
  return gated.map(([name, id, pct, flag]) => {
    const floor = cal.floors[id].p95PairPct.toFixed(1);
    return cal.below.some((b) => b.metric === id)
      ? `⚠ The ${formatThreshold(pct)}% ${name} threshold is below this host's noise floor ` +
        `(${floor}%): a ${name} change that size can be noise here; use ${flag} above ` +
        `${floor}, or compare with --runs ${SUGGESTED_RUNS} --significance`
      : `✓ The ${formatThreshold(pct)}% ${name} threshold is above this host's noise floor ` +
        `(${floor}%)`;
  });
}

/** The terminal report of `--calibrate`. */
export function renderCalibration(cal: Calibration, style: Style = PLAIN): string {
  const runs = NOISE_METRICS.map((id) =>
    cal.values[id].map((v) => formatRunValue(id, v)).join(" ")
  );
  const width = Math.max(4, ...runs.map((r) => r.length));
  const line = (a: string, b: string, cv: string, max: string, p95: string) =>
    `${a.padEnd(20)} ${b.padEnd(width)} ${cv.padStart(7)} ${max.padStart(9)} ${p95.padStart(9)}`;
  const pct = (v: number) => `${v.toFixed(1)}%`;
  const source = cal.source === "group"
    ? `the ${cal.paths.length} runs of one check --runs group`
    : `all ${cal.paths.length} comparable ${cal.phase} reports`;
  return [
    style.bold(`=== Noise calibration: Task ${cal.task}, ${cal.phase} runs ===`),
    `Runs: ${source}: ${cal.paths.map((p) => basename(p)).join(", ")}`,
    "",
    line("Metric", "Runs", "CV", "Max pair", "P95 pair"),
    line("-".repeat(20), "-".repeat(width), "-".repeat(7), "-".repeat(9), "-".repeat(9)),
    ...NOISE_METRICS.map((id, i) => {
      const f = cal.floors[id];
      return line(METRIC_LABELS[id], runs[i], pct(f.cvPct), pct(f.maxPairPct), pct(f.p95PairPct));
    }),
    "",
    "CV: standard deviation / mean over the runs. Max pair: the largest change between two runs.",
    "P95 pair: the 95th percentile of |change| over all pairs of runs: the noise floor, the",
    "smallest change this host can tell from noise with one run per side.",
    "",
    ...calibrationVerdictLines(cal).map((l) =>
      l.startsWith("⚠") ? style.yellow(l) : style.green(l)
    ),
  ].join("\n") + "\n";
}

/** `--calibrate --json`. */
export function renderCalibrationJson(cal: Calibration): string {
  return JSON.stringify(
    {
      tool: { name: "m17_compare", version: VERSION },
      task: cal.task,
      phase: cal.phase,
      source: cal.source,
      runs: cal.paths,
      values: Object.fromEntries(NOISE_METRICS.map((id) => [METRIC_JSON_KEYS[id], cal.values[id]])),
      noise_floor: noiseFloorJson(cal.floors),
      thresholds: { p99_pct: cal.thresholds.p99Pct, throughput_pct: cal.thresholds.throughputPct },
      below_noise_floor: cal.below.map((b) => METRIC_JSON_KEYS[b.metric]),
    },
    null,
    2,
  ) + "\n";
}
