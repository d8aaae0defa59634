/** The CPU-burn knob: its validation, the routes of each operation kind, and the burn itself. */
import assert from "node:assert/strict";
import {
  BURN_OPS,
  burnCpu,
  burnMsFor,
  parseCpuBurn,
  referenceCpuBurn,
} from "../../lib/reference/cpu_burn.ts";

Deno.test("parseCpuBurn(): OP:MS with a known kind and 0..1000 ms, one line otherwise", () => {
  assert.deepEqual(parseCpuBurn("search:0.5"), { ok: true, burn: { op: "search", ms: 0.5 } });
  for (
    const bad of ["recall", "recall:", ":2", "recall:-1", "recall:1001", "Recall:2", "recall:2ms"]
  ) {
    const r = parseCpuBurn(bad, "ref-");
    assert.equal(r.ok, false, bad);
    if (!r.ok) {
      assert.match(
        r.problem,
        /^--ref-cpu-burn ".*": expected OP:MS with OP one of store, recall, search, complete/,
      );
    }
  }
});

Deno.test("burnMsFor(): only the kind's routes burn", () => {
  const burn = { op: "store", ms: 3 } as const;
  for (const path of BURN_OPS.store) assert.equal(burnMsFor(burn, path), 3);
  assert.equal(burnMsFor(burn, "/api/v1/memories/recall"), 0);
  assert.equal(burnMsFor(null, "/api/v1/memories"), 0);
});

Deno.test("referenceCpuBurn() spends about the time asked; burnCpu() runs it from a reaction", async () => {
  const t0 = performance.now();
  referenceCpuBurn(30);
  const took = performance.now() - t0;
  assert.ok(took >= 30 && took < 500, `${took} ms`);
  assert.equal(await burnCpu(0), 0);
  const t1 = performance.now();
  await burnCpu(10);
  assert.ok(performance.now() - t1 >= 10);
});
