/** "Newest" is the run's recorded UTC start, not the local-time stamp in its file name. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { findNewestReport } from "../../lib/verdict/discovery.ts";
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
