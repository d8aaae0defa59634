import assert from "node:assert/strict";
import { Dispatcher } from "../../lib/run/dispatch.ts";
import { drain } from "../../lib/run/driver.ts";
import { SecondBuckets } from "../../lib/run/seconds.ts";
import type { Sender, SendResult } from "../../lib/run/sender.ts";
import { Tallies } from "../../lib/run/tallies.ts";
import { parseScenario } from "../../lib/workload/scenario.ts";
import { Workload } from "../../lib/workload/ops.ts";

const SCENARIO = parseScenario(
  "[arrival]\nrate = 200\n[operations]\nstore_weight = 1\n[data]\nembedding_dim = 8\n",
  "t.toml",
);

/** A sender that misses its own deadline: it answers only when aborted. */
function deafSender(): Sender {
  const abort = new AbortController();
  return {
    abort,
    sendThen: (_op: unknown, _due: number, done: (r: SendResult) => void) =>
      abort.signal.addEventListener(
        "abort",
        () =>
          done({
            outcome: { kind: "aborted" },
            fallback: false,
            serverTimingMs: null,
            endMs: performance.now(),
          }),
      ),
  } as unknown as Sender;
}

function dispatcher(maxInFlight: number): Dispatcher {
  const d = new Dispatcher(deafSender(), new Tallies(), new SecondBuckets(), maxInFlight, 20);
  const stream = new Workload(SCENARIO).stream("measured");
  const due = performance.now();
  for (let i = 0; i < 3; i++) {
    d.submit({ stream, op: null, dueMs: due, second: 0, measured: true });
  }
  return d;
}

Deno.test("drain's last resort: requests in flight past the deadline are cancelled and count as timeouts", async () => {
  // Two in flight (never answered), one waiting for a slot (expires a timeout after it was due).
  const d = dispatcher(2);
  const t0 = performance.now();
  await drain(d, 20, false, 50);
  assert.ok(performance.now() - t0 < 1000, "the drain ends at its deadline");
  assert.ok(d.idle);
  assert.equal(d.tallies.completed, 3);
  assert.deepEqual(d.tallies.errorsByKind, { timeout: 3 });
  assert.equal(d.tallies.perOp.Store.errors, 3);
});

Deno.test("drain after an interrupt: requests cancelled in flight are not recorded", async () => {
  const d = dispatcher(3);
  await drain(d, 20, true, 50);
  assert.ok(d.idle);
  assert.equal(d.tallies.completed, 0);
  assert.deepEqual(d.tallies.errorsByKind, {});
});
