/**
 * Self-contained HTML reports: one file, inline CSS and SVG, no scripts, no external resources
 * (a Content-Security-Policy of `default-src 'none'` makes the browser refuse any). Everything
 * shown is derived from the report files (and, for a comparison, the `Comparison`/`Verdict`);
 * every untrusted string (task, paths, scenario names) is escaped.
 *
 * A comparison page shows: the verdict and thresholds; the headline numbers with confidence
 * intervals when the comparison has them; the percentile spectrum (latency over log10(1/(1−p)),
 * P50 to P99.99, from the merged response-time histogram); per-second P99 and throughput; per-
 * operation P99; the runs' identity; the definitions of every number; the files. A single-run
 * page (`renderRunHtml`, for `m17_check --html`) is the same without the comparison parts.
 *
 * @example
 * ```ts
 * import { spectrumPercentiles } from "./html.ts";
 * const ps = spectrumPercentiles(5);
 * console.assert(ps[0] === 50 && Math.abs(ps[4] - 99.99) < 1e-9);
 * ```
 * @module
 */
import { basename, join } from "node:path";
import { match } from "ts-pattern";
import type {
  Comparison,
  CriterionId,
  MetricChange,
  MetricId,
  OperationChange,
  Verdict,
} from "../verdict/compare.ts";
import { METRIC_IDS } from "../verdict/compare.ts";
import type { LoadedReport, Mode } from "../verdict/discovery.ts";
import { LatencyHistogram } from "../report/histogram.ts";
import {
  axisFromTicks,
  barChart,
  escapeHtml,
  linearTicks,
  lineChart,
  type LineSeries,
  logTicks,
} from "./plot.ts";
import {
  commitLine,
  formatChange,
  formatInterval,
  formatMs,
  formatOps,
  formatPValue,
  formatThreshold,
  METRIC_LABELS,
  noiseLines,
  perRunLines,
  regressionLines,
  successLine,
} from "./terminal.ts";
import type { MethodNotes, RunReport } from "../report/schema.ts";
import { filesFor } from "../report/files.ts";
import { ALPHA, CONFIDENCE } from "../verdict/significance.ts";
import { BLOCK_SECONDS, MIN_BOOTSTRAP_SECONDS, RESAMPLES } from "../verdict/stats.ts";
import { VERSION } from "../shared/version.ts";

// ---------------------------------------------------------------------------------------------
// Data taken from the reports

/** Points of the percentile spectrum: evenly spaced in log10(1/(1−p)) from P50 to P99.99. */
export const SPECTRUM_POINTS = 61;

/** The spectrum's x-axis ticks (percent). */
export const SPECTRUM_TICKS = [50, 90, 99, 99.9, 99.99] as const;

/** log10(1/(1−p)) for p in percent: the spectrum's x coordinate (50% → 0.301, 99.99% → 4). */
export function spectrumX(pct: number): number {
  return Math.log10(100 / (100 - pct));
}

/** `n` percentiles (in percent) evenly spaced on the spectrum's x axis, P50 first, P99.99 last. */
export function spectrumPercentiles(n = SPECTRUM_POINTS): number[] {
  const lo = spectrumX(50);
  const hi = spectrumX(99.99);
  return Array.from({ length: n }, (_, i) => {
    const x = lo + (hi - lo) * i / (n - 1);
    return 100 - 100 / 10 ** x;
  });
}

/** One run as the HTML page sees it: a current report, or an old-tool report without data. */
interface RunView {
  label: string;
  /** `data-series` id. */
  id: string;
  color: string;
  path: string;
  report: RunReport | null;
  /** The decoded overall response-time histogram, when the report has one. */
  histogram: LatencyHistogram | null;
}

const COLORS = { before: "#0072b2", after: "#d55e00" } as const;

function decodeOrNull(base64: string | undefined): LatencyHistogram | null {
  if (!base64) return null;
  try {
    const h = LatencyHistogram.decode(base64);
    return h.count > 0 ? h : null;
  } catch {
    return null;
  }
}

function runView(
  label: string,
  id: string,
  color: string,
  path: string,
  report: RunReport | null,
): RunView {
  return {
    label,
    id,
    color,
    path,
    report,
    histogram: decodeOrNull(report?.histograms?.response_time),
  };
}

function viewOf(label: "Before" | "After", loaded: LoadedReport): RunView {
  const id = label.toLowerCase() as "before" | "after";
  const report = loaded.kind === "current" ? loaded.report : null;
  return runView(label, id, COLORS[id], loaded.path, report);
}

const intervalsOf = (v: RunView) => v.report?.intervals ?? [];

/**
 * The run's largest response time: the report's exact maximum, else the histogram's (a decoded
 * histogram only knows the top of the maximum's bucket, up to 0.1% higher).
 */
function maxMs(v: RunView): number {
  return v.report?.response_time?.max_ms ?? (v.histogram?.maxUs() ?? 0) / 1000;
}

/** Percentile `p` of the run's response times in ms, never above its maximum. */
function percentileMs(v: RunView, p: number): number {
  return Math.min((v.histogram?.percentileUs(p) ?? 0) / 1000, maxMs(v));
}

// ---------------------------------------------------------------------------------------------
// Formatting

const esc = escapeHtml;
const DASH = "–";

function pct(p: number): string {
  return `${Number(p.toFixed(2))}%`;
}

/** The uncertainty of a change: its 95% interval and/or repeated-run p-value, or a dash. */
function uncertaintyText(m: MetricChange): string {
  const parts = [
    ...(m.ci ? [formatInterval(m.ci)] : []),
    ...(m.pValue !== undefined ? [`p = ${formatPValue(m.pValue)}`] : []),
  ];
  return parts.length > 0 ? parts.join(" ") : DASH;
}

function msCell(v: number | null): string {
  return v === null ? DASH : v.toFixed(3);
}

function metricCells(id: MetricId, m: MetricChange): [string, string, string] {
  return match(id)
    .with(
      "p50",
      "p95",
      "p99",
      "p999",
      () =>
        [msCell(m.before), msCell(m.after), formatChange(m.changePct)] as [string, string, string],
    )
    .with("throughput", () =>
      [
        m.before === null ? DASH : formatOps(m.before),
        m.after === null ? DASH : formatOps(m.after),
        formatChange(m.changePct),
      ] as [string, string, string])
    .with("errors", () =>
      [
        String(m.before ?? DASH),
        String(m.after ?? DASH),
        m.delta === null ? DASH : `${m.delta >= 0 ? "+" : ""}${m.delta}`,
      ] as [string, string, string])
    .with("error_rate", () =>
      [
        m.before === null ? DASH : `${(m.before * 100).toFixed(2)}%`,
        m.after === null ? DASH : `${(m.after * 100).toFixed(2)}%`,
        m.delta === null ? DASH : `${formatChange(m.delta * 100, 2).slice(0, -1)}pp`,
      ] as [string, string, string])
    .exhaustive();
}

function table(head: string[], rows: string[][], numericFrom = 1): string {
  const cell = (tag: string, s: string, i: number) =>
    `<${tag}${i >= numericFrom ? ' class="num"' : ""}>${s}</${tag}>`;
  return `<table><thead><tr>${head.map((h, i) => cell("th", esc(h), i)).join("")}</tr></thead>` +
    `<tbody>${
      rows.map((r) => `<tr>${r.map((c, i) => cell("td", c, i)).join("")}</tr>`).join("")
    }</tbody></table>`;
}

function legend(views: RunView[]): string {
  return `<p class="legend">${
    views.map((v) =>
      `<span><i style="background:${v.color}"></i>${esc(v.label)}: ${esc(basename(v.path))}</span>`
    ).join("")
  }</p>`;
}

/** Escaped text with `backticked` parts set as code. */
function withCode(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

function note(text: string): string {
  return `<p class="note">${esc(text)}</p>`;
}

// ---------------------------------------------------------------------------------------------
// Sections shared by both pages

function spectrumSection(views: RunView[]): string {
  const ps = spectrumPercentiles();
  const series: LineSeries[] = views.filter((v) => v.histogram).map((v) => ({
    id: v.id,
    label: v.label,
    color: v.color,
    points: ps.map((p) => [spectrumX(p), percentileMs(v, p)]),
  }));
  const missing = views.filter((v) => !v.histogram).map((v) =>
    `${v.label}: no response-time histogram (an old load-test report or an empty run), so no spectrum.`
  );
  const out = [
    `<section id="spectrum"><h2>Percentile spectrum</h2>`,
    `<p class="explain">Response time at each percentile of all measured requests, from the ` +
    `merged HdrHistogram. The x axis is spaced by log<sub>10</sub>(1/(1−p)), so each step ` +
    `right is ten times rarer; the y axis is logarithmic.</p>`,
    legend(views),
  ];
  if (series.length > 0) {
    const ys = series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => y > 0);
    const yTicks = ys.length > 0 ? logTicks(Math.min(...ys), Math.max(...ys)) : logTicks(0.1, 1);
    out.push(lineChart({
      plot: "spectrum",
      title: "Response time by percentile",
      x: {
        title: "percentile",
        min: spectrumX(50),
        max: spectrumX(99.99),
        ticks: SPECTRUM_TICKS.map((p) => ({ value: spectrumX(p), label: pct(p) })),
      },
      y: axisFromTicks("response time (ms, log scale)", yTicks, true),
      series,
    }));
    const at = (v: RunView, p: number | "max") =>
      v.histogram ? (p === "max" ? maxMs(v) : percentileMs(v, p)).toFixed(3) : DASH;
    const rows = ([...SPECTRUM_TICKS, "max"] as const).map((p) => [
      p === "max" ? "max" : `P${Number(p.toFixed(2))}`,
      ...views.map((v) => at(v, p)),
    ]);
    out.push(table(["Response time (ms)", ...views.map((v) => v.label)], rows));
  }
  out.push(...missing.map(note), `</section>`);
  return out.join("");
}

function perSecondSection(views: RunView[]): string {
  const withIntervals = views.filter((v) => intervalsOf(v).length > 0);
  const lastSecond = Math.max(
    1,
    ...withIntervals.flatMap((v) => intervalsOf(v).map((i) => i.second)),
  );
  const xTicks = linearTicks(lastSecond, 6, true);
  const x = axisFromTicks("second of the measured window", xTicks);
  // Empty seconds have no P99; they are left out of the P99 line rather than drawn as 0.
  const p99: LineSeries[] = withIntervals.map((v) => ({
    id: v.id,
    label: v.label,
    color: v.color,
    points: intervalsOf(v).filter((i) => i.count > 0).map((i) => [i.second, i.p99_ms]),
  }));
  const throughput: LineSeries[] = withIntervals.map((v) => ({
    id: v.id,
    label: v.label,
    color: v.color,
    points: intervalsOf(v).map((i) => [i.second, i.completed ?? i.count]),
  }));
  const maxOf = (s: LineSeries[]) => Math.max(0, ...s.flatMap((l) => l.points.map(([, y]) => y)));
  const out = [`<section id="timeline"><h2>Over the run</h2>`, legend(views)];
  if (withIntervals.length > 0) {
    out.push(
      `<h3>P99 response time per second</h3>`,
      lineChart({
        plot: "p99-per-second",
        title: "P99 response time per second",
        x,
        y: axisFromTicks("P99 (ms)", linearTicks(maxOf(p99))),
        series: p99,
        height: 260,
      }),
      `<h3>Throughput per second</h3>`,
      lineChart({
        plot: "throughput-per-second",
        title: "Responses completed per second",
        x,
        y: axisFromTicks("completed (ops/s)", linearTicks(maxOf(throughput))),
        series: throughput,
        height: 260,
      }),
    );
  }
  for (const v of views.filter((v) => intervalsOf(v).length === 0)) {
    out.push(
      note(`${v.label}: no per-second intervals (an old load-test report), so no timeline.`),
    );
  }
  out.push(`</section>`);
  return out.join("");
}

const METHOD_LABELS: Record<keyof MethodNotes, string> = {
  latency: "Response time (latency)",
  service_time: "Service time",
  schedule_lag: "Schedule lag",
  percentiles: "Percentiles",
  histogram: "Histograms",
  throughput: "Throughput",
};

/** How the plots and tables of a page are made (the report's own `methods` come first). */
const PAGE_DEFINITIONS: [string, string][] = [
  [
    "Percentile spectrum",
    "the response time at percentile p of all measured requests of a run (its merged histogram, `histograms.response_time`), for p from 50% to 99.99%, drawn over log10(1/(1−p)).",
  ],
  [
    "P99 per second",
    "the P99 response time of the requests that were due in that second of the measured window (`intervals[].p99_ms`); seconds without requests are left out.",
  ],
  [
    "Throughput per second",
    "responses (success or error) completed in that second (`intervals[].completed`).",
  ],
  [
    "Per-operation P99",
    "the P99 response time of one operation kind (`per_operation_stats.<kind>.p99_latency_us`).",
  ],
];

/** The comparison's own definitions (shown on comparison pages only). */
export const COMPARE_DEFINITIONS: [string, string][] = [
  [
    "Change",
    "(after − before) / before × 100, in percent; N/A when before is below 0.001. Error rate changes are in percentage points (pp).",
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
    }% confidence interval of the change, from a moving-block bootstrap over the two reports' per-second histograms (${BLOCK_SECONDS}-s blocks, ${RESAMPLES} resamples, fixed seed), for P50, P95, P99 and throughput. A dash: none computed (for example runs shorter than ${MIN_BOOTSTRAP_SECONDS} s, or old reports).`,
  ],
  [
    "p-value",
    `with several runs on a side (check --runs N): the one-sided Mann–Whitney U test that the after runs are worse (significant at p ≤ ${ALPHA}); the table then shows per-run medians.`,
  ],
];

function definitionsSection(views: RunView[], extra: [string, string][]): string {
  const methods = views.map((v) => v.report?.methods).filter((m): m is MethodNotes => !!m);
  const same = methods.every((m) => JSON.stringify(m) === JSON.stringify(methods[0]));
  const dl = (pairs: [string, string][]) =>
    `<dl>${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${withCode(v)}</dd>`).join("")}</dl>`;
  const methodPairs = (m: MethodNotes): [string, string][] =>
    (Object.keys(METHOD_LABELS) as (keyof MethodNotes)[]).filter((k) => m[k]).map((k) => [
      METHOD_LABELS[k],
      m[k],
    ]);
  const out = [`<section id="definitions"><h2>What the numbers mean</h2>`];
  if (methods.length === 0) {
    out.push(note("The reports record no definitions (old load-test reports)."));
  } else if (same) {
    out.push(`<h3>Measurement (from the report${views.length > 1 ? "s" : ""})</h3>`);
    out.push(dl(methodPairs(methods[0])));
  } else {
    for (const v of views.filter((v) => v.report?.methods)) {
      out.push(`<h3>Measurement (from the ${esc(v.label.toLowerCase())} report)</h3>`);
      out.push(dl(methodPairs(v.report!.methods)));
    }
  }
  out.push(`<h3>This page</h3>`, dl([...PAGE_DEFINITIONS, ...extra]), `</section>`);
  return out.join("");
}

function identityRows(views: RunView[]): string[][] {
  const field = (label: string, f: (r: RunReport) => string) => [
    esc(label),
    ...views.map((v) => v.report ? esc(f(v.report)) : `<span class="muted">not recorded</span>`),
  ];
  return [
    ["Report", ...views.map((v) => `<code>${esc(basename(v.path))}</code>`)],
    field("Phase / mode", (r) => `${r.phase} / ${r.mode}`),
    field("Started", (r) => r.started_at),
    field("Scenario", (r) => `${r.scenario.name} (${r.scenario.path})`),
    field(
      "Seed / rate",
      (r) => `${r.scenario.seed} / ${r.scenario.rate} ops/s, ${r.scenario.arrival}`,
    ),
    field(
      "Duration",
      (r) =>
        `${r.scenario.duration_seconds} s measured after ${r.scenario.warmup_seconds} s warm-up`,
    ),
    field("Workload fingerprint", (r) => r.workload_fingerprint.slice(0, 16)),
    field("Target", (r) => `${r.target.kind} ${r.target.url} (version ${r.target.version ?? "?"})`),
    field(
      "Host",
      (r) =>
        `${r.host.hostname}: ${r.host.os}/${r.host.arch}, ${r.host.cpus} CPUs, Deno ${r.host.deno}`,
    ),
    field(
      "Tool",
      (r) => `${r.tool.name} ${r.tool.version}${r.tool.commit ? ` (${r.tool.commit})` : ""}`,
    ),
    field("Valid", (r) => r.valid ? "yes" : `no: ${r.invalid_reasons.join("; ")}`),
  ];
}

function filesSection(views: RunView[]): string {
  const rows: string[][] = [];
  for (const v of views) {
    const derived = filesFor(v.path.replace(/\.json$/, ""));
    const f = v.report?.files;
    const pick = (recorded: string | undefined, fallback: string) => recorded || fallback;
    rows.push([esc(`${v.label} report`), `<code>${esc(v.path)}</code>`]);
    if (!v.report) continue;
    rows.push(
      [esc(`${v.label} run log`), `<code>${esc(pick(f?.log, derived.log))}</code>`],
      [esc(`${v.label} interval log (.hlog)`), `<code>${esc(pick(f?.hlog, derived.hlog))}</code>`],
      [esc(`${v.label} system metrics`), `<code>${esc(pick(f?.sys, derived.sys))}</code>`],
      [esc(`${v.label} diagnostics`), `<code>${esc(pick(f?.diag, derived.diag))}</code>`],
      [
        esc(`${v.label} scenario`),
        `<code>${esc(v.report.scenario.path)}</code> sha256 ${
          esc(v.report.scenario.sha256.slice(0, 16))
        }…`,
      ],
    );
  }
  return `<section id="files"><h2>Files</h2>${table(["What", "Path"], rows, 99)}</section>`;
}

function operationsChart(
  categories: string[],
  views: RunView[],
  values: (number | null)[][],
): string {
  return barChart({
    plot: "operations",
    title: "P99 response time per operation",
    categories,
    series: views.map((v, i) => ({ id: v.id, label: v.label, color: v.color, values: values[i] })),
    unit: "P99 response time (ms)",
  });
}

// ---------------------------------------------------------------------------------------------
// The comparison page

const CRITERION_NAMES: Record<CriterionId, string> = {
  p99: "P99 latency",
  throughput: "Throughput",
  errors: "Errors",
  baseline: "Competitor baseline",
};

function verdictSection(c: Comparison, v: Verdict): string {
  const tone = match(v.kind)
    .with("pass", () => "pass")
    .with("inconclusive", () => "warn")
    .with("regression", "competitive_regression", () => "fail")
    .exhaustive();
  const badge = v.kind.replaceAll("_", " ").toUpperCase();
  const lines = v.kind === "pass" ? [successLine(c, v.thresholds)] : regressionLines(c, v);
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
      .with("p99", () => formatChange(c.metrics.p99.changePct))
      .with("throughput", () => formatChange(c.metrics.throughput.changePct))
      .with(
        "errors",
        () => `${c.metrics.errors.before ?? DASH} → ${c.metrics.errors.after ?? DASH}`,
      )
      .with("baseline", () => c.positioning ? `${formatMs(c.positioning.engramP99Ms)} ms` : DASH)
      .exhaustive();
  const rows = v.criteria.map((r) => [
    esc(CRITERION_NAMES[r.id]),
    esc(rule(r.id)),
    esc(observed(r.id)),
    `<span class="status status-${esc(r.status.replace("/", ""))}">${
      esc(r.status === "n/a" ? "not judged" : r.status)
    }</span>`,
  ]);
  const ruleWords = v.rule === "significance"
    ? " With --significance, a change over the threshold must also be significantly worse; " +
      "over the threshold but not significant is inconclusive."
    : "";
  return `<section id="verdict" class="verdict verdict-${tone}" data-verdict="${esc(v.kind)}">` +
    `<p class="badge">${esc(badge)}</p>` +
    lines.map((l) => `<p class="headline">${esc(l)}</p>`).join("") +
    `<p>${
      esc(
        `A regression is P99 latency up by more than ${formatThreshold(t.p99Pct)}%, ` +
          `throughput down by more than ${formatThreshold(t.throughputPct)}%, or any increase ` +
          `in errors${c.mode === "competitive" ? ", or an after P99 above the baseline's" : ""}.` +
          ruleWords,
      )
    }</p>` +
    table(["Criterion", "Rule", "Observed", "Result"], rows, 99) +
    `<p class="commit">Commit message line: <code>${esc(commitLine(c, v))}</code></p></section>`;
}

function headlineSection(c: Comparison, v: Verdict): string {
  const rows = METRIC_IDS.filter((id) =>
    !(id === "p999" && c.metrics.p999.before === null && c.metrics.p999.after === null)
  ).map((id) => {
    const m = c.metrics[id];
    return [esc(METRIC_LABELS[id]), ...metricCells(id, m).map(esc), esc(uncertaintyText(m))];
  });
  if (c.serviceP99Ms) {
    const m = c.serviceP99Ms;
    rows.push([
      'P99 service time (ms) <span class="muted">(context, not judged)</span>',
      ...[msCell(m.before), msCell(m.after), formatChange(m.changePct), uncertaintyText(m)].map(
        esc,
      ),
    ]);
  }
  const perRun = perRunLines(c);
  const notes = noiseLines(c, v.thresholds);
  return `<section id="headline"><h2>Headline numbers</h2>` +
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
    esc(msCell(op.p99Ms.before)),
    esc(msCell(op.p99Ms.after)),
    esc(formatChange(op.p99Ms.changePct)),
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
      ["Gap", esc(`${Math.abs(pos.gapPct).toFixed(1)}% ${pos.gapPct >= 0 ? "faster" : "slower"}`)],
    ]) +
    note(
      `Baseline source: ${[b.source, b.workload].filter(Boolean).join("; ")}. ${
        b.caveat ?? "Indicative only: different workload."
      }`,
    ) + `</section>`;
}

function page(title: string, body: string[]): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head>\n<body><main>\n` +
    body.filter(Boolean).join("\n") +
    `\n<footer>Generated by m17 ${esc(VERSION)} from the report files named above; ` +
    `self-contained: no scripts, no network.</footer>\n</main></body></html>\n`;
}

/** What the comparison page is made from. */
export interface CompareHtmlInput {
  comparison: Comparison;
  verdict: Verdict;
  before: LoadedReport;
  after: LoadedReport;
  /** Comparability warnings printed by compare (old reports, --force). */
  warnings?: string[];
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
    spectrumSection(views),
    perSecondSection(views),
    operationsSection(c, views),
    `<section id="runs"><h2>The runs</h2>${
      table(["", "Before", "After"], identityRows(views), 99)
    }</section>`,
    definitionsSection(views, COMPARE_DEFINITIONS),
    filesSection(views),
  ]);
}

// ---------------------------------------------------------------------------------------------
// The single-run page

function runHeadlineSection(r: RunReport): string {
  const row = (label: string, value: string) => [esc(label), esc(value)];
  const s = r.response_time;
  return `<section id="headline"><h2>Headline numbers</h2>` + table(["Metric", "Value"], [
    row("P50 latency (ms)", s.p50_ms.toFixed(3)),
    row("P90 latency (ms)", s.p90_ms.toFixed(3)),
    row("P95 latency (ms)", s.p95_ms.toFixed(3)),
    row("P99 latency (ms)", s.p99_ms.toFixed(3)),
    row("P99.9 latency (ms)", s.p999_ms.toFixed(3)),
    row("Max latency (ms)", s.max_ms.toFixed(3)),
    row("Throughput (ops/s)", formatOps(r.overall_throughput)),
    row("Target / achieved rate (ops/s)", `${r.target_rate} / ${formatOps(r.achieved_rate)}`),
    row("Operations", String(r.total_operations)),
    row("Errors", `${r.total_errors} (${(r.overall_error_rate * 100).toFixed(2)}%)`),
    row("Fallbacks", String(r.fallbacks)),
    row("P99 service time (ms)", r.service_time.p99_ms.toFixed(3)),
    row("P99 schedule lag (ms)", r.schedule_lag.p99_ms.toFixed(3)),
  ]) + `</section>`;
}

function runOperationsSection(r: RunReport, view: RunView): string {
  const kinds = Object.entries(r.per_operation_stats).filter(([, s]) => s.count > 0);
  if (kinds.length === 0) return "";
  const rows = kinds.map(([kind, s]) => [
    esc(kind),
    String(s.count),
    String(s.error_count),
    (s.p50_latency_us / 1000).toFixed(3),
    (s.p99_latency_us / 1000).toFixed(3),
    (s.p999_latency_us / 1000).toFixed(3),
    (s.service_p99_latency_us / 1000).toFixed(3),
  ]);
  return `<section id="operations"><h2>P99 per operation</h2>` +
    operationsChart(kinds.map(([k]) => k), [view], [
      kinds.map(([, s]) => s.p99_latency_us / 1000),
    ]) +
    table([
      "Operation",
      "Count",
      "Errors",
      "P50 (ms)",
      "P99 (ms)",
      "P99.9 (ms)",
      "Service P99 (ms)",
    ], rows) +
    `</section>`;
}

/** The page for one run (`m17_check --html`): the comparison page without the comparison. */
export function renderRunHtml(report: RunReport, reportPath: string): string {
  const view = runView("Run", "run", COLORS.before, reportPath, report);
  const status = report.valid
    ? `<section id="status" class="verdict verdict-pass" data-valid="true"><p class="badge">VALID RUN</p>` +
      `<p class="headline">${
        esc(
          `P99 ${formatMs(report.p99_latency_ms)} ms at ${
            formatOps(report.overall_throughput)
          } ops/s, ${report.total_errors} errors`,
        )
      }</p></section>`
    : `<section id="status" class="verdict verdict-fail" data-valid="false"><p class="badge">INVALID RUN</p>` +
      `<ul>${report.invalid_reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul></section>`;
  return page(`m17 ${report.task} ${report.phase}: ${report.valid ? "valid" : "invalid"} run`, [
    `<header><h1>${
      esc(`Performance run: task ${report.task}, ${report.phase}`)
    }</h1><p class="sub">${
      esc(`${report.mode} mode · scenario ${report.scenario.name} · ${report.target.kind} target`)
    }</p></header>`,
    status,
    runHeadlineSection(report),
    spectrumSection([view]),
    perSecondSection([view]),
    runOperationsSection(report, view),
    `<section id="runs"><h2>The run</h2>${table(["", "Run"], identityRows([view]), 99)}</section>`,
    definitionsSection([view], []),
    filesSection([view]),
  ]);
}

/** Where `compare --html` writes by default: `<dir>/[competitive_]<task>_compare.html`. */
export function defaultHtmlPath(dir: string, task: string, mode: Mode): string {
  return join(dir, `${mode === "competitive" ? "competitive_" : ""}${task}_compare.html`);
}

const CSS = `
:root{color-scheme:light;--fg:#1d2125;--muted:#5f6b76;--line:#d8dee4;--bg:#fff;--soft:#f5f7f9}
*{box-sizing:border-box}
body{margin:0;background:var(--soft);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:24px 20px 40px}
header h1{margin:0;font-size:26px}
.sub{margin:2px 0 0;color:var(--muted)}
section{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:16px 0}
h2{margin:0 0 10px;font-size:19px}
h3{margin:16px 0 6px;font-size:15px}
table{border-collapse:collapse;width:100%;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
#runs td:first-child,#files td:first-child{white-space:nowrap}
th{background:var(--soft);font-weight:600}
.num{text-align:right;white-space:nowrap}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.verdict{border-width:2px}
.verdict-pass{border-color:#1a7f37;background:#f0fbf3}
.verdict-fail{border-color:#cf222e;background:#fff4f4}
.badge{display:inline-block;margin:0 0 8px;padding:2px 10px;border-radius:4px;color:#fff;font-weight:700;letter-spacing:.04em}
.verdict-pass .badge{background:#1a7f37}
.verdict-fail .badge{background:#cf222e}
.verdict-warn{border-color:#bf8700;background:#fff8e5}
.verdict-warn .badge{background:#9a6700}
.headline{font-size:17px;font-weight:600;margin:4px 0}
.status{font-weight:600}
.status-pass{color:#1a7f37}.status-fail{color:#cf222e}.status-na{color:var(--muted)}
.status-inconclusive{color:#9a6700}
pre.runs{background:var(--soft);padding:8px 10px;border-radius:4px;overflow-x:auto;font-size:12px}
.warnings{border-color:#bf8700;background:#fff8e5}
.legend span{display:inline-flex;align-items:center;margin-right:18px}
.legend i{display:inline-block;width:22px;height:4px;margin-right:6px;border-radius:2px}
.explain,.note,.muted{color:var(--muted)}
.note{font-style:italic}
svg.chart{display:block;width:100%;height:auto;margin:6px 0}
svg .grid line{stroke:#e6eaee;stroke-width:1}
svg .axis rect{fill:none;stroke:#9aa5b1}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#3d4750}
svg text.title{font-size:13px;fill:var(--fg)}
svg text.value{fill:#3d4750;font-size:11px}
svg polyline.series{fill:none;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
dl{margin:0}
dt{font-weight:600;margin-top:8px}
dd{margin:0 0 0 0;color:#2f3941}
footer{color:var(--muted);font-size:13px;margin-top:20px}
@media print{body{background:#fff}section{break-inside:avoid}}
`;
