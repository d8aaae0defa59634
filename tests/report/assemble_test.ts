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
import { withModeSeed } from "../../lib/workload/prepare.ts";
import { OP_KINDS, parseScenario, withOverrides } from "../../lib/workload/scenario.ts";

const SCENARIO = parseScenario(
  'name = "t"\n[arrival]\nrate = 100\n[operations]\nstore_weight = 1',
  "t.toml",
);

function histogram(...us: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of us) h.recordUs(v);
  return h;
}

/** `n` per-second summaries with `responses` responses each (throughput counts these). */
function seconds(n: number, responses: number): Measurement["intervals"] {
  return Array.from({ length: n }, (_, second) => ({
    second,
    count: responses,
    errors: 0,
    p50_ms: 1,
    p99_ms: 2,
    max_ms: 2,
    completed: responses,
    histogram: "",
  }));
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
    storesAccepted: 3000,
    lateSends: 0,
    cappedSends: 0,
    sendSpanSeconds: 30,
    response: histogram(1000, 2000),
    service: histogram(900),
    lag: histogram(50),
    generatorLag: histogram(50),
    perOp,
    intervals: seconds(30, 100),
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
  settings: { timeoutMs: 10_000, maxInFlight: 64 },
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

Deno.test("assembleReport(): the report records where the seed and the preload came from", () => {
  const r = assembleReport(measurement(), context());
  assert.deepEqual(r.scenario.seed_source, { from: "mode", mode: "baseline" });
  assert.deepEqual(r.scenario.preload_source, { from: "none" });
  const comp = withModeSeed(
    parseScenario(
      'name = "c"\n[arrival]\nrate = 100\n[operations]\nstore_weight = 1\n[data]\nnum_nodes = 50',
      "c.toml",
    ),
    "competitive",
  );
  const c = assembleReport(measurement(), context({ scenario: comp, mode: "competitive" }));
  assert.equal(c.scenario.seed, "0xABCD1234");
  assert.equal(c.scenario.preload, 50);
  // The JSON a reader (or jq) sees.
  const json = JSON.parse(JSON.stringify(c)).scenario;
  assert.deepEqual(json.seed_source, { from: "mode", mode: "competitive" });
  assert.deepEqual(json.preload_source, { from: "num_nodes" });
  const flagged = withOverrides(SCENARIO, { seed: 7n });
  const f = assembleReport(measurement(), context({ scenario: flagged }));
  assert.equal(f.scenario.seed, "0x7");
  assert.deepEqual(f.scenario.seed_source, { from: "flag" });
});

Deno.test("assembleReport(): the caller's reasons come first, then the window's, as text", () => {
  const r = assembleReport(
    measurement({ sendSpanSeconds: 45, generatorLag: histogram(20_000) }),
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
    "achieved send rate 66.7 ops/s is more than 1% off the target 100 ops/s: the load generator did not send on schedule",
    "the load generator fell behind: schedule lag P99 20.0 ms > 10 ms (host overloaded?)",
  ]);
});

Deno.test("assembleReport(): requests never sent (each waited a whole timeout for a slot) are a note, never a reason (issue 25)", () => {
  const r = assembleReport(measurement({ sent: 2000, sendSpanSeconds: 30 }), context());
  assert.deepEqual(r.invalid_reasons, []);
  assert.equal(r.valid, true);
  assert.ok(
    (r.notes ?? []).includes(
      "sent 2000 of 3000 due requests: the other 1000 waited a whole timeout for one of the --max-in-flight slots (the server held them all) and count as timeouts",
    ),
    String(r.notes),
  );
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

Deno.test("assembleReport(): throughput counts the responses to the window's requests per second of it; a late one stretches nothing", () => {
  // 30 s at 100 responses a second; the last response came 3.2 s after the window (it counts
  // for the second it was due in) and the window was "extended" to 33.2 s by an old definition.
  const late = assembleReport(
    measurement({ elapsedSeconds: 33.2, completed: 3001 }),
    context({ scenario: { ...SCENARIO, durationSeconds: 30 } }),
  );
  assert.equal(late.overall_throughput, 100);
  // Timeouts are errors, not throughput: seconds with fewer responses give less.
  const timeouts = assembleReport(
    measurement({ intervals: seconds(30, 90), errors: 300, errorsByKind: { timeout: 300 } }),
    context({ scenario: { ...SCENARIO, durationSeconds: 30 } }),
  );
  assert.equal(timeouts.overall_throughput, 90);
  assert.match(
    timeouts.methods.throughput,
    /^responses \(success or HTTP error\) to the requests due in the measured window, however late/,
  );
});

Deno.test("assembleReport(): a saturated server is a valid run with a note, settings recorded", () => {
  const r = assembleReport(
    measurement({ errors: 2580, errorsByKind: { timeout: 2580 }, intervals: seconds(30, 14) }),
    context(),
  );
  assert.equal(r.valid, true);
  assert.deepEqual(r.notes, [
    "server saturated, 86% of requests timed out after 10 s; percentiles are censored at the timeout",
  ]);
  assert.deepEqual(r.settings, { timeout_ms: 10_000, max_in_flight: 64 });
});

Deno.test("assembleReport(): lag on a saturated host names the saturation and the remedies", () => {
  const lagging = measurement({ generatorLag: histogram(20_000) });
  const saturated = assembleReport(lagging, context({ hostCpuPct: 98 }));
  assert.equal(saturated.valid, false);
  assert.match(saturated.invalid_reasons.at(-1)!, /while the host's CPU was saturated \(98% busy/);
  assert.match(
    saturated.invalid_reasons.at(-1)!,
    /--client-cpus\/--server-cpus.*--url.*lower the rate/,
  );
  const idle = assembleReport(lagging, context({ hostCpuPct: 40 }));
  assert.equal(
    idle.invalid_reasons.at(-1),
    "the load generator fell behind: schedule lag P99 20.0 ms > 10 ms (host overloaded?)",
  );
});

Deno.test("assembleReport(): target_state records the memory counts read; deduplicated stores get a note", () => {
  assert.equal(assembleReport(measurement(), context()).target_state, undefined);
  const engram = {
    kind: "engram" as const,
    url: "http://127.0.0.1:7432",
    version: "0.1.0",
    details: {},
  };
  const dedup = assembleReport(
    measurement(),
    context({
      target: engram,
      preload: { count: 1000, errors: 0, seconds: 3 },
      memories: { afterPreload: 10, atEnd: 10 },
    }),
  );
  assert.deepEqual(dedup.target_state, {
    memories_after_preload: 10,
    memories_at_end: 10,
    stores_accepted: 3000,
  });
  // The scenario's default embeddings (10 clusters, std_dev 0.1) are near-identical for Engram.
  assert.deepEqual(dedup.notes, [
    "stores deduplicated away: 4,000 stores accepted (1,000 in the preload); Engram holds 10 " +
    "memories (10 after the preload, +0 since): the scenario's same-cluster embeddings are " +
    "near-identical (cosine ≈ 0.973; Engram deduplicates at ≥ 0.95)",
  ]);
  const kept = assembleReport(
    measurement(),
    context({ target: engram, memories: { afterPreload: 0, atEnd: 3000 } }),
  );
  assert.deepEqual(kept.notes, []);
  const silent = assembleReport(
    measurement(),
    context({ target: engram, memories: { afterPreload: null, atEnd: null } }),
  );
  assert.equal(silent.target_state?.memories_at_end, null);
  assert.deepEqual(silent.notes, []);
});

Deno.test("assembleReport(): a run stopped before its measured window says so; no window rules, no validation verdict on zeros", () => {
  const validated = parseScenario(
    'name = "v"\n[arrival]\nrate = 100\n[operations]\nstore_weight = 1\n' +
      "[validation]\nexpected_throughput_ops_sec = 90",
    "v.toml",
  );
  // What the driver returns for a skipped window: interrupted at once, nothing recorded.
  const empty = measurement({
    elapsedSeconds: 0,
    due: 0,
    sent: 0,
    completed: 0,
    storesAccepted: 0,
    sendSpanSeconds: 0,
    response: histogram(),
    service: histogram(),
    lag: histogram(),
    generatorLag: histogram(),
    intervals: [],
    interrupted: true,
  });
  const r = assembleReport(
    empty,
    context({
      scenario: validated,
      extraInvalidReasons: [{
        kind: "no_measured_window",
        cause: { kind: "interrupted", signal: "SIGINT", stage: "preload" },
      }],
    }),
  );
  assert.equal(r.valid, false);
  assert.equal(r.no_measured_window, "interrupted by SIGINT during preload");
  // Not "run interrupted before the measured window ended": there was no window to end.
  assert.deepEqual(r.invalid_reasons, ["interrupted by SIGINT during preload: no measured window"]);
  assert.equal(r.validation, null);
  assert.equal(r.total_operations, 0);
  // A window that ran keeps its validation and has no such field.
  const ran = assembleReport(measurement(), context({ scenario: validated }));
  assert.equal(ran.no_measured_window, undefined);
  assert.equal(ran.validation?.passed, true);
  assert.ok(!("no_measured_window" in JSON.parse(JSON.stringify(ran))));
});
