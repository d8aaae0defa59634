/**
 * The two CLI defects of issue 15, end to end:
 * - a reference knob the server would refuse is refused by check itself: exit 3, one line,
 *   nothing written (it used to write `_loadtest.log` and `_server.log`, then exit 1);
 * - a crash in compare is not "bad input": exit 70 with the stack (it used to be exit 3).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { COMPARE, run } from "../fixtures/reliability.ts";
import { runCli } from "./cli.ts";
import { run as fixture, withPairOnDisk } from "../fixtures/pair.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

Deno.test("check: knobs the reference server refuses exit 3, one line, nothing written", async () => {
  await inTempDir("m17_cli_defects_", async (dir) => {
    const cases: [string[], RegExp][] = [
      [
        ["--ref-stall-every-s", "1", "--ref-stall-ms", "5000"],
        /^m17_check: --ref-stall-ms 5000 is longer than the period --ref-stall-every-s 1/,
      ],
      // One range, the server's: 70 s of latency is allowed, 600,001 ms is not.
      [
        ["--ref-latency-ms", "600001"],
        /^m17_check: --ref-latency-ms "600001": expected a number from 0 to 600000$/,
      ],
      [["--ref-error-rate", "1.5"], /^m17_check: --ref-error-rate "1\.5": expected a number/],
    ];
    for (const [knobs, message] of cases) {
      const r = await run(["t", "before", ...knobs, "--out-dir", dir]);
      assert.equal(r.code, 3, `${knobs.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr.trim(), message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
    }
    // The range is the server's: a latency check used to refuse (over 60,000 ms) is accepted.
    const dry = await run([
      "t",
      "before",
      "--ref-latency-ms",
      "70000",
      "--dry-run",
      "--out-dir",
      dir,
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

/**
 * Runs m17_compare with a preloaded module that breaks `Deno.stdout.writeSync` with a
 * TypeError: a genuine exception from inside the tool (no hook in the tool itself).
 */
async function compareWithBrokenStdout(cwd: string, args: string[]) {
  const preload = join(cwd, "break_stdout.ts");
  await Deno.writeTextFile(
    preload,
    'Deno.stdout.writeSync = () => { throw new TypeError("stdout broke (injected by the test)"); };\n',
  );
  return await runCli("m17_compare", args, { cwd, denoFlags: ["--preload", preload] });
}

Deno.test("compare: a crash is not bad input: exit 70 with its stack", async () => {
  await withPairOnDisk(fixture(1), fixture(1.01), async (dir) => {
    for (const args of [["001"], ["--help"]]) {
      const r = await compareWithBrokenStdout(dir, args);
      assert.equal(r.code, 70, r.stderr);
      assert.match(r.stderr, /^m17_compare: internal error \(a bug in m17_compare; please report/);
      assert.match(r.stderr, /TypeError: stdout broke \(injected by the test\)/);
      assert.match(r.stderr, /\n\s+at .*m17_compare\.ts:\d+:\d+/, "the stack is printed");
    }
  });
});

Deno.test("compare: bad input stays exit 3, one line", async () => {
  await withPairOnDisk(fixture(1), fixture(1.01), async (dir) => {
    const r = await run(["001", "--threshold-p99", "five"], { tool: COMPARE, cwd: dir });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^m17_compare: --threshold-p99 "five": expected a number of percent/);
  });
});
