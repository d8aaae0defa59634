/** The index probe's picks from the preload stream and its count of memories found. */
import assert from "node:assert/strict";
import { probeIndexes, probeMemories, probeStore } from "../../lib/run/index_probe.ts";
import { Workload } from "../../lib/workload/ops.ts";
import { parseScenario } from "../../lib/workload/scenario.ts";

const SCENARIO = "[arrival]\nrate = 10\n[operations]\nstore_weight = 1\n[data]\n" +
  "embedding_dim = 4\npreload = 100\n";

Deno.test("probeIndexes(): 8 positions spread evenly over the preload, all of a smaller one", () => {
  assert.deepEqual(probeIndexes(100), [6, 18, 31, 43, 56, 68, 81, 93]);
  assert.deepEqual(probeIndexes(100_000).at(-1), 93_750);
  assert.deepEqual(probeIndexes(3), [0, 1, 2]);
  assert.deepEqual(probeIndexes(0), []);
});

Deno.test("probeMemories(): recalls by the preload stream's memories' own embeddings, as the measured recalls ask", () => {
  const w = new Workload(parseScenario(SCENARIO, "x"));
  const probes = probeMemories(w, 100);
  assert.deepEqual(probes.map((p) => p.index), probeIndexes(100));
  const stream = w.stream("preload");
  const stored = Array.from({ length: 100 }, () => JSON.parse(stream.next().body!));
  for (const p of probes) {
    const q = new URL(`http://x${p.path}`);
    assert.equal(q.pathname, "/api/v1/memories/recall");
    assert.deepEqual(JSON.parse(q.searchParams.get("embedding")!), stored[p.index].embedding);
    assert.equal(q.searchParams.get("mode"), "similarity");
    assert.equal(q.searchParams.get("threshold"), "0.5");
    assert.equal(q.searchParams.get("max_results"), "10");
    assert.equal(q.searchParams.get("space"), null);
  }
  assert.equal(probeMemories(w, 100), probes, "made once per workload");
  // Several memory spaces: each recall asks the space its memory was stored in.
  const spaced = new Workload(parseScenario(SCENARIO + "memory_spaces = 3\n", "x"));
  const s2 = spaced.stream("preload");
  const bodies = Array.from({ length: 100 }, () => JSON.parse(s2.next().body!));
  for (const p of probeMemories(spaced, 100)) {
    assert.match(p.path, new RegExp(`&space=${bodies[p.index].memory_space_id}$`));
  }
});

/** A server answering each recall with `answer(the index of the memory asked for)`. */
function server(answer: (asked: number) => Response): { url: string; close: () => Promise<void> } {
  const probes = probeMemories(new Workload(parseScenario(SCENARIO, "x")), 100);
  const byEmbedding = new Map(
    probes.map((p) => [new URL(`http://x${p.path}`).searchParams.get("embedding"), p.index]),
  );
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const embedding = new URL(req.url).searchParams.get("embedding");
    return answer(byEmbedding.get(embedding) ?? -1);
  });
  return { url: `http://127.0.0.1:${s.addr.port}`, close: () => s.shutdown() };
}

const recall = (contents: string[]) =>
  Response.json({
    memories: {
      vivid: contents.map((content) => ({ content })),
      associated: [],
      reconstructed: [],
    },
  });

Deno.test("probeStore(): found = recalls answered with memories; itself = those with the probed memory", async () => {
  const probes = probeMemories(new Workload(parseScenario(SCENARIO, "x")), 100);
  // [6, 18, 31, 43, 56, 68, 81, 93]: 6 and 18 come back themselves, 31 to 56 only with neighbours
  // (memory 8 is not memory 68), the rest with nothing.
  const s = server((i) =>
    recall(
      i < 20
        ? ["m17 memory 1 cluster 0: x", `m17 memory ${i} cluster 0: y`]
        : i < 60
        ? [`m17 memory ${String(i).slice(1)} cluster 0: z`, `m17 memory ${i}1 cluster 0: z`]
        : [],
    )
  );
  try {
    assert.deepEqual(await probeStore(s.url, probes, 2000), { probes: 8, found: 5, itself: 2 });
  } finally {
    await s.close();
  }
});

Deno.test("probeStore(): an answer that is not recall JSON, or none, is a failure (nothing counted)", async () => {
  const probes = probeMemories(new Workload(parseScenario(SCENARIO, "x")), 100);
  for (
    const [answer, why] of [
      [
        () => Response.json({ error: "boom" }, { status: 500 }),
        /memory 6: HTTP 500 without memories/,
      ],
      [() => new Response("<html>"), /memory 6: HTTP 200 without memories/],
    ] as const
  ) {
    const s = server(answer);
    try {
      const c = await probeStore(s.url, probes, 2000);
      assert.ok("failure" in c);
      assert.match(c.failure, why);
    } finally {
      await s.close();
    }
  }
  const closed = await probeStore("http://127.0.0.1:9", probes, 2000);
  assert.ok("failure" in closed && /connection refused/.test(closed.failure));
});
