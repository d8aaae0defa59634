/**
 * The reference server over HTTP: every endpoint, Engram's validation errors, real store
 * behaviour (round trip, search, spreading, completion), memory-space precedence,
 * Server-Timing, the knobs against a wall clock, recording, and the CLI's process contract
 * (port in use, SIGTERM, bad flags).
 */
import assert from "node:assert/strict";
import { type ReferenceOptions, startReferenceServer } from "../../lib/reference/server.ts";
import type { RecordedRequest } from "../../lib/reference/record.ts";
import { engramMemoryCount } from "../../lib/target/health.ts";

const MAIN = new URL("../../lib/reference/main.ts", import.meta.url).pathname;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** One request; the body is always read so no response leaks. */
async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const { json, ...rest } = init;
  const res = await fetch(
    url,
    json === undefined ? rest : {
      ...rest,
      method: rest.method ?? "POST",
      body: JSON.stringify(json),
      headers: { "content-type": "application/json", ...rest.headers },
    },
  );
  const text = await res.text();
  let parsed = undefined;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json: parsed };
}

/** Runs `body` against a fresh in-process server on a free port and always closes it. */
async function withServer(
  options: ReferenceOptions,
  body: (url: string, server: Awaited<ReturnType<typeof startReferenceServer>>) => Promise<void>,
): Promise<void> {
  const server = await startReferenceServer({ port: 0, ...options });
  try {
    await body(server.url, server);
  } finally {
    await server.close();
  }
}

/** Deterministic pseudo-random vector (test data only). */
function vector(dim: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: dim }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 4294967296) * 2 - 1;
  });
}

function cosine(a: number[], b: number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

const embeddingParam = (v: number[]) => encodeURIComponent(JSON.stringify(v));

function assertError(a: Answer, status: number, code: string, messagePart?: RegExp) {
  assert.equal(a.status, status, a.text);
  assert.equal(a.json?.error?.code, code, a.text);
  assert.equal(typeof a.json.error.message, "string");
  if (messagePart) assert.match(a.json.error.message, messagePart);
}

// ---------------------------------------------------------------------------------------------
// Endpoints and shapes

Deno.test("GET /health answers Engram's health shape; /health/alive is a bare 200", async () => {
  await withServer({}, async (url) => {
    const h = await call(`${url}/health`);
    assert.equal(h.status, 200);
    assert.equal(h.json.status, "healthy");
    assert.equal(h.json.service, "engram");
    assert.equal(h.json.version, "0.1.0-reference");
    assert.ok(!Number.isNaN(Date.parse(h.json.timestamp)));
    const alive = await call(`${url}/health/alive`);
    assert.equal(alive.status, 200);
    assert.equal(alive.text, "");
  });
});

Deno.test("GET /metrics counts requests by route and status, memories and uptime", async () => {
  await withServer({ dim: 4 }, async (url, server) => {
    await call(`${url}/api/v1/memories/remember`, {
      json: { content: "a", embedding: [1, 0, 0, 0] },
    });
    await call(`${url}/api/v1/memories/remember`, { json: { content: "b", embedding: [1, 0] } });
    await call(`${url}/nowhere`);
    const m = await call(`${url}/metrics`);
    assert.equal(m.status, 200);
    assert.deepEqual(m.json.requests["POST /api/v1/memories/remember"], { "201": 1, "400": 1 });
    assert.deepEqual(m.json.requests.unmatched, { "404": 1 });
    assert.equal(m.json.memories.total, 1);
    assert.equal(typeof m.json.uptime_seconds, "number");
    assert.equal(server.stats().memories.by_space.default, 1);
  });
});

Deno.test("GET /api/v1/system/health lists each space's memories like Engram's; the tool reads their sum", async () => {
  await withServer({ dim: 4, knobs: { latencyMs: 50, errorRate: 1 } }, async (url) => {
    const empty = await call(`${url}/api/v1/system/health`);
    assert.equal(empty.status, 200);
    assert.equal(empty.json.status, "healthy");
    assert.deepEqual(empty.json.spaces.map((s: { space: string }) => s.space), ["default"]);
    assert.deepEqual(await engramMemoryCount(url), { count: 0 });
  });
  await withServer({ dim: 4 }, async (url) => {
    for (const [content, space] of [["a", "default"], ["b", "default"], ["c", "other"]]) {
      await call(`${url}/api/v1/memories/remember`, {
        json: { content, embedding: [1, 0, 0, 0], memory_space_id: space },
      });
    }
    const h = await call(`${url}/api/v1/system/health`);
    assert.deepEqual(
      h.json.spaces.map((s: { space: string; memories: number }) => [s.space, s.memories]),
      [["default", 2], ["other", 1]],
    );
    assert.deepEqual(await engramMemoryCount(url), { count: 3 });
    // A server without the endpoint (the fake Engram's 404 text, a plain /health) says nothing.
    assert.ok("failure" in await engramMemoryCount(`${url}/nowhere`));
  });
});

Deno.test("POST /api/v1/memories/remember stores and answers 201 with Engram's fields", async () => {
  await withServer({ dim: 4 }, async (url) => {
    const a = await call(`${url}/api/v1/memories/remember`, {
      json: {
        content: "first",
        embedding: [0.1, 0.2, 0.3, 0.4],
        confidence: 0.9,
        tags: ["t"],
        memory_type: "episodic",
        auto_link: true,
        link_threshold: 0.5,
      },
    });
    assert.equal(a.status, 201, a.text);
    assert.match(a.json.memory_id, /^mem_/);
    assert.deepEqual(Object.keys(a.json.storage_confidence).sort(), [
      "category",
      "reasoning",
      "value",
    ]);
    assert.equal(a.json.storage_confidence.value, 0.9);
    assert.equal(a.json.storage_confidence.category, "High");
    assert.equal(a.json.consolidation_state, "Recent");
    assert.ok(!Number.isNaN(Date.parse(a.json.stored_at)));
    // A near-duplicate is linked to the first memory.
    const b = await call(`${url}/api/v1/memories/remember`, {
      json: { content: "second", embedding: [0.1, 0.2, 0.3, 0.41] },
    });
    assert.equal(b.json.auto_links[0].target_memory_id, a.json.memory_id);
  });
});

Deno.test("POST /api/v1/memories reads content and confidence only, ignoring the embedding", async () => {
  await withServer({ dim: 4 }, async (url, server) => {
    const a = await call(`${url}/api/v1/memories`, {
      json: { content: "plain note about lanterns", confidence: 0.4, embedding: [1, 2] },
    });
    assert.equal(a.status, 201, a.text);
    assert.equal(a.json.storage_confidence.value, 0.4);
    const s = await call(`${url}/api/v1/memories/search?query=lanterns`);
    assert.equal(s.json.total, 1);
    assert.equal(server.stats().memories.total, 1);
    assertError(
      await call(`${url}/api/v1/memories`, { json: { confidence: 0.4 } }),
      400,
      "INVALID_MEMORY_INPUT",
    );
  });
});

Deno.test("POST /api/v1/episodes/remember stores an episode found by its context words", async () => {
  await withServer({ dim: 4 }, async (url) => {
    const a = await call(`${url}/api/v1/episodes/remember`, {
      json: {
        when: "2024-05-01T09:30:00Z",
        what: "breakfast meeting",
        where_location: "harbor cafe",
        who: ["alice", "bob"],
        why: "planning",
        how: "in person",
        embedding: [0, 1, 0, 0],
        emotional_valence: 0.3,
        importance: 0.8,
        auto_link: true,
        memory_space_id: "episodes",
      },
    });
    assert.equal(a.status, 201, a.text);
    assert.match(a.json.memory_id, /^ep_/);
    assert.equal(a.json.storage_confidence.value, 0.8);
    const s = await call(`${url}/api/v1/memories/search?query=harbor&space=episodes`);
    assert.equal(s.json.memories[0].content, "breakfast meeting");
    assertError(
      await call(`${url}/api/v1/episodes/remember`, { json: { what: "no time" } }),
      400,
      "INVALID_MEMORY_INPUT",
      /when/,
    );
    assertError(
      await call(`${url}/api/v1/episodes/remember`, { json: { when: "yesterday", what: "x" } }),
      400,
      "INVALID_MEMORY_INPUT",
      /RFC 3339/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Validation errors

Deno.test("remember refuses a wrong dimension, missing, blank or >100KB content, and bad JSON", async () => {
  await withServer({}, async (url) => {
    const remember = (body: unknown) => call(`${url}/api/v1/memories/remember`, { json: body });
    assertError(
      await remember({ content: "x", embedding: vector(767, 1) }),
      400,
      "INVALID_MEMORY_INPUT",
      /exactly 768 dimensions, got 767/,
    );
    assertError(
      await remember({ content: "x", embedding: [...vector(767, 1), "a"] }),
      400,
      "INVALID_MEMORY_INPUT",
      /embedding\[767\]/,
    );
    assertError(
      await remember({ embedding: vector(768, 1) }),
      400,
      "INVALID_MEMORY_INPUT",
      /content/,
    );
    assertError(await remember({ content: "   " }), 400, "INVALID_MEMORY_INPUT", /empty/);
    assertError(
      await remember({ content: "x".repeat(100_001) }),
      400,
      "INVALID_MEMORY_INPUT",
      /too large/,
    );
    assert.equal((await remember({ content: "x".repeat(100_000) })).status, 201);
    assertError(
      await remember({ content: "x", confidence: 2 }),
      400,
      "INVALID_MEMORY_INPUT",
      /confidence/,
    );
    assertError(
      await call(`${url}/api/v1/memories/remember`, { method: "POST", body: "{not json" }),
      400,
      "INVALID_MEMORY_INPUT",
      /JSON/,
    );
    assertError(
      await call(`${url}/api/v1/memories/remember`, { method: "POST", body: "[1,2]" }),
      400,
      "INVALID_MEMORY_INPUT",
      /object/,
    );
  });
});

Deno.test("recall refuses a bad mode, no cue, a malformed or wrong-size embedding, bad numbers", async () => {
  await withServer({ dim: 4 }, async (url) => {
    const recall = (qs: string) => call(`${url}/api/v1/memories/recall?${qs}`);
    assertError(await recall("query=x&mode=psychic"), 400, "INVALID_MEMORY_INPUT", /psychic/);
    assertError(await recall("threshold=0.5"), 400, "INVALID_MEMORY_INPUT", /query or embedding/);
    assertError(await recall("embedding=%5B1%2C2"), 400, "INVALID_MEMORY_INPUT", /JSON array/);
    assertError(
      await recall(`embedding=${embeddingParam([1, 2, 3])}`),
      400,
      "INVALID_MEMORY_INPUT",
      /got 3/,
    );
    assertError(await recall("query=x&threshold=abc"), 400, "INVALID_MEMORY_INPUT", /threshold/);
    assertError(await recall("query=x&max_results=-1"), 400, "INVALID_MEMORY_INPUT", /max_results/);
    assertError(await recall("query=%E0%A4%A"), 400, "INVALID_MEMORY_INPUT", /percent/);
    assertError(await call(`${url}/api/v1/memories/search`), 400, "INVALID_MEMORY_INPUT", /query/);
  });
});

Deno.test("unknown routes answer 404 and wrong methods 405, both with Engram's error body", async () => {
  await withServer({}, async (url) => {
    assertError(
      await call(`${url}/api/v2/nothing`),
      404,
      "MEMORY_NOT_FOUND",
      /GET \/api\/v2\/nothing/,
    );
    const wrong = await call(`${url}/api/v1/memories/recall`, { method: "POST", body: "{}" });
    assertError(wrong, 405, "INVALID_MEMORY_INPUT", /GET/);
    assert.equal(wrong.headers.get("allow"), "GET");
  });
});

// ---------------------------------------------------------------------------------------------
// Behaviour of the store

Deno.test("a stored memory is recalled first by its own embedding with similarity ≥ 0.99", async () => {
  await withServer({}, async (url) => {
    // More memories than the index re-ranks exactly, so the approximate path is exercised.
    const n = 600;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = await call(`${url}/api/v1/memories/remember`, {
        json: { content: `memory number ${i}`, embedding: vector(768, i + 1) },
      });
      ids.push(a.json.memory_id);
    }
    for (const i of [0, 123, 599]) {
      const r = await call(
        `${url}/api/v1/memories/recall?embedding=${embeddingParam(vector(768, i + 1))}`,
      );
      assert.equal(r.status, 200, r.text);
      const first = r.json.memories.vivid[0];
      assert.equal(first.id, ids[i]);
      assert.equal(first.content, `memory number ${i}`);
      assert.ok(first.similarity_score >= 0.99, `similarity ${first.similarity_score}`);
      assert.deepEqual(Object.keys(first.confidence).sort(), ["category", "reasoning", "value"]);
      assert.equal(typeof first.activation_level, "number");
      assert.deepEqual(r.json.memories.reconstructed, []);
      assert.equal(typeof r.json.recall_confidence.value, "number");
      assert.equal(typeof r.json.query_analysis.search_strategy, "string");
    }
  });
});

Deno.test("recall honours threshold and max_results and splits vivid from associated at 0.7", async () => {
  await withServer({ dim: 4 }, async (url) => {
    for (
      const [content, embedding] of [["a", [1, 0, 0, 0]], ["b", [1, 1, 0, 0]], ["c", [0, 0, 1, 0]]]
    ) {
      await call(`${url}/api/v1/memories/remember`, {
        json: { content, embedding, auto_link: false },
      });
    }
    const q = embeddingParam([1, 0, 0, 0]);
    const r = await call(`${url}/api/v1/memories/recall?embedding=${q}&threshold=0.5`);
    assert.deepEqual(r.json.memories.vivid.map((m: { content: string }) => m.content), ["a", "b"]);
    assert.deepEqual(r.json.memories.associated, []);
    const low = await call(`${url}/api/v1/memories/recall?embedding=${q}&threshold=0.6`);
    assert.equal(low.json.memories.vivid.length, 2); // cos(a, b) = 0.707 > 0.7
    const one = await call(`${url}/api/v1/memories/recall?embedding=${q}&max_results=1`);
    assert.equal(one.json.memories.vivid.length, 1);
    const mid = await call(
      `${url}/api/v1/memories/recall?embedding=${embeddingParam([1, 0.6, 0.9, 0])}&threshold=0.5`,
    );
    const contents = (list: Array<{ content: string }>) => list.map((m) => m.content);
    assert.deepEqual(contents(mid.json.memories.vivid), ["b"]);
    assert.deepEqual(contents(mid.json.memories.associated).sort(), ["a", "c"]);
  });
});

Deno.test("text search finds stored content, ranks by words matched, and counts all matches", async () => {
  await withServer({ dim: 4 }, async (url) => {
    const texts = ["river at dawn", "quiet river forest", "forest trail", "city lights"];
    for (const content of texts) await call(`${url}/api/v1/memories`, { json: { content } });
    const s = await call(`${url}/api/v1/memories/search?query=river%20forest&limit=2`);
    assert.equal(s.status, 200);
    assert.equal(s.json.total, 3);
    assert.deepEqual(s.json.memories.map((m: { content: string }) => m.content), [
      "quiet river forest",
      "forest trail",
    ]);
    const none = await call(`${url}/api/v1/memories/search?query=ocean`);
    assert.deepEqual(none.json, { memories: [], total: 0 });
    const recall = await call(`${url}/api/v1/memories/recall?query=city+lights`);
    assert.equal(recall.json.memories.vivid[0].content, "city lights");
  });
});

Deno.test("spreading and hybrid recall reach linked memories that similarity recall misses", async () => {
  await withServer({ dim: 4 }, async (url) => {
    const store = (content: string, embedding: number[]) =>
      call(`${url}/api/v1/memories/remember`, { json: { content, embedding } });
    await store("anchor", [1, 0, 0, 0]);
    await store("neighbour", [1, 0.8, 0, 0]); // cos 0.78 to anchor: linked
    await store("far neighbour", [0.6, 1, 0.3, 0]); // linked to neighbour, cos 0.49 to anchor
    await store("unrelated", [0, 0, 0, 1]);
    const q = `embedding=${embeddingParam([1, 0, 0, 0])}&threshold=0.9`;
    const sim = await call(`${url}/api/v1/memories/recall?${q}&mode=similarity`);
    assert.deepEqual(sim.json.memories.associated, []);
    for (const mode of ["spreading", "hybrid"]) {
      const r = await call(`${url}/api/v1/memories/recall?${q}&mode=${mode}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.memories.vivid[0].content, "anchor");
      const associated = r.json.memories.associated.map((m: { content: string }) => m.content);
      assert.deepEqual(associated.sort(), ["far neighbour", "neighbour"], mode);
      assert.equal(r.json.memories.associated[0].retrieval_path, "Spreading activation");
    }
  });
});

Deno.test("--no-spreading refuses spreading and hybrid with a 400 naming the mode", async () => {
  await withServer({ dim: 4, spreading: false }, async (url) => {
    for (const mode of ["spreading", "hybrid"]) {
      assertError(
        await call(`${url}/api/v1/memories/recall?query=x&mode=${mode}`),
        400,
        "INVALID_MEMORY_INPUT",
        new RegExp(`mode '${mode}'.*spreading`),
      );
    }
    assert.equal((await call(`${url}/api/v1/memories/recall?query=x&mode=similarity`)).status, 200);
  });
});

Deno.test("POST /api/v1/complete fills the unknown components from the nearest memory", async () => {
  await withServer({ dim: 8 }, async (url) => {
    const target = [0.9, -0.2, 0.4, 0.1, -0.5, 0.3, 0.7, -0.1];
    const a = await call(`${url}/api/v1/memories/remember`, {
      json: { content: "target", embedding: target },
    });
    await call(`${url}/api/v1/memories/remember`, {
      json: { content: "other", embedding: [-0.3, 0.8, 0.1, -0.6, 0.2, 0.5, -0.4, 0.9] },
    });
    const partial = target.map((x, i) => (i % 2 === 0 ? x : null));
    const r = await call(`${url}/api/v1/complete?include_embedding=true`, {
      json: {
        partial_episode: {
          known_fields: { what: "half remembered" },
          partial_embedding: partial,
          cue_strength: 0.7,
          temporal_context: [],
        },
        config: { ca1_threshold: 0.7, num_hypotheses: 3, max_iterations: 7 },
      },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.completed_episode.id, a.json.memory_id);
    assert.equal(r.json.completed_episode.what, "half remembered");
    assert.ok(r.json.completion_confidence.value > 0.99);
    assert.equal(r.json.reconstruction_stats.pattern_sources[0], a.json.memory_id);
    assert.ok(cosine(r.json.completed_embedding, target) > 0.99);
    for (let i = 1; i < 8; i += 2) {
      assert.ok(Math.abs(r.json.completed_embedding[i] - target[i]) < 0.05);
    }
  });
});

Deno.test("complete answers 422 for a weak cue, an empty store or no close match; 400 for bad input", async () => {
  await withServer({ dim: 10 }, async (url) => {
    const complete = (partial: unknown, config?: unknown) =>
      call(`${url}/api/v1/complete`, {
        json: {
          partial_episode: { known_fields: { what: "x" }, partial_embedding: partial },
          config,
        },
      });
    const cue = [1, 0, 0, 0, null, null, null, null, null, null];
    assertError(await complete(cue), 422, "MEMORY_VALIDATION_ERROR", /no stored memories/);
    await call(`${url}/api/v1/memories/remember`, {
      json: { content: "m", embedding: [1, 0, 0, 0, 0, 0, 0, 0, 0, 1] },
    });
    const weak = [1, 0, null, null, null, null, null, null, null, null]; // 20% known
    assertError(await complete(weak), 422, "MEMORY_VALIDATION_ERROR", /30% cue overlap.*20\.0%/);
    assertError(await complete(null), 422, "MEMORY_VALIDATION_ERROR", /30%/);
    assertError(
      await complete([0, 1, 0, 0, null, null, null, null, null, null]),
      422,
      "MEMORY_VALIDATION_ERROR",
      /CA1 threshold/,
    );
    assert.equal((await complete(cue)).status, 200);
    assertError(await complete([1, 0]), 400, "INVALID_MEMORY_INPUT", /expected 10, got 2/);
    assertError(
      await call(`${url}/api/v1/complete`, { json: { config: {} } }),
      400,
      "INVALID_MEMORY_INPUT",
      /partial_episode/,
    );
    assertError(
      await call(`${url}/api/v1/complete`, {
        json: { partial_episode: { known_fields: {}, partial_embedding: cue, cue_strength: 3 } },
      }),
      422,
      "MEMORY_VALIDATION_ERROR",
      /Cue strength/,
    );
  });
});

Deno.test("memory space: header beats ?space= beats body memory_space_id beats default", async () => {
  await withServer({ dim: 4 }, async (url, server) => {
    const remember = (qs: string, body: object, headers: Record<string, string> = {}) =>
      call(`${url}/api/v1/memories/remember${qs}`, { json: { content: "x", ...body }, headers });
    assert.equal((await remember("", {})).status, 201);
    await remember("", { memory_space_id: "body" });
    await remember("?space=query", { memory_space_id: "body" });
    await remember("?space=query", { memory_space_id: "body" }, {
      "X-Engram-Memory-Space": "header",
    });
    assert.deepEqual(server.stats().memories.by_space, {
      default: 1,
      body: 1,
      query: 1,
      header: 1,
    });
    const found = (qs: string, headers: Record<string, string> = {}) =>
      call(`${url}/api/v1/memories/search?query=x${qs}`, { headers }).then((a) => a.json.total);
    assert.equal(await found("&space=header"), 1);
    assert.equal(await found("&space=nothing-here"), 0);
    assert.equal(await found("&space=nothing-here", { "X-Engram-Memory-Space": "query" }), 1);
    assertError(
      await remember("?space=bad%20space", {}),
      400,
      "INVALID_MEMORY_INPUT",
      /space parameter/,
    );
  });
});

Deno.test("every response carries Server-Timing app and inject durations with 3 decimals", async () => {
  await withServer({ dim: 4 }, async (url) => {
    const answers = [
      await call(`${url}/health`),
      await call(`${url}/health/alive`),
      await call(`${url}/metrics`),
      await call(`${url}/api/v1/memories/remember`, {
        json: { content: "x", embedding: [1, 0, 0, 0] },
      }),
      await call(`${url}/api/v1/memories/recall?query=x`),
      await call(`${url}/api/v1/memories/search?query=x`),
      await call(`${url}/api/v1/complete`, { json: {} }),
      await call(`${url}/missing`),
    ];
    for (const a of answers) {
      const header = a.headers.get("server-timing") ?? "";
      const m = /^app;dur=(\d+\.\d{3}), inject;dur=(\d+\.\d{3})$/.exec(header);
      assert.ok(m, `bad Server-Timing '${header}'`);
      assert.ok(Number(m[1]) >= 0 && Number(m[1]) < 1000);
      assert.equal(Number(m[2]), 0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Knobs

const serverTiming = (a: Answer, metric: string) =>
  Number(new RegExp(`${metric};dur=([\\d.]+)`).exec(a.headers.get("server-timing") ?? "")![1]);

Deno.test("stall knob holds requests arriving in the last 300 ms of each second until it ends", async () => {
  await withServer(
    { dim: 4, knobs: { stallEverySeconds: 1, stallMs: 300 } },
    async (url, server) => {
      const phase = () => (performance.now() - server.startedAt) % 1000;
      /** Sleeps until the server's stall-period phase is in [from, to) ms (bounded retries). */
      const waitForPhase = async (from: number, to: number) => {
        for (let i = 0; i < 5 && !(phase() >= from && phase() < to); i++) {
          await new Promise((r) => setTimeout(r, (from + 5 - phase() + 1000) % 1000));
        }
        assert.ok(phase() >= from && phase() < to, `could not reach phase ${from}-${to} ms`);
      };
      await waitForPhase(750, 800);
      const sentAt = performance.now();
      const periodEnd = server.startedAt + Math.ceil((sentAt - server.startedAt) / 1000) * 1000;
      const held = await call(`${url}/api/v1/memories/search?query=x`);
      const doneAt = performance.now();
      assert.equal(held.status, 200);
      assert.ok(
        Math.abs(doneAt - periodEnd) <= 30,
        `answered ${(doneAt - periodEnd).toFixed(1)} ms from period end`,
      );
      assert.ok(serverTiming(held, "inject") >= 150);

      await waitForPhase(100, 300);
      const t = performance.now();
      const free = await call(`${url}/api/v1/memories/search?query=x`);
      assert.ok(performance.now() - t < 100, "a request outside the stall window was held");
      assert.ok(serverTiming(free, "inject") < 1);
      // Health checks are never stalled.
      await waitForPhase(750, 800);
      const h0 = performance.now();
      await call(`${url}/health`);
      assert.ok(performance.now() - h0 < 100);
    },
  );
});

Deno.test("latency and jitter knobs delay requests concurrently and report inject time", async () => {
  await withServer({ dim: 4, knobs: { latencyMs: 60, jitterMs: 20 } }, async (url) => {
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call(`${url}/api/v1/memories/search?query=x`)),
    );
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 58 && elapsed < 200, `8 concurrent delayed requests took ${elapsed} ms`);
    for (const a of answers) {
      const inject = serverTiming(a, "inject");
      assert.ok(inject >= 58 && inject < 100, `inject ${inject}`);
      assert.ok(serverTiming(a, "app") < 50);
    }
  });
});

Deno.test("error rate fails the same requests for the same seed, with MEMORY_SYSTEM_ERROR", async () => {
  const statuses = async (seed: bigint) => {
    const out: number[] = [];
    await withServer({ dim: 4, seed, knobs: { errorRate: 0.3 } }, async (url) => {
      for (let i = 0; i < 40; i++) {
        const a = await call(`${url}/api/v1/memories/search?query=x`);
        if (a.status === 500) assertError(a, 500, "MEMORY_SYSTEM_ERROR", /Injected/);
        out.push(a.status);
      }
      // Monitoring endpoints never fail.
      for (let i = 0; i < 10; i++) assert.equal((await call(`${url}/health`)).status, 200);
    });
    return out;
  };
  const a = await statuses(42n), b = await statuses(42n), c = await statuses(43n);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const failures = a.filter((s) => s === 500).length;
  assert.ok(failures >= 4 && failures <= 24, `${failures} of 40 failed at rate 0.3`);
});

// ---------------------------------------------------------------------------------------------
// Recording

Deno.test("recording writes exact request bytes; same requests give identical files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_reference_" });
  try {
    const run = async (file: string) => {
      const seen: RecordedRequest[] = [];
      await withServer(
        { dim: 4, recordPath: file, onRequest: (r) => seen.push(r) },
        async (url) => {
          await call(`${url}/health`);
          await call(`${url}/api/v1/memories/remember`, {
            method: "POST",
            body: '{"content":"é ü","embedding":[1,0,0,0]}',
          });
          await call(`${url}/api/v1/memories/recall?embedding=%5B1%2C0%2C0%2C0%5D&mode=similarity`);
        },
      );
      return seen;
    };
    const seen = await run(`${dir}/a.log`);
    await run(`${dir}/b.log`);
    const a = await Deno.readFile(`${dir}/a.log`);
    assert.deepEqual(a, await Deno.readFile(`${dir}/b.log`));
    assert.equal(
      new TextDecoder().decode(a),
      'POST /api/v1/memories/remember\n{"content":"é ü","embedding":[1,0,0,0]}\n' +
        "GET /api/v1/memories/recall?embedding=%5B1%2C0%2C0%2C0%5D&mode=similarity\n\n",
    );
    assert.deepEqual(seen.map((r) => r.method), ["POST", "GET"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// The CLI process

interface Child {
  process: Deno.ChildProcess;
  /** First stdout line. */
  firstLine: string;
  /** Waits for exit; returns code and everything on stderr. */
  finish(): Promise<{ code: number; stderr: string }>;
}

async function spawnServer(args: string[]): Promise<Child> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stderrText = new Response(process.stderr).text();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = Date.now() + 20_000;
  while (!out.includes("\n") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const rest = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    process,
    firstLine: out.split("\n")[0],
    finish: async () => {
      const status = await process.status;
      await rest;
      return { code: status.code, stderr: await stderrText };
    },
  };
}

Deno.test("CLI: --port 0 announces the port; SIGTERM finishes in-flight requests and exits 0", async () => {
  const child = await spawnServer(["--port", "0", "--dim", "4", "--latency-ms", "400"]);
  let inFlight: Promise<Answer> | null = null;
  try {
    const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(child.firstLine);
    assert.ok(m, `first line '${child.firstLine}'`);
    assert.equal((await call(`${m[1]}/health`)).status, 200);
    inFlight = call(`${m[1]}/api/v1/memories/search?query=x`);
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    child.process.kill("SIGTERM");
  }
  assert.equal((await inFlight).status, 200);
  assert.equal((await child.finish()).code, 0);
});

Deno.test("CLI: a port already in use is one line on stderr and exit 3", async () => {
  await withServer({}, async (_url, server) => {
    const child = await spawnServer(["--port", String(server.port)]);
    const { code, stderr } = await child.finish();
    assert.equal(code, 3);
    assert.equal(child.firstLine, "");
    assert.equal(
      stderr.trim(),
      `reference server: port ${server.port} is already in use on 127.0.0.1`,
    );
  });
});

Deno.test("CLI: bad flags are one line and exit 3; --help prints usage and exits 0", async () => {
  const bad = [
    ["--dim", "zero"],
    ["--bogus"],
    ["--stall-ms", "100"],
    ["--seed", "-1"],
    ["--port", "0", "--record", "/nonexistent-dir/requests.log"], // also: no --allow-write
  ];
  for (const args of bad) {
    const child = await spawnServer(args);
    const { code, stderr } = await child.finish();
    assert.equal(code, 3, args.join(" "));
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr, /^reference server: /);
  }
  const help = await spawnServer(["--help"]);
  assert.match(help.firstLine, /^Usage: deno task serve/);
  assert.equal((await help.finish()).code, 0);
});
