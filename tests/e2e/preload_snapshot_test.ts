/**
 * Preload snapshots end to end, with the fake Engram checkout (it keeps its memories in
 * ENGRAM_DATA_DIR, reports their count on /api/v1/system/health and stops gracefully on
 * SIGTERM): reuse, key mismatch, a count mismatch after the start, `--no-preload-cache`,
 * pruning, and an interrupted preload resumed by the next run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { PreloadSnapshotRecord } from "../../lib/report/schema.ts";
import { runCli, spawnCli } from "./cli.ts";
import { closedPort, fakeCheckout, lightScenario, listing, ROOT } from "../fixtures/reliability.ts";

const PRELOAD = 300;

interface Setup {
  dir: string;
  checkout: string;
  scenario: string;
  out: string;
  port: number;
}

async function setup(): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "m17_snapshot_e2e_" });
  const checkout = join(dir, "checkout");
  await Deno.rename(await fakeCheckout("ok"), checkout);
  return {
    dir,
    checkout,
    scenario: await lightScenario(dir, PRELOAD),
    out: join(dir, "out"),
    port: closedPort(),
  };
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

/** One check run; returns its report's `preload` and what it printed. */
async function check(
  s: Setup,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{
  preload: { count: number; snapshot?: PreloadSnapshotRecord };
  methods: Record<string, string>;
  stdout: string;
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
  return { preload: r.preload, methods: r.methods, stdout: ran.stdout + ran.stderr };
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

Deno.test("preload snapshot: another Engram build or another count is another key", async () => {
  const s = await setup();
  try {
    const a = (await check(s)).preload.snapshot!;
    // Another build: the binary's sha256 changes.
    const bin = join(s.checkout, "target", "release", "engram");
    await Deno.writeTextFile(bin, (await Deno.readTextFile(bin)) + "# rebuilt\n");
    const b = (await check(s)).preload.snapshot!;
    assert.equal(b.action, "made");
    assert.notEqual(b.key, a.key);
    assert.notEqual(b.binary_sha256, a.binary_sha256);
    // Another preload count.
    const other = await lightScenario(join(s.dir), 200);
    const c = (await check({ ...s, scenario: other })).preload.snapshot!;
    assert.equal(c.action, "made");
    assert.equal(c.memories, 200);
    assert.ok(c.key !== a.key && c.key !== b.key);
    const listed = await snapshots(s);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /^3 entries in .*, \d+\.\d MB on disk$/m);
    for (const k of [a.key, b.key, c.key]) {
      assert.match(listed.stdout, new RegExp(`^${k}  complete`, "m"));
    }
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("preload snapshot: an interrupted preload is kept as a partial snapshot and the next run resumes it", async () => {
  const s = await setup();
  try {
    // 4 in flight, 40 ms a store: ~100 memories a second, interrupted after ~1 s.
    const child = spawnCli("m17_check", checkArgs(s), {
      cwd: ROOT,
      env: { NO_COLOR: "1", FAKE_ENGRAM_STORE_MS: "40" },
    });
    const out = child.stdout.pipeThrough(new TextDecoderStream());
    let stdout = "";
    const pump = (async () => {
      for await (const t of out) stdout += t;
    })();
    const deadline = performance.now() + 30_000;
    while (!stdout.includes("preload: storing") && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 1000));
    child.kill("SIGINT");
    const status = await child.status;
    await pump;
    await child.stderr.cancel();
    assert.equal(status.code, 130, stdout);
    const listed = await snapshots(s);
    const m = listed.stdout.match(/^(\w+) {2}partial, (\d+) of 300/m);
    assert.ok(m, listed.stdout);
    const [, key, storedText] = m;
    const stored = Number(storedText);
    assert.ok(stored > 0 && stored < PRELOAD, `${stored} stored`);
    assert.deepEqual(
      (await storedIndexes(s, key)).sort((x, y) => x - y),
      [...Array(stored).keys()],
      "the partial snapshot holds exactly the stream's first memories",
    );

    const resumed = await check(s);
    const snap = resumed.preload.snapshot!;
    assert.equal(snap.action, "made");
    assert.equal(snap.key, key);
    assert.equal(snap.resumed_from, stored);
    assert.equal(snap.memories, PRELOAD);
    assert.match(resumed.stdout, new RegExp(`preload: resuming at ${stored} of 300`));
    assert.deepEqual(
      (await storedIndexes(s, key)).sort((x, y) => x - y),
      [...Array(PRELOAD).keys()],
      "every memory of the stream once: nothing skipped, nothing sent twice",
    );
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
