/**
 * Reliability, signals: SIGINT exits 130 and SIGTERM 143 in every phase — preload, warm-up,
 * the measured window and teardown — with no server process left, no `.claim` file, and, once
 * the target is up, a report: partial and marked invalid ("interrupted by SIGINT during …") when
 * the measurement was cut short, complete when only the teardown was. The phase is read from
 * the child's output lines (`preload: storing`, `warm-up started`, `measured window started`,
 * `target: stopping`). compare refuses such a report.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertGone,
  assertNoLeftovers,
  assertNoReport,
  COMPARE,
  fakeCheckout,
  lightScenario,
  listing,
  onlyReport,
  pidIn,
  run,
  startFaulty,
  Watched,
} from "../fixtures/reliability.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

const REFERENCE_PID = /target: reference server .* \(pid (\d+)\)/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a check against the reference server; returns it with the server's pid. */
async function startCheck(
  dir: string,
  args: string[],
): Promise<{ child: Watched; serverPid: number }> {
  const child = new Watched([...args, "--rate", "200", "--out-dir", dir]);
  const serverPid = pidIn((await child.waitFor(REFERENCE_PID))[0], /pid (\d+)/);
  return { child, serverPid };
}

async function assertInterrupted(
  dir: string,
  child: Watched,
  serverPid: number,
  expected: { code: number; reason: RegExp; measured: (ops: number) => boolean },
): Promise<{ path: string; stdout: string }> {
  const r = await child.done();
  assert.equal(r.code, expected.code, r.stderr);
  const { path, report } = await onlyReport(dir);
  assert.equal(report.valid, false);
  assert.ok(
    report.invalid_reasons.some((x) => expected.reason.test(x)),
    `${expected.reason} in ${report.invalid_reasons.join("; ")}`,
  );
  assert.ok(expected.measured(report.total_operations), `${report.total_operations} operations`);
  assertNoLeftovers(dir);
  await assertGone(serverPid);
  return { path, stdout: r.stdout };
}

Deno.test("SIGINT while waiting for the target to become healthy: exit 130 at once, no report, no claim", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_rel_sig_startup_" });
  const server = await startFaulty("unhealthy");
  try {
    const child = new Watched(["t1", "--url", server.url, "--duration", "2", "--out-dir", dir]);
    await child.waitFor(/workload fingerprint/);
    await sleep(300);
    const signalled = performance.now();
    child.kill("SIGINT");
    const r = await child.done();
    assert.equal(r.code, 130, r.stderr);
    assert.ok(performance.now() - signalled < 1500, "did not wait out the 5 s health deadline");
    assertNoReport(dir, "nothing was measured");
    assertNoLeftovers(dir);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM during preload: exit 143, an invalid report without a measured window and a summary without zeros, compare refuses it", async () => {
  await inTempDir("m17_rel_sig_preload_", async (dir) => {
    const scenario = await lightScenario(dir, 20_000);
    const out = join(dir, "out");
    const { child, serverPid } = await startCheck(out, [
      "t1",
      "--scenario",
      scenario,
      "--duration",
      "3",
    ]);
    await child.waitFor(/preload: storing 20000 memories/);
    await sleep(300);
    child.kill("SIGTERM");
    const { path, stdout } = await assertInterrupted(out, child, serverPid, {
      code: 143,
      reason: /^interrupted by SIGTERM during preload: no measured window$/,
      measured: (ops) => ops === 0,
    });
    // No window is announced or summed up: one line says why, then where the files are.
    assert.match(stdout, /^no measured window: interrupted by SIGTERM during preload; nothing/m);
    assert.doesNotMatch(stdout, /^(measuring|load engine|operations|response time):/m);
    assert.match(stdout, /^report: +\S+\.json$/m);
    const report = JSON.parse(await Deno.readTextFile(path));
    assert.equal(report.no_measured_window, "interrupted by SIGTERM during preload");
    assert.equal(report.validation, null);
    const cmp = await run(["t1", "--before", path, "--after", path], { tool: COMPARE });
    assert.equal(cmp.code, 3);
    assert.match(cmp.stderr, /is marked invalid \(interrupted by SIGTERM during preload/);
  });
});

Deno.test("SIGINT during warm-up: exit 130, an invalid report with nothing measured, server gone", async () => {
  await inTempDir("m17_rel_sig_warmup_", async (dir) => {
    const scenario = await lightScenario(dir);
    const { child, serverPid } = await startCheck(dir, [
      "t1",
      "--scenario",
      scenario,
      "--warmup",
      "5",
      "--duration",
      "5",
    ]);
    await child.waitFor(/warm-up started/);
    await sleep(300);
    child.kill("SIGINT");
    const { stdout } = await assertInterrupted(dir, child, serverPid, {
      code: 130,
      reason: /^interrupted by SIGINT during warm-up: no measured window$/,
      measured: (ops) => ops === 0,
    });
    assert.match(stdout, /^measuring: 5 s warm-up, then 5 s measured$/m);
    assert.match(stdout, /^no measured window: interrupted by SIGINT during warm-up; nothing/m);
    assert.doesNotMatch(stdout, /^response time:/m);
  });
});

Deno.test("SIGINT and SIGTERM during the measured window: 130 / 143, a partial report marked interrupted", async () => {
  await inTempDir("m17_rel_sig_measured_", async (dir) => {
    const scenario = await lightScenario(dir);
    await Promise.all(([["SIGINT", 130], ["SIGTERM", 143]] as const).map(async ([sig, code]) => {
      const out = join(dir, sig);
      const { child, serverPid } = await startCheck(out, [
        "t1",
        "--scenario",
        scenario,
        "--warmup",
        "0",
        "--duration",
        "6",
      ]);
      await child.waitFor(/measured window started/);
      await sleep(1000);
      const signalled = performance.now();
      child.kill(sig);
      await assertInterrupted(out, child, serverPid, {
        code,
        reason: new RegExp(`^interrupted by ${sig} during the measured window$`),
        // About one second at 200 ops/s: some, but far from the 1200 planned.
        measured: (ops) => ops > 50 && ops < 600,
      });
      assert.ok(performance.now() - signalled < 4000, "stopped promptly");
      const { report } = await onlyReport(out);
      assert.ok(report.elapsed_seconds < 3, `elapsed ${report.elapsed_seconds} s is the real span`);
    }));
  });
});

/** A short check against a fake engram that ignores SIGTERM, stopped at `target: stopping`. */
async function checkUntilTeardown(dir: string): Promise<{ child: Watched; enginePid: number }> {
  const checkout = join(dir, "checkout");
  await Deno.rename(await fakeCheckout("ignore_sigterm"), checkout);
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  const child = new Watched([
    "t1",
    "--engram-dir",
    checkout,
    "--no-build",
    "--port",
    String(port),
    "--duration",
    "1",
    "--warmup",
    "0",
    "--rate",
    "200", // the smallest measurable run (200 requests)
    "--out-dir",
    join(dir, "out"),
  ]);
  const enginePid = pidIn(
    (await child.waitFor(/target: stopping the engram \(pid (\d+)\)/))[0],
    /pid (\d+)/,
  );
  return { child, enginePid };
}

Deno.test("a signal during teardown: the complete report stays as written, the server is still killed, exit 130", async () => {
  await inTempDir("m17_rel_sig_teardown_", async (dir) => {
    const { child, enginePid } = await checkUntilTeardown(dir);
    child.kill("SIGINT");
    const r = await child.done();
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stdout, /target: engram stopped/);
    const out = join(dir, "out");
    const { report } = await onlyReport(out);
    // Written before the signal: complete, and not marked interrupted.
    assert.equal(report.total_operations, 200);
    assert.ok(
      !report.invalid_reasons.some((x) => /interrupt/.test(x)),
      `${report.invalid_reasons}`,
    );
    assertNoLeftovers(out);
    assert.ok(!(listing(out) ?? []).some((n) => n.endsWith("_data")), "data dir removed");
    await assertGone(enginePid);
  });
});

Deno.test("a second signal during teardown kills the server that ignores SIGTERM at once: exit 130 within 2 s", async () => {
  await inTempDir("m17_rel_sig_twice_", async (dir) => {
    const { child, enginePid } = await checkUntilTeardown(dir);
    child.kill("SIGINT");
    await sleep(100);
    const second = performance.now();
    child.kill("SIGINT");
    const r = await child.done();
    assert.equal(r.code, 130, r.stderr);
    assert.ok(
      performance.now() - second < 2000,
      `left ${performance.now() - second} ms later: ${r.stderr}`,
    );
    assert.match(r.stderr, /second SIGINT: killing the target/);
    const out = join(dir, "out");
    assertNoLeftovers(out);
    await assertGone(enginePid);
  });
});
