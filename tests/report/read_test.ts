/**
 * Reading reports: the old Rust tool's reports and current ones are told apart and checked for
 * every field compare uses; each problem is one line naming the file and the field.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseReport, readReport } from "../../lib/report/read.ts";
import {
  OLD_COMPARE_FIELDS,
  OLD_OP_STAT_FIELDS,
  OLD_REPORT_FIELDS,
  SCHEMA_VERSION,
} from "../../lib/report/schema.ts";
import { UsageError } from "../../lib/shared/errors.ts";
import { makeReport, shapedSamples, toLegacy } from "../fixtures/make_report.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/reports/${name}`, import.meta.url));
const LEGACY = fixture("legacy_005_before_20251109_232213.json");
const CURRENT = fixture("current_001_after_20250101_120000.json");

const current = () =>
  makeReport({ samplesMs: { Store: shapedSamples({ p50: 1, p95: 2, p99: 3, p999: 4 }) } });
const text = (value: unknown) => JSON.stringify(value);

Deno.test("readReport(): an old Rust tool report is read as legacy, with exactly its fields", async () => {
  const loaded = await readReport(LEGACY);
  assert.equal(loaded.kind, "legacy");
  assert.equal(loaded.path, LEGACY);
  assert.deepEqual(Object.keys(loaded.report), OLD_REPORT_FIELDS.map((f) => f.key));
  for (const stats of Object.values(loaded.report.per_operation_stats)) {
    assert.deepEqual(Object.keys(stats), [...OLD_OP_STAT_FIELDS]);
  }
  assert.equal(loaded.report.p99_latency_ms, 0.606);
});

Deno.test("readReport(): a current report on disk is read as current", async () => {
  const loaded = await readReport(CURRENT);
  assert.equal(loaded.kind, "current");
  if (loaded.kind !== "current") return;
  // Written before throughput counted late responses (schema 1): still read.
  assert.equal(loaded.report.schema_version, 1);
  assert.equal(loaded.report.task, "001");
  assert.equal(loaded.report.phase, "after");
  assert.equal(loaded.report.valid, true);
});

Deno.test("current reports carry every old field and the old compare script's jq fields", async () => {
  for (const report of [current(), JSON.parse(await Deno.readTextFile(CURRENT))]) {
    for (const field of OLD_REPORT_FIELDS) assert.ok(field.key in report, field.key);
    for (const field of OLD_COMPARE_FIELDS) assert.equal(typeof report[field], "number", field);
  }
});

Deno.test("parseReport(): a report made legacy by toLegacy() round-trips", () => {
  const legacy = toLegacy(current());
  const loaded = parseReport(text(legacy), "l.json");
  assert.equal(loaded.kind, "legacy");
  assert.deepEqual(loaded.report, legacy);
});

Deno.test("parseReport(): broken JSON says truncated or not valid", () => {
  for (const t of ["", "{", '{"a": [1, 2', "   "]) {
    assert.throws(
      () => parseReport(t, "r.json"),
      (e: Error) =>
        e instanceof UsageError &&
        e.message ===
          "report r.json is truncated or empty (the JSON ends early); rerun the check",
    );
  }
  assert.throws(
    () => parseReport("{x}", "r.json"),
    /^UsageError: report r.json is not valid JSON: /,
  );
  for (const t of ["[]", "3", "null", '"s"']) {
    assert.throws(() => parseReport(t, "r.json"), {
      name: "UsageError",
      message: "report r.json is not a JSON object",
    });
  }
});

Deno.test("parseReport(): every old field is checked, in the old tool's order", () => {
  const legacy = toLegacy(current()) as unknown as Record<string, unknown>;
  for (const field of OLD_REPORT_FIELDS) {
    const { [field.key]: _, ...without } = legacy;
    const type = { string: "a string", number: "a number", op_stats: "an object" }[field.kind];
    assert.throws(() => parseReport(text(without), "r.json"), {
      message: `report r.json: field '${field.key}' is missing or not ${type}`,
    });
  }
  assert.throws(() => parseReport(text({ ...legacy, total_errors: "3" }), "r.json"), {
    message: "report r.json: field 'total_errors' is missing or not a number",
  });
});

Deno.test("parseReport(): every old per-operation field is checked", () => {
  const legacy = toLegacy(current());
  for (const stat of OLD_OP_STAT_FIELDS) {
    const { [stat]: _, ...store } = legacy.per_operation_stats.Store;
    const broken = { ...legacy, per_operation_stats: { Store: store } };
    assert.throws(() => parseReport(text(broken), "r.json"), {
      message:
        `report r.json: field 'per_operation_stats.Store.${stat}' is missing or not a number`,
    });
  }
  assert.equal(parseReport(text({ ...legacy, per_operation_stats: {} }), "r.json").kind, "legacy");
});

Deno.test("parseReport(): current reports need their version and the fields compare uses", () => {
  const report = current() as unknown as Record<string, unknown>;
  assert.equal(parseReport(text(report), "r.json").kind, "current");
  assert.throws(() => parseReport(text({ ...report, schema_version: 99 }), "r.json"), {
    message:
      `report r.json: unknown schema_version 99 (this m17_compare reads versions 1 to ${SCHEMA_VERSION}); use a matching m17_compare`,
  });
  const cases: [Record<string, unknown>, string][] = [
    [{ valid: "yes" }, "field 'valid' is missing or not a boolean"],
    [{ invalid_reasons: [1] }, "field 'invalid_reasons' is missing or not a list of strings"],
    [{ workload_fingerprint: null }, "field 'workload_fingerprint' is missing or not a string"],
    [{ scenario: {} }, "field 'scenario.name' is missing or not a string"],
    [{ target: { kind: 1 } }, "field 'target.kind' is missing or not a string"],
    [{ mode: "fast" }, "field 'mode' is missing or not internal or competitive"],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => parseReport(text({ ...report, ...change }), "r.json"), {
      message: `report r.json: ${message}`,
    });
  }
});

Deno.test("readReport(): a missing file is a usage error naming it", async () => {
  await assert.rejects(() => readReport("/nonexistent/r.json"), {
    name: "UsageError",
    message: "report /nonexistent/r.json: no such file",
  });
});

Deno.test("parseReport(): content that contradicts itself or is not what it claims is one line (issue 25, class 7)", () => {
  const cases: [string, (r: Record<string, unknown>) => void, RegExp][] = [
    [
      "a started_at without a zone",
      (r) => r.started_at = "2025-01-01T12:00:00",
      /field 'started_at' \("2025-01-01T12:00:00"\) is not an ISO 8601 date and time with a zone/,
    ],
    ["a started_at that is not a date", (r) => r.started_at = "not a date", /'started_at'/],
    [
      "valid: true next to invalid_reasons",
      (r) => r.invalid_reasons = ["server died"],
      /is marked valid but lists invalid_reasons \(server died\)/,
    ],
    [
      "a per-second histogram that does not decode",
      (r) => (r.intervals as { histogram: string }[])[0].histogram = "AAAA",
      /field 'intervals\[0\]\.histogram' is not a valid histogram/,
    ],
    [
      "a per-second histogram holding more responses than requests",
      (r) => (r.intervals as { count: number }[])[0].count = 0,
      /field 'intervals\[0\]\.histogram' is not a valid histogram \(\d+ responses recorded for 0/,
    ],
    [
      "a run histogram that is garbage",
      (r) => (r.histograms as Record<string, unknown>).response_time = "garbage!",
      /field 'histograms\.response_time' is not a valid histogram/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    const report = JSON.parse(text(current()));
    edit(report);
    assert.throws(() => parseReport(text(report), "r.json"), (e: unknown) => {
      assert.ok(e instanceof UsageError, what);
      assert.match(e.message, /^report r\.json: /, what);
      assert.match(e.message, message, what);
      assert.equal(e.message.split("\n").length, 1, what);
      return true;
    });
  }
  // A zoned time in another zone is fine.
  const other = JSON.parse(text(current()));
  other.started_at = "2025-01-01T14:00:00+02:00";
  assert.equal(parseReport(text(other), "r.json").kind, "current");
});

Deno.test("parseReport(): a number too large for a double (p99: 1e999) is named as such", () => {
  const legacy = JSON.stringify(toLegacy(current())).replace(
    /"p99_latency_ms":\s*[\d.e+-]+/,
    '"p99_latency_ms": 1e999',
  );
  assert.throws(
    () => parseReport(legacy, "old.json"),
    /report old\.json: field 'p99_latency_ms' is too large to be a measurement \(beyond 1\.8e308/,
  );
});

Deno.test("parseReport(): 1e999 anywhere (a per-operation or summary field) is named too large", () => {
  const text = JSON.stringify(current())
    .replace(/"p99_ms":\s*[\d.e+-]+/, '"p99_ms": 1e999');
  assert.throws(
    () => parseReport(text, "r.json"),
    /field '[a-z_]+\.p99_ms' is too large to be a measurement/,
  );
});
