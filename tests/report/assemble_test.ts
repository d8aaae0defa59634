/**
 * assembleReport(): a measured window and its context become the report, with the validity
 * rules applied (reasons from the caller first, then the window's) and their exact texts.
 */
import assert from "node:assert/strict";
import { assembleReport, type ReportContext } from "../../lib/report/assemble.ts";
import { filesFor } from "../../lib/report/files.ts";
import { LatencyHistogram } from "../../lib/report/histogram.ts";
import type { Measurement, OpMeasurement } from "../../lib/report/measurement.ts";
import { OLD_REPORT_FIELDS } from "../../lib/report/schema.ts";
import { OP_KINDS, parseScenario } from "../../lib/workload/scenario.ts";

const SCENARIO = parseScenario(
  'name = "t"\n[arrival]\nrate = 100\n[operations]\nstore_weight = 1',
  "t.toml",
);

function histogram(...us: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of us) h.recordUs(v);
  return h;
}

function measurement(extra: Partial<Measurement> = {}): Measurement {
  const empty = (): OpMeasurement => ({
    count: 0,
    errors: 0,
    fallbacks: 0,
    errorsByKind: {},
    response: histogram(),
    service: histogram(),
  });
  const perOp = Object.fromEntries(OP_KINDS.map((k) => [k, empty()])) as Measurement["perOp"];
  perOp.Store = {
    ...empty(),
    count: 3000,
    response: histogram(1000, 2000),
    service: histogram(900),
  };
  return {
    elapsedSeconds: 30,
    due: 3000,
    sent: 3000,
    completed: 3000,
    errors: 0,
    errorsByKind: {},
    fallbacks: 0,
    lateSends: 0,
    cappedSends: 0,
    sendSpanSeconds: 30,
    response: histogram(1000, 2000),
    service: histogram(900),
    lag: histogram(50),
    generatorLag: histogram(50),
    perOp,
    intervals: [],
    warmup: { seconds: 0, operations: 0, errors: 0 },
    interrupted: false,
    ...extra,
  };
}

const context = (extra: Partial<ReportContext> = {}): ReportContext => ({
  tool: { name: "m17_check", version: "test", commit: null },
  task: "001",
  phase: "before",
  mode: "internal",
  run: { group: "g", index: 1, count: 1 },
  scenario: SCENARIO,
  scenarioPath: "t.toml",
  scenarioSha256: "0".repeat(64),
  fingerprint: "f",
  target: { kind: "url", url: "http://127.0.0.1:1", version: null, details: { a: 1 } },
  startedAt: new Date(0),
  endedAt: new Date(30_000),
  preload: { count: 0, errors: 0, seconds: 0 },
  files: filesFor("out/001_before_19700101_000000"),
  extraInvalidReasons: [],
  ...extra,
});

Deno.test("assembleReport(): a punctual window is a valid report with every old field", () => {
  const r = assembleReport(measurement(), context());
  assert.equal(r.valid, true);
  assert.deepEqual(r.invalid_reasons, []);
  assert.deepEqual(r.notes, []);
  for (const f of OLD_REPORT_FIELDS) assert.ok(f.key in r, f.key);
  assert.equal(r.overall_throughput, 100);
  assert.equal(r.achieved_rate, 100);
  assert.deepEqual(r.target, {
    kind: "url",
    url: "http://127.0.0.1:1",
    version: null,
    details: { a: 1 },
  });
  assert.equal(r.files.hlog, "out/001_before_19700101_000000.hlog");
});

Deno.test("assembleReport(): the caller's reasons come first, then the window's, as text", () => {
  const r = assembleReport(
    measurement({ sent: 2000, sendSpanSeconds: 30, generatorLag: histogram(20_000) }),
    context({
      extraInvalidReasons: [{
        kind: "target_died",
        death: "engram exited (code 1)",
        during: "the run",
      }],
    }),
  );
  assert.equal(r.valid, false);
  assert.deepEqual(r.invalid_reasons, [
    "engram exited (code 1) during the run",
    "achieved rate off target: sent 2000 of 3000 due requests (more than 1% short)",
    "achieved send rate 66.7 ops/s is more than 1% off the target 100 ops/s: the load generator did not send on schedule",
    "the load generator fell behind: schedule lag P99 20.0 ms > 10 ms (host overloaded?)",
  ]);
});

Deno.test("assembleReport(): sends held by the in-flight cap are a note, not a reason", () => {
  const r = assembleReport(
    measurement({ sendSpanSeconds: 33, cappedSends: 500 }),
    context(),
  );
  assert.equal(r.valid, true);
  assert.deepEqual(r.notes, [
    "achieved send rate 90.9 ops/s is more than 1% off the target 100 ops/s: 500 requests waited for one of the --max-in-flight slots; their response times include that wait",
  ]);
});
