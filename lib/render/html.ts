/**
 * The self-contained HTML comparison page: one file, inline CSS and SVG, no scripts, no external
 * resources (a Content-Security-Policy of `default-src 'none'` makes the browser refuse any).
 * Everything shown is derived from the two report files and the `Comparison`/`Verdict`; every
 * untrusted string (task, paths, scenario names) is escaped.
 *
 * The page shows: the verdict and thresholds; the headline numbers with confidence intervals
 * when the comparison has them; the percentile spectrum, per-second P99 and throughput and
 * per-operation P99 (lib/render/html_plots.ts); the runs' identity; the definitions of every
 * number; the files. The single-run page is lib/render/html_run.ts.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { COMPARE_DEFINITIONS } from "./html.ts";
 * ok(COMPARE_DEFINITIONS.some(([term]) => term === "95% CI"));
 * ```
 * @module
 */
import { capacityLines } from "./capacity_words.ts";
import { capacityCharts } from "./html_capacity.ts";
import { match } from "ts-pattern";
import type {
  Comparison,
  CriterionId,
  MetricChange,
  OperationChange,
  Verdict,
} from "../verdict/types.ts";
import { METRIC, type MetricId } from "../verdict/metrics.ts";
import type { LoadedReport } from "../report/read.ts";
import { ALPHA, CONFIDENCE } from "../verdict/significance.ts";
import {
  INTERVAL_RESAMPLES,
  MIN_INDEPENDENT_SECONDS,
  MIN_INTERVAL_SECONDS,
} from "../verdict/intervals.ts";
import { escapeHtml as esc } from "./plot.ts";
import {
  formatChange,
  formatInterval,
  formatMetricChange,
  formatMs,
  formatOps,
  formatPointsChange,
  formatPValue,
  formatRatioPct,
  formatThreshold,
  markLowerBound,
  positionWords,
  signedInt,
} from "./format.ts";
import {
  commitLine,
  differenceLines,
  noiseLines,
  perRunLines,
  regressionLines,
  resolutionLine,
  ruledOutLines,
  shownMetrics,
  successLine,
} from "./wording.ts";
import { onlyUnconfirmed } from "./evidence_words.ts";
import {
  DASH,
  definitionsSection,
  filesSection,
  identityRows,
  legend,
  note,
  page,
  type RunView,
  table,
  viewOf,
} from "./html_parts.ts";
import { operationsChart, perSecondSection, spectrumSection } from "./html_plots.ts";

/** The uncertainty of a change: its 95% interval and/or repeated-run p-value, or a dash. */
function uncertaintyText(m: MetricChange): string {
  const parts = [
    ...(m.ci ? [formatInterval(m.ci)] : []),
    ...(m.pValue !== undefined ? [`p = ${formatPValue(m.pValue)}`] : []),
  ];
  return parts.length > 0 ? parts.join(" ") : DASH;
}

/** Both latency cells of a change, a value censored at the timeout marked `≥` (a lower bound). */
function msCells(m: MetricChange): [string, string] {
  const one = (side: "before" | "after") => {
    const v = m[side];
    return v === null ? DASH : markLowerBound(m, side, v.toFixed(3));
  };
  return [one("before"), one("after")];
}

/** Before, after and change cells of a headline metric, laid out by its unit. */
function metricCells(id: MetricId, m: MetricChange): [string, string, string] {
  const cell = (v: number | null, f: (v: number) => string) => v === null ? DASH : f(v);
  return match(METRIC[id].unit)
    .with("ms", () => [...msCells(m), formatMetricChange(m)])
    .with("ops/s", () => [
      cell(m.before, formatOps),
      cell(m.after, formatOps),
      formatChange(m.changePct),
    ])
    .with(
      "count",
      () => [String(m.before ?? DASH), String(m.after ?? DASH), cell(m.delta, signedInt)],
    )
    .with("ratio", () => [
      cell(m.before, formatRatioPct),
      cell(m.after, formatRatioPct),
      cell(m.delta, formatPointsChange),
    ])
    .exhaustive() as [string, string, string];
}

/** The comparison's own definitions (shown on comparison pages only). */
export const COMPARE_DEFINITIONS: [string, string][] = [
  [
    "Change",
    "(after − before) / before × 100, in percent; N/A when before is below 0.001. Error rate changes are in percentage points (pp).",
  ],
  [
    "≥ (lower bound)",
    "a latency percentile whose rank falls among the requests that timed out is censored at the timeout: the true value is at least the one shown (≥10000.000). Its change is then a bound too: ≥+400.0% when only the after value is censored, ≤-80.0% when only the before value is, censored when both are (unknown).",
  ],
  [
    "P99 criterion",
    "a regression when the P99 response time change is above +threshold (5%, competitive 10%, or --threshold-p99).",
  ],
  [
    "Throughput criterion",
    "a regression when the throughput change is below −threshold (5%, competitive 10%, or --threshold-throughput).",
  ],
  ["Errors criterion", "a regression when the after run has more errors than the before run."],
  [
    "Baseline criterion (competitive)",
    "a competitive regression when the after P99 is above the competitor baseline's published P99 (baselines.toml; indicative only, different workload).",
  ],
  [
    `${CONFIDENCE * 100}% CI`,
    `with one run per side: the ${
      CONFIDENCE * 100
    }% confidence interval of the change, from the two reports' per-second histograms (${INTERVAL_RESAMPLES} resamples of the seconds, fixed seed; the spread scaled by how correlated the seconds are, Student t on the independent seconds), for P50, P95, P99 and throughput. A dash: none printed (runs shorter than ${MIN_INTERVAL_SECONDS} s, fewer than ${MIN_INDEPENDENT_SECONDS} independent seconds, or old reports); a note says why.`,
  ],
  [
    "p-value",
    `with several runs on a side (an interleaved confirm session, paired by run.pair, or check --runs N): the always-valid one-sided p-value that the after runs are worse (a scale-invariant mixture SPRT, valid however often it is looked at); a regression needs p ≤ ${ALPHA} and the change in medians past the threshold, a pass needs the always-valid ${
      CONFIDENCE * 100
    }% bound within it. The table then shows per-run medians.`,
  ],
];

/** A criterion in words: the gated metric's name, or the competitor baseline. */
function criterionName(id: CriterionId): string {
  return id === "baseline" ? "Competitor baseline" : METRIC[id].name;
}

function verdictSection(c: Comparison, v: Verdict): string {
  const tone = match(v.kind)
    .with("pass", () => "pass")
    .with("inconclusive", () => "warn")
    .with("regression", "competitive_regression", () => "fail")
    .exhaustive();
  const badge = (onlyUnconfirmed(v) ? "UNCONFIRMED " : "") +
    v.kind.replaceAll("_", " ").toUpperCase();
  const lines = v.kind === "pass"
    ? [successLine(c, v.thresholds)]
    : [...regressionLines(c, v), ...ruledOutLines(c)];
  const t = v.thresholds;
  const rule = (id: CriterionId) =>
    match(id)
      .with("p99", () => `change at most +${formatThreshold(t.p99Pct)}%`)
      .with("throughput", () => `change at least −${formatThreshold(t.throughputPct)}%`)
      .with("errors", () => "no more errors than before")
      .with("baseline", () =>
        c.positioning
          ? `after P99 at most the ${c.positioning.baseline.displayName} baseline P99 (${
            formatMs(c.positioning.baseline.p99Ms)
          } ms)`
          : "after P99 at most the competitor baseline P99")
      .exhaustive();
  const observed = (id: CriterionId) =>
    match(id)
      .with("p99", () => formatMetricChange(c.metrics.p99))
      .with("throughput", () => formatChange(c.metrics.throughput.changePct))
      .with(
        "errors",
        () => `${c.metrics.errors.before ?? DASH} → ${c.metrics.errors.after ?? DASH}`,
      )
      .with("baseline", () => c.positioning ? `${formatMs(c.positioning.engramP99Ms)} ms` : DASH)
      .exhaustive();
  const rows = v.criteria.map((r) => [
    esc(criterionName(r.id)),
    esc(rule(r.id)),
    esc(observed(r.id)),
    `<span class="status status-${esc(r.status.replace("/", ""))}">${
      esc(r.status === "n/a" ? "not judged" : r.status)
    }</span>`,
  ]);
  const ruleWords = match(v.rule)
    .with(
      "significance",
      () =>
        " With --significance, a change over the threshold must also be significantly worse; " +
        "over the threshold but not significant is inconclusive.",
    )
    .with(
      "sequential",
      () =>
        " With repeated runs, a change past the threshold is a regression only when the " +
        `always-valid p ≤ ${ALPHA} says after is worse; a pass needs the evidence to rule out ` +
        "every change past the threshold; otherwise the verdict is inconclusive.",
    )
    .with("point", () => " On one pair of runs a failure is unconfirmed.")
    .exhaustive();
  return `<section id="verdict" class="verdict verdict-${tone}" data-verdict="${esc(v.kind)}">` +
    `<p class="badge">${esc(badge)}</p>` +
    lines.map((l) => `<p class="headline">${esc(l)}</p>`).join("") +
    `<p>${
      esc(
        `A regression is P99 latency up by more than ${formatThreshold(t.p99Pct)}%, ` +
          `throughput down by more than ${formatThreshold(t.throughputPct)}%, or any increase ` +
          `in errors${c.mode === "competitive" ? ", or an after P99 above the baseline's" : ""}.` +
          ruleWords + ` ${resolutionLine()}.`,
      )
    }</p>` +
    table(["Criterion", "Rule", "Observed", "Result"], rows, 99) +
    `<p class="commit">Commit message line: <code>${esc(commitLine(c, v))}</code></p></section>`;
}

function headlineSection(c: Comparison, v: Verdict): string {
  const rows = shownMetrics(c).map((id) => {
    const m = c.metrics[id];
    return [esc(METRIC[id].label), ...metricCells(id, m).map(esc), esc(uncertaintyText(m))];
  });
  if (c.serviceP99Ms) {
    const m = c.serviceP99Ms;
    rows.push([
      'P99 service time (ms) <span class="muted">(context, not judged)</span>',
      ...[...msCells(m), formatMetricChange(m), uncertaintyText(m)].map(esc),
    ]);
  }
  const perRun = perRunLines(c);
  const notes = noiseLines(c, v.thresholds);
  const differences = differenceLines(c);
  return `<section id="headline"><h2>Headline numbers</h2>` +
    (differences.length > 0
      ? `<ul class="differences">${differences.map((l) => `<li>${esc(l)}</li>`).join("")}</ul>`
      : "") +
    table(["Metric", "Before", "After", "Change", "95% CI / p-value"], rows) +
    notes.map(note).join("") +
    (perRun.length > 0
      ? `<pre class="runs">${esc(perRun.join("\n"))}</pre>` +
        note("The plots below show the newest run of each side (named in their legends).")
      : "") +
    `</section>`;
}

function operationsSection(c: Comparison, views: RunView[]): string {
  const ops: OperationChange[] = c.operations;
  if (ops.length === 0) return "";
  const rows = ops.map((op) => [
    esc(op.kind),
    String(op.countBefore),
    String(op.countAfter),
    ...msCells(op.p99Ms).map(esc),
    esc(formatMetricChange(op.p99Ms)),
    esc(uncertaintyText(op.p99Ms)),
  ]);
  return `<section id="operations"><h2>P99 per operation</h2>${legend(views)}` +
    operationsChart(ops.map((o) => o.kind), views, [
      ops.map((o) => o.p99Ms.before),
      ops.map((o) => o.p99Ms.after),
    ]) +
    table(
      [
        "Operation",
        "Count before",
        "Count after",
        "P99 before (ms)",
        "P99 after (ms)",
        "Change",
        "95% CI / p-value",
      ],
      rows,
    ) + `</section>`;
}

function positioningSection(c: Comparison): string {
  const pos = c.positioning;
  if (!pos) return "";
  const b = pos.baseline;
  return `<section id="positioning"><h2>Against ${esc(b.displayName)}</h2>` +
    table(["", "P99 (ms)"], [
      [esc(`${b.displayName} baseline`), esc(formatMs(b.p99Ms))],
      ["Engram (after run)", esc(formatMs(pos.engramP99Ms))],
      ["Gap", esc(positionWords(pos.gapPct))],
    ]) +
    note(
      `Baseline source: ${[b.source, b.workload].filter(Boolean).join("; ")}. ${
        b.caveat ?? "Indicative only: different workload."
      }`,
    ) + `</section>`;
}

/** What the comparison page is made from. */
export interface CompareHtmlInput {
  comparison: Comparison;
  verdict: Verdict;
  before: LoadedReport;
  after: LoadedReport;
  /** Comparability warnings printed by compare (old reports, --force). */
  warnings?: string[];
  /** The server CPU profile section (lib/render/profile_table.ts), when the runs were profiled. */
  profileSection?: string;
}

/** The comparison page: verdict first, then plots, per-operation P99, definitions and files. */
export function renderCompareHtml(input: CompareHtmlInput): string {
  const c = input.comparison;
  const v = input.verdict;
  const views = [viewOf("Before", input.before), viewOf("After", input.after)];
  const kind = c.mode === "competitive"
    ? "Competitive performance comparison"
    : "Performance comparison";
  const scenario = c.after.scenario === c.before.scenario
    ? c.after.scenario
    : `${c.before.scenario} → ${c.after.scenario}`;
  return page(`m17 ${c.task}: ${v.kind.replaceAll("_", " ")}`, [
    `<header><h1>${esc(kind)}: task ${esc(c.task)}</h1><p class="sub">${
      esc(`${c.mode} mode · scenario ${scenario}`)
    }</p></header>`,
    verdictSection(c, v),
    (input.warnings ?? []).length > 0
      ? `<section id="warnings" class="warnings"><h2>Warnings</h2><ul>${
        input.warnings!.map((w) => `<li>${esc(w)}</li>`).join("")
      }</ul></section>`
      : "",
    headlineSection(c, v),
    positioningSection(c),
    capacityCompareSection(c, views),
    spectrumSection(views),
    perSecondSection(views),
    operationsSection(c, views),
    input.profileSection ?? "",
    `<section id="runs"><h2>The runs</h2>${
      table(["", "Before", "After"], identityRows(views), 99)
    }</section>`,
    definitionsSection(views, COMPARE_DEFINITIONS),
    filesSection(views),
  ]);
}

/** Two `--find-rate` runs: the sustained-rate lines (capacity_words.ts) and both searches' plots. */
function capacityCompareSection(c: Comparison, views: RunView[]): string {
  const lines = capacityLines(c.capacity);
  if (lines.length === 0) return "";
  const sides = views.flatMap((v) =>
    v.report?.capacity
      ? [{ id: v.id, label: v.label, color: v.color, capacity: v.report.capacity }]
      : []
  );
  return `<section id="capacity"><h2>Sustained rate</h2>${
    lines.map((l) => `<p>${esc(l.trim())}</p>`).join("")
  }${legend(views)}${capacityCharts(sides)}</section>`;
}
