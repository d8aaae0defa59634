/**
 * Experiment (issue 24, item 2): does a restored Engram still find its preloaded memories?
 * Against a running Engram, stores the preload stream's first `--store N` memories (optional),
 * then, for `--probes K` memories spread over the first `--of M` of the stream, prints what
 * `GET /api/v1/memories/recall?embedding=<its embedding>&mode=similarity` and
 * `GET /api/v1/memories/search?query=<its content>` return: the top results' content heads and
 * scores, and whether the memory itself (`m17 memory <i> …`) is among them. `--seed S` draws the
 * memories from another seed's stream (new memories for a restored store). Sends at most
 * max(N, M) stores and 2K GETs; one Engram, started by hand on a copy of a data dir.
 *
 *   deno run -A bench/experiments/index_probe_explore.ts --url http://127.0.0.1:7441 \
 *     --scenario /work/agree10k/competitive_10000.toml --competitive [--store 0] [--of 10000] [--probes 8] [--seed S]
 * @module
 */
import { parseArgs } from "node:util";
import { prepareScenario } from "../../lib/workload/prepare.ts";
import { preloadStreamFingerprint, Workload } from "../../lib/workload/ops.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string" },
    scenario: { type: "string" },
    competitive: { type: "boolean", default: false },
    store: { type: "string", default: "0" },
    of: { type: "string", default: "10000" },
    probes: { type: "string", default: "8" },
    threshold: { type: "string", default: "0.5" },
    seed: { type: "string" },
  },
});
if (!v.url || !v.scenario) {
  console.error(
    "usage: index_probe_explore.ts --url U --scenario S [--competitive] [--store N] [--of M] [--probes K] [--seed S]",
  );
  Deno.exit(3);
}
const { scenario } = await prepareScenario({
  scenario: v.scenario,
  competitive: v.competitive,
  ...(v.seed ? { seed: BigInt(v.seed) } : {}),
});
console.log(
  `preload stream ${preloadStreamFingerprint(scenario)}, seed 0x${scenario.seed.toString(16)}`,
);
const w = new Workload(scenario);
const store = Number(v.store), of = Number(v.of), k = Number(v.probes);
const picks = Array.from({ length: k }, (_, j) => Math.floor(((j + 0.5) * of) / k));
const probes: { index: number; content: string; embedding: number[] }[] = [];
const stream = w.stream("preload");
const t0 = performance.now();
let stored = 0;
for (let i = 0; i < Math.max(of, store); i++) {
  const op = stream.next();
  if (i < store) {
    const r = await fetch(`${v.url}${op.path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: op.body,
    });
    await r.text();
    if (r.ok) stored++;
  }
  if (picks.includes(i)) {
    const b = JSON.parse(op.body!);
    probes.push({ index: i, content: b.content, embedding: b.embedding });
  }
}
if (store > 0) {
  console.log(`stored ${stored} of ${store} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const health = await (await fetch(`${v.url}/api/v1/system/health`)).json();
console.log(
  `memories: ${JSON.stringify(health.spaces?.map((s: { memories: number }) => s.memories))}`,
);

const head = (s: string) => s.split(":")[0];
for (const p of probes) {
  const emb = encodeURIComponent(JSON.stringify(p.embedding));
  const t1 = performance.now();
  const rr = await fetch(
    `${v.url}/api/v1/memories/recall?embedding=${emb}&mode=similarity&threshold=${v.threshold}&max_results=10`,
  );
  const rec = await rr.json();
  const recMs = performance.now() - t1;
  const all = [...(rec.memories?.vivid ?? []), ...(rec.memories?.associated ?? [])];
  const t2 = performance.now();
  const sr = await fetch(
    `${v.url}/api/v1/memories/search?query=${encodeURIComponent(p.content)}&limit=10`,
  );
  const sea = await sr.json();
  const seaMs = performance.now() - t2;
  const mine = (c: string) => head(c) === head(p.content);
  console.log(
    `#${p.index} (${head(p.content)}): recall HTTP ${rr.status} ${
      recMs.toFixed(1)
    } ms, ${all.length} results, own ${
      all.some((m: { content: string }) => mine(m.content))
    }, top ${
      all.slice(0, 3).map((m: { content: string; confidence: { value: number } }) =>
        `${head(m.content)} ${m.confidence?.value?.toFixed?.(3)}`
      ).join(" | ")
    }`,
  );
  const sm = sea.memories ?? [];
  console.log(
    `   search HTTP ${sr.status} ${seaMs.toFixed(1)} ms, ${sm.length} results, own ${
      sm.some((m: { content: string }) => mine(m.content))
    }, top ${
      sm.slice(0, 3).map((m: { content: string; confidence: number }) =>
        `${head(m.content)} ${m.confidence?.toFixed?.(3)}`
      ).join(" | ")
    }`,
  );
}
