import assert from "node:assert/strict";
import { countDue, runLoad } from "../../lib/run/driver.ts";
import { reactorFor } from "../../lib/run/epoll.ts";
import { constantSchedule } from "../../lib/workload/schedule.ts";
import { parseScenario } from "../../lib/workload/scenario.ts";
import { Workload } from "../../lib/workload/ops.ts";
import { startFaulty } from "../fixtures/reliability.ts";

const SCENARIO = parseScenario(
  "[arrival]\nrate = 200\n[operations]\nstore_weight = 1\nrecall_weight = 1\nsemantic_recall_weight = 1\n[data]\nembedding_dim = 8\n",
  "t.toml",
);

/**
 * A stub server in its own process (tests/fixtures/faulty_server.ts): a fixed delay, optionally
 * rejecting spreading like a server without it. Not in this process: the epoll engine blocks
 * this thread between due times, so a server here would only move when the pacer lets it.
 */
async function stub(delayMs: number, rejectSpreading = false) {
  const f = await startFaulty(delayMs > 0 ? "slow" : "ok", [
    ...(delayMs > 0 ? ["--delay-ms", String(delayMs)] : []),
    ...(rejectSpreading ? ["--reject-spreading"] : []),
  ]);
  return { url: f.url, server: { shutdown: () => f.stop() } };
}

function load(url: string, seconds: number, maxInFlight: number, rate = 200) {
  const w = new Workload(SCENARIO);
  return runLoad({
    warmup: { stream: w.stream("warmup"), seconds: 0 },
    measured: { stream: w.stream("measured"), seconds },
    schedule: () => constantSchedule(rate),
    baseUrl: url,
    timeoutMs: 5000,
    maxInFlight,
  });
}

Deno.test("open loop: every due request is sent on time even when responses are slow", async () => {
  const s = await stub(50);
  try {
    const r = await load(s.url, 1, 1000);
    assert.equal(r.due, 200);
    assert.equal(r.sent, 200);
    assert.equal(r.completed, 200);
    assert.equal(r.errors, 0);
    // A closed-loop client would have sent ~20 requests in this second.
    const resp = r.response.summaryMs();
    assert.ok(resp.p50_ms >= 49 && resp.p50_ms < 80, `p50 ${resp.p50_ms}`);
    assert.ok(r.lag.percentileUs(99) < 10_000, `lag p99 ${r.lag.percentileUs(99)} µs`);
    assert.ok(r.elapsedSeconds >= 1 && r.elapsedSeconds < 1.5);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("in-flight cap: waiting requests keep their due time (response time includes the wait)", async () => {
  const s = await stub(50);
  try {
    // Capacity 4 / 50 ms = 80 req/s against 200 req/s offered: a queue builds up.
    const r = await load(s.url, 1, 4);
    assert.equal(r.completed, 200);
    const service = r.service.summaryMs();
    const response = r.response.summaryMs();
    assert.ok(service.p99_ms < 120, `service p99 ${service.p99_ms}`);
    // The last requests wait ~(200 - 80) / 80 s ≈ 1.5 s for a slot: visible in response time only.
    assert.ok(response.max_ms > 1000, `response max ${response.max_ms}`);
    assert.ok(r.cappedSends > 100, `capped ${r.cappedSends}`);
    // The generator itself kept its schedule; the cap caused the lag.
    assert.ok(r.generatorLag.percentileUs(99) < 5000);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("rejected recall modes fall back to similarity and count as fallbacks, not errors", async () => {
  const s = await stub(0, true);
  try {
    const r = await load(s.url, 1, 64);
    assert.equal(r.errors, 0);
    assert.ok(r.perOp.SemanticRecall.count > 30);
    assert.equal(r.perOp.SemanticRecall.fallbacks, r.perOp.SemanticRecall.count);
    assert.equal(r.fallbacks, r.perOp.SemanticRecall.count);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("connection failures are counted as errors and the run still ends on schedule", async () => {
  const s = await stub(0);
  const url = s.url;
  await s.server.shutdown();
  const t0 = performance.now();
  const r = await load(url, 0.5, 64);
  assert.ok(performance.now() - t0 < 3000);
  assert.equal(r.completed, 100);
  assert.equal(r.errors, 100);
  assert.equal(r.errorsByKind.connect_failed, 100);
});

Deno.test("per-second intervals cover the window and hold every request", async () => {
  const s = await stub(1);
  try {
    const r = await load(s.url, 2, 64);
    assert.deepEqual(r.intervals.map((i) => i.second), [0, 1]);
    assert.equal(r.intervals.reduce((a, i) => a + i.count, 0), 400);
    assert.ok(r.intervals.every((i) => i.histogram.length > 0));
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("throughput does not depend on latency: responses 250 ms late count for the second they were due", async () => {
  // Counting the responses that arrived inside the window read 350 of 400 here (-12.5%).
  const s = await stub(250);
  try {
    const r = await load(s.url, 2, 256);
    assert.equal(r.errors, 0);
    assert.deepEqual(r.intervals.map((i) => [i.second, i.count, i.completed]), [
      [0, 200, 200],
      [1, 200, 200],
    ]);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("countDue() counts arrivals in the window exactly", () => {
  assert.equal(countDue(constantSchedule(1000), 60), 60_000);
  assert.equal(countDue(constantSchedule(3), 1), 3);
});

Deno.test("per-second buckets come from the due offset: each second once, with all its requests", async () => {
  const s = await stub(0);
  try {
    // 1000/3 ms spacing puts due times on second boundaries, where a subtraction of
    // performance.now() values used to round into the previous, closed second.
    const r = await load(s.url, 2, 64, 3);
    assert.deepEqual(r.intervals.map((i) => [i.second, i.count]), [[0, 3], [1, 3]]);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("achieved rate comes from actual send times: sends held by the in-flight cap lower it", async () => {
  const s = await stub(50);
  try {
    const onTime = await load(s.url, 1, 1000);
    assert.ok(
      Math.abs(onTime.sent / onTime.sendSpanSeconds - 200) < 2,
      `${onTime.sendSpanSeconds}`,
    );
    const held = await load(s.url, 1, 4);
    // 4 slots × 20 req/s each = 80 req/s: the last of 200 requests leaves ~2.5 s after the start.
    assert.ok(
      held.sent / held.sendSpanSeconds < 120,
      `achieved ${held.sent / held.sendSpanSeconds}`,
    );
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("one timeout rule: a request held by the in-flight cap times out at due + timeout, not send + timeout", async () => {
  const s = await stub(600);
  try {
    const w = new Workload(SCENARIO);
    // Due at 0 and 200 ms, one slot: the first is answered at ~600 ms (within 800); the second
    // waits for the slot, is sent at ~600 ms and would be answered at ~1200 ms. Its deadline is
    // due + timeout = 1000 ms; counted from its send it would have been 1400 ms (an answer).
    const r = await runLoad({
      warmup: { stream: w.stream("warmup"), seconds: 0 },
      measured: { stream: w.stream("measured"), seconds: 0.4 },
      schedule: () => constantSchedule(5),
      baseUrl: s.url,
      timeoutMs: 800,
      maxInFlight: 1,
    });
    assert.equal(r.sent, 2);
    assert.equal(r.cappedSends, 1);
    assert.deepEqual(r.errorsByKind, { timeout: 1 });
    // Its response time (due → timeout) is the timeout, not the wait plus the timeout.
    const max = r.response.summaryMs().max_ms;
    assert.ok(max >= 795 && max < 950, `response max ${max}`);
  } finally {
    await s.server.shutdown();
  }
});

/**
 * The sockets (and, with `epoll`, the epoll instances) this process has open (Linux, from
 * /proc/self/fd; null elsewhere): what a run that leaks its sockets or its reactor leaves behind.
 * Deno's own threads keep epoll instances of their own, so the Deno-socket path counts sockets.
 */
function openSockets(epoll: boolean): Set<string> | null {
  try {
    const out = new Set<string>();
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      let target: string;
      try {
        target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      } catch {
        continue; // closed meanwhile
      }
      if (target.startsWith("socket:") || (epoll && target === "anon_inode:[eventpoll]")) {
        out.add(`${e.name} ${target}`);
      }
    }
    return out;
  } catch {
    return null;
  }
}

for (const path of ["epoll", "deno"] as const) {
  Deno.test(`runLoad (${path} sockets): a failure mid-run still closes every socket, the waker and the reactor (issue 25)`, async () => {
    const s = await stub(0);
    try {
      const io = path === "deno" ? { kind: "deno" as const, why: "test" } : reactorFor(s.url);
      if (io.kind !== path) return; // no epoll here: the deno case covers this host
      const before = openSockets(path === "epoll");
      const w = new Workload(SCENARIO);
      await assert.rejects(
        runLoad({
          io,
          warmup: { stream: w.stream("warmup"), seconds: 1 },
          measured: { stream: w.stream("measured"), seconds: 1 },
          schedule: () => constantSchedule(200),
          baseUrl: s.url,
          timeoutMs: 5000,
          maxInFlight: 8,
          onPhaseStart: (phase) => {
            if (phase === "measured") throw new Error("the log could not be written");
          },
        }),
        /the log could not be written/,
      );
      // Deno's sockets and the ticker thread are caught by the test's resource and op
      // sanitizers; the reactor's descriptors (epoll and its sockets) are counted here.
      if (before !== null) {
        // Deno closes a socket with a pending read, and ends a ticker thread, a moment later.
        let left: string[] = [];
        for (const deadline = performance.now() + 2000; performance.now() < deadline;) {
          left = [...openSockets(path === "epoll") ?? []].filter((x) => !before.has(x));
          if (left.length === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(left, [], "sockets or epoll descriptors left open");
      }
    } finally {
      await s.server.shutdown();
    }
  });
}
