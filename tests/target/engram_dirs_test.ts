import assert from "node:assert/strict";
import { join } from "node:path";
import { assertGone, closedPort, fakeCheckout, listing } from "../fixtures/reliability.ts";
import { type EngramStartOptions, startEngram } from "../../lib/target/engram.ts";
import { makeEngramRunDirs, removeEngramRunDirsSync } from "../../lib/target/engram_dirs.ts";
import { RunError } from "../../lib/shared/errors.ts";

function startOptions(checkout: string, stem: string, keepData = false): EngramStartOptions {
  const outDir = join(checkout, "out");
  return {
    dir: checkout,
    port: closedPort(),
    outDir,
    stem: join(outDir, stem),
    logPath: join(checkout, `${stem}_server.log`),
    keepData,
    startupTimeoutMs: 15_000,
    stopGraceMs: 2000,
  };
}

Deno.test("startEngram(): each server gets its own TMPDIR beside its data dir, so two servers started at once keep their own engram.pid; removed at stop, with --keep-data too", async () => {
  const checkout = await fakeCheckout("ok");
  try {
    const stems = ["t_before_20250101_000000", "t_before_20250101_000000_2"];
    const options = stems.map((stem, i) => startOptions(checkout, stem, i === 1));
    const targets = await Promise.all(options.map((o) => startEngram(o)));
    try {
      for (const [i, t] of targets.entries()) {
        const pidFile = join(options[i].outDir, `${stems[i]}_tmp`, "engram.pid");
        // Real Engram writes `<pid>:<port>` to std::env::temp_dir()/engram.pid (/tmp without TMPDIR).
        assert.equal(
          await Deno.readTextFile(pidFile),
          `${t.process!.pid}:${options[i].port}`,
          `${stems[i]}: its own pid file`,
        );
        assert.match(await Deno.readTextFile(options[i].logPath), /TMPDIR=.*_tmp\)$/m);
      }
    } finally {
      await Promise.all(targets.map((t) => t.stop()));
    }
    for (const t of targets) await assertGone(t.process!.pid);
    assert.deepEqual(listing(options[0].outDir), [`${stems[1]}_data`], "only the kept data dir");
  } finally {
    await Deno.remove(checkout, { recursive: true });
  }
});

Deno.test("makeEngramRunDirs(): an existing TMPDIR is not fresh: RunError naming it, and the data dir it made is removed, never the one in the way", async () => {
  const out = await Deno.makeTempDir({ prefix: "m17_engram_dirs_" });
  try {
    await Deno.mkdir(join(out, "t_before_20250101_000000_tmp"));
    await Deno.writeTextFile(join(out, "t_before_20250101_000000_tmp", "keep"), "x");
    await assert.rejects(
      makeEngramRunDirs(out, join(out, "t_before_20250101_000000"), false),
      (e) => e instanceof RunError && /TMPDIR .*_tmp: cannot create a fresh one/.test(e.message),
    );
    assert.deepEqual(listing(out), ["t_before_20250101_000000_tmp"]);
    // Made and held until removed; an exit that skips the teardown removes them at once.
    const dirs = await makeEngramRunDirs(out, join(out, "t_after_20250101_000000"), false);
    assert.deepEqual(listing(out)?.length, 3);
    removeEngramRunDirsSync();
    assert.deepEqual(listing(out), ["t_before_20250101_000000_tmp"]);
    await dirs.remove(); // harmless once gone
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
