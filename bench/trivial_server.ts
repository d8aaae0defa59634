/**
 * The trivial endpoint for client-cost benchmarks: answers every request `200 ok` after reading
 * its body. Prints `listening on http://127.0.0.1:PORT`; exits on SIGTERM or when stdin closes.
 * @module
 */
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  if (req.body) await req.arrayBuffer();
  return new Response("ok");
});
console.log(`listening on http://127.0.0.1:${server.addr.port}`);
const stop = () => server.shutdown();
Deno.addSignalListener("SIGTERM", stop);
(async () => {
  try {
    for await (const _ of Deno.stdin.readable) { /* discard */ }
  } catch { /* closed */ }
  await stop();
})();
await server.finished;
Deno.exit(0);
