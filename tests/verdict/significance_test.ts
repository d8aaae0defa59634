/** Significance: results say why a statistic is unavailable instead of returning a string. */
import assert from "node:assert/strict";
import { bootstrapIntervals, noiseFloors, secondsOf } from "../../lib/verdict/significance.ts";
import { makeReport, toLegacy } from "../fixtures/make_report.ts";
import { loaded, run } from "../fixtures/pair.ts";

const report = (scale: number, extra = {}) =>
  loaded(makeReport({ phase: "before", ...run(scale, extra) }), `r${scale}.json`);

Deno.test("secondsOf: old-tool reports are unavailable, with the reason", () => {
  const r = makeReport({ phase: "before", ...run(1) });
  const result = secondsOf({ kind: "legacy", path: "old.json", report: toLegacy(r) });
  assert.deepEqual(result, {
    kind: "unavailable",
    reason: "old-tool reports have no per-second histograms",
  });
  const ok = secondsOf(loaded(r, "new.json"));
  assert.equal(ok.kind, "ok");
  assert.equal(ok.kind === "ok" && ok.value.length, r.intervals.length);
});

Deno.test("bootstrapIntervals: intervals for P50/P95/P99/throughput, or why none", () => {
  const result = bootstrapIntervals(report(1), report(1.1));
  assert.equal(result.kind, "ok");
  if (result.kind === "ok") {
    assert.deepEqual(Object.keys(result.value).sort(), ["p50", "p95", "p99", "throughput"]);
  }
  const short = bootstrapIntervals(
    report(1, { intervalSeconds: 5 }),
    report(1.1, { intervalSeconds: 5 }),
  );
  assert.equal(short.kind, "unavailable");
  assert.match(
    short.kind === "unavailable" ? short.reason : "",
    /^runs of 5 s; an interval needs at least 20 s a side$/,
  );
});

Deno.test("noiseFloors: none under 3 runs; one floor per noise metric from 3", () => {
  assert.equal(noiseFloors([report(1), report(1.05)]), null);
  const floors = noiseFloors([report(1), report(1.05), report(0.95)]);
  assert.deepEqual(Object.keys(floors ?? {}), ["p50", "p95", "p99", "throughput"]);
});
