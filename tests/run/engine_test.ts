import assert from "node:assert/strict";
import { startReferenceServer } from "../../lib/reference/server.ts";
import { serializeRequest } from "../../lib/reference/record.ts";
import { LatencyHistogram } from "../../lib/report/histogram.ts";
import type { IntervalSummary } from "../../lib/report/schema.ts";
import { runEngine } from "../../lib/run/engine.ts";
import type { IoUsed } from "../../lib/run/driver.ts";
import { mergeIntervals } from "../../lib/run/merge.ts";
import { defaultWorkers, shardOps, shardSchedule } from "../../lib/run/shard.ts";
import { serializeOp, Workload, workloadFingerprint } from "../../lib/workload/ops.ts";
import { parseScenario } from "../../lib/workload/scenario.ts";
import { makeSchedule } from "../../lib/workload/schedule.ts";

const SCENARIO = parseScenario(
  '[arrival]\npattern = "poisson"\nrate = 300\n[operations]\nstore_weight = 2\nrecall_weight = 1\nembedding_search_weight = 1\npattern_completion_weight = 1\n[data]\nembedding_dim = 8\n',
  "t.toml",
);

Deno.test("shards: N workers' shares interleave back into the single-worker stream and schedule", () => {
  const w = new Workload(SCENARIO);
  const whole = w.stream("measured");
  const wholeSched = makeSchedule(SCENARIO.arrival, SCENARIO.seed);
  const expected = Array.from({ length: 60 }, () => [serializeOp(whole.next()), wholeSched.next()]);
  for (const n of [1, 2, 3, 7]) {
    const shares = Array.from({ length: n }, (_, k) => ({
      ops: shardOps(w.stream("measured"), { index: k, count: n }),
      due: shardSchedule(makeSchedule(SCENARIO.arrival, SCENARIO.seed), { index: k, count: n }),
    }));
    const got = expected.map((_, i) => {
      const s = shares[i % n];
      return [serializeOp(s.ops.next()), s.due.next()];
    });
    assert.deepEqual(got, expected, `${n} workers`);
    assert.equal(shares[0].due.rate, SCENARIO.arrival.rate / n);
  }
});

Deno.test("shards: the default worker count follows the rate and leaves a core", () => {
  assert.equal(defaultWorkers(1_000, 2), 1);
  assert.equal(defaultWorkers(20_000, 2), 1);
  assert.equal(defaultWorkers(12_000, 8), 3);
  assert.equal(defaultWorkers(50_000, 4), 3);
  assert.equal(defaultWorkers(100, 1), 1);
});

Deno.test("merge: per-second intervals add exactly by second", () => {
  const interval = (second: number, values: number[]): IntervalSummary => {
    const h = new LatencyHistogram();
    for (const v of values) h.recordUs(v);
    return {
      second,
      count: values.length,
      errors: 1,
      p50_ms: 0,
      p99_ms: 0,
      max_ms: h.maxUs() / 1000,
      completed: values.length,
      histogram: h.encode(),
    };
  };
  const merged = mergeIntervals([
    [interval(0, [100, 200]), interval(1, [5000])],
    [interval(1, [300, 400, 500]), interval(0, [1000])],
  ]);
  assert.deepEqual(merged.map((i) => [i.second, i.count, i.errors, i.completed]), [
    [0, 3, 2, 3],
    [1, 4, 2, 4],
  ]);
  const h1 = LatencyHistogram.decode(merged[1].histogram);
  assert.equal(h1.count, 4);
  assert.equal(merged[1].max_ms, 5);
  assert.ok(Math.abs(merged[0].p50_ms - 0.2) < 0.001);
});

Deno.test({
  name: "engine: 1 and 3 workers send the same request multiset; the fingerprint does not change",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const runWith = async (workers: number) => {
      const seen: string[] = [];
      const dec = new TextDecoder();
      const server = await startReferenceServer({
        port: 0,
        dim: 8,
        onRequest: (r) => seen.push(dec.decode(serializeRequest(r))),
      });
      try {
        const result = await runEngine({
          scenario: SCENARIO,
          workload: new Workload(SCENARIO),
          warmupSeconds: 1,
          durationSeconds: 2,
          workers,
          baseUrl: server.url,
          timeoutMs: 5000,
          maxInFlight: 64,
        });
        return { seen: seen.sort(), result };
      } finally {
        await server.close();
      }
    };
    const one = await runWith(1);
    const three = await runWith(3);
    assert.equal(one.seen.length, three.seen.length);
    assert.deepEqual(three.seen, one.seen);
    assert.equal(three.result.due, one.result.due);
    assert.equal(three.result.sent, one.result.sent);
    assert.equal(three.result.errors, 0);
    assert.equal(three.result.response.count, one.result.response.count);
    assert.equal(
      three.result.intervals.reduce((a, i) => a + i.count, 0),
      one.result.intervals.reduce((a, i) => a + i.count, 0),
    );
    // The fingerprint is a function of the scenario alone: no worker count in it.
    assert.equal(workloadFingerprint(SCENARIO), workloadFingerprint({ ...SCENARIO }));
  },
});

Deno.test({
  name: "engine: 2 workers without a warm-up send the window's first requests on time",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // Each worker's ticker thread used to start after the shared "go": the first ~1 s of the
    // schedule went out late (lag P99 928 ms at 2,000 ops/s). Generous bound for a busy CI host.
    const server = await startReferenceServer({ port: 0, dim: 8 });
    try {
      const result = await runEngine({
        scenario: SCENARIO,
        workload: new Workload(SCENARIO),
        warmupSeconds: 0,
        durationSeconds: 2,
        workers: 2,
        baseUrl: server.url,
        timeoutMs: 5000,
        maxInFlight: 64,
      });
      const maxLagMs = result.generatorLag.percentileUs(100) / 1000;
      assert.ok(maxLagMs < 300, `largest schedule lag ${maxLagMs} ms`);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "engine: the sockets each worker chose are announced once, before the warm-up, and are the result's (issue 25)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await startReferenceServer({ port: 0, dim: 8 });
    try {
      const outer = Deno.env.get("M17_IO"); // CI's second pass sets it for the whole file
      for (const [workers, env] of [[1, outer ?? null], [2, outer ?? null], [2, "deno"]] as const) {
        if (env !== null) Deno.env.set("M17_IO", env);
        try {
          const events: string[] = [];
          const announced: IoUsed[] = [];
          const result = await runEngine({
            scenario: SCENARIO,
            workload: new Workload(SCENARIO),
            warmupSeconds: 1,
            durationSeconds: 1,
            workers,
            baseUrl: server.url,
            timeoutMs: 5000,
            maxInFlight: 64,
            onIo: (io) => {
              events.push("io");
              announced.push(io);
            },
            onPhaseStart: (phase) => events.push(phase),
          });
          const what = `${workers} workers, M17_IO=${env}`;
          assert.deepEqual(events, ["io", "warmup", "measured"], what);
          assert.deepEqual(announced, [result.io], what);
          if (env === "deno") assert.deepEqual(result.io, { kind: "deno", why: "M17_IO=deno" });
        } finally {
          if (outer === undefined) Deno.env.delete("M17_IO");
          else Deno.env.set("M17_IO", outer);
        }
      }
    } finally {
      await server.close();
    }
  },
});
