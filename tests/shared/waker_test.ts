import assert from "node:assert/strict";
import { sleepWaker } from "../../lib/shared/waker.ts";

Deno.test("sleepWaker: never early, on time at the median, 1-ms spacing", async () => {
  const w = sleepWaker();
  await w.ready;
  try {
    const t0 = performance.now() + 5;
    const lags: number[] = [];
    for (let i = 0; i < 300; i++) {
      const at = t0 + i;
      await w.until(at);
      const late = performance.now() - at;
      assert.ok(late >= 0, `woke ${-late} ms early`);
      lags.push(late);
    }
    lags.sort((a, b) => a - b);
    // Generous for a shared, loaded host: the median wake-up is tens of µs late when quiet.
    assert.ok(lags[150] < 1, `median lag ${lags[150]} ms`);
  } finally {
    w.close();
  }
});

Deno.test("sleepWaker: a newer wait replaces an older one; close releases a pending wait", async () => {
  const w = sleepWaker();
  const far = w.until(performance.now() + 60_000);
  const near = w.until(performance.now() + 2);
  await far; // replaced: resolves at once
  await near;
  const pending = w.until(performance.now() + 60_000);
  w.close();
  await pending;
  await w.until(performance.now() + 60_000); // closed: returns at once
});
