/**
 * The building blocks of the HTML pages (lib/render/html.ts, lib/render/html_run.ts): a run as
 * a page sees it, tables, legends, notes, the definitions, identity and files sections, and the
 * page shell with its inline CSS and a Content-Security-Policy that allows no scripts.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { table } from "./html_parts.ts";
 * strictEqual(
 *   table(["Metric", "Value"], [["P99", "1.5"]]),
 *   '<table><thead><tr><th>Metric</th><th class="num">Value</th></tr></thead>' +
 *     '<tbody><tr><td>P99</td><td class="num">1.5</td></tr></tbody></table>',
 * );
 * ```
 * @module
 */
import { basename } from "node:path";
import type { LoadedReport } from "../report/read.ts";
import type { MethodNotes, RunReport } from "../report/schema.ts";
import { filesOfReport } from "../report/files.ts";
import { describePreload } from "../report/preload_words.ts";
import { LatencyHistogram } from "../report/histogram.ts";
import { VERSION } from "../shared/version.ts";
import { escapeHtml } from "./plot.ts";

/** One run as the HTML page sees it: a current report, or an old-tool report without data. */
export interface RunView {
  label: string;
  /** `data-series` id. */
  id: string;
  color: string;
  path: string;
  report: RunReport | null;
  /** The decoded overall response-time histogram, when the report has one. */
  histogram: LatencyHistogram | null;
}

/** Series colours of the two sides (colour-blind safe). */
export const COLORS = { before: "#0072b2", after: "#d55e00" } as const;

function decodeOrNull(base64: string | undefined): LatencyHistogram | null {
  if (!base64) return null;
  try {
    const h = LatencyHistogram.decode(base64);
    return h.count > 0 ? h : null;
  } catch {
    return null;
  }
}

/** A run view of a report (null: an old-tool report without data). */
export function runView(
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

/** The view of one side of a comparison. */
export function viewOf(label: "Before" | "After", loaded: LoadedReport): RunView {
  const id = label.toLowerCase() as "before" | "after";
  const report = loaded.kind === "current" ? loaded.report : null;
  return runView(label, id, COLORS[id], loaded.path, report);
}

/** The run's per-second intervals (none for old-tool reports). */
export function intervalsOf(v: RunView): NonNullable<RunReport["intervals"]> {
  return v.report?.intervals ?? [];
}

/**
 * The run's largest response time: the report's exact maximum, else the histogram's (a decoded
 * histogram only knows the top of the maximum's bucket, up to 0.1% higher).
 */
export function maxMs(v: RunView): number {
  return v.report?.response_time?.max_ms ?? (v.histogram?.maxUs() ?? 0) / 1000;
}

/** Percentile `p` of the run's response times in ms, never above its maximum. */
export function percentileMs(v: RunView, p: number): number {
  return Math.min((v.histogram?.percentileUs(p) ?? 0) / 1000, maxMs(v));
}

const esc = escapeHtml;
/** What a cell shows when it has no value. */
export const DASH = "–";

/** An HTML table; columns from `numericFrom` on are right-aligned numbers. */
export function table(head: string[], rows: string[][], numericFrom = 1): string {
  const cell = (tag: string, s: string, i: number) =>
    `<${tag}${i >= numericFrom ? ' class="num"' : ""}>${s}</${tag}>`;
  return `<table><thead><tr>${head.map((h, i) => cell("th", esc(h), i)).join("")}</tr></thead>` +
    `<tbody>${
      rows.map((r) => `<tr>${r.map((c, i) => cell("td", c, i)).join("")}</tr>`).join("")
    }</tbody></table>`;
}

/** The colour legend of the runs. */
export function legend(views: RunView[]): string {
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

/** An escaped note paragraph. */
export function note(text: string): string {
  return `<p class="note">${esc(text)}</p>`;
}

const METHOD_LABELS: Record<keyof MethodNotes, string> = {
  latency: "Response time (latency)",
  service_time: "Service time",
  schedule_lag: "Schedule lag",
  percentiles: "Percentiles",
  histogram: "Histograms",
  throughput: "Throughput",
  timeout: "Timeout",
  censoring: "Censored percentiles (≥)",
  capacity: "Capacity search (--find-rate)",
  preload_snapshot: "Preload snapshot",
  index_probe: "Index probe (preload snapshot)",
  target_state: "Target state (memories)",
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
    "responses (success or HTTP error) to the requests due in that second of the measured window, however late (`intervals[].completed`; reports of schema_version 1: responses that arrived in that second).",
  ],
  [
    "Per-operation P99",
    "the P99 response time of one operation kind (`per_operation_stats.<kind>.p99_latency_us`).",
  ],
];

/** "What the numbers mean": the reports' own definitions, then the page's and `extra`. */
export function definitionsSection(views: RunView[], extra: [string, string][]): string {
  const methods = views.map((v) => v.report?.methods).filter((m): m is MethodNotes => !!m);
  const same = methods.every((m) => JSON.stringify(m) === JSON.stringify(methods[0]));
  const dl = (pairs: [string, string][]) =>
    `<dl>${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${withCode(v)}</dd>`).join("")}</dl>`;
  const methodPairs = (m: MethodNotes): [string, string][] =>
    (Object.keys(METHOD_LABELS) as (keyof MethodNotes)[]).flatMap((k): [string, string][] => {
      const text = m[k];
      return text ? [[METHOD_LABELS[k], text]] : [];
    });
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

/** Table rows that identify each run (report, scenario, target, host, tool, validity). */
export function identityRows(views: RunView[]): string[][] {
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
    field("Preload", (r) => describePreload(r.preload) ?? "none"),
    field(
      "Host",
      // Older or hand-made reports may lack it: said, never "undefined" or a crash.
      (r) =>
        r.host === undefined
          ? "not recorded"
          : `${r.host.hostname}: ${r.host.os}/${r.host.arch}, ${r.host.cpus} CPUs, Deno ${r.host.deno}`,
    ),
    field(
      "Tool",
      (r) => `${r.tool.name} ${r.tool.version}${r.tool.commit ? ` (${r.tool.commit})` : ""}`,
    ),
    field("Valid", (r) => r.valid ? "yes" : `no: ${r.invalid_reasons.join("; ")}`),
  ];
}

/** The files of each run: report, logs, system metrics, diagnostics, scenario. */
export function filesSection(views: RunView[]): string {
  const rows: string[][] = [];
  for (const v of views) {
    const derived = filesOfReport(v.path);
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

/** A complete, self-contained HTML page around the sections. */
export function page(title: string, body: string[]): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head>\n<body><main>\n` +
    body.filter(Boolean).join("\n") +
    `\n<footer>Generated by m17 ${esc(VERSION)} from the report files named above; ` +
    `self-contained: no scripts, no network.</footer>\n</main></body></html>\n`;
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
svg.m17-flame{max-width:100%;height:auto}
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
