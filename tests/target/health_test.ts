import assert from "node:assert/strict";
import { REFERENCE_VERSION } from "../../lib/reference/api.ts";
import { startReferenceServer } from "../../lib/reference/server.ts";
import {
  healthLost,
  healthyVersion,
  isEngramHealth,
  waitHealthy,
} from "../../lib/target/health.ts";

/** A /health stub answering `statuses` in turn (the last one forever). */
function stub(statuses: number[]) {
  let i = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const status = statuses[Math.min(i++, statuses.length - 1)];
    return Response.json({ version: "9.9" }, { status });
  });
  return { server, url: `http://127.0.0.1:${server.addr.port}`, probes: () => i };
}

/** A loopback port nobody listens on. */
function closedPort(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `http://127.0.0.1:${port}`;
}

Deno.test("waitHealthy() polls until 200 and returns the reported version", async () => {
  const s = stub([503, 503, 200]);
  try {
    const r = await waitHealthy(s.url, { timeoutMs: 5000 });
    assert.deepEqual(r, { kind: "healthy", version: "9.9" });
    assert.equal(s.probes(), 3);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("waitHealthy() gives up at the deadline naming the last answer", async () => {
  const s = stub([503]);
  try {
    const t0 = performance.now();
    // 1.5 s: at 0.4 s a loaded CI host (load 4 on 2 cores) cut the first probe short ("timeout").
    const r = await waitHealthy(s.url, { timeoutMs: 1500 });
    assert.deepEqual(r, { kind: "timed_out", last: "HTTP 503" });
    assert.ok(performance.now() - t0 < 3000);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("waitHealthy() ends at once when the process exits or the signal aborts", async () => {
  const url = closedPort();
  const exited = await waitHealthy(url, { timeoutMs: 5000, exited: Promise.resolve() });
  assert.deepEqual(exited, { kind: "exited" });
  const interrupted = await waitHealthy(url, { timeoutMs: 5000, signal: AbortSignal.abort() });
  assert.deepEqual(interrupted, { kind: "interrupted" });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 150);
  const t0 = performance.now();
  const later = await waitHealthy(url, { timeoutMs: 5000, signal: ac.signal });
  assert.deepEqual(later, { kind: "interrupted" });
  assert.ok(performance.now() - t0 < 1000);
});

Deno.test("healthLost() is null for a healthy server, else says what happened", async () => {
  const s = stub([200, 500]);
  try {
    assert.equal(await healthLost(s.url), null);
    assert.equal(await healthLost(s.url), `server at ${s.url} answers /health with HTTP 500`);
  } finally {
    await s.server.shutdown();
  }
  const url = closedPort();
  assert.equal(
    await healthLost(url),
    `server at ${url} no longer answers /health (connection refused)`,
  );
});

Deno.test("waitHealthy() stops at once on a 200 that is not Engram's health JSON, naming it", async () => {
  const bodies: [string, string, string][] = [
    [
      "<html><body>hi</body></html>",
      "text/html",
      'HTTP 200, text/html, "<html><body>hi</body></html>"',
    ],
    ["{}", "application/json", 'HTTP 200, application/json, "{}"'],
    ["", "text/plain", "HTTP 200, text/plain, empty body"],
    ["x".repeat(100), "text/plain", `HTTP 200, text/plain, "${"x".repeat(59)}…"`],
  ];
  for (const [body, type, answer] of bodies) {
    let probes = 0;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      probes++;
      return new Response(body, { headers: { "content-type": type } });
    });
    const url = `http://127.0.0.1:${server.addr.port}`;
    try {
      assert.deepEqual(await waitHealthy(url, { timeoutMs: 5000 }), { kind: "not_engram", answer });
      assert.equal(probes, 1);
      assert.match(await healthLost(url) ?? "", /not Engram's health JSON/);
      assert.throws(
        () => healthyVersion(url, { kind: "not_engram", answer }, 5000),
        new RegExp(`^RunError: server at ${url} answers /health with HTTP 200, `),
      );
    } finally {
      await server.shutdown();
    }
  }
});

Deno.test("Engram's and the reference server's health JSON are accepted", async () => {
  assert.ok(isEngramHealth(JSON.stringify({
    status: "healthy",
    service: "engram",
    version: "0.1.0",
    timestamp: "2026-12-01T08:00:00+00:00",
  })));
  assert.ok(isEngramHealth('{"status":"degraded"}'));
  assert.ok(!isEngramHealth("[1]"));
  assert.ok(!isEngramHealth("null"));
  assert.ok(!isEngramHealth('{"version": 3}'));
  const ref = await startReferenceServer({ port: 0, dim: 4 });
  try {
    const r = await waitHealthy(ref.url, { timeoutMs: 5000 });
    assert.deepEqual(r, { kind: "healthy", version: REFERENCE_VERSION });
  } finally {
    await ref.close();
  }
});

Deno.test("the health probes never follow a redirect: a /health answering 301 to a healthy server is not healthy (issue 25)", async () => {
  const other = stub([200]);
  const redirecting = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { status: 301, headers: { location: `${other.url}/health` } }),
  );
  const url = `http://127.0.0.1:${redirecting.addr.port}`;
  try {
    const r = await waitHealthy(url, { timeoutMs: 300 });
    assert.equal(r.kind, "timed_out");
    if (r.kind === "timed_out") {
      assert.match(r.last, /^HTTP 301 to http:\/\/127\.0\.0\.1:\d+\/health \(not followed\)$/);
    }
    assert.equal(other.probes(), 0, "the other server was never asked");
    assert.notEqual(await healthLost(url), null);
    assert.equal(other.probes(), 0);
  } finally {
    await redirecting.shutdown();
    await other.server.shutdown();
  }
});

Deno.test("a /health answering garbage, a bad status line or a body cut short is a malformed answer, never 'connection refused' (issue 25)", async () => {
  const replies: Record<string, RegExp> = {
    "\x00\x01garbage\r\n\r\n": /invalid HTTP version/,
    "HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}": /invalid HTTP status-code/,
    'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"status":': /body/,
  };
  for (const [reply, detail] of Object.entries(replies)) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const serving = (async () => {
      for await (const conn of listener) {
        await conn.read(new Uint8Array(4096)).catch(() => null);
        await conn.write(new TextEncoder().encode(reply)).catch(() => 0);
        conn.close();
      }
    })();
    const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    try {
      const wait = await waitHealthy(url, { timeoutMs: 300 });
      assert.equal(wait.kind, "timed_out");
      if (wait.kind === "timed_out") {
        assert.match(wait.last, /^a malformed answer \(/, JSON.stringify(reply));
        assert.match(wait.last, detail);
      }
      const lost = await healthLost(url);
      assert.match(lost ?? "", /answers \/health with a malformed answer/);
      assert.doesNotMatch(lost ?? "", /refused/);
    } finally {
      listener.close();
      await serving.catch(() => {});
    }
  }
});
