/**
 * `--export bmf|gab FILE`: the documented field names and shapes of Bencher Metric Format and
 * github-action-benchmark's customSmallerIsBetter, their units, the flag parsing, and the CLI.
 *
 * BMF (bencher.dev/docs/reference/bencher-metric-format): a JSON object keyed by benchmark name;
 * each an object keyed by measure (slug); each `{ value: number, lower_value?: number,
 * upper_value?: number }`. The built-in `latency` measure is in nanoseconds, `throughput` in
 * operations per second.
 * github-action-benchmark (custom tools): a JSON array of `{ name: string, unit: string,
 * value: number, range?: string, extra?: string }`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compareRuns } from "../../lib/verdict/compare.ts";
import { decideVerdict, defaultThresholds } from "../../lib/verdict/verdict.ts";
import type { Comparison } from "../../lib/verdict/types.ts";
import { readReport } from "../../lib/report/read.ts";
import { type Bmf, renderExport, toBmf, toGab } from "../../lib/render/export.ts";
import {
  compareCli,
  comparePair,
  LEGACY_AFTER,
  LEGACY_BEFORE,
  run,
  withPairOnDisk,
} from "../fixtures/pair.ts";

/** The comparison of a fixture pair without confidence intervals (as old reports give). */
function withoutIntervals(c: Comparison): Comparison {
  for (const m of [...Object.values(c.metrics), ...c.operations.map((o) => o.p99Ms)]) delete m.ci;
  return c;
}

const BMF_METRIC_KEYS = ["value", "lower_value", "upper_value"];
const GAB_KEYS = ["name", "unit", "value", "range", "extra"];

/** Checks a value against the BMF JSON schema (required `value`, only the three keys). */
function assertBmf(doc: unknown): asserts doc is Bmf {
  assert.ok(typeof doc === "object" && doc !== null && !Array.isArray(doc));
  assert.ok(Object.keys(doc).length > 0);
  for (const [benchmark, measures] of Object.entries(doc as Record<string, unknown>)) {
    assert.ok(benchmark.length > 0 && benchmark.length <= 1024, benchmark);
    assert.ok(typeof measures === "object" && measures !== null && !Array.isArray(measures));
    for (const [slug, metric] of Object.entries(measures as Record<string, unknown>)) {
      assert.match(slug, /^[a-z0-9]+(-[a-z0-9]+)*$/, "measure slugs are kebab case");
      assert.ok(slug.length <= 64);
      const m = metric as Record<string, unknown>;
      assert.equal(typeof m.value, "number", `${benchmark} ${slug}`);
      assert.ok(Number.isFinite(m.value));
      for (const key of Object.keys(m)) assert.ok(BMF_METRIC_KEYS.includes(key), key);
      for (const bound of ["lower_value", "upper_value"]) {
        if (bound in m) assert.ok(Number.isFinite(m[bound]), bound);
      }
      if ("lower_value" in m && "upper_value" in m) {
        assert.ok((m.lower_value as number) <= (m.upper_value as number));
      }
    }
  }
}

/** Checks a value against github-action-benchmark's custom JSON. */
function assertGab(doc: unknown): void {
  assert.ok(Array.isArray(doc) && doc.length > 0);
  const names = new Set<string>();
  for (const entry of doc as Record<string, unknown>[]) {
    for (const key of Object.keys(entry)) assert.ok(GAB_KEYS.includes(key), key);
    assert.equal(typeof entry.name, "string");
    assert.equal(typeof entry.unit, "string");
    assert.equal(typeof entry.value, "number");
    assert.ok(Number.isFinite(entry.value));
    if ("range" in entry) assert.equal(typeof entry.range, "string");
    if ("extra" in entry) assert.equal(typeof entry.extra, "string");
    assert.ok(!names.has(entry.name as string), `duplicate name ${entry.name}`);
    names.add(entry.name as string);
  }
}

Deno.test("BMF: benchmark m17/<task>/<scenario>, latencies in ns, throughput in ops/s", () => {
  const comparison = withoutIntervals(comparePair(run(1), run(1.02)).comparison);
  const bmf = toBmf(comparison);
  assertBmf(bmf);
  assert.deepEqual(Object.keys(bmf), [
    "m17/001/m17_baseline",
    "m17/001/m17_baseline/Store",
    "m17/001/m17_baseline/Recall",
  ]);
  const overall = bmf["m17/001/m17_baseline"];
  assert.deepEqual(Object.keys(overall), [
    "latency",
    "p50-latency",
    "p95-latency",
    "p99-latency",
    "p999-latency",
    "throughput",
    "error-rate",
  ]);
  // The after run: P99 0.618 ms = 618,000 ns; `latency` is the P99 the verdict judges.
  assert.deepEqual(overall["latency"], { value: 618_000 });
  assert.deepEqual(overall["p99-latency"], { value: 618_000 });
  assert.equal(overall["p50-latency"].value, comparison.metrics.p50.after! * 1e6);
  assert.equal(overall["throughput"].value, comparison.metrics.throughput.after);
  assert.deepEqual(overall["error-rate"], { value: 0 });
  assert.deepEqual(bmf["m17/001/m17_baseline/Store"]["latency"], { value: 618_000 });
  for (const measures of Object.values(bmf)) {
    for (const m of Object.values(measures)) {
      assert.ok(Number.isInteger(m.value) || m === overall.throughput);
    }
  }
});

Deno.test("BMF: lower/upper values only from a confidence interval of the change", () => {
  const comparison = withoutIntervals(comparePair(run(1), run(1.02)).comparison);
  comparison.metrics.p99.ci = [-1, 5];
  comparison.metrics.throughput.ci = [-2, 1];
  const bmf = toBmf(comparison);
  assertBmf(bmf);
  const overall = bmf["m17/001/m17_baseline"];
  // before P99 0.606 ms × (1 − 1%) and × (1 + 5%), in ns.
  assert.deepEqual(overall["latency"], {
    value: 618_000,
    lower_value: 599_940,
    upper_value: 636_300,
  });
  assert.ok(overall["throughput"].lower_value! < overall["throughput"].upper_value!);
  assert.equal("lower_value" in overall["p50-latency"], false);
});

Deno.test("gab: customSmallerIsBetter entries are latencies (ms) and error rate (%) only", () => {
  const comparison = withoutIntervals(comparePair(run(1), run(1.02)).comparison);
  const entries = toGab(comparison);
  assertGab(entries);
  assert.deepEqual(entries.map((e) => [e.name, e.unit]), [
    ["m17/001/m17_baseline/p50-latency", "ms"],
    ["m17/001/m17_baseline/p95-latency", "ms"],
    ["m17/001/m17_baseline/p99-latency", "ms"],
    ["m17/001/m17_baseline/p999-latency", "ms"],
    ["m17/001/m17_baseline/error-rate", "%"],
    ["m17/001/m17_baseline/Store/p99-latency", "ms"],
    ["m17/001/m17_baseline/Recall/p99-latency", "ms"],
  ]);
  // Throughput is bigger-is-better: never in a smaller-is-better file.
  assert.ok(entries.every((e) => !/throughput/i.test(e.name)));
  const p99 = entries.find((e) => e.name.endsWith("/p99-latency"))!;
  assert.equal(p99.value, 0.618);
  assert.equal(p99.range, undefined);
  assert.match(p99.extra!, /^before: 0\.606 ms; change: \+2\.0%; m17_compare /);

  comparison.metrics.p99.ci = [-1, 5];
  const withCi = toGab(comparison).find((e) => e.name.endsWith("/p99-latency"))!;
  assert.equal(withCi.range, "0.59994 to 0.6363 ms (95% CI)");
  assert.match(withCi.extra!, /\(95% CI -1\.0% to \+5\.0%\)/);
});

Deno.test("exports of old-tool reports leave out what those reports lack", async () => {
  const before = await readReport(LEGACY_BEFORE);
  const after = await readReport(LEGACY_AFTER);
  const comparison = compareRuns({ task: "005", mode: "internal", before, after });
  decideVerdict(comparison, defaultThresholds("internal"));
  const bmf = JSON.parse(renderExport("bmf", comparison));
  assertBmf(bmf);
  const name = `m17/005/${comparison.after.scenario}`;
  assert.equal("p999-latency" in bmf[name], false);
  assert.equal("p99-latency" in bmf[name], true);
  const gab = JSON.parse(renderExport("gab", comparison));
  assertGab(gab);
  assert.ok(gab.every((e: { name: string }) => !e.name.endsWith("p999-latency")));
});

Deno.test("m17_compare --export bmf FILE --export gab FILE writes both, atomically", async () => {
  await withPairOnDisk(run(1), run(1.02), async (dir) => {
    const r = await compareCli(dir, [
      "001",
      "--export",
      "bmf",
      "bmf.json",
      "--export",
      "gab",
      "out/gab.json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /\nBMF export: bmf\.json\ngithub-action-benchmark export: out\/gab\.json\n$/,
    );
    assertBmf(JSON.parse(await Deno.readTextFile(join(dir, "bmf.json"))));
    assertGab(JSON.parse(await Deno.readTextFile(join(dir, "out/gab.json"))));
    assert.deepEqual([...Deno.readDirSync(join(dir, "out"))].map((e) => e.name), ["gab.json"]);

    const bad = await compareCli(dir, ["001", "--export", "xml", "x.xml"]);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /^m17_compare: --export needs a format and a file/);
  });
});
