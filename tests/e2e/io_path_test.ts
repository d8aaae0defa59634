/**
 * The measured run goes over the I/O path it says, end to end: the run log's `load engine:` line
 * and the report's `generator.io` name the same sockets, and `M17_IO=deno` (the path the macOS
 * binaries, a run without the FFI grant and a `--url` host name take) really uses Deno's
 * sockets. CI runs this file, and the driver, engine and load tests, once per path
 * (`deno task test` and `deno task test:deno-io`, issue 25).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { reactorFor } from "../../lib/run/epoll.ts";
import { onlyReport, run } from "../fixtures/reliability.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

/** What this host and environment should use: `deno-sockets` or `epoll`. */
function expectedIo(): "epoll" | "deno-sockets" {
  const choice = reactorFor("http://127.0.0.1:1");
  if (choice.kind === "epoll") choice.reactor.close();
  return choice.kind === "epoll" ? "epoll" : "deno-sockets";
}

Deno.test(`a run against the reference server uses the expected I/O path (M17_IO=${Deno.env.get("M17_IO") ?? "unset"}) and says so`, async () => {
  await inTempDir("m17_io_path_", async (dir) => {
    const out = join(dir, "out");
    const r = await run([
      "io",
      "--reference",
      "--duration",
      "2",
      "--warmup",
      "0",
      "--rate",
      "200",
      "--out-dir",
      out,
    ]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const io = expectedIo();
    const { report } = await onlyReport(out);
    const g = (report as unknown as { generator: { io: string; io_why?: string } }).generator;
    assert.equal(g.io, io);
    if (Deno.env.get("M17_IO") === "deno") assert.equal(g.io_why, "M17_IO=deno");
    assert.match(
      r.stdout,
      io === "epoll"
        ? /^load engine: .*sockets and pacer waits on Linux epoll/m
        : /^load engine: .*Deno's sockets and a sleeping ticker thread/m,
    );
    assert.ok(report.total_operations > 0);
  });
});
