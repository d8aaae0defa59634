import assert from "node:assert/strict";
import { previousSession } from "../../lib/cli/confirm_arms.ts";
import type { RunGrouping, RunReport } from "../../lib/report/schema.ts";

const report = (run: RunGrouping) => ({ run }) as RunReport;
const arm = (pair: number, group = "g1"): RunGrouping => ({
  group,
  index: pair,
  count: 20,
  design: "interleaved",
  pair,
  block: Math.ceil(pair / 2),
  order: "AB",
  order_seed: "77",
});

Deno.test("previousSession: both newest runs of one confirm session continue it after its last pair", () => {
  assert.deepEqual(previousSession(report(arm(3)), report(arm(4))), {
    group: "g1",
    orderSeed: 77n,
    lastPair: 4, // pair 4 lacks its before run (interrupted): the session goes on at pair 5
  });
  assert.equal(previousSession(report(arm(3)), report(arm(3, "g2"))), null); // two sessions
  const independent = { group: "g1", index: 1, count: 5 };
  assert.equal(previousSession(report(independent), report(independent)), null); // --runs 5
  assert.equal(previousSession(report({ ...arm(1), order_seed: undefined }), report(arm(1))), null);
});

Deno.test("previousSession: a pair an invalid newer run of the session ran is not run again", () => {
  // Pair 5's first run (after) was interrupted and passed over: the newest runs are pair 4's.
  const spoiled = [{ run: arm(5) }, { run: arm(9, "g0") }]; // another session's run counts not
  assert.equal(previousSession(report(arm(4)), report(arm(4)), spoiled)?.lastPair, 5);
  assert.equal(previousSession(report(arm(4)), report(arm(4)))?.lastPair, 4);
});
