/**
 * The benchmarks' report lookup (bench/check_run.ts): a run that wrote no report must not be
 * handed the report of the run just before it, written within the same second.
 */
import { strictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { latestReport } from "../../bench/check_run.ts";

Deno.test("latestReport with a task ignores another task's report of the same second", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const startedMs = Date.now();
    await Deno.writeTextFile(
      join(dir, "competitive_agree_R2_before_20261207_085833.json"),
      JSON.stringify({ p99_latency_ms: 27.3 }),
    );
    assertEquals(await latestReport(dir, startedMs, "agree_F2"), null);
    assertEquals((await latestReport(dir, startedMs, "agree_R2"))?.p99_latency_ms, 27.3);
    await Deno.writeTextFile(
      join(dir, "agree_F2_before_20261207_085905_2.json"),
      JSON.stringify({ p99_latency_ms: 50.9 }),
    );
    assertEquals((await latestReport(dir, startedMs, "agree_F2"))?.p99_latency_ms, 50.9);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
