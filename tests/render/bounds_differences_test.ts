/**
 * Every rendering of a comparison shows what differs as before → after above the table (and
 * nothing when nothing does), marks percentiles censored at the timeout as lower bounds (`≥`,
 * `lower_bound` in JSON), and states the HDR resolution with the thresholds.
 */
import assert from "node:assert/strict";
import type { LoadedReport } from "../../lib/report/read.ts";
import { compareRuns } from "../../lib/verdict/compare.ts";
import { decideVerdict, defaultThresholds } from "../../lib/verdict/verdict.ts";
import { renderTerminal } from "../../lib/render/terminal.ts";
import { renderMarkdown } from "../../lib/render/markdown.ts";
import { comparisonJson } from "../../lib/render/json.ts";
import { renderCompareHtml } from "../../lib/render/html.ts";
import { noiseLines } from "../../lib/render/wording.ts";
import { toGab } from "../../lib/render/export.ts";
import { spectrumSection } from "../../lib/render/html_plots.ts";
import { COLORS, runView } from "../../lib/render/html_parts.ts";
import { metricChange } from "../../lib/verdict/compare.ts";
import type { Comparison } from "../../lib/verdict/types.ts";
import { makeReport, shapedSamples } from "../fixtures/make_report.ts";

function pair(censorAfter: boolean, knobs: Record<string, unknown>) {
  const samples = (ms: number) => ({
    Store: shapedSamples({ p50: ms, p95: ms * 2, p99: ms * 3, p999: ms * 4 }),
  });
  const before = makeReport({ phase: "before", samplesMs: samples(1) });
  const after = makeReport({ phase: "after", samplesMs: samples(censorAfter ? 2500 : 1) });
  before.target.details = { pid: 1, knobs: {}, dim: 768 };
  after.target.details = { pid: 2, knobs, dim: 768 };
  if (censorAfter) {
    after.errors_by_kind = { timeout: 860 };
    after.per_operation_stats.Store.errors_by_kind = { timeout: 860 };
  }
  const b: LoadedReport = { kind: "current", path: "001_before.json", report: before };
  const a: LoadedReport = { kind: "current", path: "001_after.json", report: after };
  const c = compareRuns({ task: "001", mode: "internal", before: b, after: a });
  return { c, v: decideVerdict(c, defaultThresholds("internal")), b, a };
}

const KNOB_LINE = "Reference knobs: none → --ref-latency-ms 2";
const RESOLUTION =
  "Resolution: latencies are recorded to ±0.1% (HdrHistogram, 3 significant digits)";

Deno.test("terminal: before → after above the table, lower bounds marked, resolution stated", () => {
  const { c, v } = pair(true, { latencyMs: 2 });
  const lines = renderTerminal(c, v).split("\n");
  const at = lines.indexOf(KNOB_LINE);
  assert.ok(at > 0, lines.join("\n"));
  assert.match(lines[at - 1], /^After: /);
  assert.match(lines[at + 2], /^Metric /);
  const row = (label: string) => lines.find((l) => l.startsWith(label))!;
  assert.match(row("P50 latency (ms)"), /1\.000 +≥250\d\.\d{3} +≥\+2499\d\d\.\d%( \[.*\])?$/);
  assert.match(row("P99 latency (ms)"), /3\.\d{3} +≥750\d\.\d{3} +≥\+2499\d\d\.\d%( \[.*\])?$/);
  assert.match(row("Throughput (ops/s)"), / \+0\.0%( \[.*\])?$/);
  assert.match(row("Store P99 (ms)"), / ≥750\d\.\d{3} +≥\+2499\d\d\.\d%$/);
  const checking = lines.indexOf("Checking for internal regressions (>5% threshold)...");
  assert.equal(lines[checking - 1], RESOLUTION);
  assert.ok(
    lines.some((l) =>
      /^- After: +P50=≥250\d(\.\d+)?ms, P95=≥500\d(\.\d+)?ms, P99=≥750\d(\.\d+)?ms, /.test(l)
    ),
  );
  assert.match(
    lines.find((l) => l.startsWith("Performance: "))!,
    /^Performance: P99 latency ≥\+2499\d\d\.\d%/,
  );
});

Deno.test("terminal: nothing differs, nothing censored: no extra line, no mark", () => {
  const { c, v } = pair(false, {});
  const text = renderTerminal(c, v);
  assert.ok(!text.includes("→ --ref"), text);
  assert.ok(!text.includes("≥"), text);
  assert.match(text, /^After: .*\n\nMetric /m);
  assert.deepEqual(c.differences, []);
});

Deno.test("markdown, JSON and HTML carry the same lines and bounds", () => {
  const { c, v, b, a } = pair(true, { latencyMs: 2 });
  const md = renderMarkdown(c, v);
  assert.match(md, /^- Reference knobs: none → --ref-latency-ms 2$/m);
  assert.match(md, /^\| P99 latency \(ms\) \| 3\.\d{3} \| ≥750\d\.\d{3} \| ≥\+2499\d\d\.\d% \|/m);
  assert.ok(md.includes(`_Thresholds: 5%. ${RESOLUTION}._`), md);
  const j = comparisonJson(c, v, []);
  assert.deepEqual(j.differences, [
    { what: "Reference knobs", before: "none", after: "--ref-latency-ms 2" },
  ]);
  assert.deepEqual(j.metrics.p99_latency_ms.lower_bound, { before: false, after: true });
  assert.equal(j.metrics.p99_latency_ms.change_bound, "lower");
  assert.equal(j.metrics.overall_throughput.change_bound, "exact");
  assert.equal(j.thresholds.latency_resolution_pct, 0.1);
  const html = renderCompareHtml({ comparison: c, verdict: v, before: b, after: a });
  assert.ok(html.includes(`<li>${KNOB_LINE}</li>`), "difference line in HTML");
  assert.match(html, />≥750\d\.\d{3}</, "bound in HTML");
  assert.match(html, />≥\+2499\d\d\.\d%</);
  assert.ok(html.includes(RESOLUTION));
});

/** The comparison with its P99 replaced and a bootstrap interval of [-1%, +10%] on it. */
function withP99(c: Comparison, before: number, after: number, censored: {
  before: boolean;
  after: boolean;
}): Comparison {
  const p99 = { ...metricChange(before, after, censored), ci: [-1, 10] as [number, number] };
  return {
    ...c,
    statistics: { runs: c.statistics.runs, noise: c.statistics.noise, method: "bootstrap" },
    metrics: { ...c.metrics, p99 },
  };
}

Deno.test("noise notes show a censored P99 change as a bound or as censored, never exact", () => {
  const { c, v } = pair(false, {});
  const t = v.thresholds;
  const note = (x: Comparison) => noiseLines(x, t).find((l) => l.startsWith("Note: P99 change"));
  const interval = "is within noise: its 95% interval [-1.0%, +10.0%] contains the 5% threshold";
  // Exact: the number as it is.
  assert.equal(
    note(withP99(c, 9700, 10000, { before: false, after: false }))?.split(";")[0],
    `Note: P99 change +3.1% ${interval}`,
  );
  // After censored at the timeout: at least this.
  assert.equal(
    note(withP99(c, 9700, 10000, { before: false, after: true }))?.split(";")[0],
    `Note: P99 change ≥+3.1% ${interval}`,
  );
  // Before censored: at most this.
  assert.equal(
    note(withP99(c, 9700, 10000, { before: true, after: false }))?.split(";")[0],
    `Note: P99 change ≤+3.1% ${interval}`,
  );
  // Both censored: no number at all, in every rendering that prints the notes.
  const both = withP99(c, 9700, 10000, { before: true, after: true });
  assert.equal(note(both)?.split(";")[0], `Note: P99 change censored ${interval}`);
  for (const text of [renderTerminal(both, v), renderMarkdown(both, v)]) {
    assert.ok(text.includes(`P99 change censored ${interval}`), text);
    assert.ok(!text.includes("P99 change +3.1%"), text);
  }
});

Deno.test("HTML percentile spectrum: percentiles among the timed-out requests are marked ≥", () => {
  const report = makeReport({
    phase: "after",
    samplesMs: { Store: shapedSamples({ p50: 1, p95: 2, p99: 3, p999: 4, max: 5 }) },
  });
  // 2% of 1000 requests timed out: ranks above 980 are censored (P99 and above), P90 is not.
  report.errors_by_kind = { timeout: 20 };
  const cell = (html: string, label: string) =>
    new RegExp(`<tr><td>${label}</td><td class="num">([^<]*)</td></tr>`).exec(html)?.[1];
  const html = spectrumSection([runView("After", "after", COLORS.after, "a.json", report)]);
  assert.equal(cell(html, "P50"), "1.000");
  assert.equal(cell(html, "P90"), "2.000");
  assert.match(cell(html, "P99")!, /^≥3\.\d{3}$/);
  assert.match(cell(html, "P99\\.9")!, /^≥4\.\d{3}$/);
  assert.match(cell(html, "P99\\.99")!, /^≥5\.\d{3}$/);
  assert.match(cell(html, "max")!, /^≥5\.\d{3}$/);
  // Nothing timed out: no marks.
  report.errors_by_kind = {};
  const exact = spectrumSection([runView("After", "after", COLORS.after, "a.json", report)]);
  assert.match(cell(exact, "P99")!, /^3\.\d{3}$/);
  assert.ok(!exact.includes('<td class="num">≥'), exact);
  // The comparison page's spectrum marks the censored after run, not the before run.
  const { c, v, b, a } = pair(true, {});
  const page = renderCompareHtml({ comparison: c, verdict: v, before: b, after: a });
  const spectrum = page.slice(page.indexOf('<section id="spectrum">'));
  assert.match(
    spectrum,
    /<tr><td>P50<\/td><td class="num">1\.000<\/td><td class="num">≥250\d\.\d{3}<\/td><\/tr>/,
  );
});

Deno.test("github-action-benchmark export: a censored percentile's extra says it is a bound", () => {
  const { c } = pair(true, {});
  const p99 = toGab(c).find((e) => e.name.endsWith("/p99-latency"))!;
  assert.match(
    p99.extra!,
    /^before: 3(\.\d+)? ms; after: ≥750\d(\.\d+)? ms \(a lower bound\); change: ≥\+2499\d\d\.\d%[ ;]/,
  );
  const exact = toGab(pair(false, {}).c).find((e) => e.name.endsWith("/p99-latency"))!;
  assert.ok(!exact.extra!.includes("≥"), exact.extra);
});
