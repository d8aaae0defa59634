/**
 * The HTML page of one run (`m17_check --html`): the comparison page's plots, identity,
 * definitions and files, without the comparison; its status says whether the run is valid.
 * @module
 */
import type { RunReport } from "../report/schema.ts";
import { METRIC } from "../verdict/metrics.ts";
import { escapeHtml as esc } from "./plot.ts";
import { formatMs, formatOps } from "./format.ts";
import {
  COLORS,
  definitionsSection,
  filesSection,
  identityRows,
  note,
  page,
  type RunView,
  runView,
  table,
} from "./html_parts.ts";
import { capacitySection } from "./html_capacity.ts";
import { operationsChart, perSecondSection, spectrumSection } from "./html_plots.ts";
import {
  isLowerBound,
  lowerBoundMark,
  operationCensoring,
  runCensoring,
} from "../report/censoring.ts";

function runHeadlineSection(r: RunReport): string {
  const row = (label: string, value: string) => [esc(label), esc(value)];
  const s = r.response_time;
  // A percentile whose rank falls among the timed-out requests is a lower bound: `≥`.
  const censoring = runCensoring(r);
  const rt = (ms: number, p: number) =>
    `${lowerBoundMark(isLowerBound(censoring, p))}${ms.toFixed(3)}`;
  return `<section id="headline"><h2>Headline numbers</h2>` + table(["Metric", "Value"], [
    row(METRIC.p50.label, rt(s.p50_ms, 50)),
    row("P90 latency (ms)", rt(s.p90_ms, 90)),
    row(METRIC.p95.label, rt(s.p95_ms, 95)),
    row(METRIC.p99.label, rt(s.p99_ms, 99)),
    row(METRIC.p999.label, rt(s.p999_ms, 99.9)),
    row("Max latency (ms)", rt(s.max_ms, 100)),
    row(METRIC.throughput.label, formatOps(r.overall_throughput)),
    row("Target / achieved rate (ops/s)", `${r.target_rate} / ${formatOps(r.achieved_rate)}`),
    row("Operations", String(r.total_operations)),
    row("Errors", `${r.total_errors} (${(r.overall_error_rate * 100).toFixed(2)}%)`),
    row("Fallbacks", String(r.fallbacks)),
    row("P99 service time (ms)", r.service_time.p99_ms.toFixed(3)),
    row("P99 schedule lag (ms)", r.schedule_lag.p99_ms.toFixed(3)),
  ]) + `</section>`;
}

/**
 * What the run did to the target's store (`target_state`) and the run's notes (deduplicated
 * stores among them); empty for a report without either.
 */
function runTargetSection(r: RunReport): string {
  const s = r.target_state;
  const notes = r.notes ?? [];
  if (!s && notes.length === 0) return "";
  const memories = (n: number | null) => n === null ? "not reported" : n.toLocaleString("en-US");
  const rows = s
    ? table(["", "Value"], [
      ["Memories after the preload", esc(memories(s.memories_after_preload))],
      ["Memories at the end", esc(memories(s.memories_at_end))],
      ["Stores accepted after the preload", esc(s.stores_accepted.toLocaleString("en-US"))],
    ])
    : "";
  return `<section id="target-state"><h2>What the run did to the target</h2>${rows}${
    notes.map(note).join("")
  }</section>`;
}

function runOperationsSection(r: RunReport, view: RunView): string {
  const kinds = Object.entries(r.per_operation_stats).filter(([, s]) => s.count > 0);
  if (kinds.length === 0) return "";
  const rows = kinds.map(([kind, s]) => {
    // Response times of a kind whose requests timed out are censored like the run's (`≥`).
    const c = operationCensoring(s);
    const at = (p: number, us: number) =>
      `${lowerBoundMark(isLowerBound(c, p))}${(us / 1000).toFixed(3)}`;
    return [
      esc(kind),
      String(s.count),
      String(s.error_count),
      at(50, s.p50_latency_us),
      at(99, s.p99_latency_us),
      at(99.9, s.p999_latency_us),
      (s.service_p99_latency_us / 1000).toFixed(3),
    ];
  });
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

/** In place of the numbers of a run that stopped before its measured window (`why`). */
function noWindowSection(why: string): string {
  return `<section id="no-window"><h2>No measured window</h2>${
    note(`${why}: the run stopped before its measured window started; nothing was measured.`)
  }</section>`;
}

/** The page for one run (`m17_check --html`): the comparison page without the comparison. */
export function renderRunHtml(report: RunReport, reportPath: string): string {
  const view = runView("Run", "run", COLORS.before, reportPath, report);
  const noWindow = report.no_measured_window;
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
    // A run without a measured window has zeros, not numbers: no headline, no plots.
    noWindow === undefined ? runHeadlineSection(report) : noWindowSection(noWindow),
    capacitySection(report.capacity),
    runTargetSection(report),
    ...(noWindow === undefined
      ? [spectrumSection([view]), perSecondSection([view]), runOperationsSection(report, view)]
      : []),
    `<section id="runs"><h2>The run</h2>${table(["", "Run"], identityRows([view]), 99)}</section>`,
    definitionsSection([view], []),
    filesSection([view]),
  ]);
}
