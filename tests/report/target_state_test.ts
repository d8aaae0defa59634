/** The deduplication note and the target-state line: said only from measured counts. */
import assert from "node:assert/strict";
import { deduplicationNote, describeTargetState } from "../../lib/report/target_state.ts";

const facts = (
  after: number | null,
  end: number | null,
  stores: number,
  preloadAccepted = 0,
  clusterCosine: number | null = 0.848,
) => ({
  state: { memories_after_preload: after, memories_at_end: end, stores_accepted: stores },
  preloadAccepted,
  server: "the server",
  clusterCosine,
});

Deno.test("deduplicationNote(): nothing when every accepted store added a memory, or no count was reported", () => {
  assert.equal(deduplicationNote(facts(1000, 31_154, 30_154, 1000)), null);
  // A --url server others write to may grow by more than this run stored.
  assert.equal(deduplicationNote(facts(5000, 40_000, 30_154)), null);
  assert.equal(deduplicationNote(facts(null, null, 30_154, 1000)), null);
  assert.equal(deduplicationNote(facts(10, null, 30_154, 1000)), null);
});

Deno.test("deduplicationNote(): stores that added no memory are said, with the cause when the scenario explains it", () => {
  assert.equal(
    deduplicationNote(facts(0, 10, 30_154)),
    "stores deduplicated away: 30,154 stores accepted; the server holds 10 memories " +
      "(0 after the preload, +10 since): the server deduplicated or dropped the rest",
  );
  assert.equal(
    deduplicationNote(facts(10, 10, 30_154, 1000, 0.973)),
    "stores deduplicated away: 31,154 stores accepted (1,000 in the preload); the server holds " +
      "10 memories (10 after the preload, +0 since): the scenario's same-cluster embeddings are " +
      "near-identical (cosine ≈ 0.973; Engram deduplicates at ≥ 0.95)",
  );
  // Only the preload was deduplicated; the run's stores each added one.
  assert.match(
    deduplicationNote(facts(18_908, 18_918, 10, 20_000))!,
    /^stores deduplicated away: 20,010 stores accepted \(20,000 in the preload\); the server holds 18,918 memories \(18,908 after the preload, \+10 since\)/,
  );
  // Memories removed while the run stored (a shrinking store) are not hidden by the sign.
  assert.match(deduplicationNote(facts(50, 40, 100))!, /\(50 after the preload, −10 since\)/);
});

Deno.test("describeTargetState(): the counts, or that the target does not report one", () => {
  assert.equal(
    describeTargetState({
      memories_after_preload: 0,
      memories_at_end: 1234,
      stores_accepted: 1234,
    }),
    "memories 0 after the preload, 1,234 at the end; 1,234 stores accepted after the preload",
  );
  assert.equal(
    describeTargetState({
      memories_after_preload: null,
      memories_at_end: null,
      stores_accepted: 5,
    }),
    "memory count not reported (GET /api/v1/system/health); 5 stores accepted after the preload",
  );
});
