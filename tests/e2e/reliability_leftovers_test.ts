/**
 * Reliability, what a run killed with SIGKILL leaves (a session that ends kills every process and
 * no handler runs): its Engram data dir, TMPDIR and `.claim` stay behind; the next check in the
 * out dir removes them and says so, keeping the killed run's logs; `snapshots list` shows them
 * and `snapshots prune` removes them. Nothing whose owner may be alive is removed: a claim naming
 * a live pid or another host, or naming no owner (the old, empty claim: reported), or no claim.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertGone,
  closedPort,
  fakeCheckout,
  lightScenario,
  listing,
  pidIn,
  run,
  Watched,
} from "../fixtures/reliability.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

/** The check's arguments against the fake Engram checkout `checkout` on a fresh port. */
function engramArgs(checkout: string, out: string, durationS: number): string[] {
  return [
    "t1",
    "--engram-dir",
    checkout,
    "--no-build",
    "--port",
    String(closedPort()),
    "--warmup",
    "0",
    "--duration",
    String(durationS),
    "--rate",
    "200",
    "--out-dir",
    out,
  ];
}

/** A pid no process has: a process that ran and was reaped. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

Deno.test("a check SIGKILLed leaves its data dir, TMPDIR and claim, kept while its Engram runs on; once that is killed too (a session's end) the next check removes them, says so in one line, and keeps the logs", async () => {
  await inTempDir("m17_rel_killed_", async (dir) => {
    const checkout = join(dir, "checkout");
    await Deno.rename(await fakeCheckout("ok"), checkout);
    const out = join(dir, "out");
    const child = new Watched(engramArgs(checkout, out, 600));
    const enginePid = pidIn((await child.waitFor(/target: engram .*\(pid \d+/))[0], /\(pid (\d+)/);
    try {
      await killedLeftovers(child, enginePid, checkout, out);
    } finally {
      try {
        Deno.kill(-enginePid, "SIGKILL"); // never left running by a failed assertion
      } catch { /* gone */ }
    }
  });
});

async function killedLeftovers(
  child: Watched,
  enginePid: number,
  checkout: string,
  out: string,
): Promise<void> {
  await child.waitFor(/measured window started/);
  child.kill("SIGKILL");
  await child.done();
  const names = listing(out)!;
  const stem = names.find((n) => n.endsWith("_data"))?.slice(0, -"_data".length);
  assert.ok(stem, `a data dir is left: ${names}`);

  // The check alone was killed: its Engram (a process group of its own) runs on in the data dir.
  const pruned = await run(["snapshots", "prune", "--killed", "--out-dir", out]);
  assert.match(pruned.stdout, /^0 removed, 0\.0 MB freed$/m);
  assert.match(
    (await run(["snapshots", "list", "--out-dir", out])).stdout,
    new RegExp(
      `^${stem}_data, ${stem}_tmp {2}its run \\(pid ${child.proc.pid}\\) is gone but its Engram \\(pid ${enginePid}\\) still runs: not removed; stop it`,
      "m",
    ),
  );
  Deno.kill(-enginePid, "SIGKILL"); // the session's end kills the server's group too
  await assertGone(enginePid);
  for (const left of [`${stem}_data`, `${stem}_tmp`, `${stem}.claim`]) {
    assert.ok(names.includes(left), `${left} left: ${names}`);
  }
  const claim = JSON.parse(await Deno.readTextFile(join(out, `${stem}.claim`)));
  assert.equal(claim.pid, child.proc.pid, "the claim names the killed check");
  assert.equal(claim.host, Deno.hostname());

  const listed = await run(["snapshots", "list", "--out-dir", out]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(
    listed.stdout,
    new RegExp(
      `^${stem}_data, ${stem}_tmp {2}left by a killed run \\(pid ${child.proc.pid} is gone, no report; its logs are kept\\): prune removes it, \\d+\\.\\d MB$`,
      "m",
    ),
  );
  assert.match(listed.stdout, /^1 run with an Engram directory or a claim in .*; 1 killed \(/m);

  const next = await run(engramArgs(checkout, out, 1));
  assert.ok(next.code <= 1, next.stderr); // 1: a loaded host may make the run invalid
  assert.match(
    next.stdout,
    new RegExp(
      `^out dir: removed the data dir and TMPDIR of a killed run ${stem} \\(pid ${child.proc.pid} is gone, no report; its logs are kept\\): \\d+\\.\\d MB freed$`,
      "m",
    ),
  );
  const after = listing(out)!;
  for (const gone of [`${stem}_data`, `${stem}_tmp`, `${stem}.claim`]) {
    assert.ok(!after.includes(gone), `${gone} removed: ${after}`);
  }
  for (const kept of [`${stem}_loadtest.log`, `${stem}_server.log`]) {
    assert.ok(after.includes(kept), `${kept} kept as evidence: ${after}`);
  }
  assert.ok(!after.some((n) => n.endsWith("_data") || n.endsWith(".claim")), `${after}`);
}

/** Runs made by hand in `out`: a claim (owner JSON, "" for the old empty one, null for none) and a data dir. */
async function leftRun(out: string, stem: string, claim: object | "" | null): Promise<void> {
  await Deno.mkdir(join(out, `${stem}_tmp`), { recursive: true });
  await Deno.mkdir(join(out, `${stem}_data`), { recursive: true });
  await Deno.writeTextFile(join(out, `${stem}_data`, "wal.log"), "m".repeat(200_000));
  await Deno.writeTextFile(join(out, `${stem}_loadtest.log`), "killed\n");
  if (claim !== null) {
    await Deno.writeTextFile(
      join(out, `${stem}.claim`),
      claim === "" ? "" : JSON.stringify(claim) + "\n",
    );
  }
}

/**
 * One out dir with a dead run, a live one, one on another host, an old claim, no claim, and a dead
 * run that kept its data dir (`--keep-data`).
 */
async function mixedOutDir(out: string): Promise<Record<string, string>> {
  const host = Deno.hostname();
  const started_at = new Date().toISOString();
  const runs = {
    dead: "t1_before_20250101_000001",
    live: "t1_before_20250101_000002",
    elsewhere: "t1_before_20250101_000003",
    old: "t1_before_20250101_000004",
    unclaimed: "t1_before_20250101_000005",
    deadKept: "t1_before_20250101_000006",
  };
  await leftRun(out, runs.dead, { pid: await deadPid(), host, started_at });
  await leftRun(out, runs.live, { pid: Deno.pid, host, started_at });
  await leftRun(out, runs.elsewhere, { pid: await deadPid(), host: `not-${host}`, started_at });
  await leftRun(out, runs.old, "");
  await leftRun(out, runs.unclaimed, null);
  await leftRun(out, runs.deadKept, { pid: await deadPid(), host, started_at, keeps_data: true });
  return runs;
}

/** Everything of `stem` but the dead run's data dir and claim is still in `out`. */
function assertKept(out: string, runs: Record<string, string>): void {
  const names = listing(out)!;
  assert.ok(!names.includes(`${runs.dead}_data`), `the dead run's data dir is removed: ${names}`);
  assert.ok(!names.includes(`${runs.dead}.claim`), `and its claim: ${names}`);
  assert.ok(names.includes(`${runs.dead}_loadtest.log`), `its log is kept: ${names}`);
  for (const kept of [runs.live, runs.elsewhere, runs.old, runs.unclaimed, runs.deadKept]) {
    assert.ok(names.includes(`${kept}_data`), `${kept}_data kept: ${names}`);
  }
  for (const gone of [`${runs.deadKept}_tmp`, `${runs.deadKept}.claim`]) {
    assert.ok(!names.includes(gone), `${gone}: a killed --keep-data run keeps only its data`);
  }
  for (const kept of [runs.live, runs.elsewhere, runs.old]) {
    assert.ok(names.includes(`${kept}.claim`), `${kept}.claim kept: ${names}`);
  }
}

Deno.test("a check removes only a dead owner's data dir: a live pid's, another host's, an unclaimed and a --keep-data one stay; an old empty claim's stays and is reported", async () => {
  await inTempDir("m17_rel_leftovers_mixed_", async (dir) => {
    const out = join(dir, "out");
    const runs = await mixedOutDir(out);
    const scenario = await lightScenario(dir);
    const r = await run([
      "t1",
      "--reference",
      "--scenario",
      scenario,
      "--rate",
      "200",
      "--warmup",
      "0",
      "--duration",
      "1",
      "--out-dir",
      out,
    ]);
    assert.ok(r.code <= 1, r.stderr); // 1: a loaded host may make the run invalid
    assert.match(
      r.stdout,
      new RegExp(
        `^out dir: removed the data dir and TMPDIR of a killed run ${runs.dead} \\(pid \\d+ is gone, no report; its logs are kept\\): 0\\.2 MB freed$`,
        "m",
      ),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `^out dir: removed the TMPDIR of a killed run ${runs.deadKept} \\(pid \\d+ is gone, no report; its logs are kept, and its data dir \\(--keep-data\\)\\): 0\\.0 MB freed$`,
        "m",
      ),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `^out dir: .*${runs.old}_data, .*${runs.old}_tmp \\(0\\.2 MB\\): its claim names no owner .* not removed; if no run uses it, remove it and .*${runs.old}\\.claim$`,
        "m",
      ),
    );
    assert.equal(r.stdout.match(/^out dir: /gm)?.length, 3, r.stdout);
    assertKept(out, runs);
  });
});

Deno.test("snapshots list shows every run's Engram directory, whose it is and its size; snapshots prune --killed removes only the dead owner's", async () => {
  await inTempDir("m17_rel_leftovers_prune_", async (dir) => {
    const out = join(dir, "out");
    const runs = await mixedOutDir(out);
    const listed = await run(["snapshots", "list", "--out-dir", out]);
    assert.equal(listed.code, 0, listed.stderr);
    const line = (stem: string, words: string) =>
      assert.match(
        listed.stdout,
        new RegExp(`^${stem}_data, ${stem}_tmp {2}${words}, 0\\.2 MB$`, "m"),
      );
    line(
      runs.dead,
      "left by a killed run \\(pid \\d+ is gone, no report; its logs are kept\\): prune removes it",
    );
    line(runs.live, `in use by the run of pid ${Deno.pid}`);
    line(runs.elsewhere, `claimed by pid \\d+ on host not-${Deno.hostname()}`);
    line(runs.old, "its claim names no owner .*");
    line(runs.unclaimed, "no claim \\(kept with --keep-data, or an older m17_check\\)");
    line(
      runs.deadKept,
      "left by a killed run \\(pid \\d+ is gone, no report; its logs are kept, and its data dir \\(--keep-data\\)\\): prune removes its TMPDIR and claim",
    );
    assert.match(
      listed.stdout,
      /^6 runs with an Engram directory or a claim in .*, 1\.2 MB on disk; 1 killed \(0\.2 MB; prune removes them\)$/m,
    );

    assert.equal((await run(["snapshots", "list", "--killed", "--out-dir", out])).code, 3);
    assert.equal(
      (await run(["snapshots", "prune", "--killed", "--all", "--out-dir", out])).code,
      3,
    );
    const pruned = await run(["snapshots", "prune", "--killed", "--out-dir", out]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(
      pruned.stdout,
      new RegExp(
        `^removed the data dir and TMPDIR of the killed run ${runs.dead} \\(0\\.2 MB\\)\\nremoved the TMPDIR of the killed run ${runs.deadKept} \\(0\\.0 MB\\)\\n2 removed, 0\\.2 MB freed$`,
        "m",
      ),
    );
    assertKept(out, runs);
    assert.equal(await exists(join(out, `${runs.live}_data`, "wal.log")), true);
  });
});
