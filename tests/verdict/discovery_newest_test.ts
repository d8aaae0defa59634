/**
 * "Newest" is the run's recorded UTC start, not the local-time stamp in its file name; the newest
 * report to compare passes over invalid runs of a confirm session.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { findNewestReport, findNewestToCompare } from "../../lib/verdict/discovery.ts";
import { makeReport, writeReport } from "../fixtures/make_report.ts";

Deno.test("findNewestReport(): a run named under another TZ is ordered by its recorded UTC start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Made at 12:00 UTC on a machine with TZ=UTC: named 120000.
    await writeReport(dir, "001_after_20260101_120000.json", {
      ...makeReport({ phase: "after" }),
      started_at: "2026-01-01T12:00:00.000Z",
    });
    // Made an hour later in New York (UTC-5): named 080000, truly the newest.
    await writeReport(dir, "001_after_20260101_080000.json", {
      ...makeReport({ phase: "after" }),
      started_at: "2026-01-01T13:00:00.000Z",
    });
    assert.equal(
      await findNewestReport(dir, "001", "after", "internal"),
      join(dir, "001_after_20260101_080000.json"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A run of confirm session `group` (pair `pair`), invalid when `reasons` are given. */
function confirmRun(phase: "before" | "after", pair: number, reasons: string[] = []) {
  const r = makeReport({
    phase,
    run: { group: "c0ffee00-aaaa", index: pair, count: 20 },
    valid: reasons.length === 0,
    invalidReasons: reasons,
  });
  Object.assign(r.run, { design: "interleaved", pair, order: "AB", order_seed: "7" });
  return { ...r, started_at: `2026-01-01T12:0${pair}:00.000Z` };
}

Deno.test("findNewestToCompare(): an invalid newest run of a confirm session is passed over, named in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeReport(dir, "001_after_20260101_120100.json", confirmRun("after", 1));
    await writeReport(dir, "001_after_20260101_120200.json", confirmRun("after", 2));
    const spoiled = await writeReport(
      dir,
      "001_after_20260101_120300.json",
      confirmRun("after", 3, ["interrupted by SIGINT during the measured window"]),
    );
    const found = await findNewestToCompare(dir, "001", "after", "internal");
    assert.equal(found?.path, join(dir, "001_after_20260101_120200.json"));
    assert.deepEqual(found?.leftOut.map((l) => [l.path, l.run.pair]), [[spoiled, 3]]);
    assert.equal(
      found?.leftOut[0].warning,
      `after run ${spoiled} left out: an invalid run of confirm group c0ffee00, pair 3 ` +
        "(interrupted by SIGINT during the measured window), newer than the after run used as the newest",
    );
    // findNewestReport is still the newest file (what a session's group is gathered around).
    assert.equal(await findNewestReport(dir, "001", "after", "internal"), spoiled);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findNewestToCompare(): an invalid plain run stays the newest (refused later), and so does a session with nothing valid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeReport(dir, "001_before_20260101_120100.json", confirmRun("before", 1));
    const plain = await writeReport(dir, "001_before_20260101_120200.json", {
      ...makeReport({ phase: "before", valid: false, invalidReasons: ["made invalid"] }),
      started_at: "2026-01-01T12:02:00.000Z",
    });
    assert.deepEqual(await findNewestToCompare(dir, "001", "before", "internal"), {
      path: plain,
      leftOut: [],
    });
    const only = await Deno.makeTempDir({ dir });
    const spoiled = await writeReport(
      only,
      "001_before_20260101_120100.json",
      confirmRun("before", 1, ["x"]),
    );
    assert.deepEqual(await findNewestToCompare(only, "001", "before", "internal"), {
      path: spoiled,
      leftOut: [],
    });
    assert.equal(await findNewestToCompare(only, "001", "after", "internal"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
