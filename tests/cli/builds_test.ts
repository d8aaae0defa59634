import assert from "node:assert/strict";
import { join } from "node:path";
import { buildUses, listText, megabytes, pruneSelection } from "../../lib/cli/builds.ts";
import { keepBuild } from "../../lib/target/builds.ts";

const ORIGIN = {
  git_commit: "5d54816ab1c2ffff",
  git_dirty: true,
  build_profile: "release" as const,
  checkout: "/src/engram",
};

/** An out dir with builds a (used by two reports), b (none), c (one report, 10 days old). */
async function store() {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "out");
  const kept: Record<string, string> = {};
  for (const [name, bytes] of [["a", 3000], ["b", 5000], ["c", 7000]] as const) {
    const bin = join(dir, name);
    await Deno.writeFile(bin, new Uint8Array(bytes).fill(name.charCodeAt(0)));
    kept[name] = (await keepBuild(out, bin, ORIGIN, new Date(Date.now() - 30 * 86_400_000)))
      .sha256;
  }
  const report = async (name: string, sha: string, ageDays: number) => {
    const path = join(out, name);
    await Deno.writeTextFile(path, JSON.stringify({ target: { details: { binary_sha256: sha } } }));
    const t = new Date(Date.now() - ageDays * 86_400_000);
    await Deno.utime(path, t, t);
  };
  await report("001_before_20261201_000000.json", kept.a, 2);
  await report("001_after_20261201_000100.json", kept.a, 1);
  await report("002_before_20261120_000000.json", kept.c, 10);
  await Deno.writeTextFile(join(out, "notes.json"), "{}"); // not a report of a build
  return { dir, out, kept };
}

Deno.test("buildUses: reports per build, newest use, disk per build", async () => {
  const { dir, out, kept } = await store();
  const uses = await buildUses(out);
  const of = (name: string) => uses.find((u) => u.build.sha256 === kept[name])!;
  assert.deepEqual(of("a").reports, [
    "001_before_20261201_000000.json",
    "001_after_20261201_000100.json",
  ]);
  assert.deepEqual(of("b").reports, []);
  assert.ok(Math.abs(of("a").lastUsedMs - (Date.now() - 86_400_000)) < 60_000);
  assert.ok(Math.abs(of("b").lastUsedMs - (Date.now() - 30 * 86_400_000)) < 60_000);
  // A build's disk: its binary and its build.json.
  const json = (await Deno.stat(join(of("b").build.dir, "build.json"))).size;
  assert.equal(of("b").build.bytes, 5000 + json);
  const text = listText(out, uses);
  const total = uses.reduce((s, u) => s + u.build.bytes, 0);
  assert.ok(total > 15_000);
  assert.match(text, new RegExp(`kept builds in .*builds: 3, ${megabytes(total)}`));
  assert.match(
    text,
    new RegExp(
      `${
        kept.a.slice(0, 12)
      } +0\\.0 MB +release +5d54816ab1c2 dirty .* 2 reports \\(newest 001_after`,
    ),
  );
  assert.match(text, new RegExp(`${kept.b.slice(0, 12)} .* no report$`, "m"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("pruneSelection: unused builds by default, --older-than by last use, --all", async () => {
  const { dir, out, kept } = await store();
  const uses = await buildUses(out);
  const shas = (o: Parameters<typeof pruneSelection>[1]) =>
    pruneSelection(uses, o).map((u) => u.build.sha256).sort();
  const nowMs = Date.now();
  assert.deepEqual(shas({ all: false, nowMs }), [kept.b]);
  assert.deepEqual(shas({ all: false, olderThanDays: 40, nowMs }), []);
  assert.deepEqual(shas({ all: true, nowMs }), [kept.a, kept.b, kept.c].sort());
  // Last used 10 days ago (c) and kept 30 days ago, unused (b); a was used yesterday.
  assert.deepEqual(shas({ all: true, olderThanDays: 5, nowMs }), [kept.b, kept.c].sort());
  await Deno.remove(dir, { recursive: true });
});
