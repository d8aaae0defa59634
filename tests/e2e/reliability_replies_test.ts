/**
 * Reliability, wrong replies (issue 25, classes 1 and 2): a server that answers with a bad
 * status line, bad chunking, two or a negative Content-Length, a 2 MB header, garbage, a body cut
 * short, or an empty body where the API returns a JSON document has answered wrongly. That is a
 * measured error of the server, named for what it is in `errors_by_kind`, never "could not
 * connect" and never an instrument failure: the report is valid, check exits 0, and compare flags
 * the error increase.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertNoLeftovers, onlyReport, run, startFaulty } from "../fixtures/reliability.ts";

const SHORT = ["--duration", "2", "--warmup", "0", "--rate", "100"];

/** Each wrong reply of the faulty server's `--mode raw`, and the error kind it must count as. */
const CASES: [reply: string, kind: string][] = [
  ["bad-status", "malformed_response"],
  ["bad-chunk", "malformed_response"],
  ["two-length", "malformed_response"],
  ["negative-length", "malformed_response"],
  ["huge-header", "malformed_response"],
  ["garbage", "malformed_response"],
  ["cut-body", "connection_closed"],
  ["empty-204", "bad_response"],
  ["empty-200", "bad_response"],
];

for (const [reply, kind] of CASES) {
  Deno.test(`a --url server answering ${reply}: a valid run whose errors are ${kind}, exit 0, never "could not connect"`, async () => {
    const dir = await Deno.makeTempDir({ prefix: `m17_rel_reply_${reply}_` });
    const server = await startFaulty("raw", ["--reply", reply]);
    try {
      const out = join(dir, "out");
      const r = await run(["t1", "--url", server.url, ...SHORT, "--out-dir", out]);
      const all = `${r.stdout}\n${r.stderr}`;
      assert.doesNotMatch(all, /could not connect|connection refused/i, all);
      const { report } = await onlyReport(out);
      // The one reason a loaded test host may add is its own: the generator fell behind.
      const reasons = report.invalid_reasons.filter((x) => !/load generator fell behind/.test(x));
      assert.deepEqual(reasons, [], all);
      if (report.invalid_reasons.length === 0) assert.equal(r.code, 0, all);
      const errors = report.errors_by_kind[kind] ?? 0;
      assert.ok(
        errors >= report.total_operations * 0.9,
        `${kind}: ${JSON.stringify(report.errors_by_kind)} of ${report.total_operations}`,
      );
      assert.equal(report.errors_by_kind.connect_failed ?? 0, 0);
      assertNoLeftovers(out);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a stopped server holding every in-flight slot: a send rate off target is a note, the run is valid (issue 25, class 13)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_rel_stopped_" });
  const server = await startFaulty("hang");
  try {
    const out = join(dir, "out");
    // 8 slots held for up to 1 s each at 100 ops/s: most requests wait for a slot.
    const r = await run([
      "t1",
      "--url",
      server.url,
      ...SHORT,
      "--timeout-ms",
      "1000",
      "--max-in-flight",
      "8",
      "--out-dir",
      out,
    ]);
    const { report } = await onlyReport(out);
    const reasons = report.invalid_reasons.filter((x) => !/load generator fell behind/.test(x));
    assert.deepEqual(reasons, [], r.stdout);
    assert.deepEqual(report.errors_by_kind, { timeout: 200 });
    const notes = (report.notes ?? []).join("\n");
    assert.match(
      notes,
      /^achieved send rate [\d.]+ ops\/s is more than 1% off the target 100 ops\/s: \d+ requests waited for one of the --max-in-flight slots/m,
    );
    assert.match(notes, /server saturated, 100% of requests timed out after 1 s/);
    if (report.invalid_reasons.length === 0) assert.equal(r.code, 0, r.stderr);
    assertNoLeftovers(out);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
