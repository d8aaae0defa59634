import assert from "node:assert/strict";
import { Http1Client, type Http1Options, type HttpOutcome } from "../../lib/run/http1.ts";
import { reactorFor } from "../../lib/run/epoll.ts";
import { ResponseParser } from "../../lib/run/http1_parser.ts";

const enc = new TextEncoder();
const soon = () => performance.now() + 5000;

/** A raw TCP server: `answer` gets each connection and the bytes of each request it read. */
function rawServer(
  answer: (conn: Deno.Conn, request: string, index: number) => Promise<void> | void,
) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns = new Set<Deno.Conn>();
  let index = 0;
  const serve = async (conn: Deno.Conn) => {
    conns.add(conn);
    const buf = new Uint8Array(65536);
    let pending = "";
    try {
      for (let guard = 0; guard < 10_000; guard++) {
        const n = await conn.read(buf);
        if (n === null) break;
        pending += new TextDecoder().decode(buf.subarray(0, n));
        // Bounded by the bytes received: each pass removes one whole request.
        for (let g = 0; g < 1000; g++) {
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) break;
          const cl = /content-length: (\d+)/i.exec(pending.slice(0, end));
          const total = end + 4 + (cl ? Number(cl[1]) : 0);
          if (pending.length < total) break;
          const req = pending.slice(0, total);
          pending = pending.slice(total);
          await answer(conn, req, index++);
        }
      }
    } catch { /* closed by the test */ }
    conns.delete(conn);
    try {
      conn.close();
    } catch { /* closed */ }
  };
  const accepting = (async () => {
    try {
      for await (const c of listener) serve(c);
    } catch { /* closed */ }
  })();
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  };
}

async function writeAll(conn: Deno.Conn, s: string | Uint8Array) {
  const b = typeof s === "string" ? enc.encode(s) : s;
  for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function response(o: HttpOutcome) {
  assert.equal(o.kind, "response", JSON.stringify(o));
  return o as Extract<HttpOutcome, { kind: "response" }>;
}

function failure(o: HttpOutcome) {
  assert.equal(o.kind, "failure", JSON.stringify(o));
  return o as Extract<HttpOutcome, { kind: "failure" }>;
}

Deno.test("parser: every split of a chunked response gives the same result", () => {
  const text =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nServer-Timing: app;dur=1.5, inject;dur=0.25\r\n\r\n" +
    '3\r\n{"a\r\n5;ext=1\r\n":1 }\r\n0\r\nTrailer: x\r\n\r\n';
  const bytes = enc.encode(text);
  for (let split = 1; split < bytes.length; split++) {
    const p = new ResponseParser();
    p.begin();
    const a = p.feed(bytes, 0, split);
    const b = a.kind === "more" ? p.feed(bytes, split, bytes.length) : a;
    assert.equal(b.kind, "done", `split at ${split}`);
    const r = p.response();
    assert.equal(r.status, 200);
    assert.equal(r.bodyBytes, 8);
    assert.equal(r.jsonBody, true);
    assert.equal(r.serverTimingMs, 1.75);
  }
});

Deno.test("parser: one byte at a time, interim 100 Continue, bad lines", () => {
  const bytes = enc.encode(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n<html/>  ",
  );
  const p = new ResponseParser();
  p.begin();
  let r = p.feed(bytes, 0, 0);
  for (let i = 0; i < bytes.length && r.kind === "more"; i++) r = p.feed(bytes, i, i + 1);
  assert.equal(r.kind, "done");
  assert.deepEqual(
    { ...p.response() },
    {
      status: 404,
      jsonBody: false,
      bodyBytes: 9,
      bodyHead: "<html/>  ",
      serverTimingMs: null,
      close: false,
    },
  );
  for (
    const bad of [
      "HTTP/2 200\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ]
  ) {
    const q = new ResponseParser();
    q.begin();
    const b = enc.encode(bad);
    assert.equal(q.feed(b, 0, b.length).kind, "malformed", bad);
  }
});

Deno.test("parser: status lines and header names read from the bytes, as the HTTP grammar says", () => {
  const parse = (text: string) => {
    const q = new ResponseParser();
    q.begin();
    const b = enc.encode(text);
    const r = q.feed(b, 0, b.length);
    return r.kind === "malformed" ? r.reason : r.kind === "done" ? { ...q.response() } : r.kind;
  };
  const ok = (extra: Partial<ReturnType<ResponseParser["response"]>>) => ({
    status: 200,
    jsonBody: true,
    bodyBytes: 2,
    bodyHead: null,
    serverTimingMs: null,
    close: false,
    ...extra,
  });
  assert.deepEqual(parse("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}"), ok({}));
  assert.deepEqual(parse("HTTP/1.0 200 OK\nCONTENT-LENGTH:2\n\n{}"), ok({ close: true }));
  assert.deepEqual(
    parse("HTTP/1.0 200 OK\r\ncOnNeCtIoN: Keep-Alive\r\nContent-Length: 2\r\n\r\n{}"),
    ok({ close: false }),
  );
  assert.deepEqual(
    parse(
      "HTTP/1.1 200 OK\r\nX-Long-Header-Name-1: a\r\nServer-Timing: a;dur=1.5, b;dur=2\r\n" +
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    ),
    ok({ serverTimingMs: 3.5, close: true }),
  );
  assert.equal(parse("HTTP/1.1 200 O\rK\r\n\r\n"), 'bad status line "HTTP/1.1 200 O\\rK"');
  assert.equal(parse("HTTP/1.1 200OK\r\n\r\n"), 'bad status line "HTTP/1.1 200OK"');
  assert.equal(parse("HTTP/1.2 200 OK\r\n\r\n"), 'bad status line "HTTP/1.2 200 OK"');
  assert.equal(parse("HTTP/1.1 200 OK\r\n: x\r\n\r\n"), 'bad header line ": x"');
  assert.equal(
    parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\n"),
    'bad content-length "3"',
  );
});

/**
 * The client's tests run over both socket layers: Deno's sockets and, where this host allows it,
 * Linux epoll through FFI (lib/run/epoll.ts), the measured run's default.
 */
for (const io of ["deno", "epoll"] as const) {
  const plan = io === "epoll" ? reactorFor("http://127.0.0.1") : null;
  if (plan?.kind === "deno") {
    console.log(`epoll client tests ignored: ${plan.why}`);
    continue;
  }
  const reactor = plan?.kind === "epoll" ? plan.reactor : null;
  const newClient = (url: string, o: Http1Options) =>
    new Http1Client(url, {
      ...o,
      sockets: reactor ? (h, p) => reactor.connect(h, p) : undefined,
    });

  Deno.test(`client (${io}): keep-alive against Deno.serve, bodies, statuses and connection reuse`, async () => {
    const bodies: string[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      bodies.push(`${req.method} ${path} ${await req.text()} ${req.headers.get("content-type")}`);
      if (path === "/html") {
        return new Response("<html>hi</html>", { headers: { "content-type": "text/html" } });
      }
      if (path === "/moved") {
        return new Response(null, { status: 302, headers: { location: "/elsewhere" } });
      }
      if (path === "/bad") return Response.json({ error: "nope" }, { status: 400 });
      if (path === "/big") return Response.json({ data: "x".repeat(200_000) });
      return Response.json({ ok: true }, { headers: { "server-timing": "app;dur=0.5" } });
    });
    const client = newClient(`http://127.0.0.1:${server.addr.port}`, { maxConnections: 4 });
    try {
      const first = response(await client.request("POST", "/a", '{"x":"é"}', soon()));
      assert.equal(first.status, 200);
      assert.equal(first.jsonBody, true);
      assert.equal(first.serverTimingMs, 0.5);
      assert.ok(first.connectMs !== null && first.connectMs >= 0);
      const second = response(await client.request("GET", "/b", null, soon()));
      assert.equal(second.connectMs, null, "the second request reuses the connection");
      assert.equal(client.stats.connectionsOpened, 1);
      const html = response(await client.request("GET", "/html", null, soon()));
      assert.equal(html.jsonBody, false);
      const moved = response(await client.request("POST", "/moved", "{}", soon()));
      assert.equal(moved.status, 302, "a redirect is returned, never followed");
      const bad = response(await client.request("GET", "/bad", null, soon()));
      assert.equal(bad.status, 400);
      assert.match(bad.bodyHead ?? "", /nope/);
      const big = response(await client.request("GET", "/big", null, soon()));
      assert.equal(big.jsonBody, true);
      assert.ok(big.bodyBytes > 200_000);
      // Ten at once on a cap of four: four connections, all answered.
      const many = await Promise.all(
        Array.from({ length: 10 }, (_, i) => client.request("GET", `/m${i}`, null, soon())),
      );
      for (const m of many) assert.equal(response(m).status, 200);
      assert.ok(client.connections <= 4, `${client.connections} connections`);
      assert.deepEqual(bodies.slice(0, 2), ['POST /a {"x":"é"} application/json', "GET /b  null"]);
      assert.ok(!bodies.includes("GET /elsewhere  null"));
    } finally {
      client.close();
      await server.shutdown();
    }
  });

  Deno.test(`client (${io}): split packets, chunked bodies and Connection: close from a raw server`, async () => {
    const server = rawServer(async (conn, req, i) => {
      if (req.startsWith("GET /chunked")) {
        const parts = [
          "HTTP/1.1 200 OK\r\nTransfer-",
          "Encoding: chunked\r\n\r\n4\r",
          '\n{"a"\r\n',
          "3\r\n:1}\r\n0\r\n\r\n",
        ];
        for (const p of parts) {
          await writeAll(conn, p);
          await delay(5);
        }
      } else if (req.startsWith("GET /close")) {
        await writeAll(conn, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
        conn.close();
      } else if (req.startsWith("GET /eof-body")) {
        await writeAll(conn, "HTTP/1.1 200 OK\r\n\r\n[1,2,3]");
        conn.close();
      } else await writeAll(conn, `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}`);
      void i;
    });
    const client = newClient(server.url, { maxConnections: 2 });
    try {
      for (let k = 0; k < 3; k++) {
        const r = response(await client.request("GET", "/chunked", null, soon()));
        assert.equal(r.jsonBody, true);
        assert.equal(r.bodyBytes, 7);
      }
      assert.equal(client.stats.connectionsOpened, 1);
      response(await client.request("GET", "/close", null, soon()));
      const after = response(await client.request("GET", "/x", null, soon()));
      assert.ok(after.connectMs !== null, "a closed connection is not reused");
      const eof = response(await client.request("GET", "/eof-body", null, soon()));
      assert.equal(eof.bodyBytes, 7);
      assert.equal(eof.jsonBody, true);
    } finally {
      client.close();
      await server.close();
    }
  });

  Deno.test(`client (${io}): malformed, closed mid-body, reset, timeout and refused are told apart`, async () => {
    const server = rawServer(async (conn, req) => {
      if (req.startsWith("GET /garbage")) await writeAll(conn, "SMTP ready\r\n\r\n");
      else if (req.startsWith("GET /mid-body")) {
        await writeAll(conn, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial":');
        conn.close();
      } else if (req.startsWith("GET /before")) conn.close();
      else if (req.startsWith("GET /slow")) await delay(1000);
      else await writeAll(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    });
    const client = newClient(server.url, { maxConnections: 4 });
    try {
      assert.equal(
        failure(await client.request("GET", "/garbage", null, soon())).failure,
        "malformed_response",
      );
      const mid = failure(await client.request("GET", "/mid-body", null, soon()));
      assert.equal(mid.failure, "connection_closed");
      assert.match(mid.detail, /mid-response/);
      const before = failure(await client.request("GET", "/before", null, soon()));
      assert.equal(before.failure, "connection_closed");
      const t0 = performance.now();
      const slow = failure(await client.request("GET", "/slow", null, performance.now() + 100));
      assert.equal(slow.failure, "timeout");
      assert.ok(performance.now() - t0 < 500, "the deadline ends the request");
      assert.equal(response(await client.request("GET", "/ok", null, soon())).status, 200);
    } finally {
      client.close();
      await server.close();
    }
    const refused = newClient(server.url, { maxConnections: 1 });
    const r = failure(await refused.request("GET", "/", null, soon()));
    assert.equal(r.failure, "connect_failed");
    refused.close();
  });

  Deno.test(`client (${io}): abortAll ends in-flight and waiting requests`, async () => {
    const server = rawServer(() => delay(2000));
    const client = newClient(server.url, { maxConnections: 1 });
    try {
      const a = client.request("GET", "/a", null, soon());
      const b = client.request("GET", "/b", null, soon());
      await delay(50);
      client.abortAll();
      assert.equal(failure(await a).failure, "aborted");
      assert.equal(failure(await b).failure, "aborted");
    } finally {
      client.close();
      await server.close();
    }
  });
}
