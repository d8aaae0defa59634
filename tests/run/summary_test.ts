/**
 * printSummary(): check's quick summary shows the measured window's numbers, and for a run that
 * stopped before its window one line saying so instead of zeros.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { printSummary } from "../../lib/run/summary.ts";
import { RunLog } from "../../lib/run/run_log.ts";
import type { RunReport } from "../../lib/report/schema.ts";
import { makeReport, shapedSamples } from "../fixtures/make_report.ts";

/** The summary of `r` as the run's log file holds it. */
async function summaryOf(r: RunReport): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const log = new RunLog(true);
    const path = join(dir, "summary.log");
    log.attach(path);
    printSummary(r, { report: "r.json", others: ["r_loadtest.log", "r.hlog"] }, log);
    log.close();
    return await Deno.readTextFile(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("printSummary(): a measured run shows its numbers and a failed scenario validation", async () => {
  const r = makeReport({
    samplesMs: { Store: shapedSamples({ p50: 1, p95: 2, p99: 3, p999: 4 }) },
  });
  r.validation = { criteria: { expected_throughput_ops_sec: 900 }, passed: false, failures: ["x"] };
  const text = await summaryOf(r);
  assert.match(text, /^operations: +1000 in /m);
  assert.match(text, /^response time: P50 1\.000 ms/m);
  assert.match(text, /^scenario validation: x$/m);
  assert.doesNotMatch(text, /no measured window/);
});

Deno.test("printSummary(): a run without a measured window prints one line for it, no made-up zeros", async () => {
  const r: RunReport = {
    ...makeReport({ valid: false }),
    invalid_reasons: ["interrupted by SIGINT during preload: no measured window"],
    no_measured_window: "interrupted by SIGINT during preload",
    validation: { criteria: { expected_throughput_ops_sec: 900 }, passed: false, failures: ["x"] },
  };
  const text = await summaryOf(r);
  const lines = text.trimEnd().split("\n");
  assert.deepEqual(lines.slice(1), [
    "=== Quick Summary (m17_baseline, reference target) ===",
    "no measured window: interrupted by SIGINT during preload; nothing was measured",
    "RUN INVALID: interrupted by SIGINT during preload: no measured window",
    "report:        r.json",
    "files:         r_loadtest.log, r.hlog",
  ]);
});
