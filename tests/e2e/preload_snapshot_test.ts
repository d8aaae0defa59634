/**
 * Preload snapshots end to end, with the fake Engram checkout (it keeps its memories in
 * ENGRAM_DATA_DIR, reports their count on /api/v1/system/health and stops gracefully on
 * SIGTERM): reuse, key mismatch, a count mismatch after the start, `--no-preload-cache`,
 * pruning, an interrupted preload resumed by the next run (after a resume check that an interrupt
 * leaves the partial snapshot as it was, and whose copy is never in TMPDIR), and builds sharing one
 * snapshot.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { PreloadSnapshotRecord } from "../../lib/report/schema.ts";
import { readReport } from "../../lib/report/read.ts";
import { compareRuns } from "../../lib/verdict/compare.ts";
import { runCli, spawnCli } from "./cli.ts";
import { FAKE_ENGRAM, lightScenario, listing, ROOT } from "../fixtures/reliability.ts";
import { type SnapshotSetup, snapshotSetup } from "../fixtures/snapshot_setup.ts";

const PRELOAD = 300;

type Setup = SnapshotSetup;

function setup(): Promise<Setup> {
  return snapshotSetup("m17_snapshot_e2e_", PRELOAD);
}

function checkArgs(s: Setup, extra: string[] = []): string[] {
  return [
    "t1",
    "--engram-dir",
    s.checkout,
    "--no-build",
    "--port",
    String(s.port),
    "--scenario",
    s.scenario,
    "--rate",
    "100",
    "--duration",
    "2",
    "--warmup",
    "0",
    "--preload-concurrency",
    "4",
    "--out-dir",
    s.out,
    ...extra,
  ];
}

/** One check run; returns its report's `preload`, what it printed and the report's path. */
async function check(
  s: Setup,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{
  preload: { count: number; snapshot?: PreloadSnapshotRecord };
  methods: Record<string, string>;
  stdout: string;
  path: string;
  binarySha256: string;
}> {
  const before = new Set(listing(s.out) ?? []);
  const ran = await runCli("m17_check", checkArgs(s, extra), {
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    timeoutMs: 60_000,
  });
  const report = (listing(s.out) ?? []).find((n) => n.endsWith(".json") && !before.has(n));
  assert.ok(report, `a report was written (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`);
  const r = JSON.parse(await Deno.readTextFile(join(s.out, report)));
  return {
    preload: r.preload,
    methods: r.methods,
    stdout: ran.stdout + ran.stderr,
    path: join(s.out, report),
    binarySha256: r.target.details.binary_sha256,
  };
}

/** Makes the checkout's `engram` another build: other bytes, and only `env` set when it runs. */
async function rebuild(s: Setup, tag: string, env = ""): Promise<void> {
  const bin = join(s.checkout, "target", "release", "engram");
  const text = await Deno.readTextFile(bin);
  const command = /^(FAKE_ENGRAM_MODE=\S+) .*?exec /m;
  assert.match(text, command, "the fake's command line");
  const rebuilt = text.replace(command, `$1 ${env} exec `);
  await Deno.writeTextFile(bin, `${rebuilt}# ${tag}\n`);
}

async function snapshots(s: Setup, ...args: string[]) {
  return await runCli("m17_check", ["snapshots", ...args, "--out-dir", s.out], { cwd: ROOT });
}

/** The memory indexes (`m17 memory <i> …`) the snapshot's fake data holds, in file order. */
async function storedIndexes(s: Setup, key: string): Promise<number[]> {
  const text = await Deno.readTextFile(
    join(s.out, "snapshots", key, "data", "fake_memories.jsonl"),
  );
  return text.split("\n").filter((l) => l !== "").map((l) =>
    Number(JSON.parse(l).content.split(" ")[2])
  );
}

Deno.test("preload snapshot: made once, then restored; a count mismatch preloads afresh; --no-preload-cache skips it", async () => {
  const s = await setup();
  try {
    const first = await check(s);
    const made = first.preload.snapshot!;
    assert.equal(made.action, "made");
    assert.equal(made.memories, PRELOAD, "the count Engram held on the copy");
    assert.equal(first.preload.count, PRELOAD);
    assert.match(first.stdout, /restarting Engram on a fresh copy/);
    assert.match(first.methods.preload_snapshot, /^Engram targets the tool starts/);

    const second = await check(s);
    const restored = second.preload.snapshot!;
    assert.equal(restored.action, "restored");
    assert.equal(restored.key, made.key);
    assert.equal(restored.memories, PRELOAD);
    assert.doesNotMatch(second.stdout, /preload: storing/, "nothing preloaded");

    // The snapshot loses a memory: Engram's count no longer matches what was recorded.
    const wal = join(s.out, "snapshots", made.key, "data", "fake_memories.jsonl");
    const lines = (await Deno.readTextFile(wal)).split("\n");
    await Deno.writeTextFile(wal, lines.slice(1).join("\n"));
    const third = await check(s);
    const remade = third.preload.snapshot!;
    assert.equal(remade.action, "made");
    assert.match(remade.remade_because!, /held 299 memories .* recorded 300/);
    assert.match(third.stdout, /preloading afresh/);
    assert.deepEqual(
      (await storedIndexes(s, made.key)).sort((x, y) => x - y),
      [...Array(PRELOAD).keys()],
      "the remade snapshot holds every memory of the stream once",
    );

    const uncached = await check(s, ["--no-preload-cache"]);
    assert.equal(uncached.preload.snapshot, undefined);
    assert.equal(uncached.methods.preload_snapshot, undefined);
    assert.match(uncached.stdout, /preload: storing 300 memories/);
    assert.doesNotMatch(uncached.stdout, /preload snapshot/);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("preload snapshot: the run waits for Engram to settle on the copy before it measures", async () => {
  const s = await setup();
  try {
    // The fake keeps a core busy for 2.5 s after each start on recovered memories.
    const env = { FAKE_ENGRAM_BUSY_AFTER_RECOVERY_MS: "2500" };
    const made = await check(s, [], env);
    const restored = await check(s, [], env);
    for (const [r, action] of [[made, "made"], [restored, "restored"]] as const) {
      const snap = r.preload.snapshot!;
      assert.equal(snap.action, action);
      const st = snap.settle;
      assert.ok(st, `a settle record (${action}):\n${r.stdout}`);
      assert.equal(st.quiet, true);
      // Busy until ~2.5 s after its start (the count and the probe take part of it), then 3 quiet s.
      assert.ok(st.seconds >= 4, `waited ${st.seconds} s (${action})`);
      assert.ok(st.last_cpu_pct !== null && st.last_cpu_pct < 50);
      assert.match(
        r.stdout,
        /preload snapshot: Engram settled \d+\.\d s after its start on the copy/,
      );
    }
    assert.match(made.methods.preload_snapshot, /settle = the wait/);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("preload snapshot: another count is another key", async () => {
  const s = await setup();
  try {
    const a = (await check(s)).preload.snapshot!;
    const other = await lightScenario(join(s.dir), 200);
    const c = (await check({ ...s, scenario: other })).preload.snapshot!;
    assert.equal(c.action, "made");
    assert.equal(c.memories, 200);
    assert.notEqual(c.key, a.key);
    const listed = await snapshots(s);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /^2 entries in .*, \d+\.\d MB on disk$/m);
    for (const k of [a.key, c.key]) {
      assert.match(listed.stdout, new RegExp(`^${k}  complete`, "m"));
    }
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("preload snapshot: another build restores the snapshot the first wrote; a build that reads it differently preloads its own; compare says when the states differ", async () => {
  const s = await setup();
  try {
    // Build A makes the snapshot.
    const a = await check(s);
    const made = a.preload.snapshot!;
    assert.equal(made.action, "made");
    assert.equal(made.binary_sha256, a.binarySha256);
    assert.equal(made.written_by_another_build, undefined);
    const writer = a.binarySha256.slice(0, 12);

    // Build B (other bytes) has no snapshot of its own: it starts on A's, nothing preloaded.
    await rebuild(s, "build B");
    const b = await check(s, ["after"]);
    assert.notEqual(b.binarySha256, a.binarySha256);
    const shared = b.preload.snapshot!;
    assert.equal(shared.action, "restored");
    assert.equal(shared.key, made.key);
    assert.equal(shared.memories, PRELOAD);
    assert.equal(shared.binary_sha256, a.binarySha256, "the build that wrote it");
    assert.equal(shared.written_by_another_build, true);
    assert.doesNotMatch(b.stdout, /preload: storing/);
    assert.match(
      b.stdout,
      new RegExp(
        `preload snapshot ${made.key}: written by engram ${writer}, this run's build ${
          b.binarySha256.slice(0, 12)
        } .*: Engram starts on a fresh copy`,
      ),
    );
    assert.match(
      b.stdout,
      new RegExp(`^preload: +snapshot ${made.key} restored \\(written by build ${writer}\\)`, "m"),
    );
    const meta = JSON.parse(
      await Deno.readTextFile(join(s.out, "snapshots", made.key, "meta.json")),
    );
    assert.equal(meta.restored_count, PRELOAD, "the writer's count is kept");
    assert.equal(meta.binary_sha256, a.binarySha256);

    // Build C recovers one memory more from a data dir: it does not read A's snapshot the same
    // way, so it preloads afresh under its own key, and its next run restores its own.
    await rebuild(s, "build C", "FAKE_ENGRAM_REPLAY_GAINS=1");
    const c1 = await check(s, ["after"]);
    const own = c1.preload.snapshot!;
    assert.equal(own.action, "made");
    assert.notEqual(own.key, made.key);
    assert.equal(own.binary_sha256, c1.binarySha256);
    assert.equal(own.written_by_another_build, undefined);
    assert.equal(own.memories, PRELOAD + 1);
    assert.match(
      own.remade_because!,
      new RegExp(
        `^this build holds ${
          PRELOAD + 1
        } memories on snapshot ${made.key} written by engram ${writer}, which recorded ${PRELOAD}: it does not read that snapshot the same way`,
      ),
    );
    assert.match(c1.stdout, /preload: storing 300 memories/);
    const c2 = await check(s, ["after"]);
    assert.equal(c2.preload.snapshot!.action, "restored");
    assert.equal(c2.preload.snapshot!.key, own.key);
    assert.equal(c2.preload.snapshot!.written_by_another_build, undefined);
    assert.doesNotMatch(c2.stdout, /preload: storing/);

    // Build D exits at start on A's snapshot (another storage format): it starts again on an
    // empty data dir and preloads its own.
    await rebuild(s, "build D", "FAKE_ENGRAM_FORMAT=2");
    const d1 = await check(s, ["after"]);
    const dOwn = d1.preload.snapshot!;
    assert.equal(dOwn.action, "made");
    assert.ok(dOwn.key !== made.key && dOwn.key !== own.key);
    assert.equal(dOwn.memories, PRELOAD);
    assert.match(
      dOwn.remade_because!,
      new RegExp(
        `^engram did not start on a copy of snapshot ${made.key} written by engram ${writer} \\(engram exited during startup`,
      ),
    );
    assert.match(d1.stdout, /storage format unknown, expected 2/);
    const d2 = await check(s, ["after"]);
    assert.equal(d2.preload.snapshot!.action, "restored");
    assert.equal(d2.preload.snapshot!.key, dOwn.key);

    const listed = (await snapshots(s)).stdout;
    assert.match(
      listed,
      new RegExp(`^${made.key}  complete.*written by engram sha256 ${writer} \\(shared`, "m"),
    );
    assert.match(listed, new RegExp(`^${own.key}  complete, 300 memories, 301 held`, "m"));

    // Compare (what it prints above the table; the runs themselves may be marked invalid on a
    // busy host, which compare's CLI refuses): A and B started on one state, A and C did not.
    const states = async (after: string) => {
      const c = compareRuns({
        task: "t1",
        mode: "internal",
        before: await readReport(a.path),
        after: await readReport(after),
      });
      return c.differences.filter((d) => d.what === "Preloaded state");
    };
    assert.deepEqual(await states(b.path), []);
    assert.deepEqual(await states(c2.path), [{
      what: "Preloaded state",
      before: `snapshot ${made.key} (written by build ${writer})`,
      after: `snapshot ${own.key} (written by build ${c2.binarySha256.slice(0, 12)})`,
    }]);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

/** A TMPDIR that does not exist: a run that copies a data dir into the system temp dir fails. */
function missingTmp(s: Setup): Record<string, string> {
  return { TMPDIR: join(s.dir, "no_tmp") };
}

/**
 * Nothing a run leaves behind: the snapshots dir holds only `keys` (no scratch copy, `.tmp-…`),
 * no data dir is left in the out dir, nothing was made in TMPDIR, no fake Engram runs on the port.
 */
async function assertNothingLeft(s: Setup, keys: string[]): Promise<void> {
  assert.deepEqual(listing(join(s.out, "snapshots")), keys, "the snapshots dir");
  assert.deepEqual((listing(s.out) ?? []).filter((n) => n.endsWith("_data")), [], "data dirs");
  assert.equal(listing(missingTmp(s).TMPDIR), null, "nothing in TMPDIR");
  const ps = await new Deno.Command("ps", { args: ["-axo", "pid=,args="], stdout: "piped" })
    .output();
  const servers = new TextDecoder().decode(ps.stdout).split("\n")
    .filter((l) => l.includes(FAKE_ENGRAM) && l.includes(`--port ${s.port}`));
  assert.deepEqual(servers, [], "fake Engram servers still running");
}

/**
 * A check run (with `env`) interrupted by SIGINT `afterMs` after it printed `marker`: its exit
 * code and what it printed (stdout, then stderr).
 */
async function interruptAfter(
  s: Setup,
  env: Record<string, string>,
  marker: string,
  afterMs: number,
): Promise<{ code: number; stdout: string }> {
  const child = spawnCli("m17_check", checkArgs(s), { cwd: ROOT, env: { NO_COLOR: "1", ...env } });
  let stdout = "", stderr = "";
  const pumps = [
    (async () => {
      for await (const t of child.stdout.pipeThrough(new TextDecoderStream())) stdout += t;
    })(),
    (async () => {
      for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) stderr += t;
    })(),
  ];
  const deadline = performance.now() + 30_000;
  while (!stdout.includes(marker) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, afterMs));
  child.kill("SIGINT");
  const status = await child.status;
  await Promise.all(pumps);
  return { code: status.code, stdout: stdout + stderr };
}

/** The partial snapshot `snapshots list` shows: its key and the memories it holds. */
async function partial(s: Setup): Promise<{ key: string; stored: number }> {
  const listed = await snapshots(s);
  const m = listed.stdout.match(/^(\w+) {2}partial, (\d+) of 300/m);
  assert.ok(m, listed.stdout);
  return { key: m[1], stored: Number(m[2]) };
}

/** A check run interrupted (SIGINT) ~1 s into its preload; the partial snapshot it kept. */
async function interruptedPreload(s: Setup): Promise<{ key: string; stored: number }> {
  // 4 in flight, 40 ms a store: ~100 memories a second, interrupted after ~1 s.
  const ran = await interruptAfter(s, { FAKE_ENGRAM_STORE_MS: "40" }, "preload: storing", 1000);
  assert.equal(ran.code, 130, ran.stdout);
  const { key, stored } = await partial(s);
  assert.ok(stored > 0 && stored < PRELOAD, `${stored} stored`);
  return { key, stored };
}

Deno.test("preload snapshot: an interrupted preload is kept as a partial snapshot and the next run resumes it", async () => {
  const s = await setup();
  try {
    const { key, stored } = await interruptedPreload(s);
    assert.deepEqual(
      (await storedIndexes(s, key)).sort((x, y) => x - y),
      [...Array(stored).keys()],
      "the partial snapshot holds exactly the stream's first memories",
    );

    // The resume check copies the data dir beside the snapshots, never into TMPDIR.
    const resumed = await check(s, [], missingTmp(s));
    const snap = resumed.preload.snapshot!;
    assert.equal(snap.action, "made");
    assert.equal(snap.key, key);
    assert.equal(snap.resumed_from, stored);
    assert.equal(snap.memories, PRELOAD);
    assert.match(
      resumed.stdout,
      new RegExp(
        `resume check: Engram held ${stored + 1} memories after 1 more of the stream, ${
          stored + 1
        } after a restart`,
      ),
    );
    assert.match(resumed.stdout, new RegExp(`preload: resuming at ${stored + 1} of 300`));
    assert.deepEqual(
      (await storedIndexes(s, key)).sort((x, y) => x - y),
      [...Array(PRELOAD).keys()],
      "every memory of the stream once: nothing skipped, nothing sent twice",
    );
    await assertNothingLeft(s, [key]);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("preload snapshot: a build that loses what it stores after a recovery is caught before resuming a partial snapshot: it preloads from the start in one go", async () => {
  const s = await setup();
  try {
    await rebuild(s, "lossy", "FAKE_ENGRAM_LOSE_AFTER_RECOVERY=1");
    const { key, stored } = await interruptedPreload(s);
    const resumed = await check(s, [], missingTmp(s));
    assert.match(
      resumed.stdout,
      new RegExp(
        `resume check: Engram held ${
          stored + 1
        } memories after 1 more of the stream, ${stored} after a restart on a copy`,
      ),
    );
    assert.match(
      resumed.stdout,
      new RegExp(
        `preload snapshot ${key}: this build loses what it stores after starting on recovered data .*; removing the partial snapshot and preloading from the start in one go`,
      ),
    );
    assert.match(resumed.stdout, /preload: storing 300 memories/);
    const snap = resumed.preload.snapshot!;
    assert.equal(snap.action, "made");
    assert.equal(snap.resumed_from, 0);
    assert.equal(snap.memories, PRELOAD);
    assert.match(
      snap.remade_because!,
      /^this build loses what it stores after starting on recovered data/,
    );
    await assertNothingLeft(s, [key]);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

for (
  const [step, env, afterMs] of [
    ["its store", { FAKE_ENGRAM_STORE_MS: "5000" }, 500],
    ["its restart on a copy", { FAKE_ENGRAM_START_MS: "6000" }, 2000],
  ] as const
) {
  Deno.test(`preload snapshot: an interrupt during the resume check (${step}) is an interruption: exit 130, the partial snapshot kept as it was, nothing left behind`, async () => {
    const s = await setup();
    try {
      const { key, stored } = await interruptedPreload(s);
      const before = new Set(listing(s.out) ?? []);
      const ran = await interruptAfter(
        s,
        { ...env, ...missingTmp(s) },
        "resume check: storing",
        afterMs,
      );
      assert.equal(ran.code, 130, ran.stdout);
      const made = (ext: string) =>
        (listing(s.out) ?? []).filter((n) => n.endsWith(ext) && !before.has(n));
      // Reported as an interrupted preload is: a report without a measured window, not a failure.
      const [name] = made(".json");
      assert.ok(name, `a report was written:\n${ran.stdout}`);
      const report = JSON.parse(await Deno.readTextFile(join(s.out, name)));
      assert.equal(report.valid, false);
      assert.ok(
        report.invalid_reasons.some((r: string) =>
          r.startsWith("interrupted by SIGINT during preload")
        ),
        report.invalid_reasons.join("\n"),
      );
      const log = await Deno.readTextFile(join(s.out, made("_loadtest.log")[0]));
      assert.doesNotMatch(log, /could not store|run failed|after a restart on a copy/);
      assert.match(
        log,
        new RegExp(
          `preload snapshot ${key}: the resume check was interrupted: the partial snapshot \\(${stored} of 300\\) is kept as it was`,
        ),
      );
      if (step === "its restart on a copy") {
        const server = await Deno.readTextFile(join(s.out, made("_server.log")[0]));
        assert.equal(
          server.match(/fake engram: starting on port/g)?.length,
          2,
          "the resumed run's start, then its restart on a copy",
        );
      }
      assert.deepEqual(await partial(s), { key, stored }, "the partial snapshot as it was");
      await assertNothingLeft(s, [key]);

      const resumed = await check(s);
      assert.equal(resumed.preload.snapshot!.resumed_from, stored);
      assert.equal(resumed.preload.snapshot!.memories, PRELOAD);
    } finally {
      await Deno.remove(s.dir, { recursive: true });
    }
  });
}

Deno.test("preload snapshot: a copy that holds fewer memories than the live store did is not kept, and the run says why", async () => {
  const s = await setup();
  try {
    await rebuild(s, "replay loses one", "FAKE_ENGRAM_REPLAY_GAINS=-1");
    const ran = await runCli("m17_check", checkArgs(s), {
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      timeoutMs: 60_000,
    });
    const said = ran.stdout + ran.stderr;
    assert.notEqual(ran.code, 0, said);
    assert.match(
      said,
      /preload snapshot \w+: not kept: Engram holds 299 memories on the copy but held 300 before its graceful stop, so the copy does not restore the preload; pass --no-preload-cache/,
    );
    assert.equal(listing(join(s.out, "snapshots"))?.length ?? 0, 0, "nothing kept");
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("m17_check snapshots: list with disk use, prune by key, --partial, --all, leftovers; bad use exits 3", async () => {
  const s = await setup();
  try {
    assert.match((await snapshots(s)).stdout, /^0 entries in .*, 0\.0 MB on disk$/m);
    const a = (await check(s)).preload.snapshot!;
    const root = join(s.out, "snapshots");
    // A partial snapshot and the leftover of a crashed copy, made by hand.
    await Deno.mkdir(join(root, "0123456789abcdef0123", "data"), { recursive: true });
    const meta = JSON.parse(await Deno.readTextFile(join(root, a.key, "meta.json")));
    await Deno.writeTextFile(
      join(root, "0123456789abcdef0123", "meta.json"),
      JSON.stringify({ ...meta, key: "0123456789abcdef0123", complete: false, stored: 10 }),
    );
    await Deno.mkdir(join(root, `.tmp-${a.key}-1`));
    const listed = (await snapshots(s, "list")).stdout;
    assert.match(listed, /^0123456789abcdef0123 {2}partial, 10 of 300/m);
    assert.match(listed, /^\.tmp-\w+-1 {2}not a snapshot/m);
    assert.match(listed, /^3 entries/m);

    for (const bad of [["prune"], ["prune", "--all", a.key], ["list", "--all"], ["drop"]]) {
      assert.equal((await snapshots(s, ...bad)).code, 3, bad.join(" "));
    }
    const unknown = await snapshots(s, "prune", "ffffffffffffffffffff");
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /no snapshot ffffffffffffffffffff/);
    assert.deepEqual(listing(root)?.length, 3, "a refused prune removes nothing");

    const partial = await snapshots(s, "prune", "--partial");
    assert.equal(partial.code, 0);
    assert.deepEqual(listing(root), [a.key], "the partial and the leftover are gone");
    assert.equal((await snapshots(s, "prune", a.key)).code, 0);
    assert.deepEqual(listing(root), []);
    await check(s);
    assert.equal((await snapshots(s, "prune", "--all")).code, 0);
    assert.deepEqual(listing(root), []);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});
