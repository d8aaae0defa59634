/** Tallies: only responses (success or HTTP error) count as throughput, by the second they arrived. */
import assert from "node:assert/strict";
import { Tallies } from "../../lib/run/tallies.ts";

Deno.test("Tallies: timeouts and failed connections are errors, not responses per second", () => {
  const t = new Tallies();
  t.windowStartMs = 1000;
  t.recordAnswer("Store", 1000, 1000, 1500, { kind: "ok" }, false);
  t.recordAnswer("Store", 1000, 1000, 1600, { kind: "error", error: "http_503" }, false);
  t.recordAnswer("Store", 1000, 1000, 1700, { kind: "error", error: "timeout" }, false);
  t.recordAnswer("Store", 1000, null, 1800, { kind: "error", error: "timeout" }, false);
  t.recordAnswer("Store", 1000, 1000, 1900, { kind: "error", error: "connect_failed" }, false);
  t.recordAnswer("Store", 1000, 1000, 2500, { kind: "ok" }, false);
  assert.deepEqual([...t.completedBySecond.entries()], [[0, 2], [1, 1]]);
  assert.equal(t.errors, 4);
  assert.equal(t.completed, 6);
});
