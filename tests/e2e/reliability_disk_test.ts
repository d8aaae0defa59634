/**
 * Reliability, a full or failing disk: a run whose out dir fills up (a real ENOSPC on a 64 KiB
 * tmpfs) or whose file paths fail mid-run still keeps its measurement — every file that can be
 * written is, each one that cannot is one line naming it and why (no stack), the report goes to
 * the temp dir when the out dir refuses it, exit 1; and a file of the run's name that exists
 * before the run is refused before anything is measured (exit 3), never overwritten.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { claimRunFiles, releaseOpenClaimsSync, timestamp } from "../../lib/report/files.ts";
import { ArtifactWriter } from "../../lib/run/artifacts.ts";
import { RunLog } from "../../lib/run/run_log.ts";
import { UsageError } from "../../lib/shared/errors.ts";
import {
  assertNoLeftovers,
  assertNoReport,
  fillDisk,
  lightScenario,
  listing,
  run,
  tinyTmpfs,
  unmountTmpfs,
  Watched,
} from "../fixtures/reliability.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

const NO_STACK = /\n\s+at /;

/** The `the report is in PATH` of a failure line. */
function rescuedPath(stderr: string): string {
  const m = stderr.match(/the report is in (\S+\.json)/);
  assert.ok(m, `no rescued report named in:\n${stderr}`);
  return m[1];
}

Deno.test("a full out dir (tmpfs ENOSPC): each unwritable file one line, the report rescued to the temp dir, exit 1", async () => {
  const mount = await tinyTmpfs();
  if (mount === null) {
    console.warn("skipped: mount -t tmpfs is not permitted here");
    return;
  }
  const scratch = await Deno.makeTempDir({ prefix: "m17_rel_disk_scratch_" });
  try {
    const scenario = await lightScenario(scratch);
    // Leave room for the claim and the first log lines only.
    await fillDisk(join(mount, "fill"), 8 * 1024);
    const r = await run([
      "t1",
      "--scenario",
      scenario,
      "--rate",
      "200",
      "--warmup",
      "0",
      "--duration",
      "2",
      "--html",
      "--out-dir",
      mount,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, NO_STACK, "no stack trace");
    const failures = r.stderr.split("\n").filter((l) => /could not be written/.test(l));
    assert.ok(failures.length >= 2, r.stderr);
    for (const line of failures) {
      assert.match(line, /^m17_check: \S+ could not be written \(No space left on device/);
    }
    assert.ok(failures.some((l) => /\.json could not be written/.test(l)), r.stderr);
    const rescued = rescuedPath(r.stderr);
    try {
      const report = JSON.parse(await Deno.readTextFile(rescued));
      assert.ok(report.total_operations > 300, `${report.total_operations} operations kept`);
      assert.match(r.stdout, new RegExp(`report: +${rescued.replace(/[.]/g, "\\.")}`));
    } finally {
      await Deno.remove(join(rescued, ".."), { recursive: true });
    }
    assertNoLeftovers(mount);
    assertNoReport(mount, "no partial report");
  } finally {
    await unmountTmpfs(mount);
    await Deno.remove(scratch, { recursive: true });
  }
});

Deno.test("a sibling path that fails during the run: the other files and the report are written, one line names it, exit 1", async () => {
  await inTempDir("m17_rel_disk_sibling_", async (dir) => {
    const scenario = await lightScenario(dir);
    const out = join(dir, "out");
    const child = new Watched([
      "t1",
      "--scenario",
      scenario,
      "--rate",
      "200",
      "--warmup",
      "0",
      "--duration",
      "3",
      "--html",
      "--out-dir",
      out,
    ]);
    await child.waitFor(/measured window started/);
    const claim = (listing(out) ?? []).find((n) => n.endsWith(".claim"));
    assert.ok(claim, `a claim in ${listing(out)}`);
    const stem = join(out, claim.slice(0, -".claim".length));
    // Something else takes two of the run's paths while it measures.
    await Deno.mkdir(`${stem}_sys.txt`);
    await Deno.mkdir(`${stem}.html`);
    const r = await child.done();
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, NO_STACK);
    const failures = r.stderr.split("\n").filter((l) => /could not be written/.test(l));
    assert.equal(failures.length, 2, r.stderr);
    assert.match(failures[0], /_sys\.txt could not be written \(it already exists\)/);
    assert.match(failures[1], /\.html could not be written \(it already exists\)/);
    const report = JSON.parse(await Deno.readTextFile(`${stem}.json`));
    assert.ok(report.total_operations > 300);
    for (const written of ["_diag.txt", ".hlog", "_loadtest.log"]) {
      assert.ok((await Deno.stat(`${stem}${written}`)).isFile, written);
    }
    assert.ok((await Deno.stat(`${stem}_sys.txt`)).isDirectory, "never overwritten");
    assertNoLeftovers(out);
  });
});

Deno.test("a file of the run's name that exists before the run (.html, _sys.txt, .hlog): exit 3 before measuring, untouched", async () => {
  for (const suffix of [".html", "_sys.txt", ".hlog"]) {
    const dir = await Deno.makeTempDir({ prefix: "m17_rel_disk_stray_" });
    try {
      const scenario = await lightScenario(dir);
      const out = join(dir, "out");
      await Deno.mkdir(out);
      // The names of this second and the next few: whichever the run takes, its file exists.
      const t0 = Date.now();
      for (let s = 0; s < 8; s++) {
        await Deno.writeTextFile(
          join(out, `t1_before_${timestamp(new Date(t0 + s * 1000))}${suffix}`),
          "mine\n",
        );
      }
      const before = listing(out);
      const r = await run([
        "t1",
        "--scenario",
        scenario,
        "--rate",
        "200",
        "--duration",
        "2",
        "--html",
        "--out-dir",
        out,
      ]);
      assert.equal(r.code, 3, `${suffix}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`t1_before_\\d{8}_\\d{6}${suffix.replace(".", "\\.")} already exists`),
      );
      assert.doesNotMatch(r.stdout, /target:|measur/, "nothing started or measured");
      assert.deepEqual(listing(out), before, "nothing written, nothing overwritten");
      for (const name of before ?? []) {
        assert.equal(await Deno.readTextFile(join(out, name)), "mine\n");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("claimRunFiles(): any sibling of the stem is refused (UsageError naming it); the claim is released", async () => {
  const siblings = ["_sys.txt", "_diag.txt", ".hlog", "_server.log", ".html", "_profile.svg"];
  for (const suffix of siblings) {
    const dir = await Deno.makeTempDir({ prefix: "m17_rel_claim_sibling_" });
    try {
      const now = new Date(2025, 0, 2, 3, 4, 5);
      const stray = join(dir, `t_before_20250102_030405${suffix}`);
      await Deno.writeTextFile(stray, "x");
      await assert.rejects(
        claimRunFiles(dir, "t", "before", "internal", now),
        (e) => e instanceof UsageError && e.message.includes(`${stray} already exists`),
      );
      assert.deepEqual(listing(dir), [`t_before_20250102_030405${suffix}`], suffix);
    } finally {
      releaseOpenClaimsSync();
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("ArtifactWriter: never overwrites; the report goes to the temp dir when its directory is gone", async () => {
  await inTempDir("m17_rel_writer_", async (dir) => {
    const out = new ArtifactWriter();
    await Deno.writeTextFile(join(dir, "a.txt"), "old");
    assert.equal(await out.write(join(dir, "a.txt"), "new"), false);
    assert.equal(await Deno.readTextFile(join(dir, "a.txt")), "old");
    const gone = join(dir, "gone", "r.json");
    const where = await out.writeReport(gone, "{}\n");
    assert.ok(where && where !== gone && where.endsWith("/r.json"), `${where}`);
    assert.equal(await Deno.readTextFile(where!), "{}\n");
    await Deno.remove(join(where!, ".."), { recursive: true });
    assert.equal(out.failures.length, 2);
    assert.match(out.failures[0], /a\.txt could not be written \(it already exists\)/);
    assert.match(out.failures[1], /gone\/r\.json could not be written \(.*\); the report is in /);
  });
});

Deno.test("RunLog on a full disk (/dev/full): lines keep going to the terminal, the failure is one line", () => {
  const log = new RunLog(true);
  log.attach("/dev/full");
  log.line("first");
  log.record("second");
  assert.match(log.fileError ?? "", /^\/dev\/full could not be written \(No space left on device/);
  log.close();
});
