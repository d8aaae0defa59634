// Engram deduplicates stores: a new memory whose cosine to a stored one is ≥ 0.95 is skipped or
// replaces it (orchard9/engram 5d54816: engram-core/src/storage/deduplication.rs:114 compares
// `similarity >= self.similarity_threshold`, deduplication.rs:293 sets 0.95 as the default,
// engram-core/src/store.rs:481 uses that default and store.rs:1228-1236 checks every store
// against all hot memories). With std_dev 0.1 the competitive scenario's 100,000 preloaded
// memories became 256 in a real Engram (BENCHMARKS.md, acceptance run). These tests fail when a
// shipped scenario's same-cluster embeddings would be merged again.
import assert from "node:assert/strict";
import { join } from "node:path";
import { SCENARIOS_DIR } from "../../lib/paths.ts";
import {
  cosine,
  ENGRAM_DEDUP_COSINE,
  expectedClusterCosine,
  pairwiseCosines,
} from "../../lib/workload/dedup.ts";
import { Workload } from "../../lib/workload/ops.ts";
import { Prng } from "../../lib/workload/prng.ts";
import { loadScenario, type Scenario } from "../../lib/workload/scenario.ts";

const COMPETITIVE = join(SCENARIOS_DIR, "competitive", "hybrid_production_100k.toml");

/** `n` embeddings of `cluster` exactly as the generator renders them (JSON text → numbers). */
function draws(s: Scenario, cluster: number, n: number): Float64Array[] {
  const w = new Workload(s);
  const rng = Prng.derive(s.seed, 0xD5D5n);
  return Array.from(
    { length: n },
    () => Float64Array.from(JSON.parse(w.space.render(rng, cluster))),
  );
}

function centerOf(s: Scenario, cluster: number): Float64Array {
  const w = new Workload(s);
  return w.space.centers.slice(cluster * s.embeddingDim, (cluster + 1) * s.embeddingDim);
}

function withStdDev(s: Scenario, stdDev: number): Scenario {
  const d = s.distribution;
  assert.equal(d.type, "scale_free");
  return { ...s, distribution: { ...d, stdDev } };
}

Deno.test("competitive scenario: 2,000 draws of its most popular cluster stay below Engram's dedup cosine", async () => {
  const { scenario } = await loadScenario(COMPETITIVE);
  assert.equal(scenario.distribution.type, "scale_free");
  // Cluster 0 is the most popular one (power law): ~40% of the 100,000 preloaded memories.
  const { max, mean } = pairwiseCosines(draws(scenario, 0, 2000));
  assert.ok(
    max < ENGRAM_DEDUP_COSINE,
    `max same-cluster cosine ${max.toFixed(4)} ≥ Engram's dedup threshold ${ENGRAM_DEDUP_COSINE}`,
  );
  // Margin: 2,000 draws are 2M pairs; the 100,000-memory preload puts ~40,000 in this cluster
  // (800M pairs), whose maximum lies a few hundredths higher. Keep the mean well clear.
  assert.ok(max < ENGRAM_DEDUP_COSINE - 0.03, `max ${max.toFixed(4)} leaves no margin`);
  // Analytic expectation (clamped normal around this cluster's own center) matches the mean.
  const expected = expectedClusterCosine(centerOf(scenario, 0), scenario.distribution.stdDev);
  assert.ok(Math.abs(mean - expected) < 0.01, `mean ${mean} vs expected ${expected}`);
  assert.ok(expected < 0.9, `expected same-cluster cosine ${expected} is not well below 0.95`);
});

Deno.test("competitive scenario: queries still have near neighbours, other clusters stay apart", async () => {
  const { scenario } = await loadScenario(COMPETITIVE);
  const a = draws(scenario, 0, 50), b = draws(scenario, 1, 50);
  let within = Infinity, across = -Infinity;
  for (let i = 0; i < a.length; i++) {
    for (let k = 0; k < a.length; k++) {
      if (k > i) within = Math.min(within, cosine(a[i], a[k]));
      across = Math.max(across, cosine(a[i], b[k]));
    }
  }
  // Every same-cluster pair clears the scenario's recall threshold by far; no cross pair does.
  assert.ok(within > scenario.recallThreshold + 0.2, `min within-cluster cosine ${within}`);
  assert.ok(across < 0.2, `max cross-cluster cosine ${across}`);
});

Deno.test("dedup check can fail: the old std_dev 0.1 puts every same-cluster pair over 0.95", async () => {
  const { scenario } = await loadScenario(COMPETITIVE);
  const old = withStdDev(scenario, 0.1);
  const { max, mean } = pairwiseCosines(draws(old, 0, 200));
  assert.ok(max >= ENGRAM_DEDUP_COSINE && mean >= ENGRAM_DEDUP_COSINE, `max ${max}, mean ${mean}`);
  const expected = expectedClusterCosine(centerOf(old, 0), 0.1);
  assert.ok(Math.abs(mean - expected) < 0.01, `mean ${mean} vs expected ${expected}`);
});

Deno.test("expectedClusterCosine: (1/3)/(1/3 + σ²) without clamping, 1 at σ = 0", () => {
  // Centers well inside [-1, 1] with small σ: clamping is negligible; mean square of ±0.5 is 1/4.
  const center = new Float64Array(768).map((_, j) => (j % 2 === 0 ? 0.5 : -0.5));
  const sigma = 0.05;
  assert.ok(Math.abs(expectedClusterCosine(center, sigma) - 0.25 / (0.25 + sigma ** 2)) < 1e-6);
  assert.equal(expectedClusterCosine(center, 0), 1);
  // Clamping pulls points at the edge back towards the center: higher than the unclamped value.
  const edge = new Float64Array(768).fill(1);
  assert.ok(expectedClusterCosine(edge, 0.3) > 1 / (1 + 0.09));
});

Deno.test("pairwiseCosines: max and mean over all pairs", () => {
  const r = pairwiseCosines([
    new Float64Array([1, 0]),
    new Float64Array([0, 1]),
    new Float64Array([1, 1]),
  ]);
  assert.ok(Math.abs(r.max - Math.SQRT1_2) < 1e-12);
  assert.ok(Math.abs(r.mean - (0 + 2 * Math.SQRT1_2) / 3) < 1e-12);
});

Deno.test("baseline scenario: 2,000 draws of one cluster stay below Engram's dedup cosine", async () => {
  const { scenario } = await loadScenario(join(SCENARIOS_DIR, "m17_baseline.toml"));
  assert.equal(scenario.distribution.type, "clustered");
  const { max } = pairwiseCosines(draws(scenario, 0, 2000));
  assert.ok(
    max < ENGRAM_DEDUP_COSINE - 0.03,
    `max same-cluster cosine ${max.toFixed(4)} is not clear of Engram's ${ENGRAM_DEDUP_COSINE}`,
  );
});
