import assert from "node:assert/strict";
import { UsageError } from "../../lib/shared/errors.ts";
import { loadScenario, parseScenario, withOverrides } from "../../lib/workload/scenario.ts";

const MIN = "[arrival]\nrate = 100\n[operations]\nstore_weight = 1\n";

function rejects(text: string, pattern: RegExp) {
  assert.throws(() => parseScenario(text, "s.toml"), (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("the shipped baseline scenario is the specification's workload", async () => {
  const { scenario: s } = await loadScenario("scenarios/m17_baseline.toml");
  assert.equal(s.seed, 0xDEADBEEFn);
  assert.equal(s.rate, 1000);
  assert.equal(s.durationSeconds, 60);
  assert.equal(s.embeddingDim, 768);
  assert.deepEqual(s.weights, {
    Store: 0.4,
    Recall: 0.4,
    SemanticRecall: 0.1,
    BlendedRecall: 0.1,
    Search: 0,
    PatternCompletion: 0,
  });
  assert.equal(s.modes.semanticRecall, "spreading");
  assert.equal(s.modes.blendedRecall, "hybrid");
});

Deno.test("the shipped competitive scenario: 30/30/30/10, 100K preload, scale-free, 0xABCD1234", async () => {
  const { scenario: s } = await loadScenario("scenarios/competitive/hybrid_production_100k.toml");
  assert.equal(s.seed, 0xABCD1234n);
  assert.equal(s.preload, 100_000);
  assert.equal(s.distribution.type, "scale_free");
  assert.equal(s.weights.Store, 0.3);
  assert.equal(s.weights.Recall, 0.3);
  assert.equal(s.weights.Search, 0.3);
  assert.equal(s.weights.PatternCompletion, 0.1);
  assert.equal(s.rate, 1000);
  assert.equal(s.durationSeconds, 60);
});

Deno.test("old-schema defaults: duration 300 s when [duration] is absent, seed decimal accepted", () => {
  const s = parseScenario("seed = 3735928559\n" + MIN, "s.toml");
  assert.equal(s.durationSeconds, 300);
  assert.equal(s.seed, 0xDEADBEEFn);
});

Deno.test("every old-schema key is accepted", () => {
  const s = parseScenario(
    `name = "old"
description = "d"
[duration]
total_seconds = 10
[arrival]
pattern = "periodic_burst"
base_rate = 100
burst_rate = 300
burst_duration_sec = 1
burst_period_sec = 4
[operations]
store_weight = 1
recall_weight = 1
embedding_search_weight = 1
pattern_completion_weight = 1
[data]
num_nodes = 10
embedding_dim = 8
memory_spaces = 2
embedding_distribution = { type = "hot_spot", center = 0.2, std_dev = 0.1 }
[validation]
expected_p99_latency_ms = 5
expected_throughput_ops_sec = 100
max_error_rate = 0.01
[chaos]
enabled = false
`,
    "old.toml",
  );
  assert.equal(s.arrival.pattern, "periodic_burst");
  assert.equal(s.rate, 150); // (300×1 + 100×3) / 4
  const p = parseScenario(MIN.replace("rate = 100", 'pattern = "poisson"\nlambda = 50'), "p.toml");
  assert.deepEqual(p.arrival, { pattern: "poisson", rate: 50 });
});

Deno.test("malformed TOML names the file and line", () => {
  rejects('name = "x"\n[arrival\nrate = 1\n', /^scenario s\.toml:2(:\d+)?: invalid TOML/);
});

Deno.test("unknown keys are errors with a suggestion", () => {
  rejects(
    MIN + "[duration]\ntotal_second = 5\n",
    /unknown key "duration\.total_second" \(did you mean "duration\.total_seconds"\?\)/,
  );
  rejects(MIN.replace("store_weight", "stor_weight"), /did you mean "operations\.store_weight"/);
  rejects('nmae = "x"\n' + MIN, /unknown key "nmae" \(did you mean "name"\?\)/);
});

Deno.test("weights must be finite, non-negative and not all zero", () => {
  rejects(
    MIN.replace("store_weight = 1", "store_weight = -1"),
    /operations\.store_weight = -1 is out of range/,
  );
  rejects(
    MIN.replace("store_weight = 1", "store_weight = nan"),
    /operations\.store_weight must be a finite number/,
  );
  rejects(MIN.replace("store_weight = 1", "store_weight = inf"), /must be a finite number/);
  rejects(MIN.replace("store_weight = 1", "store_weight = 0"), /weights are all zero/);
  rejects(
    MIN.replace("store_weight = 1", 'store_weight = "1"'),
    /must be a finite number, got "1"/,
  );
});

Deno.test("rate, duration and dimension are bounded", () => {
  rejects(MIN.replace("rate = 100", "rate = 0"), /arrival\.rate = 0 is out of range/);
  rejects(MIN.replace("rate = 100", "rate = -5"), /arrival\.rate = -5 is out of range/);
  rejects(MIN.replace("rate = 100", "rate = 1e9"), /arrival\.rate = 1000000000 is out of range/);
  rejects(MIN + "[duration]\ntotal_seconds = 0\n", /duration\.total_seconds = 0 is out of range/);
  rejects(MIN + "[duration]\ntotal_seconds = 1e7\n", /out of range/);
  rejects(MIN + "[data]\nembedding_dim = 0\n", /data\.embedding_dim = 0 is out of range/);
  rejects(MIN + "[data]\nembedding_dim = 5000\n", /data\.embedding_dim = 5000 is out of range/);
  rejects(MIN + "[data]\nembedding_dim = 7.5\n", /must be an integer/);
});

Deno.test("bad seeds, patterns, modes and distributions are named", () => {
  rejects('seed = "0xZZ"\n' + MIN, /seed "0xZZ" is not an unsigned 64-bit integer/);
  rejects("seed = -3\n" + MIN, /seed "-3"/);
  rejects(MIN.replace("rate = 100", 'pattern = "sine"'), /arrival\.pattern "sine" is not one of/);
  rejects(MIN + 'recall_mode = "magic"\n', /operations\.recall_mode "magic" is not one of/);
  rejects(
    MIN + '[data]\nembedding_distribution = { type = "gaussian" }\n',
    /type "gaussian" is not one of/,
  );
  rejects(MIN + "[data]\nembedding_distribution = 3\n", /must be a table/);
});

Deno.test("withOverrides() applies and validates command-line overrides", () => {
  const s = parseScenario(MIN, "s.toml");
  const o = withOverrides(s, { seed: 5n, rate: 50, durationSeconds: 3, warmupSeconds: 0 });
  assert.equal(o.seed, 5n);
  assert.equal(o.rate, 50);
  assert.equal(o.arrival.rate, 50);
  assert.equal(o.durationSeconds, 3);
  assert.throws(() => withOverrides(s, { rate: 0 }), /--rate 0 is out of range/);
  assert.throws(() => withOverrides(s, { durationSeconds: NaN }), /--duration NaN is out of range/);
  assert.throws(() => withOverrides(s, { warmupSeconds: -1 }), /--warmup -1 is out of range/);
});

Deno.test("loadScenario() reports a missing file in one line", async () => {
  await assert.rejects(
    loadScenario("nope/missing.toml"),
    /scenario nope\/missing\.toml: no such file/,
  );
});
