/**
 * The reference server's pure parts without HTTP: vector index, text index, link graph,
 * knob schedule, flag parsing and request parsing helpers.
 */
import assert from "node:assert/strict";
import { UsageError } from "../../lib/shared/errors.ts";
import { parseServeArgs } from "../../lib/reference/args.ts";
import { DEGREE, LinkGraph } from "../../lib/reference/graph.ts";
import { Injector, NO_KNOBS, stallWaitMs } from "../../lib/reference/knobs.ts";
import { parseQueryString, resolveSpace, utf8Length } from "../../lib/reference/request.ts";
import { TextIndex, tokenize } from "../../lib/reference/text_index.ts";
import { normalize, SimHasher, VectorIndex } from "../../lib/reference/vector_index.ts";
import { ApiError } from "../../lib/reference/api_error.ts";

function randomUnit(dim: number, state: { s: number }): Float32Array {
  const v = new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    state.s = (Math.imul(state.s, 1664525) + 1013904223) >>> 0;
    v[j] = state.s / 4294967296 - 0.5;
  }
  return normalize(v);
}

Deno.test("VectorIndex finds every vector first by itself beyond the exact re-rank size", () => {
  const dim = 96;
  const index = new VectorIndex(new SimHasher(dim, 7n));
  const state = { s: 1 };
  const vectors = Array.from({ length: 3000 }, () => randomUnit(dim, state));
  for (const v of vectors) index.add(v);
  for (let row = 0; row < vectors.length; row += 97) {
    const hits = index.search(vectors[row], { k: 5 });
    assert.equal(hits[0].row, row);
    assert.ok(Math.abs(hits[0].score - 1) < 1e-5);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
  }
});

Deno.test("VectorIndex ranks near neighbours of a perturbed query like brute force", () => {
  const dim = 64;
  const index = new VectorIndex(new SimHasher(dim, 1n));
  const state = { s: 99 };
  const vectors = Array.from({ length: 2000 }, () => randomUnit(dim, state));
  for (const v of vectors) index.add(v);
  let found = 0;
  for (let t = 0; t < 50; t++) {
    const target = vectors[t * 31];
    const noise = randomUnit(dim, state);
    const q = normalize(target.map((x, j) => x + 0.3 * noise[j]));
    if (index.search(q, { k: 1 })[0].row === t * 31) found++;
  }
  assert.ok(found >= 48, `nearest neighbour found ${found}/50 times`);
});

Deno.test("VectorIndex scores a partial query over its known components only", () => {
  const index = new VectorIndex(new SimHasher(4, 1n));
  index.add(normalize(new Float32Array([1, 0, 5, 0])));
  index.add(normalize(new Float32Array([0, 1, 0, 0])));
  const hits = index.search(new Float32Array([1, 0, 0, 0]), {
    k: 2,
    known: new Int32Array([0, 1]),
  });
  assert.equal(hits[0].row, 0);
  assert.ok(Math.abs(hits[0].score - 1) < 1e-6);
  assert.ok(Math.abs(hits[1].score) < 1e-6);
});

Deno.test("VectorIndex searches only from fromRow on and returns nothing when empty", () => {
  const index = new VectorIndex(new SimHasher(2, 1n));
  assert.deepEqual(index.search(new Float32Array([1, 0]), { k: 3 }), []);
  index.add(new Float32Array([1, 0]));
  index.add(new Float32Array([0, 1]));
  assert.deepEqual(index.search(new Float32Array([1, 0]), { k: 3, fromRow: 1 }).map((h) => h.row), [
    1,
  ]);
});

Deno.test("SimHasher gives equal seeds equal codes and different seeds different codes", () => {
  const v = randomUnit(768, { s: 5 });
  const code = (seed: bigint) => {
    const out = new Uint32Array(4);
    new SimHasher(768, seed).hash(v, out, 0);
    return [...out];
  };
  assert.deepEqual(code(1n), code(1n));
  assert.notDeepEqual(code(1n), code(2n));
});

Deno.test("TextIndex ranks by words matched, then newest, and counts any-word matches", () => {
  const t = new TextIndex();
  ["Red apple", "green apple pie", "red pie", "blue sky"].forEach((text, doc) => t.add(doc, text));
  const m = t.search("red PIE", 10);
  assert.deepEqual(m.docs, [2, 1, 0]);
  assert.deepEqual(m.scores, [1, 0.5, 0.5]);
  assert.equal(m.total, 3);
  assert.deepEqual(t.search("red pie", 1).docs, [2]);
  assert.deepEqual(t.search("", 5), { docs: [], scores: [], total: 0 });
  assert.throws(() => t.add(1, "out of order"), RangeError);
});

Deno.test("TextIndex search equals a brute-force ranking on a random corpus", () => {
  const vocab = ["a", "b", "c", "d", "e", "f", "g", "h"];
  const state = { s: 3 };
  const pick = () => {
    state.s = (Math.imul(state.s, 1664525) + 1013904223) >>> 0;
    return vocab[state.s % vocab.length];
  };
  const docs = Array.from({ length: 2000 }, () => [pick(), pick(), pick()]);
  const t = new TextIndex();
  docs.forEach((words, doc) => t.add(doc, words.join(" ")));
  for (let q = 0; q < 40; q++) {
    const query = [pick(), pick(), pick()];
    const terms = [...new Set(query)];
    const ranked = docs
      .map((words, doc) => ({ doc, c: terms.filter((w) => words.includes(w)).length }))
      .filter((x) => x.c > 0)
      .sort((x, y) => y.c - x.c || y.doc - x.doc);
    const limit = 1 + (q % 12);
    const got = t.search(query.join(" "), limit);
    assert.deepEqual(got.docs, ranked.slice(0, limit).map((x) => x.doc));
    assert.equal(got.total, ranked.length);
  }
});

Deno.test("tokenize lower-cases, splits on non-letters and keeps each word once", () => {
  assert.deepEqual(tokenize("Memory 12, memory: café-Bar"), ["memory", "12", "café", "bar"]);
});

Deno.test("LinkGraph keeps the strongest DEGREE links and spreads with decay", () => {
  const g = new LinkGraph();
  for (let i = 0; i < 20; i++) g.addNode();
  for (let i = 1; i < 12; i++) g.link(0, i, i / 20);
  const kept = g.neighbors(0).map(([n]) => n).sort((a, b) => a - b);
  assert.equal(kept.length, DEGREE);
  assert.deepEqual(kept, [4, 5, 6, 7, 8, 9, 10, 11]);
  g.link(11, 15, 1);
  const reached = g.spread([{ node: 0, activation: 1 }], 2, 20);
  assert.equal(reached[0].node, 11);
  assert.ok(Math.abs(reached[0].activation - 11 / 20 * 0.5) < 1e-6);
  const far = reached.find((a) => a.node === 15);
  assert.ok(far && Math.abs(far.activation - 11 / 20 * 0.5 * 0.5) < 1e-6);
  assert.equal(reached.some((a) => a.node === 0), false);
  assert.deepEqual(g.spread([{ node: 0, activation: 1 }], 0, 20), []);
});

Deno.test("stallWaitMs holds only the last stallMs of each period, until the period ends", () => {
  assert.equal(stallWaitMs(0, 1000, 300), 0);
  assert.equal(stallWaitMs(699.9, 1000, 300), 0);
  assert.equal(stallWaitMs(700, 1000, 300), 300);
  assert.equal(stallWaitMs(1950, 1000, 300), 50);
  assert.equal(stallWaitMs(2000, 1000, 300), 0);
  assert.equal(stallWaitMs(950, 0, 300), 0);
});

Deno.test("Injector draws the same fates for the same seed, two draws per request", () => {
  const fates = (seed: bigint, errorRate: number) => {
    const inj = new Injector({ ...NO_KNOBS, seed, errorRate, latencyMs: 5, jitterMs: 10 });
    return Array.from({ length: 50 }, () => inj.draw());
  };
  assert.deepEqual(fates(9n, 0.5), fates(9n, 0.5));
  assert.notDeepEqual(fates(9n, 0.5), fates(10n, 0.5));
  // The jitter stream does not depend on the error rate.
  assert.deepEqual(fates(9n, 0.5).map((f) => f.delayMs), fates(9n, 0).map((f) => f.delayMs));
  for (const f of fates(9n, 0.5)) assert.ok(f.delayMs >= 5 && f.delayMs < 15);
});

Deno.test("parseServeArgs maps flags to options and refuses bad ones with a UsageError", () => {
  const { options } = parseServeArgs([
    "--port=0",
    "--dim",
    "8",
    "--latency-ms",
    "2.5",
    "--stall-every-s",
    "2",
    "--stall-ms",
    "100",
    "--no-spreading",
    "--seed",
    "0xFF",
    "--record",
    "r.log",
  ]);
  assert.equal(options.port, 0);
  assert.equal(options.dim, 8);
  assert.equal(options.spreading, false);
  assert.equal(options.seed, 255n);
  assert.equal(options.recordPath, "r.log");
  assert.deepEqual(options.knobs, {
    latencyMs: 2.5,
    jitterMs: 0,
    errorRate: 0,
    stallEverySeconds: 2,
    stallMs: 100,
  });
  assert.equal(parseServeArgs(["--help"]).help, true);
  for (
    const bad of [
      ["--port", "70000"],
      ["--dim", "1.5"],
      ["--error-rate", "2"],
      ["--stall-every-s", "1"],
      ["--stall-every-s", "1", "--stall-ms", "2000"],
      ["--seed", "x"],
      ["--nope"],
      ["extra"],
    ]
  ) {
    assert.throws(() => parseServeArgs(bad), UsageError, bad.join(" "));
  }
});

Deno.test("parseQueryString decodes percent and plus, keeps the first value of a key", () => {
  const q = parseQueryString("a=1&b=%5B1%2C2%5D&c=x+y&a=2&flag&=v");
  assert.equal(q.get("a"), "1");
  assert.equal(q.get("b"), "[1,2]");
  assert.equal(q.get("c"), "x y");
  assert.equal(q.get("flag"), "");
  assert.throws(() => parseQueryString("a=%E0%A4%A"), ApiError);
});

Deno.test("resolveSpace prefers header, then query, then body, then default", () => {
  assert.equal(resolveSpace("h", "q", { memory_space_id: "b" }), "h");
  assert.equal(resolveSpace(null, "q", { memory_space_id: "b" }), "q");
  assert.equal(resolveSpace(null, undefined, { memory_space_id: "b" }), "b");
  assert.equal(resolveSpace(null, undefined, null), "default");
  assert.throws(() => resolveSpace(null, undefined, { memory_space_id: 5 }), ApiError);
});

Deno.test("utf8Length counts UTF-8 bytes like TextEncoder", () => {
  for (const s of ["", "abc", "é", "€", "😀", "a😀é€"]) {
    assert.equal(utf8Length(s), new TextEncoder().encode(s).length, s);
  }
});
