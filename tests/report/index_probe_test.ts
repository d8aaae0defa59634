/** The index probe's words: the note only when the restored store found fewer, and compare's warnings. */
import assert from "node:assert/strict";
import {
  indexProbeNote,
  type IndexProbeRecord,
  indexProbeWarnings,
} from "../../lib/report/index_probe.ts";
import type { RunReport } from "../../lib/report/schema.ts";

const probe = (fresh: number | null, restored: number): IndexProbeRecord => ({
  probes: 8,
  found_fresh: fresh,
  found_restored: restored,
});

Deno.test("indexProbeNote(): none when the restored store found as many as the fresh preload", () => {
  assert.equal(indexProbeNote(probe(8, 8)), null);
  assert.equal(indexProbeNote(probe(5, 5)), null);
  assert.equal(indexProbeNote(probe(5, 6)), null);
  assert.equal(indexProbeNote(probe(null, 8)), null, "an old snapshot: every probe found");
});

Deno.test("indexProbeNote(): fewer found after the restore says so, with both counts and the way out", () => {
  assert.equal(
    indexProbeNote(probe(8, 0)),
    "restored Engram's vector index holds only memories stored after the restore (0 of 8 probes " +
      "found vs 8 of 8 on the fresh preload): recall/search latencies are not those of a " +
      "preloaded store; --no-preload-cache measures the preloaded state (hours at 100K)",
  );
  assert.match(
    indexProbeNote(probe(null, 2))!,
    /\(2 of 8 probes found; the fresh preload was not probed when the snapshot was made\): /,
  );
});

const report = (p: IndexProbeRecord | undefined) =>
  ({
    preload: {
      count: 300,
      errors: 0,
      seconds: 1,
      ...(p ? { snapshot: { action: "restored", index_probe: p } } : {}),
    },
  }) as unknown as RunReport;

Deno.test("indexProbeWarnings(): once for both runs when they say the same, else per run", () => {
  assert.deepEqual(indexProbeWarnings(report(probe(8, 8)), report(undefined)), []);
  const both = indexProbeWarnings(report(probe(8, 0)), report(probe(8, 0)));
  assert.equal(both.length, 1);
  assert.match(both[0], /^the before and after runs: restored Engram's vector index/);
  const after = indexProbeWarnings(report(probe(8, 8)), report(probe(8, 1)));
  assert.deepEqual(after.map((w) => w.slice(0, 14)), ["the after run:"]);
  const each = indexProbeWarnings(report(probe(8, 0)), report(probe(null, 0)));
  assert.deepEqual(each.map((w) => w.split(":")[0]), ["the before run", "the after run"]);
});
