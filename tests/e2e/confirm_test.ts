/**
 * `m17_check <task> confirm` end to end: the reference server (the arms are its recorded knobs)
 * and a fake Engram checkout whose `engram` is the reference server (the arms are kept builds);
 * the refusals (exit 3, one line, nothing written); `m17_check builds`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { closedPort } from "../fixtures/reliability.ts";
import {
  assertGone,
  assertNoLeftovers,
  listing,
  pidIn,
  ROOT,
  run,
  Watched,
} from "../fixtures/reliability.ts";
import { inFreshDir, OVERLOAD, Overloaded } from "../fixtures/overload.ts";

/** Short runs: ~1.5 s each, the smallest measurable window. */
const SHORT = ["--duration", "1", "--warmup", "0.5", "--rate", "200", "--quiet"];

interface ReportJson {
  phase: "before" | "after";
  valid: boolean;
  run: {
    group: string;
    index: number;
    count: number;
    design?: string;
    pair?: number;
    block?: number;
    order?: string;
    order_seed?: string;
  };
  scenario: { path: string; warmup_seconds: number };
  target: { kind: string; url: string; details: Record<string, unknown> };
}

function reports(dir: string): { name: string; report: ReportJson }[] {
  return (listing(dir) ?? []).filter((n) => n.endsWith(".json")).map((name) => ({
    name,
    report: JSON.parse(Deno.readTextFileSync(join(dir, name))),
  }));
}

/**
 * `m17_check t1 <phase>`; `overloadedOk`: a run the host overloaded will do (made valid: these
 * reports only name the arms; the confirm runs must be valid themselves).
 */
async function check(dir: string, phase: string, extra: string[], overloadedOk = false) {
  const r = await run(["t1", phase, ...SHORT, "--out-dir", dir, ...extra]);
  if (r.code === 1 && OVERLOAD.test(r.stderr)) {
    if (!overloadedOk) throw new Overloaded(r.stderr);
    for (const { name, report } of reports(dir).filter((x) => !x.report.valid)) {
      Deno.writeTextFileSync(
        join(dir, name),
        JSON.stringify({ ...report, valid: true, invalid_reasons: [] }),
      );
    }
    return;
  }
  assert.equal(r.code, 0, `check ${phase}: ${r.stdout}\n${r.stderr}`);
}

/** `m17_check t1 confirm …`; an overloaded run is an `Overloaded` error. */
async function confirm(args: string[]) {
  const r = await run(["t1", "confirm", ...args]);
  if (r.code === 1 && OVERLOAD.test(r.stdout)) throw new Overloaded(r.stdout);
  return r;
}

/** The confirm runs of `dir` (the reports with an interleaved design). */
function confirmRuns(dir: string) {
  return reports(dir).filter((r) => r.report.run.design === "interleaved").map((r) => r.report);
}

function assertInterleaved(runs: ReportJson[], seed: string): void {
  assert.ok(runs.length >= 2 && runs.length % 2 === 0, `${runs.length} confirm runs`);
  assert.equal(new Set(runs.map((r) => r.run.group)).size, 1, "one group for the session");
  for (const r of runs) {
    assert.equal(r.valid, true);
    assert.equal(r.run.index, r.run.pair);
    assert.equal(r.run.block, Math.ceil(r.run.pair! / 2));
    assert.equal(r.run.order_seed, seed);
  }
  const pairs = Math.max(...runs.map((r) => r.run.pair!));
  for (let p = 1; p <= pairs; p++) {
    const both = runs.filter((r) => r.run.pair === p);
    assert.deepEqual(both.map((r) => r.phase).sort(), ["after", "before"], `pair ${p}`);
    assert.equal(both[0].run.order, both[1].run.order, `pair ${p}: one order for both arms`);
  }
}

Deno.test("confirm on the reference server: a slower after side is a REGRESSION (exit 1), runs interleaved", async () => {
  await inFreshDir("m17_confirm_ref_", async (dir) => {
    await check(dir, "before", ["--reference"], true);
    await check(dir, "after", ["--reference", "--ref-latency-ms", "50"], true);
    const r = await confirm(["--pairs", "8", "--seed-order", "7", "--out-dir", dir]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /B = after: +reference server \(latencyMs=50\)/);
    assert.match(r.stdout, /pair \d+ of ≤8: P99 \+\d+\.\d%, throughput .*REGRESSION/);
    assert.match(r.stdout, /REGRESSION: P99 latency increased/); // compare's own output
    assertInterleaved(confirmRuns(dir), "7");
    // The confirm runs repeat the reports' knobs; compare reads them as an ordinary group.
    for (const run of confirmRuns(dir)) {
      const knobs = run.target.details.knobs as Record<string, unknown>;
      assert.equal(knobs.latencyMs, run.phase === "after" ? 50 : undefined);
    }
    const compare = await run(["t1", "--dir", dir], { tool: "m17_compare" });
    assert.equal(compare.code, 1, compare.stderr);
    // Again: the session continues (same group, same order seed, the next pair).
    const first = confirmRuns(dir);
    const refused = await confirm(["--seed-order", "8", "--out-dir", dir]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /continues in its own order; --new-session starts another/);
    const again = await confirm(["--pairs", "1", "--out-dir", dir]);
    assert.equal(again.code, 1, `${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout, /continued after pair \d+/);
    const all = confirmRuns(dir);
    assert.equal(all.length, first.length + 2);
    assertInterleaved(all, "7");
  });
});

Deno.test("confirm on the reference server: the same knobs on both sides is no regression", async () => {
  await inFreshDir("m17_confirm_aa_", async (dir) => {
    // A fixed 100 ms answer dominates each P99, so scheduling noise stays below 5%.
    const slow = ["--reference", "--ref-latency-ms", "100"];
    await check(dir, "before", slow, true);
    await check(dir, "after", slow, true);
    const r = await confirm(["--pairs", "2", "--seed-order", "3", "--out-dir", dir]);
    assert.notEqual(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.ok([0, 4].includes(r.code), `exit ${r.code}: ${r.stderr}`);
    assertInterleaved(confirmRuns(dir), "3");
  });
});

/** A fake Engram checkout whose `engram start --port N` is the reference server (+ `extra`). */
async function referenceAsEngram(dir: string, extra: string): Promise<void> {
  const bin = join(dir, "target", "release", "engram");
  await Deno.mkdir(join(dir, "target", "release"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "Cargo.toml"),
    `[workspace]\nresolver = "2"\nmembers = ["engram-core", "engram-cli"]\n`,
  );
  await Deno.writeTextFile(
    bin,
    `#!/bin/sh\nshift\nexec "${Deno.execPath()}" run --config "${join(ROOT, "deno.json")}" ` +
      `--allow-net --allow-env --allow-read --allow-write "${
        join(ROOT, "lib/reference/main.ts")
      }" "$@" ${extra}\n`,
  );
  await Deno.chmod(bin, 0o755);
}

Deno.test("confirm on an Engram checkout runs the two kept builds, whatever the checkout holds now; builds list/prune", async () => {
  await inFreshDir("m17_confirm_engram_", async (dir) => {
    const checkout = join(dir, "engram");
    const out = join(dir, "out");
    await Deno.mkdir(checkout);
    const engram = ["--engram-dir", checkout, "--no-build", "--port", String(closedPort())];
    await referenceAsEngram(checkout, "");
    await check(out, "before", engram, true);
    await referenceAsEngram(checkout, "--latency-ms 50");
    await check(out, "after", engram, true);
    const [before, after] = ["before", "after"].map((p) =>
      reports(out).find((r) => r.report.phase === p)!.report
    );
    const shaBefore = before.target.details.binary_sha256 as string;
    const shaAfter = after.target.details.binary_sha256 as string;
    assert.match(shaBefore, /^[0-9a-f]{64}$/);
    assert.notEqual(shaBefore, shaAfter);
    assert.equal(before.target.details.kept_binary, join(out, "builds", shaBefore, "engram"));
    assert.equal(before.target.details.build_profile, "release");
    // The checkout moves on (another build): confirm still runs the kept bytes.
    await referenceAsEngram(checkout, "--latency-ms 500");
    const r = await confirm(["--pairs", "8", "--out-dir", out, "--port", String(closedPort())]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`A = before: engram build ${shaBefore.slice(0, 12)}`));
    const runs = confirmRuns(out);
    assert.ok(runs.length >= 2);
    for (const run of runs) {
      const sha = run.target.details.binary_sha256;
      assert.equal(sha, run.phase === "before" ? shaBefore : shaAfter);
      assert.equal(run.target.details.checkout, checkout);
    }
    // builds: two, both used; prune keeps what reports use.
    const list = await run(["builds", "--out-dir", out]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /kept builds in .*builds: 2, \d+\.\d MB/);
    assert.match(
      list.stdout,
      new RegExp(`${shaBefore.slice(0, 12)} .* ${runs.length / 2 + 1} reports`),
    );
    const prune = await run(["builds", "prune", "--out-dir", out]);
    assert.match(prune.stdout, /removed 0 builds \(0\.0 MB\); 2 kept/);
    // Without the reports of the after build, prune removes it (--dry-run first: nothing goes).
    for (const { name, report } of reports(out)) {
      if (report.phase === "after") await Deno.remove(join(out, name));
    }
    const dry = await run(["builds", "prune", "--dry-run", "--out-dir", out]);
    assert.match(dry.stdout, new RegExp(`would remove ${shaAfter.slice(0, 12)}`));
    assert.equal((listing(join(out, "builds")) ?? []).length, 2);
    await run(["builds", "prune", "--out-dir", out]);
    assert.deepEqual(listing(join(out, "builds")), [shaBefore]);
  });
});

Deno.test("confirm refuses in one line, exit 3, writing nothing: url target, no/gone/damaged kept build, changed scenario, other settings, invalid report", async () => {
  await inFreshDir("m17_confirm_refuse_", async (dir) => {
    const base = join(dir, "base");
    // Only the reports' fields matter here: a run the host overloaded will do.
    await check(base, "before", ["--reference"], true);
    await check(base, "after", ["--reference"], true);
    const scenarioCopy = join(dir, "scenario.toml");
    await Deno.copyFile(reports(base)[0].report.scenario.path, scenarioCopy);
    type Edit = (r: ReportJson, phase: string, out: string) => void | Promise<void>;
    const cases: [string, Edit, RegExp][] = [
      [
        "url",
        (r) => {
          r.target = { kind: "url", url: "http://127.0.0.1:9", details: {} };
        },
        /the before run t1_before_\w+\.json measured a server m17 did not start \(--url .*\): there is no build to run again; re-run 'deno task check t1 before' from that build/,
      ],
      [
        "no kept build",
        (r) => {
          r.target = { kind: "engram", url: "http://x", details: { checkout: dir } };
        },
        /the before run t1_before_\w+\.json has no kept build \(made before m17 kept builds\); re-run/,
      ],
      ["gone", (r) => {
        r.target = {
          kind: "engram",
          url: "x",
          details: { checkout: dir, binary_sha256: "a".repeat(64) },
        };
      }, /kept build aaaaaaaaaaaa is gone \(pruned\?\)/],
      ["damaged", async (r, _p, out) => {
        const sha = "b".repeat(64);
        await Deno.mkdir(join(out, "builds", sha), { recursive: true });
        await Deno.writeTextFile(join(out, "builds", sha, "engram"), "not those bytes");
        r.target = { kind: "engram", url: "x", details: { checkout: dir, binary_sha256: sha } };
      }, /kept build bbbbbbbbbbbb is damaged/],
      ["scenario", async (r) => {
        r.scenario.path = scenarioCopy;
        await Deno.writeTextFile(scenarioCopy, "# edited\n", { append: true });
      }, /the scenario file .*scenario\.toml changed since the reports/],
      ["settings", (r, p) => {
        if (p === "after") r.scenario.warmup_seconds = 2;
      }, /before and after warmed up differently \(0\.5 s vs 2 s\); refusing to confirm/],
      ["invalid", (r, p) => {
        if (p === "before") Object.assign(r, { valid: false, invalid_reasons: ["made invalid"] });
      }, /is marked invalid/],
    ];
    for (const [what, edit, expected] of cases) {
      const out = join(dir, what);
      await Deno.mkdir(out);
      for (const { name, report } of reports(base)) {
        await edit(report, report.phase, out);
        await Deno.writeTextFile(join(out, name), JSON.stringify(report));
      }
      const before = JSON.stringify(listing(out));
      const r = await confirm(["--out-dir", out]);
      assert.equal(r.code, 3, `${what}: ${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, expected, what);
      assert.equal(r.stderr.trim().split("\n").length, 1, `${what}: one line: ${r.stderr}`);
      assert.equal(r.stdout, "", what);
      assert.equal(JSON.stringify(listing(out)), before, `${what}: nothing written`);
    }
  });
});

Deno.test("confirm under SIGINT: the run in progress stops, its server is gone, the finished runs stay, exit 130", async () => {
  await inFreshDir("m17_confirm_sigint_", async (dir) => {
    await check(dir, "before", ["--reference"], true);
    await check(dir, "after", ["--reference", "--ref-latency-ms", "50"], true);
    const child = new Watched(["t1", "confirm", "--pairs", "4", "--out-dir", dir]);
    const seen = await child.waitFor(/^ {2}pair 1 of ≤4: (before|after) \(|run of pair 1 failed/m);
    if (seen[0].includes("failed")) {
      const r = await child.done();
      if (OVERLOAD.test(r.stdout)) throw new Overloaded(r.stdout);
      assert.fail(r.stdout + r.stderr);
    }
    child.kill("SIGINT");
    const r = await child.done();
    if (OVERLOAD.test(r.stdout)) throw new Overloaded(r.stdout);
    assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /confirm: interrupted; the finished runs stay as reports of group/);
    assert.doesNotMatch(r.stdout, /Performance Comparison/); // no verdict on half a pair
    const runs = confirmRuns(dir);
    assert.ok(runs.filter((x) => x.valid).length === 1, `one finished run: ${runs.length}`);
    assertNoLeftovers(dir);
    // The interrupted run's report (when its target was up) is passed over, named in one
    // warning: compare and confirm go on without it.
    const interrupted = reports(dir).find((x) => !x.report.valid);
    if (interrupted) {
      const left = new RegExp(
        `warning: ${interrupted.report.phase} run .*${interrupted.name} left out: an invalid ` +
          `run of confirm group ${interrupted.report.run.group.slice(0, 8)}, pair 1 ` +
          `\\(interrupted by SIGINT during [^)]*\\), newer than the ${interrupted.report.phase} run used as the newest$`,
        "m",
      );
      const compare = await run(["t1", "--dir", dir], { tool: "m17_compare" });
      assert.notEqual(compare.code, 3, compare.stderr);
      assert.match(compare.stderr, left);
      const again = await confirm(["--pairs", "1", "--out-dir", dir]);
      assert.ok([0, 1, 4].includes(again.code), `${again.stdout}\n${again.stderr}`);
      assert.match(again.stderr, left);
      assert.match(again.stdout, /pair 1 of ≤1: P99/);
    }
    // Every server a confirm run started is gone (each run's log names its pid).
    for (const log of (listing(dir) ?? []).filter((n) => n.endsWith("_loadtest.log"))) {
      const text = Deno.readTextFileSync(join(dir, log));
      if (/target: reference server .* \(pid \d+\)/.test(text)) {
        await assertGone(pidIn(text, /target: reference server .* \(pid (\d+)\)/));
      }
    }
  });
});
