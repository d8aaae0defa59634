import assert from "node:assert/strict";
import { join } from "node:path";
import {
  copyTree,
  listSnapshots,
  newSnapshotMeta,
  readSnapshot,
  saveSnapshot,
  scratchDir,
  sharedSnapshot,
  snapshotKey,
  type SnapshotMeta,
  treeBytes,
} from "../../lib/target/snapshot.ts";
import { PLATFORM } from "../../lib/shared/platform.ts";
import { preloadStreamFingerprint } from "../../lib/workload/ops.ts";
import { parseScenario } from "../../lib/workload/scenario.ts";

Deno.test("snapshotKey() changes with the preload stream, the count and the binary", () => {
  const k = snapshotKey("aa", 100, "bb");
  assert.match(k, /^[0-9a-f]{20}$/);
  assert.equal(snapshotKey("aa", 100, "bb"), k);
  for (
    const other of [
      snapshotKey("ab", 100, "bb"),
      snapshotKey("aa", 101, "bb"),
      snapshotKey("aa", 100, "bc"),
    ]
  ) {
    assert.notEqual(other, k);
  }
});

Deno.test("preloadStreamFingerprint() follows what shapes the memories, not the rate or the mix", () => {
  const base =
    "[arrival]\nrate = 10\n[operations]\nstore_weight = 1\n[data]\nembedding_dim = 4\npreload = 10\n";
  const fp = (text: string) => preloadStreamFingerprint(parseScenario(text, "x"));
  const f = fp(base);
  assert.equal(fp(base.replace("rate = 10", "rate = 500")), f);
  assert.equal(
    fp(base.replace("preload = 10", "preload = 20")),
    f,
    "the count is a separate part of the key",
  );
  assert.notEqual(fp(base.replace("embedding_dim = 4", "embedding_dim = 8")), f);
  assert.notEqual(fp(`seed = 7\n${base}`), f);
});

Deno.test("saveSnapshot() replaces a snapshot whole; a damaged meta.json is not a snapshot", async () => {
  const out = await Deno.makeTempDir();
  const data = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(data, "wal"));
    await Deno.writeTextFile(join(data, "wal", "seg1"), "one\n");
    const key = snapshotKey("f", 2, "b");
    const meta = newSnapshotMeta({ key, preloadFingerprint: "f", count: 2, binarySha256: "b" });
    await saveSnapshot(out, data, { ...meta, stored: 1 });
    await Deno.writeTextFile(join(data, "wal", "seg2"), "two\n");
    const s = await saveSnapshot(out, data, { ...meta, stored: 2, complete: true });
    assert.equal(await Deno.readTextFile(join(s.dataDir, "wal", "seg2")), "two\n");
    assert.equal((await readSnapshot(out, key))?.meta.stored, 2);
    const entries = await listSnapshots(out);
    assert.deepEqual(entries.map((e) => e.name), [key], "no temporary or old copy left");
    assert.ok(entries[0].bytes >= 8);
    await Deno.writeTextFile(join(s.dir, "meta.json"), '{"format": 1, "key": "');
    assert.equal(await readSnapshot(out, key), null);
    assert.equal((await listSnapshots(out))[0].meta, null);
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("copyTree() keeps a preallocated, mostly empty file sparse (Engram's warm_tier.dat)", async () => {
  const from = await Deno.makeTempDir();
  const to = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(from, "default"));
    const big = join(from, "default", "warm_tier.dat");
    // 64 MB written as data (not a hole): a plain copy allocates all of it.
    const f = await Deno.open(big, { write: true, create: true });
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 64; i++) await f.write(chunk);
    await f.write(new TextEncoder().encode("tail"));
    f.close();
    await copyTree(from, to);
    const copy = join(to, "default", "warm_tier.dat");
    assert.equal((await Deno.stat(copy)).size, 64 * (1 << 20) + 4);
    const bytes = await Deno.readFile(copy);
    assert.equal(new TextDecoder().decode(bytes.subarray(bytes.length - 4)), "tail");
    if (PLATFORM.linux) {
      assert.ok((await treeBytes(to)) < 1 << 20, `${await treeBytes(to)} bytes on disk`);
      assert.ok((await treeBytes(from)) >= 64 * (1 << 20));
    }
  } finally {
    await Deno.remove(from, { recursive: true });
    await Deno.remove(to, { recursive: true });
  }
});

Deno.test("sharedSnapshot() picks another build's complete, restored snapshot of the same preload made first", async () => {
  const out = await Deno.makeTempDir();
  const data = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(data, "wal.log"), "m1\n");
    const save = (binary: string, patch: Partial<SnapshotMeta>, fingerprint = "f", count = 2) => {
      const key = snapshotKey(fingerprint, count, binary);
      const meta = newSnapshotMeta({
        key,
        preloadFingerprint: fingerprint,
        count,
        binarySha256: binary,
      });
      return saveSnapshot(out, data, {
        ...meta,
        stored: count,
        complete: true,
        restored_count: 2,
        created_at: "2026-12-07T09:00:00.000Z",
        ...patch,
      });
    };
    assert.equal(await sharedSnapshot(out, "f", 2, "mine"), null, "no snapshots dir yet");
    // Not usable: partial, never restored, another stream, another count.
    await save("p", { complete: false, stored: 1, created_at: "2026-12-01T00:00:00.000Z" });
    await save("n", { restored_count: null, created_at: "2026-12-01T00:00:00.000Z" });
    await save("g", { created_at: "2026-12-01T00:00:00.000Z" }, "other");
    await save("c", { created_at: "2026-12-01T00:00:00.000Z" }, "f", 3);
    assert.equal(await sharedSnapshot(out, "f", 2, "mine"), null);
    // Usable: the oldest wins, ties by key; the build's own is never "another build's".
    const late = await save("late", { created_at: "2026-12-07T10:00:00.000Z" });
    const tieA = await save("tie-a", {});
    const tieB = await save("tie-b", {});
    const first = tieA.key < tieB.key ? tieA : tieB;
    assert.equal((await sharedSnapshot(out, "f", 2, "mine"))?.key, first.key);
    const firstBinary = first.meta.binary_sha256;
    const other = first === tieA ? tieB : tieA;
    assert.equal((await sharedSnapshot(out, "f", 2, firstBinary))?.key, other.key);
    await Deno.mkdir(join(out, "snapshots", ".tmp-x-1"));
    assert.equal((await sharedSnapshot(out, "f", 2, "late"))?.key, first.key);
    assert.notEqual(late.key, first.key);
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("scratchDir() is a fresh directory beside the snapshots, a leftover to list and prune when a crash leaves it", async () => {
  const out = await Deno.makeTempDir();
  try {
    const dir = await scratchDir(out, "resume-check");
    assert.equal(dir, join(out, "snapshots", `.tmp-resume-check-${Deno.pid}`));
    await Deno.writeTextFile(join(dir, "stale"), "x");
    assert.equal(await scratchDir(out, "resume-check"), dir);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "fresh: what was there is gone");
    const [listed] = await listSnapshots(out);
    assert.equal(listed.name, `.tmp-resume-check-${Deno.pid}`);
    assert.equal(listed.meta, null, "not a snapshot: `snapshots prune` removes it");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("readSnapshot(): the index probe's fresh figure is optional (older snapshots), and checked when present", async () => {
  const out = await Deno.makeTempDir();
  const data = await Deno.makeTempDir();
  try {
    const key = snapshotKey("f", 2, "b");
    const meta = newSnapshotMeta({ key, preloadFingerprint: "f", count: 2, binarySha256: "b" });
    const s = await saveSnapshot(out, data, { ...meta, stored: 2, complete: true });
    assert.equal((await readSnapshot(out, key))?.meta.index_probe, undefined);
    const write = (probe: unknown) =>
      Deno.writeTextFile(
        join(s.dir, "meta.json"),
        JSON.stringify({ ...s.meta, index_probe: probe }),
      );
    await write({ probes: 8, found: 3 });
    assert.deepEqual((await readSnapshot(out, key))?.meta.index_probe, { probes: 8, found: 3 });
    for (const bad of [{ probes: 8, found: 9 }, { probes: 8 }, { probes: 8, found: -1 }, 8, null]) {
      await write(bad);
      assert.equal(await readSnapshot(out, key), null, JSON.stringify(bad));
    }
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});
