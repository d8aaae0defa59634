/**
 * The competitive position in words: the specification's `61.2% faster` and
 * `- vs Neo4j: 61.2% (baseline: 27.96ms)` when Engram is faster; plain words when it is slower
 * (a ratio from twice the competitor's P99 on), never a signed `-613.2%`.
 */
import assert from "node:assert/strict";
import { competitorBullet, positionWords } from "../../lib/render/format.ts";

const NEO4J = { displayName: "Neo4j", p99Ms: 27.96 };
const gap = (engram: number) => (NEO4J.p99Ms - engram) / NEO4J.p99Ms * 100;

Deno.test("positionWords(): faster as the specification, slower as extra time, then a ratio", () => {
  assert.equal(positionWords(gap(10.85)), "61.2% faster");
  assert.equal(positionWords(0), "0.0% faster");
  assert.equal(positionWords(gap(30)), "7.3% slower");
  assert.equal(positionWords(gap(55)), "96.7% slower");
  // From twice the competitor's P99: Engram's P99 is that many times theirs.
  assert.equal(positionWords(gap(2 * 27.96)), "2.0× slower");
  assert.equal(positionWords(gap(199.4)), "7.1× slower");
});

Deno.test("competitorBullet(): the specification's form when faster, plain numbers when slower", () => {
  assert.equal(
    competitorBullet({ baseline: NEO4J, engramP99Ms: 10.85, gapPct: gap(10.85) }),
    "- vs Neo4j: 61.2% (baseline: 27.96ms)",
  );
  assert.equal(
    competitorBullet({ baseline: NEO4J, engramP99Ms: 10.85, gapPct: gap(10.85) }, "LDBC SNB"),
    "- vs Neo4j: 61.2% (baseline: 27.96ms; LDBC SNB; indicative only)",
  );
  assert.equal(
    competitorBullet({ baseline: NEO4J, engramP99Ms: 199.4, gapPct: gap(199.4) }),
    "- vs Neo4j: P99 199.4ms vs Neo4j's published 27.96ms: 7.1× slower (indicative: different workload)",
  );
  assert.equal(
    competitorBullet({ baseline: NEO4J, engramP99Ms: 30, gapPct: gap(30) }, "LDBC SNB"),
    "- vs Neo4j: P99 30ms vs Neo4j's published 27.96ms: 7.3% slower (LDBC SNB; indicative: different workload)",
  );
});
