import assert from "node:assert/strict";
import { loadScenario, OP_KINDS, parseScenario } from "../../lib/workload/scenario.ts";
import {
  serializeOp,
  streamDigest,
  Workload,
  workloadFingerprint,
} from "../../lib/workload/ops.ts";

// Golden vectors: SHA-256 of the first requests of each shipped scenario. If one changes, the
// bytes sent for a seed changed: when the generator changed, bump GENERATOR_VERSION and say so in
// the changelog; when a shipped scenario changed (both std_devs 0.1 → 0.25, so Engram does not
// deduplicate their stores), its fingerprint changes with it and README says so.
const GOLDEN = {
  "scenarios/m17_baseline.toml": {
    fingerprint: "e73cd27acb3dcafc511d1a7c52a56a44",
    measured1000: "3e512279738cc811fc6970a373ccbea102ff2a1c84b923d3f3d4aebb0bffaf3d",
    preload100: "c19faaa1ddaa618192366fe29f57e8f2e905da3441d62750203a21b4f20fb961",
  },
  "scenarios/competitive/hybrid_production_100k.toml": {
    fingerprint: "d821cad3b468beca3345491f7aca723f",
    measured1000: "096ceb4fe3f0124f0acb61ce62504b853e57cf95e260db706a0dadb124656627",
    preload100: "86dbba8136cc1c1b187fce83b89c5b2b971cbacba9d3eaaef2783d1f78f6d86e",
  },
};

for (const [file, g] of Object.entries(GOLDEN)) {
  Deno.test(`golden vectors: ${file}`, async () => {
    const { scenario } = await loadScenario(file);
    const w = new Workload(scenario);
    assert.equal(workloadFingerprint(scenario), g.fingerprint);
    assert.equal(streamDigest(w, "measured", 1000), g.measured1000);
    assert.equal(streamDigest(w, "preload", 100), g.preload100);
  });
}

const SMALL = `seed = "0x1234"
[arrival]
rate = 100
[operations]
store_weight = 1
recall_weight = 1
semantic_recall_weight = 1
blended_recall_weight = 1
embedding_search_weight = 1
pattern_completion_weight = 1
[data]
embedding_dim = 16
`;

Deno.test("same scenario and seed give byte-identical streams; another seed differs", () => {
  const s = parseScenario(SMALL, "small.toml");
  assert.equal(
    streamDigest(new Workload(s), "measured", 500),
    streamDigest(new Workload(s), "measured", 500),
  );
  const other = { ...s, seed: 0x1235n };
  assert.notEqual(
    streamDigest(new Workload(other), "measured", 500),
    streamDigest(new Workload(s), "measured", 500),
  );
  assert.notEqual(workloadFingerprint(other), workloadFingerprint(s));
  assert.equal(workloadFingerprint({ ...s }), workloadFingerprint(s));
});

Deno.test("streams are independent: warm-up and preload do not shift the measured stream", () => {
  const s = parseScenario(SMALL, "small.toml");
  const w = new Workload(s);
  const warm = w.stream("warmup");
  for (let i = 0; i < 50; i++) warm.next();
  assert.equal(
    serializeOp(w.stream("measured").next()),
    serializeOp(new Workload(s).stream("measured").next()),
  );
  assert.notEqual(serializeOp(w.stream("warmup").next()), serializeOp(w.stream("measured").next()));
  for (let i = 0; i < 20; i++) assert.equal(w.stream("preload").next().kind, "Store");
});

Deno.test("op mix follows the weights", () => {
  const s = parseScenario(SMALL.replace("store_weight = 1", "store_weight = 4"), "small.toml");
  const st = new Workload(s).stream("measured");
  const counts = Object.fromEntries(OP_KINDS.map((k) => [k, 0]));
  const n = 18_000;
  for (let i = 0; i < n; i++) counts[st.next().kind]++;
  assert.ok(Math.abs(counts.Store / n - 4 / 9) < 0.015, `store ${counts.Store}`);
  for (const k of OP_KINDS.slice(1)) {
    assert.ok(Math.abs(counts[k] / n - 1 / 9) < 0.01, `${k} ${counts[k]}`);
  }
});

Deno.test("requests are well-formed Engram requests with embeddings of the scenario's dimension", () => {
  const s = parseScenario(SMALL, "small.toml");
  const st = new Workload(s).stream("measured");
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const op = st.next();
    seen.add(op.kind);
    const url = new URL("http://x" + op.path);
    switch (op.kind) {
      case "Store": {
        assert.equal(op.method, "POST");
        assert.equal(url.pathname, "/api/v1/memories/remember");
        const body = JSON.parse(op.body!);
        assert.equal(typeof body.content, "string");
        assert.equal(body.embedding.length, 16);
        assert.ok(body.embedding.every((x: number) => x >= -1 && x <= 1));
        break;
      }
      case "Recall":
      case "BlendedRecall": {
        assert.equal(url.pathname, "/api/v1/memories/recall");
        assert.equal(JSON.parse(url.searchParams.get("embedding")!).length, 16);
        assert.equal(url.searchParams.get("mode"), op.kind === "Recall" ? "similarity" : "hybrid");
        assert.equal(url.searchParams.get("threshold"), "0.5");
        assert.equal(url.searchParams.get("max_results"), "10");
        break;
      }
      case "SemanticRecall": {
        assert.ok(url.searchParams.get("query")!.length > 0);
        assert.equal(url.searchParams.get("mode"), "spreading");
        assert.match(op.fallbackPath!, /mode=similarity$/);
        break;
      }
      case "Search":
        assert.equal(url.pathname, "/api/v1/memories/search");
        assert.ok(url.searchParams.get("query")!.length > 0);
        break;
      case "PatternCompletion": {
        const body = JSON.parse(op.body!);
        const pe = body.partial_episode.partial_embedding;
        assert.equal(pe.length, 16);
        assert.equal(pe.filter((x: unknown) => x === null).length, 8);
        assert.ok(body.partial_episode.known_fields.what.length > 0);
        break;
      }
    }
  }
  assert.equal(seen.size, 6);
});

Deno.test("scale-free popularity concentrates queries on the first clusters", () => {
  const s = parseScenario(
    SMALL +
      'embedding_distribution = { type = "scale_free", num_clusters = 100, exponent = 1.5, std_dev = 0.1 }\n',
    "sf.toml",
  );
  const w = new Workload(s);
  const st = w.stream("preload");
  const counts = new Array(100).fill(0);
  for (let i = 0; i < 5000; i++) {
    const m = st.next().body!.match(/cluster (\d+):/);
    counts[Number(m![1])]++;
  }
  assert.ok(counts[0] > counts[9] * 10, `cluster 0: ${counts[0]}, cluster 9: ${counts[9]}`);
  assert.ok(counts[0] / 5000 > 0.3);
});

Deno.test("too many clusters × dims is refused", () => {
  const s = parseScenario(
    SMALL.replace("embedding_dim = 16", "embedding_dim = 4096") +
      'embedding_distribution = { type = "clustered", num_clusters = 10000, std_dev = 0.1 }\n',
    "big.toml",
  );
  assert.throws(() => new Workload(s), /too large/);
});
