/**
 * The HTML reports: self-contained (no scripts, no external references), the plots drawn from
 * the reports (series and point counts), the verdict, escaping of untrusted strings, old-tool
 * reports, the single-run page, and `m17_compare --html` end to end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readReport } from "../../lib/report/read.ts";
import { compareRuns } from "../../lib/verdict/compare.ts";
import { decideVerdict, defaultThresholds } from "../../lib/verdict/verdict.ts";
import { compareHtmlPath } from "../../lib/report/files.ts";
import { renderCompareHtml } from "../../lib/render/html.ts";
import { renderRunHtml } from "../../lib/render/html_run.ts";
import { SPECTRUM_POINTS, spectrumPercentiles, spectrumX } from "../../lib/render/html_plots.ts";
import { escapeHtml, linearTicks, logTicks } from "../../lib/render/plot.ts";
import { makeReport } from "../fixtures/make_report.ts";
import {
  compareCli,
  comparePair,
  LEGACY_AFTER,
  LEGACY_BEFORE,
  loaded,
  OUT,
  run,
  withPairOnDisk,
} from "../fixtures/pair.ts";

/** Each plot's series: id → [declared data-points, points actually drawn]. */
type Plots = Map<string, Map<string, [declared: number, drawn: number]>>;

/** Reads every `<svg data-plot>` and counts its series and their points. */
export function plotsOf(html: string): Plots {
  const plots: Plots = new Map();
  for (
    const svg of html.matchAll(/<svg class="chart" data-plot="([^"]+)"[^>]*>([\s\S]*?)<\/svg>/g)
  ) {
    const series = new Map<string, [number, number]>();
    for (const line of svg[2].matchAll(/<polyline[^>]*>/g)) {
      const id = /data-series="([^"]+)"/.exec(line[0])![1];
      const declared = Number(/data-points="(\d+)"/.exec(line[0])![1]);
      const points = /\spoints="([^"]*)"/.exec(line[0])![1].trim();
      series.set(id, [declared, points === "" ? 0 : points.split(/\s+/).length]);
    }
    for (
      const g of svg[2].matchAll(
        /<g data-series="([^"]+)" data-points="(\d+)"[^>]*>([\s\S]*?)<\/g>/g,
      )
    ) {
      series.set(g[1], [Number(g[2]), [...g[3].matchAll(/<rect data-point/g)].length]);
    }
    plots.set(svg[1], series);
  }
  return plots;
}

/** Asserts the page references nothing outside itself and runs no code. */
function assertSelfContained(html: string): void {
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  for (const forbidden of [/<script/i, /<link/i, /<img/i, /<iframe/i, /<object/i, /<embed/i]) {
    assert.doesNotMatch(html, forbidden);
  }
  // No resource references at all: no src/href attributes, no CSS url() or @import, no URL
  // inside any tag (a target URL or a hostile path may appear as escaped text, never as markup).
  for (const tag of html.matchAll(/<[^>]*>/g)) {
    assert.doesNotMatch(tag[0], /\s(src|href|srcset|xlink:href|action|poster|on[a-z]+)\s*=/i);
    assert.doesNotMatch(tag[0], /https?:|\/\/|url\s*\(/i);
  }
  const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
  assert.doesNotMatch(css, /url\s*\(|@import|@font-face/i);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
}

Deno.test("compare page: self-contained, verdict and thresholds first", () => {
  const { before, after, comparison, verdict } = comparePair(run(1), run(1.02));
  const html = renderCompareHtml({ comparison, verdict, before, after });
  assertSelfContained(html);
  const verdictAt = html.indexOf('id="verdict"');
  assert.ok(verdictAt > 0 && verdictAt < html.indexOf('id="spectrum"'));
  assert.match(html, /data-verdict="pass"/);
  assert.match(html, /✓ No regression past the 5% threshold on this pair of runs/);
  assert.match(html, /<td>P99 latency<\/td><td>change at most \+5%<\/td>/);
  assert.match(html, /<td>Throughput<\/td><td>change at least −5%<\/td>/);
  assert.match(
    html,
    /A regression is P99 latency up by more than 5%, throughput down by more than 5%/,
  );
  assert.match(html, /Performance: P99 latency \+2\.0%, throughput \+0\.0% \(within 5% target\)/);
});

Deno.test("compare page: a regression is named with the failed criterion", () => {
  const { before, after, comparison, verdict } = comparePair(run(1), run(1.1));
  const html = renderCompareHtml({ comparison, verdict, before, after });
  assert.match(html, /data-verdict="regression"/);
  // One pair of runs: unconfirmed, never a bare REGRESSION.
  assert.match(html, />UNCONFIRMED REGRESSION</);
  assert.match(
    html,
    /⚠ UNCONFIRMED: P99 latency increased by 10\.1% on one pair of runs \(0\.606ms → 0\.667ms; threshold: \+5%\)/,
  );
  assert.match(html, /class="status status-fail">fail</);
});

Deno.test("compare page: an inconclusive verdict (--significance) is shown as such", () => {
  const { before, after, comparison } = comparePair(run(1), run(1.1));
  comparison.metrics.p99.ci = [-5, 20];
  const verdict = decideVerdict(comparison, defaultThresholds("internal"), { significance: true });
  assert.equal(verdict.kind, "inconclusive");
  const html = renderCompareHtml({ comparison, verdict, before, after });
  assert.match(html, /class="verdict verdict-warn" data-verdict="inconclusive"/);
  assert.match(html, />INCONCLUSIVE</);
  assert.match(html, /class="status status-inconclusive">inconclusive</);
  assert.match(
    html,
    /With --significance, a change over the threshold must also be significantly worse/,
  );
});

Deno.test("compare page: every plot has a before and an after series with all their points", () => {
  const { before, after, comparison, verdict } = comparePair(run(1), run(1.02));
  const html = renderCompareHtml({ comparison, verdict, before, after });
  const plots = plotsOf(html);
  assert.deepEqual([...plots.keys()], [
    "spectrum",
    "p99-per-second",
    "throughput-per-second",
    "operations",
  ]);
  const seconds = (before.report as { intervals: unknown[] }).intervals.length;
  assert.equal(seconds, 60);
  const expected: Record<string, number> = {
    "spectrum": SPECTRUM_POINTS,
    "p99-per-second": seconds,
    "throughput-per-second": seconds,
    "operations": 2, // Store and Recall ran
  };
  for (const [plot, series] of plots) {
    assert.deepEqual([...series.keys()], ["before", "after"], plot);
    for (const [id, [declared, drawn]] of series) {
      assert.equal(declared, expected[plot], `${plot}/${id} declared`);
      assert.equal(drawn, declared, `${plot}/${id} drawn`);
    }
  }
});

Deno.test("compare page: spectrum percentiles and per-second values come from the reports", () => {
  const { before, after, comparison, verdict } = comparePair(run(1), run(2));
  const html = renderCompareHtml({ comparison, verdict, before, after });
  // The percentile table under the spectrum: P99 from the decoded overall histogram.
  assert.match(html, /<td>P99<\/td><td class="num">0\.606<\/td><td class="num">1\.212<\/td>/);
  assert.match(html, /<td>P99\.99<\/td>/);
  // x ticks of the spectrum, log10(1/(1−p)).
  for (const label of ["50%", "90%", "99%", "99.9%", "99.99%"]) {
    assert.match(html, new RegExp(`text-anchor="middle">${label.replace(".", "\\.")}</text>`));
  }
});

Deno.test("compare page: confidence intervals shown where the comparison has them", () => {
  const { before, after, comparison, verdict } = comparePair(run(1), run(1.02));
  comparison.metrics.p99.ci = [1.5, 4.25];
  comparison.operations[0].p99Ms.ci = [-2, 6];
  comparison.operations[1].p99Ms.pValue = 0.031;
  delete comparison.metrics.p50.ci;
  const html = renderCompareHtml({ comparison, verdict, before, after });
  assert.match(html, /<td>P99 latency \(ms\)<\/td>.*?<td class="num">\[\+1\.5%, \+4\.3%\]<\/td>/);
  assert.match(html, /<td>Store<\/td>.*?<td class="num">\[-2\.0%, \+6\.0%\]<\/td>/);
  assert.match(html, /<td>Recall<\/td>.*?<td class="num">p = 0\.031<\/td>/);
  // No interval: a dash, never a made-up number.
  assert.match(
    html,
    /<td>P50 latency \(ms\)<\/td>(<td class="num">[^<]*<\/td>){3}<td class="num">–<\/td>/,
  );
});

Deno.test("compare page: untrusted strings are escaped, never markup", () => {
  const evil = "<script>alert(1)</script>";
  const { before, after } = comparePair(
    run(1, { scenarioName: `<b onmouseover="x">s</b>` }),
    run(1.02, { scenarioName: `<b onmouseover="x">s</b>` }),
  );
  const b = loaded(before.report as never, `${OUT}/"><img src=x onerror=alert(1)>.json`);
  const comparison = compareRuns({ task: evil, mode: "internal", before: b, after });
  const verdict = decideVerdict(comparison, defaultThresholds("internal"));
  const html = renderCompareHtml({
    comparison,
    verdict,
    before: b,
    after,
    warnings: [`warning about ${evil}`],
  });
  assertSelfContained(html);
  assert.doesNotMatch(html, /<script>|<img |<b onmouseover/);
  assert.match(html, /task &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;\.json/);
  assert.match(html, /&lt;b onmouseover=&quot;x&quot;&gt;s&lt;\/b&gt;/);
  assert.equal(escapeHtml(`<>&"'`), "&lt;&gt;&amp;&quot;&#39;");
});

Deno.test("compare page: old-tool reports have no plots of data, and say so", async () => {
  const before = await readReport(LEGACY_BEFORE);
  const after = await readReport(LEGACY_AFTER);
  const comparison = compareRuns({ task: "005", mode: "internal", before, after });
  const verdict = decideVerdict(comparison, defaultThresholds("internal"));
  const html = renderCompareHtml({ comparison, verdict, before, after });
  assertSelfContained(html);
  const plots = plotsOf(html);
  // Only the per-operation P99 (in every old report) is plotted.
  assert.deepEqual([...plots.keys()], ["operations"]);
  assert.match(html, /Before: no response-time histogram/);
  assert.match(html, /After: no per-second intervals/);
  assert.match(html, /The reports record no definitions/);
});

Deno.test("compare page: definitions of every number and the files it came from", () => {
  const { before, after, comparison, verdict } = comparePair(
    run(1, { stem: `${OUT}/001_before_20250101_120000` }),
    run(1.02, { stem: `${OUT}/001_after_20250101_130000` }),
  );
  const html = renderCompareHtml({ comparison, verdict, before, after });
  for (
    const term of [
      "Response time (latency)",
      "Service time",
      "Schedule lag",
      "Percentiles",
      "Histograms",
      "Throughput",
      "Percentile spectrum",
      "P99 per second",
      "Change",
      "95% CI",
      "p-value",
    ]
  ) {
    assert.match(
      html,
      new RegExp(
        `<dt>${term.replace(/[()]/g, "\\$&")}</dt><dd>[^<]+(<code>[^<]+</code>[^<]*)*</dd>`,
      ),
      term,
    );
  }
  for (const suffix of [".json", "_loadtest.log", ".hlog", "_sys.txt", "_diag.txt"]) {
    assert.ok(html.includes(`<code>${OUT}/001_after_20250101_130000${suffix}</code>`), suffix);
    assert.ok(html.includes(`<code>${OUT}/001_before_20250101_120000${suffix}</code>`), suffix);
  }
});

Deno.test("run page: one series per plot, validity instead of a verdict", () => {
  const report = makeReport({ ...run(1), phase: "after", stem: `${OUT}/001_after_x` });
  const html = renderRunHtml(report, `${OUT}/001_after_x.json`);
  assertSelfContained(html);
  assert.doesNotMatch(html, /id="verdict"|Change|Before/);
  assert.match(html, /data-valid="true"/);
  assert.match(html, /VALID RUN/);
  const plots = plotsOf(html);
  assert.deepEqual([...plots.keys()], [
    "spectrum",
    "p99-per-second",
    "throughput-per-second",
    "operations",
  ]);
  for (const [plot, series] of plots) {
    assert.deepEqual([...series.keys()], ["run"], plot);
    const [declared, drawn] = series.get("run")!;
    assert.equal(drawn, declared, plot);
  }
  assert.equal(plots.get("spectrum")!.get("run")![0], SPECTRUM_POINTS);
  assert.equal(plots.get("operations")!.get("run")![0], 2);

  const invalid = renderRunHtml(
    { ...report, valid: false, invalid_reasons: ["server died <now>"] },
    "r.json",
  );
  assert.match(invalid, /data-valid="false"/);
  assert.match(invalid, /<li>server died &lt;now&gt;<\/li>/);
});

Deno.test("run page: a run without a measured window shows why, no headline numbers and no plots", () => {
  const report = makeReport({ ...run(1), phase: "after", stem: `${OUT}/001_after_x` });
  const html = renderRunHtml({
    ...report,
    valid: false,
    invalid_reasons: ["interrupted by SIGINT during preload: no measured window"],
    no_measured_window: "interrupted by SIGINT during preload",
  }, `${OUT}/001_after_x.json`);
  assertSelfContained(html);
  assert.match(html, /INVALID RUN/);
  assert.match(html, /<section id="no-window"><h2>No measured window<\/h2>/);
  assert.match(html, /interrupted by SIGINT during preload: the run stopped before its measured/);
  assert.doesNotMatch(html, /id="headline"|id="operations"/);
  assert.deepEqual([...plotsOf(html).keys()], []);
  // What identifies the run and its files is still there.
  assert.match(html, /<section id="runs">/);
  assert.ok(html.includes(`<code>${OUT}/001_after_x_loadtest.log</code>`));
});

Deno.test("spectrum axis: P50 to P99.99 evenly in log10(1/(1−p)); ticks are round", () => {
  const ps = spectrumPercentiles();
  assert.equal(ps.length, SPECTRUM_POINTS);
  assert.equal(ps[0], 50);
  assert.ok(Math.abs(ps.at(-1)! - 99.99) < 1e-9);
  const steps = ps.slice(1).map((p, i) => spectrumX(p) - spectrumX(ps[i]));
  for (const s of steps) assert.ok(Math.abs(s - steps[0]) < 1e-9);
  assert.ok(Math.abs(spectrumX(99.9) - 3) < 1e-9);
  assert.deepEqual(logTicks(0.3, 40).map((t) => t.label), [
    "0.2",
    "0.5",
    "1",
    "2",
    "5",
    "10",
    "20",
    "50",
  ]);
  assert.deepEqual(linearTicks(59, 6).map((t) => t.value), [0, 10, 20, 30, 40, 50, 60]);
});

Deno.test("m17_compare --html writes the default file and names it", async () => {
  await withPairOnDisk(run(1), run(1.02), async (dir) => {
    const r = await compareCli(dir, ["001", "--html"]);
    assert.equal(r.code, 0, r.stderr);
    const path = compareHtmlPath(OUT, "001", "internal");
    assert.equal(path, `${OUT}/001_compare.html`);
    assert.match(r.stdout, new RegExp(`\\nHTML report: ${path}\\n$`));
    const html = await Deno.readTextFile(join(dir, path));
    assertSelfContained(html);
    assert.match(html, /data-verdict="pass"/);
    // No temp file left behind by the atomic write.
    const names = [...Deno.readDirSync(join(dir, OUT))].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "001_after_20250101_130000.json",
      "001_before_20250101_120000.json",
      "001_compare.html",
    ]);
  });
});

Deno.test("m17_compare --html FILE.html, --html=FILE; JSON output stays clean", async () => {
  await withPairOnDisk(run(1), run(1.1), async (dir) => {
    const r = await compareCli(dir, ["--html", "out/report.html", "001", "--json"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(JSON.parse(r.stdout).verdict, "regression");
    assert.equal(r.stderr, "HTML report: out/report.html\n");
    assert.match(
      await Deno.readTextFile(join(dir, "out/report.html")),
      /data-verdict="regression"/,
    );

    // `--html 001`: 001 is the task, the file is the default one.
    const r2 = await compareCli(dir, ["--html", "001"]);
    assert.equal(r2.code, 1, r2.stderr);
    assert.match(r2.stdout, /HTML report: tmp\/m17_performance\/001_compare\.html\n$/);

    const r3 = await compareCli(dir, ["001", "--html=named"]);
    assert.equal(r3.code, 1, r3.stderr);
    assert.ok((await Deno.stat(join(dir, "named"))).isFile);
  });
});

Deno.test("m17_compare --html: an unwritable path is one clear line, exit 3", async () => {
  await withPairOnDisk(run(1), run(1.02), async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "");
    const r = await compareCli(dir, ["001", "--html", "file/x.html"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^m17_compare: HTML report file\/x\.html: .+ is a regular file, not a directory\n$/,
    );
  });
});

Deno.test("run page: an operation kind whose requests timed out shows its percentiles as lower bounds", () => {
  const report = makeReport({ ...run(1), phase: "after", stem: `${OUT}/001_after_x` });
  const [kind, stats] = Object.entries(report.per_operation_stats).find(([, s]) => s.count > 0)!;
  const p99 = (stats.p99_latency_us / 1000).toFixed(3);
  const p50 = (stats.p50_latency_us / 1000).toFixed(3);
  // 2% of this kind timed out: its P99 and P99.9 are lower bounds, its P50 is not.
  const censored = {
    ...report,
    per_operation_stats: {
      ...report.per_operation_stats,
      [kind]: { ...stats, errors_by_kind: { timeout: Math.ceil(stats.count * 0.02) } },
    },
  };
  const row = (html: string) => html.match(new RegExp(`<tr><td>${kind}</td>.*?</tr>`))?.[0] ?? "";
  const plain = row(renderRunHtml(report, "r.json"));
  assert.ok(plain.includes(`<td class="num">${p99}</td>`), plain);
  assert.ok(!plain.includes("≥"), plain);
  const marked = row(renderRunHtml(censored, "r.json"));
  assert.ok(marked.includes(`<td class="num">≥${p99}</td>`), marked);
  assert.ok(marked.includes(`<td class="num">${p50}</td>`), marked);
});
