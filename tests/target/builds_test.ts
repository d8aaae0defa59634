import assert from "node:assert/strict";
import { join } from "node:path";
import {
  keepBuild,
  keptBinaryPath,
  listStoredBuilds,
  removeStoredBuild,
  sha256OfFile,
  verifyKeptBuild,
} from "../../lib/target/builds.ts";
import { keepCheckoutBinary, keptBinary } from "../../lib/target/engram_binary.ts";

const ORIGIN = {
  git_commit: "abc123",
  git_dirty: false,
  build_profile: "release" as const,
  checkout: "/src/engram",
};

async function binary(dir: string, body: string): Promise<string> {
  const path = join(dir, `bin_${crypto.randomUUID().slice(0, 6)}`);
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  return path;
}

Deno.test("keepBuild: content-addressed, executable, recorded, deduplicated by hash", async () => {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "out");
  const a = await binary(dir, "echo a");
  const first = await keepBuild(out, a, ORIGIN, new Date("2026-01-01T00:00:00Z"));
  assert.equal(first.sha256, await sha256OfFile(a));
  assert.equal(first.path, keptBinaryPath(out, first.sha256));
  assert.equal(first.reused, false);
  assert.equal(await Deno.readTextFile(first.path), await Deno.readTextFile(a));
  assert.equal((await Deno.stat(first.path)).mode! & 0o111, 0o111);
  assert.deepEqual(first.record, {
    sha256: first.sha256,
    size: (await Deno.stat(a)).size,
    ...ORIGIN,
    source: a,
    first_kept_at: "2026-01-01T00:00:00.000Z",
  });
  // The same bytes from another file: the copy is reused, first_kept_at kept.
  const same = await binary(dir, "echo a");
  const again = await keepBuild(out, same, { ...ORIGIN, git_commit: "def" }, new Date());
  assert.equal(again.reused, true);
  assert.equal(again.record.first_kept_at, "2026-01-01T00:00:00.000Z");
  // Other bytes: a second build; no temp files left anywhere.
  const b = await keepBuild(out, await binary(dir, "echo b"), ORIGIN);
  assert.notEqual(b.sha256, first.sha256);
  const builds = await listStoredBuilds(out);
  assert.deepEqual(builds.map((x) => x.sha256), [first.sha256, b.sha256]);
  for (const x of builds) {
    assert.deepEqual([...Deno.readDirSync(x.dir)].map((e) => e.name).sort(), [
      "build.json",
      "engram",
    ]);
    assert.equal(x.bytes, x.record!.size + (await Deno.stat(join(x.dir, "build.json"))).size);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("verifyKeptBuild: missing, damaged and intact builds", async () => {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "out");
  const kept = await keepBuild(out, await binary(dir, "echo x"), ORIGIN);
  assert.equal((await verifyKeptBuild(out, kept.sha256)).kind, "ok");
  assert.equal((await verifyKeptBuild(out, "0".repeat(64))).kind, "missing");
  assert.equal((await verifyKeptBuild(out, "../../etc")).kind, "missing");
  await Deno.writeTextFile(kept.path, "#!/bin/sh\necho tampered\n");
  const damaged = await verifyKeptBuild(out, kept.sha256);
  assert.equal(damaged.kind, "mismatch");
  await assert.rejects(keptBinary(out, kept.sha256), {
    name: "RunError",
    message: /damaged: its sha256 is/,
  });
  await assert.rejects(keptBinary(out, "1".repeat(64)), { name: "RunError", message: /is gone/ });
  // Keeping the original bytes again repairs the copy.
  const repaired = await keepBuild(out, await binary(dir, "echo x"), ORIGIN);
  assert.equal(repaired.reused, false);
  assert.equal((await verifyKeptBuild(out, kept.sha256)).kind, "ok");
  const ok = await keptBinary(out, kept.sha256);
  assert.deepEqual(ok.origin, ORIGIN);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("removeStoredBuild leaves no trace; listing an absent store is empty", async () => {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "out");
  assert.deepEqual(await listStoredBuilds(out), []);
  await keepBuild(out, await binary(dir, "echo y"), ORIGIN);
  const [build] = await listStoredBuilds(out);
  await removeStoredBuild(build);
  assert.deepEqual(await listStoredBuilds(out), []);
  assert.deepEqual([...Deno.readDirSync(join(out, "builds"))], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("keepCheckoutBinary keeps target/release/engram and runs the kept copy", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "target", "release"), { recursive: true });
  await Deno.writeTextFile(join(dir, "target", "release", "engram"), "#!/bin/sh\n");
  const lines: string[] = [];
  const b = await keepCheckoutBinary(dir, join(dir, "out"), false, (l) => lines.push(l));
  assert.equal(b.path, keptBinaryPath(join(dir, "out"), b.sha256));
  assert.equal(b.kept, b.path);
  assert.equal(b.origin.build_profile, "release");
  assert.equal(b.origin.checkout, dir);
  assert.match(lines[0], /kept as .*builds/);
  await assert.rejects(
    keepCheckoutBinary(dir, join(dir, "out"), true, () => {}),
    { name: "RunError", message: /m17-profile.*not found/ },
  );
  await Deno.remove(dir, { recursive: true });
});
