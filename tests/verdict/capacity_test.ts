/**
 * Compare of two `check --find-rate` runs: the sustained-rate change and its line (terminal,
 * Markdown, JSON), the competitor's published QPS marked indicative, and what makes two capacity
 * runs incomparable.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import type { CapacityRecord, RunReport } from "../../lib/report/schema.ts";
import { capacityChange } from "../../lib/verdict/capacity.ts";
import { comparability, compareRuns } from "../../lib/verdict/compare.ts";
import { decideVerdict, defaultThresholds } from "../../lib/verdict/verdict.ts";
import type { Baseline } from "../../lib/verdict/baselines.ts";
import { capacityLines } from "../../lib/render/capacity_words.ts";
import { renderTerminal } from "../../lib/render/terminal.ts";
import { renderMarkdown } from "../../lib/render/markdown.ts";
import { renderJson } from "../../lib/render/json.ts";
import { sectionContent } from "../../lib/render/perflog.ts";
import { renderCompareHtml } from "../../lib/render/html.ts";
import { makeReport } from "../fixtures/make_report.ts";
import { loaded, OUT, run } from "../fixtures/pair.ts";

function capacity(sustained: number | null, extra: Partial<CapacityRecord> = {}): CapacityRecord {
  return {
    slo: { p99_ms: 20, p99_from: "scenario", max_error_rate: 0.01, error_rate_from: "scenario" },
    search: {
      from_rate: 10,
      to_rate: 100_000,
      step_seconds: 5,
      step_warmup_seconds: 1,
      precision_pct: 5,
      max_steps: 40,
      budget_seconds: 900,
      server_starts: 1,
    },
    steps: [],
    sustained_rate: sustained,
    bound: sustained === null ? "none" : "bracketed",
    stopped: sustained === null ? "nothing_passed" : "precision",
    search_seconds: 60,
    confirmed: sustained === null ? null : true,
    ...extra,
  };
}

function pair(b: CapacityRecord | undefined, a: CapacityRecord | undefined, mode = "internal") {
  const m = mode as "internal" | "competitive";
  const withCap = (r: RunReport, c: CapacityRecord | undefined, rate: number): RunReport => {
    if (c) r.capacity = c;
    r.scenario.rate = rate;
    return r;
  };
  const before = loaded(
    withCap(makeReport({ phase: "before", mode: m, ...run(1) }), b, b?.sustained_rate ?? 1000),
    `${OUT}/001_before_20250101_120000.json`,
  );
  const after = loaded(
    withCap(makeReport({ phase: "after", mode: m, ...run(1) }), a, a?.sustained_rate ?? 1000),
    `${OUT}/001_after_20250101_130000.json`,
  );
  return { before, after };
}

const NEO4J: Baseline = {
  id: "neo4j",
  displayName: "Neo4j",
  p99Ms: 27.96,
  qps: 280,
  source: "2022 third-party graph database benchmark",
  workload: "100K nodes",
  caveat: "indicative only",
};

Deno.test("capacityChange(): the sustained rate before and after and its change; null unless both are --find-rate runs", () => {
  const { before, after } = pair(capacity(480), capacity(432));
  const c = capacityChange(before, after, null)!;
  strictEqual(c.before.sustainedRate, 480);
  strictEqual(c.after.sustainedRate, 432);
  strictEqual(c.changePct, -10);
  strictEqual(c.competitor, null);
  // A change within the search's precision is said to be so.
  const near = pair(capacity(480), capacity(460));
  match(
    capacityLines(capacityChange(near.before, near.after, null))[0],
    /\(-4\.2%, within the search precision of 5%\)$/,
  );
  const plain = pair(undefined, undefined);
  strictEqual(capacityChange(plain.before, plain.after, null), null);
  const none = pair(capacity(480), capacity(null));
  strictEqual(capacityChange(none.before, none.after, null)!.changePct, null);
});

Deno.test("compare prints the sustained-rate line in the terminal, Markdown and JSON", () => {
  const { before, after } = pair(capacity(480), capacity(432, { confirmed: false }));
  const comparison = compareRuns({ task: "001", mode: "internal", before, after });
  const verdict = decideVerdict(comparison, defaultThresholds("internal"));
  const line =
    "Sustained rate (--find-rate; SLO P99 ≤ 20 ms, errors ≤ 1.00%): before 480 ops/s → after 432 ops/s (-10.0%)";
  deepStrictEqual(capacityLines(comparison.capacity), [
    line,
    "  not confirmed by the full-length run at the rate found: after",
  ]);
  ok(renderTerminal(comparison, verdict).includes(line));
  ok(renderMarkdown(comparison, verdict).includes(`- ${line}`));
  ok(
    sectionContent(comparison, verdict, null).results.some((l) =>
      l.startsWith(`- ${line}; not confirmed`)
    ),
  );
  // The HTML page: the line, and each side's steps drawn against offered rate.
  const steps = (rates: number[]) =>
    rates.map((rate, i) => ({
      index: i + 1,
      phase: "double" as const,
      offered_rate: rate,
      achieved_rate: rate,
      p99_ms: rate > 450 ? 90 : 10,
      p99_censored: false,
      operations: rate * 5,
      errors: 0,
      error_rate: 0,
      pass: rate <= 450,
      seconds: 6,
    }));
  if (before.kind === "current") before.report.capacity!.steps = steps([120, 240, 480]);
  if (after.kind === "current") after.report.capacity!.steps = steps([120, 240]);
  const html = renderCompareHtml({ comparison, verdict, before, after });
  ok(html.includes(line), "the line is on the page");
  match(html, /data-plot="capacity-p99"/);
  match(html, /data-series="capacity-p99-before" data-points="3"/);
  match(html, /data-series="capacity-achieved-after" data-points="2"/);
  const json = JSON.parse(renderJson(comparison, verdict, []));
  deepStrictEqual(json.capacity.before, {
    sustained_rate: 480,
    bound: "bracketed",
    confirmed: true,
    steps: 0,
  });
  strictEqual(json.capacity.change_pct, -10);
  // Two fixed-rate runs: no capacity line, `capacity: null` in JSON.
  const plain = pair(undefined, undefined);
  const c2 = compareRuns({ task: "001", mode: "internal", ...plain });
  deepStrictEqual(capacityLines(c2.capacity), []);
  strictEqual(
    JSON.parse(renderJson(c2, decideVerdict(c2, defaultThresholds("internal")), [])).capacity,
    null,
  );
});

Deno.test("compare in competitive mode sets the after rate against the competitor's published QPS, marked indicative", () => {
  const { before, after } = pair(capacity(50), capacity(56, { bound: "at_least" }), "competitive");
  const c = compareRuns({ task: "001", mode: "competitive", before, after, baseline: NEO4J });
  const lines = capacityLines(c.capacity);
  match(lines[0], /before 50 ops\/s → after ≥ 56 ops\/s \(\+12\.0%\)/);
  match(lines[1], /vs Neo4j's published 280 QPS \(indicative only: .*\): after sustains 0\.20×/);
  strictEqual(c.capacity!.competitor!.ratio, 0.2);
});

Deno.test("comparability: two --find-rate runs may differ in rate, not in SLO or search settings; a capacity run is not compared with a fixed-rate one", () => {
  const asked = { task: "001", mode: "internal" as const };
  const same = pair(capacity(480), capacity(432));
  deepStrictEqual(comparability(same.before, same.after, asked).problems, []);
  const slo = pair(capacity(480), capacity(432, { slo: { ...capacity(1).slo, p99_ms: 50 } }));
  match(comparability(slo.before, slo.after, asked).problems.join("\n"), /different SLOs/);
  const step = pair(
    capacity(480),
    capacity(432, { search: { ...capacity(1).search, step_seconds: 2 } }),
  );
  match(comparability(step.before, step.after, asked).problems.join("\n"), /different settings/);
  const mixed = pair(capacity(1000), undefined);
  match(
    comparability(mixed.before, mixed.after, asked).problems.join("\n"),
    /only the before report is a --find-rate run/,
  );
  // Fixed-rate runs at different rates are still refused.
  const fixed = pair(undefined, undefined);
  (fixed.after as { report: RunReport }).report.scenario.rate = 500;
  match(comparability(fixed.before, fixed.after, asked).problems.join("\n"), /different rates/);
});
