import { setImmediate } from "node:timers";
import assert from "node:assert/strict";
import { pacePhase } from "../../lib/run/pace.ts";
import type { Waker } from "../../lib/shared/waker.ts";
import { constantSchedule } from "../../lib/workload/schedule.ts";
import { parseScenario } from "../../lib/workload/scenario.ts";
import { Workload } from "../../lib/workload/ops.ts";

const SCENARIO = parseScenario(
  "[arrival]\nrate = 200\n[operations]\nstore_weight = 1\n[data]\nembedding_dim = 8\n",
  "t.toml",
);

/** A waker that never sleeps (like a wait under the spin threshold): it never yields either. */
const spinWaker: Waker = {
  kind: "sleep",
  ready: Promise.resolve(),
  until: () => Promise.resolve(),
  turn: () => new Promise<void>((r) => setImmediate(r)),
  close: () => {},
};

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* a saturated dispatch */ }
}

async function timerDelayWhilePacing(rate: number, submitCostMs: number): Promise<number> {
  const t0 = performance.now();
  let firedAt = Infinity;
  setTimeout(() => (firedAt = performance.now()), 1);
  await pacePhase({
    stream: new Workload(SCENARIO).stream("measured"),
    startMs: t0,
    seconds: 0.3,
    measured: true,
    schedule: constantSchedule(rate),
    waker: spinWaker,
    expire: () => {},
    submit: () => busy(submitCostMs),
    dispatched: () => {},
  });
  assert.ok(performance.now() - t0 >= 290, "the pacing ran its whole phase");
  return firedAt - t0;
}

Deno.test("a pacer that is behind still lets the event loop run: a 1-ms timer fires during pacing", async () => {
  // 3,000 requests costing 0.2 ms each in a 0.3-s phase: behind from the start to the end.
  const delay = await timerDelayWhilePacing(10_000, 0.2);
  assert.ok(delay < 60, `1-ms timer fired after ${delay.toFixed(1)} ms`);
});

Deno.test("a pacer whose waits return at once (sub-threshold gaps) still yields every few ms", async () => {
  // Never behind (cheap dispatch), but the waits never sleep: only the time budget yields.
  const delay = await timerDelayWhilePacing(1_000, 0);
  assert.ok(delay < 60, `1-ms timer fired after ${delay.toFixed(1)} ms`);
});
