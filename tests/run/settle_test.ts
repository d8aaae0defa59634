import * as assert from "node:assert/strict";
import { settle, SETTLE_RULE, type SettleDeps } from "../../lib/run/settle.ts";

/** A fake clock and CPU counter: `busy[i]` CPU seconds used in second i (then `rest`). */
function fake(busy: number[], rest: number, cpuReadable = true): SettleDeps & { t: () => number } {
  let cpu = 0, t = 0;
  return {
    cpuSeconds: () => Promise.resolve(cpuReadable ? cpu : null),
    sleep: (ms) => {
      t += ms;
      cpu += (busy.shift() ?? rest) * ms / 1000;
      return Promise.resolve();
    },
    now: () => t,
    t: () => t,
  };
}

Deno.test("settle: quiet after the busy seconds and 3 quiet ones; a busy second resets the count", async () => {
  const r = await settle(
    1,
    new AbortController().signal,
    SETTLE_RULE,
    fake([1.8, 0.1, 0.1, 1, 0.05], 0.05),
  );
  assert.deepEqual(r, { quiet: true, seconds: 7, last_cpu_pct: 5 });
});

Deno.test("settle: a process busy past the bound is measured anyway (quiet false)", async () => {
  const rule = { ...SETTLE_RULE, maxSeconds: 10 };
  const r = await settle(1, new AbortController().signal, rule, fake([], 1.5));
  assert.deepEqual(r, { quiet: false, seconds: 10, last_cpu_pct: 150 });
});

Deno.test("settle: nothing waited when the CPU cannot be read or the run is interrupted", async () => {
  assert.equal(
    await settle(1, new AbortController().signal, SETTLE_RULE, fake([], 0, false)),
    null,
  );
  const ac = new AbortController();
  ac.abort();
  assert.equal(await settle(1, ac.signal, SETTLE_RULE, fake([], 2)), null);
});
