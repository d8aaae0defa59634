/**
 * Reliability, compare's outputs: with `--log`, `--html` and `--export` together every target is
 * checked before anything is written or any verdict shown (a directory, a FIFO, a file as a
 * parent, two outputs on one file: one line, exit 3, nothing written, the log's bytes
 * unchanged); once checked, all are written after the verdict is shown, and an output that
 * still fails (a full disk) is one line on stderr and exit 3 (a regression keeps its exit code) while
 * the others are written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeReport, shapedSamples, writeReport } from "../fixtures/make_report.ts";
import {
  COMPARE,
  fillDisk,
  listing,
  run,
  tinyTmpfs,
  unmountTmpfs,
} from "../fixtures/reliability.ts";
import { checkOutputs, writeOutputs } from "../../lib/render/outputs.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

const OLD_LOG = "# Performance log\n\nan earlier entry\n";

/** A results dir with task 001's before and after runs (`slower`: the after run regressed). */
async function fixture(slower = false): Promise<{ dir: string; results: string; log: string }> {
  const dir = await Deno.makeTempDir({ prefix: "m17_rel_outputs_" });
  const results = join(dir, "results");
  await Deno.mkdir(results);
  const fast = { Store: shapedSamples({ p50: 0.4, p95: 0.5, p99: 0.6, p999: 0.9 }) };
  const slow = { Store: shapedSamples({ p50: 0.8, p95: 1.0, p99: 1.2, p999: 1.8 }) };
  await writeReport(
    results,
    "001_before_20250101_120000.json",
    makeReport({ samplesMs: fast, throughput: 999 }),
  );
  await writeReport(
    results,
    "001_after_20250101_130000.json",
    makeReport({ phase: "after", samplesMs: slower ? slow : fast, throughput: 999 }),
  );
  const log = join(dir, "LOG.md");
  await Deno.writeTextFile(log, OLD_LOG);
  return { dir, results, log };
}

const outputArgs = (results: string, log: string, html: string, bmf: string) => [
  "001",
  "--dir",
  results,
  "--log",
  log,
  "--html",
  html,
  "--export",
  "bmf",
  bmf,
];

/** The refusal: one line naming `what`, exit 3, no verdict shown, nothing written. */
async function assertRefusedBeforeWriting(
  args: string[],
  cwd: string,
  log: string,
  what: RegExp,
  absent: string[],
): Promise<void> {
  const r = await run(args, { tool: COMPARE, cwd });
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.equal(r.stdout, "", "no verdict shown");
  assert.equal(await Deno.readTextFile(log), OLD_LOG, "the log is untouched");
  for (const path of absent) {
    assert.equal(await Deno.lstat(path).catch(() => null), null, `${path} was not created`);
  }
  assert.deepEqual(
    (listing(cwd) ?? []).filter((n) => n.includes(".m17_probe") || n.endsWith(".tmp")),
    [],
  );
}

Deno.test("compare: all three outputs good — all written after the verdict, exit code the verdict's (0 and 1)", async () => {
  for (const slower of [false, true]) {
    const { dir, results, log } = await fixture(slower);
    try {
      const html = join(dir, "c.html");
      const bmf = join(dir, "bmf.json");
      const r = await run(outputArgs(results, log, html, bmf), { tool: COMPARE, cwd: dir });
      assert.equal(r.code, slower ? 1 : 0, r.stderr);
      const text = await Deno.readTextFile(log);
      assert.ok(text.startsWith(OLD_LOG.trimEnd()), "the earlier entry stays");
      assert.ok(text.length > OLD_LOG.length, "the new entry is added");
      assert.match(await Deno.readTextFile(html), /<html/i);
      JSON.parse(await Deno.readTextFile(bmf));
      assert.match(r.stdout, /Added '.*' in .*LOG\.md/);
      assert.match(r.stdout, /HTML report: .*c\.html/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("compare: --html at a directory, a FIFO or under a file refuses before any write (exit 3, log unchanged)", async () => {
  const { dir, results, log } = await fixture(true);
  try {
    const bmf = join(dir, "bmf.json");
    const asDir = join(dir, "adir.html");
    await Deno.mkdir(asDir);
    await assertRefusedBeforeWriting(
      outputArgs(results, log, asDir, bmf),
      dir,
      log,
      /HTML report .*adir\.html: is a directory, not a file/,
      [bmf],
    );
    const fifo = join(dir, "fifo.html");
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(mk.success);
    await assertRefusedBeforeWriting(
      outputArgs(results, log, fifo, bmf),
      dir,
      log,
      /fifo\.html: is a FIFO, socket or device, not a file/,
      [bmf],
    );
    const plain = join(dir, "plain.txt");
    await Deno.writeTextFile(plain, "x");
    await assertRefusedBeforeWriting(
      outputArgs(results, log, join(dir, "c.html"), join(plain, "sub", "bmf.json")),
      dir,
      log,
      /plain\.txt is a regular file, not a directory/,
      [join(dir, "c.html")],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compare: --log at a directory, and two outputs on one file, refuse before any write", async () => {
  const { dir, results, log } = await fixture();
  try {
    const html = join(dir, "c.html");
    const bmf = join(dir, "bmf.json");
    const logDir = join(dir, "LOGDIR.md");
    await Deno.mkdir(logDir);
    const r = await run(outputArgs(results, logDir, html, bmf), { tool: COMPARE, cwd: dir });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(await Deno.lstat(html).catch(() => null), null);
    assert.equal(await Deno.lstat(bmf).catch(() => null), null);
    await assertRefusedBeforeWriting(
      outputArgs(results, log, html, html),
      dir,
      log,
      /c\.html: also the target of HTML report/,
      [html],
    );
    await assertRefusedBeforeWriting(
      outputArgs(results, log, html, log),
      dir,
      log,
      /LOG\.md: also the target of --log/,
      [html],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "compare: the --log on a full disk — the verdict shown, the other outputs written, one line, the regression's exit 1, log unchanged",
  fn: async () => {
    const mount = await tinyTmpfs();
    if (mount === null) {
      console.warn("skipped: mount -t tmpfs is not permitted here");
      return;
    }
    const { dir, results } = await fixture(true);
    try {
      const log = join(mount, "LOG.md");
      await Deno.writeTextFile(log, OLD_LOG);
      await fillDisk(join(mount, "fill"));
      const html = join(dir, "c.html");
      const bmf = join(dir, "bmf.json");
      const r = await run(outputArgs(results, log, html, bmf), { tool: COMPARE, cwd: dir });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /REGRESSION|regress/i, "the verdict was shown");
      const lines = r.stderr.trim().split("\n").filter((l) => /could not be written/.test(l));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /--log .*LOG\.md could not be written \(No space left on device/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.equal(await Deno.readTextFile(log), OLD_LOG, "the old log is intact");
      assert.match(await Deno.readTextFile(html), /<html/i);
      JSON.parse(await Deno.readTextFile(bmf));
      assert.deepEqual((listing(mount) ?? []).filter((n) => n.endsWith(".tmp")), []);
    } finally {
      await unmountTmpfs(mount);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("checkOutputs() and writeOutputs(): a refused target writes nothing; a failed write is a line, not a throw", async () => {
  await inTempDir("m17_rel_outputs_unit_", async (dir) => {
    const good = { path: join(dir, "a.json"), what: "export", text: "{}" };
    const underFile = { path: join(dir, "a.json", "b.json"), what: "export", text: "{}" };
    await checkOutputs([good]);
    await assert.rejects(checkOutputs([good, { ...good, what: "other" }]), /also the target/);
    assert.deepEqual(listing(dir), [], "checking wrote nothing");
    await Deno.writeTextFile(good.path, "old");
    const done = await writeOutputs([underFile, good]);
    assert.deepEqual(done.written, [`export: ${good.path}`]);
    assert.equal(done.failures.length, 1);
    assert.match(done.failures[0], /a\.json\/b\.json could not be written \(/);
    assert.equal(await Deno.readTextFile(good.path), "{}");
  });
});
