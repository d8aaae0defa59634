import assert from "node:assert/strict";
import { Sender } from "../../lib/run/sender.ts";
import type { Op } from "../../lib/workload/ops.ts";

const op = (path: string): Op => ({ index: 0, kind: "Recall", method: "GET", path, body: null });

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
  const sender = new Sender({ baseUrl: s.url, timeoutMs: 200 });
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
  const refused = new Sender({ baseUrl: closed, timeoutMs: 1000 });
  assert.deepEqual((await refused.send(op("/ok"))).outcome, { kind: "error", error: "connection" });
  refused.close();
});
