/**
 * Reliability, files: run names never collide (same second, concurrent claims, concurrent CLIs,
 * leftovers of an interrupted run), compare never modifies a report, and a killed `--log` update
 * or atomic write leaves either the old or the new complete file, never a mix.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  claimRunFiles,
  releaseClaim,
  releaseOpenClaimsSync,
  timestamp,
} from "../../lib/report/files.ts";
import { makeReport, shapedSamples, writeReport } from "../fixtures/make_report.ts";
import { COMPARE, lightScenario, listing, ROOT, run, Watched } from "../fixtures/reliability.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("claimRunFiles(): twenty claims in the same second get twenty distinct stems; leftovers are skipped", async () => {
  await inTempDir("m17_rel_claim_", async (dir) => {
    const now = new Date(2025, 0, 2, 3, 4, 5);
    const base = join(dir, "t_before_20250102_030405");
    // An interrupted run left its log (and no report): its stem is not reused.
    await Deno.writeTextFile(`${base}_loadtest.log`, "interrupted\n");
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => claimRunFiles(dir, "t", "before", "internal", now)),
    );
    const stems = claims.map((c) => c.stem);
    assert.equal(new Set(stems).size, 20);
    assert.ok(!stems.includes(base), "the interrupted run's stem stays taken");
    assert.deepEqual(
      [...stems].sort((a, b) => a.length - b.length || a.localeCompare(b)),
      Array.from({ length: 20 }, (_, i) => `${base}_${i + 2}`)
        .sort((a, b) => a.length - b.length || a.localeCompare(b)),
    );
    await releaseClaim(claims[0]);
    assert.equal(listing(dir)!.filter((n) => n.endsWith(".claim")).length, 19);
    releaseOpenClaimsSync(); // what the second-signal exit does
    assert.deepEqual(listing(dir), ["t_before_20250102_030405_loadtest.log"]);
  });
});

Deno.test("two checks started in the same second with their names taken: distinct complete reports, nothing overwritten", async () => {
  await inTempDir("m17_rel_same_second_", async (dir) => {
    const scenario = await lightScenario(dir);
    const out = join(dir, "out");
    await Deno.mkdir(out);
    // Occupy the plain names of the next seconds, so both runs must take suffixed names.
    const taken = new Map<string, string>();
    const t0 = Date.now();
    for (let s = 0; s < 8; s++) {
      const name = `same_before_${timestamp(new Date(t0 + s * 1000))}.json`;
      const content = `{"placeholder": ${s}}\n`;
      await Deno.writeTextFile(join(out, name), content);
      taken.set(name, content);
    }
    const args = [
      "same",
      "before",
      "--scenario",
      scenario,
      "--duration",
      "1",
      "--warmup",
      "0",
      "--rate",
      "200", // the smallest measurable run (200 requests)
      "--out-dir",
      out,
    ];
    const [a, b] = await Promise.all([run(args), run(args)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    for (const [name, content] of taken) {
      assert.equal(await Deno.readTextFile(join(out, name)), content, `${name} untouched`);
    }
    const fresh = listing(out)!.filter((n) => n.endsWith(".json") && !taken.has(n));
    assert.equal(fresh.length, 2, `${listing(out)}`);
    for (const n of fresh) {
      assert.match(n, /^same_before_\d{8}_\d{6}_\d+\.json$/);
      const r = JSON.parse(await Deno.readTextFile(join(out, n)));
      assert.equal(r.total_operations, 200);
      assert.ok(r.files.report.endsWith(n), "the report names itself");
    }
    assert.ok(!listing(out)!.some((n) => n.endsWith(".claim") || n.endsWith(".tmp")));
  });
});

/** Bytes and mtime of every file in `dir`. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const name of listing(dir) ?? []) {
    const path = join(dir, name);
    const info = await Deno.stat(path);
    if (!info.isFile) continue;
    m.set(name, `${info.mtime?.getTime()} ${info.size} ${await Deno.readTextFile(path)}`);
  }
  return m;
}

Deno.test("compare never modifies a report: bytes and mtimes are the same after every kind of compare", async () => {
  await inTempDir("m17_rel_readonly_", async (dir) => {
    const results = join(dir, "results");
    await Deno.mkdir(results);
    const samples = { Store: shapedSamples({ p50: 0.4, p95: 0.5, p99: 0.6, p999: 0.9 }) };
    await writeReport(
      results,
      "001_before_20250101_120000.json",
      makeReport({ samplesMs: samples, throughput: 999 }),
    );
    await writeReport(
      results,
      "001_after_20250101_130000.json",
      makeReport({ phase: "after", samplesMs: samples, throughput: 999 }),
    );
    await writeReport(
      results,
      "002_before_20250101_120000.json",
      makeReport({
        task: "002",
        samplesMs: samples,
        valid: false,
        invalidReasons: ["interrupted"],
      }),
    );
    await writeReport(
      results,
      "002_after_20250101_130000.json",
      makeReport({ task: "002", phase: "after", samplesMs: samples }),
    );
    await sleep(20); // an mtime change would show
    const before = await snapshot(results);
    const runs: [string[], number][] = [
      [["001", "--dir", results], 0],
      [["001", "--dir", results, "--json"], 0],
      [["001", "--dir", results, "--markdown", "--significance"], 0],
      [["001", "--dir", results, "--log", join(dir, "LOG.md")], 0],
      [["001", "--dir", results, "--html", join(dir, "c.html")], 0],
      [["001", "--dir", results, "--export", "bmf", join(dir, "bmf.json")], 0],
      [["001", "--dir", results, "--calibrate"], 3],
      [["002", "--dir", results], 3],
    ];
    for (const [args, code] of runs) {
      const r = await run(args, { tool: COMPARE, cwd: dir });
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    }
    assert.deepEqual(await snapshot(results), before);
  });
});

Deno.test("compare --log killed at any moment leaves the old or the new complete log", async () => {
  await inTempDir("m17_rel_killlog_", async (dir) => {
    const results = join(dir, "results");
    await Deno.mkdir(results);
    const samples = { Store: shapedSamples({ p50: 0.4, p95: 0.5, p99: 0.6, p999: 0.9 }) };
    await writeReport(
      results,
      "001_before_20250101_120000.json",
      makeReport({ samplesMs: samples, throughput: 999 }),
    );
    await writeReport(
      results,
      "001_after_20250101_130000.json",
      makeReport({ phase: "after", samplesMs: samples, throughput: 999 }),
    );
    // A large log (8 MB of other sections) makes the write itself take a while.
    const filler = Array.from({ length: 80_000 }, (_, i) => `- note ${i}: ${"x".repeat(90)}`);
    const OLD = `# Milestone 17 Performance Log\n\n---\n\n## Task 000: Earlier\n\n${
      filler.join("\n")
    }\n`;
    const log = join(dir, "PERFORMANCE_LOG.md");
    await Deno.writeTextFile(log, OLD);
    const full = await run(["001", "--dir", results, "--log", log], { tool: COMPARE, cwd: dir });
    assert.equal(full.code, 0, full.stderr);
    const NEW = await Deno.readTextFile(log);
    assert.notEqual(NEW, OLD);
    const ITERATIONS = 12;
    let sawOld = 0, sawNew = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      await Deno.writeTextFile(log, OLD);
      const child = new Watched(["001", "--dir", results, "--log", log], {
        tool: COMPARE,
        cwd: dir,
      });
      // Kill moments spread from the start to well past a whole run, the write included.
      await sleep((i / ITERATIONS) * full.ms * 2);
      try {
        child.kill("SIGKILL");
      } catch { /* it had finished */ }
      await child.done();
      const now = await Deno.readTextFile(log);
      assert.ok(now === OLD || now === NEW, `iteration ${i}: the log is neither old nor new`);
      if (now === OLD) sawOld++;
      else sawNew++;
    }
    assert.ok(sawOld > 0, "some kills came before the write");
    assert.ok(sawNew > 0, "some runs finished before the kill");
    console.log(`killed compare --log: ${sawOld} × old log, ${sawNew} × new log`);
  });
});

Deno.test("writeFileAtomic() killed mid-write (SIGKILL) always leaves one complete version", async () => {
  await inTempDir("m17_rel_atomic_", async (dir) => {
    const path = join(dir, "target.txt");
    const A = "a".repeat(3_000_000) + "\nA\n", B = "b".repeat(4_000_000) + "\nB\n";
    await Deno.writeTextFile(path, A);
    // The child rewrites the file alternately with A and B as fast as it can, until killed.
    const atomic = new URL("../../lib/shared/atomic.ts", import.meta.url).href;
    const code = `import { writeFileAtomic } from "${atomic}";
      const v = ["a".repeat(3_000_000) + "\\nA\\n", "b".repeat(4_000_000) + "\\nB\\n"];
      console.log("writing");
      for (let i = 0; i < 10_000; i++) await writeFileAtomic(${JSON.stringify(path)}, v[i % 2]);`;
    const versions = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-config", code],
        cwd: ROOT,
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = child.stdout.getReader();
      await reader.read(); // "writing"
      await sleep(20 + i * 17);
      child.kill("SIGKILL");
      await child.status;
      reader.releaseLock();
      await child.stdout.cancel();
      const now = await Deno.readTextFile(path);
      assert.ok(now === A || now === B, `kill ${i}: ${now.length} bytes, neither version`);
      versions.add(now === A ? "A" : "B");
    }
    // Temporary files of killed writers may remain (hidden, never under the final name).
    const others = listing(dir)!.filter((n) => n !== "target.txt");
    assert.ok(others.every((n) => /^\.target\.txt\.\d+\.[0-9a-f]{8}\.tmp$/.test(n)), `${others}`);
    console.log(`versions seen: ${[...versions]}; temporary files left by kills: ${others.length}`);
  });
});
