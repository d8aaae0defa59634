/**
 * Throughput's count: only responses (success or HTTP error) count, by the second their request
 * was due, however late they arrived (METHODS.throughput).
 */
import assert from "node:assert/strict";
import { SecondBuckets } from "../../lib/run/seconds.ts";
import { Tallies } from "../../lib/run/tallies.ts";

Deno.test("per-second responses: timeouts and failed connections are errors, not responses", () => {
  const t = new Tallies();
  const b = new SecondBuckets();
  t.windowStartMs = 1000;
  const end = (endMs: number, outcome: Parameters<Tallies["recordAnswer"]>[4]) => {
    t.recordAnswer("Store", 1000, 1000, endMs, outcome, false);
    b.settle(0, endMs - 1000, outcome);
  };
  for (let i = 0; i < 7; i++) b.add(0);
  end(1500, { kind: "ok" });
  end(1600, { kind: "error", error: "http_503" });
  end(1650, { kind: "error", error: "bad_response" });
  end(1700, { kind: "error", error: "timeout" });
  end(1800, { kind: "error", error: "connect_failed" });
  // Due in second 0, answered in second 1: counted for second 0, where it was due.
  end(2500, { kind: "ok" });
  b.settle(0, 0, { kind: "aborted" });
  const [s0] = b.closeAll();
  assert.deepEqual([s0.second, s0.count, s0.errors, s0.completed], [0, 7, 4, 4]);
  assert.equal(t.errors, 4);
  assert.equal(t.completed, 6);
});
