/**
 * Reliability, `compare --log` (issue 25, classes 5, 6 and 14): concurrent writers neither lose
 * nor duplicate a section; the log is written through a symlink, keeps invalid UTF-8 byte for
 * byte, is never created in a missing directory, and hand-named headings are recognised; a
 * failed extra output after a regression keeps the regression's exit code and writes no log.
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
import { spawnCli } from "./cli.ts";

const FAST = { Store: shapedSamples({ p50: 0.4, p95: 0.5, p99: 0.6, p999: 0.9 }) };
const SLOW = { Store: shapedSamples({ p50: 0.8, p95: 1.0, p99: 1.2, p999: 1.8 }) };

/** A results dir with before and after runs of each task (`slower`: the after runs regressed). */
async function fixture(tasks: string[], slower = false): Promise<{ dir: string; results: string }> {
  const dir = await Deno.makeTempDir({ prefix: "m17_rel_log_" });
  const results = join(dir, "results");
  await Deno.mkdir(results);
  for (const task of tasks) {
    await writeReport(
      results,
      `${task}_before_20250101_120000.json`,
      makeReport({ task, samplesMs: FAST, throughput: 999 }),
    );
    await writeReport(
      results,
      `${task}_after_20250101_130000.json`,
      makeReport({ task, phase: "after", samplesMs: slower ? SLOW : FAST, throughput: 999 }),
    );
  }
  return { dir, results };
}

const headings = (text: string, task: string) =>
  text.split("\n").filter((l) => l.startsWith(`## Task ${task}`));

Deno.test("compare --log: five at once on one log (existing or not yet) — every section there exactly once", async () => {
  const tasks = ["001", "002", "003", "004", "005"];
  const { dir, results } = await fixture(tasks);
  try {
    for (const initial of ["# Log\n\nhand-written notes\n", null]) {
      const log = join(dir, `PERFORMANCE_LOG_${initial === null ? "new" : "old"}.md`);
      if (initial !== null) await Deno.writeTextFile(log, initial);
      // The five tasks plus a second writer of task 001: six writers, five sections.
      const children = [...tasks, "001"].map((task) =>
        spawnCli(COMPARE, [task, "--dir", results, "--log", log], { cwd: dir })
      );
      const outs = await Promise.all(children.map((c) => c.output()));
      for (const o of outs) assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
      const notes = outs.map((o) =>
        new TextDecoder().decode(o.stdout).match(/(Added|Updated) '/)?.[1]
      );
      assert.deepEqual(notes.filter((n) => n === "Added").length, 5, notes.join(" "));
      const text = await Deno.readTextFile(log);
      if (initial !== null) assert.ok(text.startsWith(initial), text);
      for (const task of tasks) assert.equal(headings(text, task).length, 1, text);
    }
    assert.deepEqual((listing(dir) ?? []).filter((n) => n.endsWith(".tmp")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `body` with a results dir holding task 001's runs, removed afterwards. */
async function withTask001(body: (dir: string, results: string) => Promise<void>): Promise<void> {
  const { dir, results } = await fixture(["001"]);
  try {
    await body(dir, results);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("compare --log: a symlink is written through, the link stays a link", async () => {
  await withTask001(async (dir, results) => {
    const real = join(dir, "real.md");
    const link = join(dir, "link.md");
    await Deno.writeTextFile(real, "# Log\n");
    await Deno.symlink(real, link);
    const r = await run(["001", "--dir", results, "--log", link], { tool: COMPARE, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await Deno.lstat(link)).isSymlink, "the link is still a link");
    assert.equal(headings(await Deno.readTextFile(real), "001").length, 1);
  });
});

Deno.test("compare --log: invalid UTF-8 in hand-written text is kept byte for byte", async () => {
  await withTask001(async (dir, results) => {
    const raw = join(dir, "raw.md");
    const text = new TextEncoder().encode("# Log\n\nLatin-1 caf");
    const before = new Uint8Array([...text, 0xe9, 0x0a, 0xff, 0xfe, 0x0a]);
    await Deno.writeFile(raw, before);
    const r = await run(["001", "--dir", results, "--log", raw], { tool: COMPARE, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const after = await Deno.readFile(raw);
    assert.ok(after.length > before.length, "the section was added");
    assert.deepEqual(after.subarray(0, before.length), before, "the hand-written bytes stay");
  });
});

Deno.test("compare --log: hand-named headings are the task's section, updated, not added again", async () => {
  await withTask001(async (dir, results) => {
    for (const heading of ["## Task 001 - Hand Name", "## Task 001 (Hand Name)"]) {
      const hand = join(dir, "hand.md");
      await Deno.writeTextFile(hand, `# Log\n\n---\n\n${heading}\n\nnotes\n`);
      const r = await run(["001", "--dir", results, "--log", hand], { tool: COMPARE, cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Updated '/);
      const text = await Deno.readTextFile(hand);
      assert.deepEqual(headings(text, "001"), [heading], text);
      assert.match(text, /notes\n[\s\S]*- Before:/);
    }
  });
});

Deno.test("compare --log in a directory that does not exist: one line, exit 3, nothing created", async () => {
  await withTask001(async (dir, results) => {
    const r = await run(["001", "--dir", results, "--log", "missing/dir/P.md"], {
      tool: COMPARE,
      cwd: dir,
    });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /--log missing\/dir\/P\.md: directory .*missing\/dir does not exist/);
    assert.equal(r.stdout, "", "no verdict shown");
    assert.equal(await Deno.lstat(join(dir, "missing")).catch(() => null), null);
  });
});

Deno.test({
  name: "compare: after a regression a failed --html keeps exit 1, says so, and writes no --log",
  fn: async () => {
    const mount = await tinyTmpfs();
    if (mount === null) {
      console.warn("skipped: mount -t tmpfs is not permitted here");
      return;
    }
    const { dir, results } = await fixture(["001"], true);
    try {
      const log = join(dir, "LOG.md");
      await Deno.writeTextFile(log, "# Log\n");
      await fillDisk(join(mount, "fill"));
      const html = join(mount, "c.html");
      const r = await run(["001", "--dir", results, "--log", log, "--html", html], {
        tool: COMPARE,
        cwd: dir,
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /REGRESSION|regress/i, "the verdict was shown");
      assert.match(r.stderr, /HTML report .*c\.html could not be written \(No space left/);
      assert.match(r.stderr, /--log .*LOG\.md was not written: another output failed/);
      assert.equal(await Deno.readTextFile(log), "# Log\n", "the log is unchanged");
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    } finally {
      await unmountTmpfs(mount);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("compare --log --task-name with ESC and a newline: one clean heading line, nothing raw", async () => {
  await withTask001(async (dir, results) => {
    const log = join(dir, "LOG.md");
    const r = await run(
      ["001", "--dir", results, "--log", log, "--task-name", "Evil\x1b[31m\n## Task 999: FAKE"],
      { tool: COMPARE, cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const text = await Deno.readTextFile(log);
    assert.ok(!(text + r.stdout).includes("\x1b"), "no escape sequence");
    assert.deepEqual(headings(text, "999"), [], "no forged section");
    assert.deepEqual(headings(text, "001"), ["## Task 001: Evil ## Task 999: FAKE"]);
  });
});
