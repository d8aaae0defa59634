/**
 * Seeds and dataset by mode (DESIGN "What compare may compare"): a scenario without `seed` gets
 * the mode's seed, one with `num_nodes` and no `preload` preloads `num_nodes` memories; the
 * Engram checkout's own scenarios are looked up first.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  describePreload,
  describeSeedOrigin,
  prepareScenario,
  resolveScenarioPath,
  withModeSeed,
} from "../../lib/workload/prepare.ts";
import { MODE_SEEDS, parseScenario } from "../../lib/workload/scenario.ts";
import { workloadFingerprint } from "../../lib/workload/ops.ts";

const FAKE_ENGRAM = fileURLToPath(
  new URL("../fixtures/fake_engram/checkout", import.meta.url),
);
const OPS = "[operations]\nstore_weight = 1\n";

Deno.test("parseScenario() records where seed and preload come from", () => {
  const bare = parseScenario(OPS, "x.toml");
  assert.deepEqual(bare.origins, {
    seed: { from: "mode", mode: "baseline" },
    preload: { from: "none" },
  });
  assert.equal(bare.seed, MODE_SEEDS.baseline);
  assert.equal(bare.preload, 0);
  assert.equal(bare.numNodes, null);

  const nodes = parseScenario(`${OPS}[data]\nnum_nodes = 100_000\n`, "x.toml");
  assert.equal(nodes.preload, 100_000);
  assert.equal(nodes.numNodes, 100_000);
  assert.deepEqual(nodes.origins.preload, { from: "num_nodes" });

  const both = parseScenario(`seed = 7\n${OPS}[data]\nnum_nodes = 10\npreload = 3\n`, "x.toml");
  assert.equal(both.preload, 3, "an explicit preload wins over num_nodes");
  assert.deepEqual(both.origins, { seed: { from: "scenario" }, preload: { from: "scenario" } });
  assert.throws(() => parseScenario(`${OPS}[data]\nnum_nodes = -1\n`, "x.toml"), /num_nodes/);
});

Deno.test("withModeSeed() applies the mode's seed only when the scenario has none", () => {
  const bare = parseScenario(OPS, "x.toml");
  assert.equal(withModeSeed(bare, "competitive").seed, 0xABCD1234n);
  assert.deepEqual(withModeSeed(bare, "competitive").origins.seed, {
    from: "mode",
    mode: "competitive",
  });
  assert.equal(withModeSeed(bare, "baseline").seed, 0xDEADBEEFn);
  assert.deepEqual(withModeSeed(bare, "baseline").origins.seed, { from: "mode", mode: "baseline" });
  const own = parseScenario(`seed = "0x42"\n${OPS}`, "x.toml");
  assert.equal(withModeSeed(own, "competitive").seed, 0x42n);
  assert.deepEqual(withModeSeed(own, "competitive").origins.seed, { from: "scenario" });
  // The seed changes the request stream, so the fingerprint differs by mode.
  assert.notEqual(
    workloadFingerprint(withModeSeed(bare, "competitive")),
    workloadFingerprint(withModeSeed(bare, "baseline")),
  );
});

Deno.test("prepareScenario() in the fake Engram checkout: Engram's competitive scenario gets 0xABCD1234 and 100,000 memories", async () => {
  const comp = await prepareScenario({ competitive: true, scenarioDir: FAKE_ENGRAM });
  assert.equal(
    comp.path,
    join(FAKE_ENGRAM, "scenarios/competitive/hybrid_production_100k.toml"),
  );
  assert.equal(comp.scenario.seed, 0xABCD1234n);
  assert.equal(comp.scenario.preload, 100_000);
  assert.equal(
    describePreload(comp.scenario),
    "100,000 memories ([data] num_nodes; the scenario has no preload)",
  );
  assert.equal(
    describeSeedOrigin(comp.scenario),
    "the competitive mode's seed: the scenario has none",
  );

  const base = await prepareScenario({ competitive: false, scenarioDir: FAKE_ENGRAM });
  assert.equal(base.scenario.seed, 0xDEADBEEFn);
  assert.equal(base.scenario.preload, 1000);

  const flag = await prepareScenario({ competitive: true, scenarioDir: FAKE_ENGRAM, seed: 9n });
  assert.equal(flag.scenario.seed, 9n);
  assert.equal(describeSeedOrigin(flag.scenario), "from --seed");
  assert.deepEqual(flag.scenario.origins.seed, { from: "flag" });
});

Deno.test("resolveScenarioPath() looks in the checkout's scenarios/ before the tool's own", async () => {
  assert.equal(
    await resolveScenarioPath(undefined, false, FAKE_ENGRAM),
    join(FAKE_ENGRAM, "scenarios/m17_baseline.toml"),
  );
  const tools = await resolveScenarioPath(undefined, false, "/nonexistent");
  assert.ok(tools.endsWith("scenarios/m17_baseline.toml") && !tools.startsWith(FAKE_ENGRAM));
});
