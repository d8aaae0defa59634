/**
 * Censored percentiles: which ranks fall among the timed-out requests, and check's own summary
 * marking those percentiles as lower bounds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isLowerBound, runCensoring } from "../../lib/report/censoring.ts";
import { printSummary } from "../../lib/run/summary.ts";
import { RunLog } from "../../lib/run/run_log.ts";
import { makeReport, shapedSamples } from "../fixtures/make_report.ts";

Deno.test("censoring: 86% timed out makes P50, P95, P99 lower bounds; 2% only P99 and up", () => {
  const most = { count: 1000, censored: 860 };
  for (const p of [50, 95, 99, 99.9, 100]) assert.equal(isLowerBound(most, p), true, `P${p}`);
  assert.equal(isLowerBound(most, 10), false);
  const few = { count: 1000, censored: 20 };
  assert.equal(isLowerBound(few, 50), false);
  assert.equal(isLowerBound(few, 95), false);
  assert.equal(isLowerBound(few, 98), false); // rank 980 is the last answered request
  assert.equal(isLowerBound(few, 99), true);
  assert.equal(isLowerBound(few, 99.9), true);
  // One timeout: only the maximum is censored.
  assert.equal(isLowerBound({ count: 1000, censored: 1 }, 99.9), false);
  assert.equal(isLowerBound({ count: 1000, censored: 1 }, 100), true);
  assert.equal(isLowerBound(null, 100), false);
});

Deno.test("censoring: read from the report's timeouts; none without timeouts", () => {
  const r = makeReport({
    samplesMs: { Store: shapedSamples({ p50: 1, p95: 2, p99: 3, p999: 4 }) },
  });
  assert.equal(runCensoring(r), null);
  r.errors_by_kind = { timeout: 20, http_500: 5 };
  assert.deepEqual(runCensoring(r), { count: 1000, censored: 20 });
});

Deno.test("check's summary marks the censored response-time percentiles with ≥", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = makeReport({
      samplesMs: { Store: shapedSamples({ p50: 1, p95: 2, p99: 10000, p999: 10000 }) },
    });
    r.errors_by_kind = { timeout: 50 };
    const log = new RunLog(true);
    const path = join(dir, "summary.log");
    log.attach(path);
    printSummary(r, { report: "r.json", others: ["l", "s", "d", "h"] }, log);
    const text = await Deno.readTextFile(path);
    assert.match(
      text,
      /^response time: P50 1\.000 ms {2}P95 2\.000 ms {2}P99 ≥10000\.000 ms {2}P99\.9 ≥10000\.000 ms {2}max ≥10000\.000 ms/m,
    );
    assert.match(
      text,
      /^censored: +50 requests timed out; a response time marked ≥ is a lower bound/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
