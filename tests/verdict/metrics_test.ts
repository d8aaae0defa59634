/**
 * The metric table: one row per headline metric, subsets derived from it, values read from the
 * report fields it names (current and old-tool reports).
 */
import assert from "node:assert/strict";
import {
  GATED_METRICS,
  INTERVAL_METRICS,
  METRIC,
  METRIC_IDS,
  METRICS,
  metricValue,
  NOISE_METRICS,
  RUN_METRICS,
  runValue,
} from "../../lib/verdict/metrics.ts";
import { OLD_COMPARE_FIELDS } from "../../lib/report/schema.ts";
import { makeReport, toLegacy } from "../fixtures/make_report.ts";
import { loaded, run } from "../fixtures/pair.ts";

Deno.test("metric table: ids, labels, keys and slugs are each unique", () => {
  for (const field of ["id", "name", "label", "key"] as const) {
    const values = METRICS.map((m) => m[field]);
    assert.equal(new Set(values).size, values.length, field);
  }
  const slugs = METRICS.flatMap((m) => m.slug ?? []);
  assert.equal(new Set(slugs).size, slugs.length);
  for (const id of METRIC_IDS) assert.equal(METRIC[id].id, id);
});

Deno.test("metric table: the subsets in table order", () => {
  assert.deepEqual(METRIC_IDS, ["p50", "p95", "p99", "p999", "throughput", "errors", "error_rate"]);
  assert.deepEqual(INTERVAL_METRICS, ["p50", "p95", "p99", "throughput"]);
  assert.deepEqual(RUN_METRICS, ["p50", "p95", "p99", "throughput", "errors"]);
  assert.deepEqual(NOISE_METRICS, ["p50", "p95", "p99", "throughput"]);
  assert.deepEqual(GATED_METRICS, ["p99", "throughput", "errors"]);
  assert.equal(METRIC.throughput.worse, "lower");
  assert.ok(METRICS.filter((m) => m.id !== "throughput").every((m) => m.worse === "higher"));
});

Deno.test("metric table: every key but P99.9 is a field old-tool reports carry", () => {
  const old: readonly string[] = OLD_COMPARE_FIELDS;
  for (const m of METRICS) assert.equal(old.includes(m.key), m.id !== "p999", m.id);
});

Deno.test("metricValue / runValue: read the named report field; old reports have no P99.9", () => {
  const report = makeReport({ phase: "before", ...run(1) });
  const current = loaded(report, "a.json");
  const legacy = { kind: "legacy" as const, path: "b.json", report: toLegacy(report) };
  for (const m of METRICS) assert.equal(metricValue(current, m.id), report[m.key], m.id);
  assert.equal(metricValue(legacy, "p999"), null);
  assert.equal(metricValue(legacy, "p99"), report.p99_latency_ms);
  for (const id of RUN_METRICS) assert.equal(runValue(legacy, id), report[METRIC[id].key], id);
});
