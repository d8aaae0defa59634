import assert from "node:assert/strict";
import { Sender } from "../../lib/run/sender.ts";
import type { Op } from "../../lib/workload/ops.ts";

const op = (path: string, extra: Partial<Op> = {}): Op => ({
  index: 0,
  kind: "Recall",
  method: "GET",
  path,
  body: null,
  ...extra,
});

/** Answers /ok 200, /err 503, /slow after 1 s. */
function stub() {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/slow") await new Promise((r) => setTimeout(r, 1000));
    return new Response("{}", { status: path === "/err" ? 503 : 200 });
  });
  return { server, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("Sender outcomes: ok, an HTTP error kind, a timeout, an abort, no connection", async () => {
  const s = stub();
  const sender = new Sender({ baseUrl: s.url, timeoutMs: 200, maxConnections: 4 });
  try {
    assert.deepEqual((await sender.send(op("/ok"))).outcome, { kind: "ok" });
    assert.deepEqual((await sender.send(op("/err"))).outcome, { kind: "error", error: "http_503" });
    assert.deepEqual((await sender.send(op("/slow"))).outcome, { kind: "error", error: "timeout" });
    const pending = sender.send(op("/slow"));
    sender.abort.abort();
    assert.deepEqual((await pending).outcome, { kind: "aborted" });
  } finally {
    sender.close();
    await s.server.shutdown();
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closed = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  const refused = new Sender({ baseUrl: closed, timeoutMs: 1000, maxConnections: 1 });
  assert.deepEqual((await refused.send(op("/ok"))).outcome, {
    kind: "error",
    error: "connect_failed",
  });
  refused.close();
});

Deno.test("Sender: validates answers, never follows redirects, falls back on rejected modes", async () => {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const u = new URL(req.url);
    seen.push(`${req.method} ${u.pathname}${u.search} ${await req.text()}`);
    if (u.pathname === "/html") return new Response("<!doctype html><p>hi</p>");
    if (u.pathname === "/redirect") {
      return new Response(null, { status: 307, headers: { location: "/ok" } });
    }
    if (u.searchParams.get("mode") === "spreading") {
      return Response.json({ error: { message: "mode 'spreading' is not enabled" } }, {
        status: 400,
      });
    }
    if (u.pathname === "/fail") return Response.json({ error: "x" }, { status: 503 });
    return Response.json({ ok: true }, { headers: { "server-timing": "app;dur=0.25" } });
  });
  const sender = new Sender({
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    timeoutMs: 5000,
    maxConnections: 2,
  });
  try {
    const t0 = performance.now();
    const ok = await sender.send(op("/ok"));
    const { endMs, ...rest } = ok;
    assert.ok(endMs > t0, "ended after it was sent");
    assert.deepEqual(rest, { outcome: { kind: "ok" }, fallback: false, serverTimingMs: 0.25 });
    assert.ok(endMs <= performance.now(), "ended when its last byte was parsed, not later");
    assert.deepEqual((await sender.send(op("/html"))).outcome, {
      kind: "error",
      error: "bad_response",
    });
    assert.deepEqual((await sender.send(op("/fail"))).outcome, {
      kind: "error",
      error: "http_503",
    });
    const redirected = await sender.send(op("/redirect", { method: "POST", body: "{}" }));
    assert.deepEqual(redirected.outcome, { kind: "error", error: "http_307" });
    assert.ok(!seen.some((s) => s.startsWith("GET /ok {}")), "the redirect was not followed");
    const recall = op("/recall?mode=spreading", {
      kind: "SemanticRecall",
      fallbackPath: "/recall?mode=similarity",
    });
    const first = await sender.send(recall);
    assert.deepEqual(first.outcome, { kind: "ok" });
    assert.equal(first.fallback, true);
    seen.length = 0;
    assert.equal((await sender.send(recall)).fallback, true);
    assert.deepEqual(seen, ["GET /recall?mode=similarity "], "straight to the fallback next time");
    assert.equal(sender.connect.count, 1, "one connection opened, its connect time recorded");
  } finally {
    sender.close();
    await server.shutdown();
  }
});

Deno.test("Sender: refused connection and abort", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const refused = new Sender({
    baseUrl: `http://127.0.0.1:${port}`,
    timeoutMs: 1000,
    maxConnections: 1,
  });
  assert.deepEqual((await refused.send(op("/x"))).outcome, {
    kind: "error",
    error: "connect_failed",
  });
  refused.abort.abort();
  assert.deepEqual((await refused.send(op("/x"))).outcome, { kind: "aborted" });
  refused.close();
});

Deno.test("Sender: a 2xx without the API's JSON body (204 No Content, an empty 200) is bad_response (issue 25)", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/204") return new Response(null, { status: 204 });
    if (path === "/empty") return new Response("", { status: 200 });
    return new Response("[]", { status: 200 });
  });
  const sender = new Sender({
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    timeoutMs: 2000,
    maxConnections: 2,
  });
  try {
    const bad = { kind: "error", error: "bad_response" };
    assert.deepEqual((await sender.send(op("/204"))).outcome, bad);
    assert.deepEqual((await sender.send(op("/empty"))).outcome, bad);
    assert.deepEqual((await sender.send(op("/json"))).outcome, { kind: "ok" });
  } finally {
    sender.close();
    await server.shutdown();
  }
});
