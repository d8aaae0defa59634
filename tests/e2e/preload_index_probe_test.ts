/**
 * The vector-index probe of preload snapshots end to end, with the fake Engram checkout: it
 * answers recalls by embedding from an index that, with `FAKE_ENGRAM_INDEX=forget_on_restore`,
 * leaves out the memories recovered from the data dir (as Engram 5d54816 does). A restored store
 * that finds fewer preloaded memories than the fresh preload did is a warning, a report note and
 * a compare warning; one that finds as many is none of these.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunReport } from "../../lib/report/schema.ts";
import { runCli } from "./cli.ts";
import { listing, ROOT } from "../fixtures/reliability.ts";
import { type SnapshotSetup, snapshotSetup } from "../fixtures/snapshot_setup.ts";

const PRELOAD = 300;
const FORGETS = { FAKE_ENGRAM_INDEX: "forget_on_restore" };
const LOST = /restored Engram's vector index holds only memories stored after the restore/;

type Setup = SnapshotSetup;

function setup(): Promise<Setup> {
  return snapshotSetup("m17_index_probe_e2e_", PRELOAD);
}

/** One check run of task t1 in `phase`; returns its report and what it printed. */
async function check(
  s: Setup,
  phase: "before" | "after",
  env: Record<string, string> = {},
): Promise<{ report: RunReport; stdout: string; html: string }> {
  const before = new Set(listing(s.out) ?? []);
  const args = ["t1", phase, "--engram-dir", s.checkout, "--no-build", "--port", String(s.port)];
  const ran = await runCli("m17_check", [
    ...args,
    ...["--scenario", s.scenario, "--rate", "100", "--duration", "2", "--warmup", "0"],
    ...["--preload-concurrency", "4", "--out-dir", s.out, "--html"],
  ], { cwd: ROOT, env: { NO_COLOR: "1", ...env }, timeoutMs: 60_000 });
  const name = (listing(s.out) ?? []).find((n) => n.endsWith(".json") && !before.has(n));
  assert.ok(name, `a report was written (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`);
  const report = JSON.parse(await Deno.readTextFile(join(s.out, name)));
  const html = await Deno.readTextFile(join(s.out, name.replace(/\.json$/, ".html")));
  return { report, stdout: ran.stdout + ran.stderr, html };
}

/**
 * Compares task t1's runs in the out dir; runs a loaded host made invalid (the generator fell
 * behind) are marked valid first: compare refuses invalid runs, and the probe is what is tested.
 */
async function compare(s: Setup) {
  for (const name of (listing(s.out) ?? []).filter((n) => n.endsWith(".json"))) {
    const path = join(s.out, name);
    const r = JSON.parse(await Deno.readTextFile(path));
    await Deno.writeTextFile(path, JSON.stringify({ ...r, valid: true, invalid_reasons: [] }));
  }
  return await runCli("m17_compare", ["t1", "--dir", s.out], { cwd: ROOT });
}

/** The meta.json of snapshot `key`. */
async function meta(s: Setup, key: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(join(s.out, "snapshots", key, "meta.json")));
}

Deno.test("index probe: a restored store that forgot its index is a warning, a report note and a compare warning", async () => {
  const s = await setup();
  try {
    const made = await check(s, "before", FORGETS);
    const snap = made.report.preload.snapshot!;
    assert.equal(snap.action, "made");
    assert.deepEqual(snap.index_probe, { probes: 8, found_fresh: 8, found_restored: 0 });
    assert.deepEqual((await meta(s, snap.key)).index_probe, { probes: 8, found: 8 });
    assert.match(made.stdout, /index probe of the live store after the preload: 8 of 8/);
    assert.match(made.stdout, /index probe of the restored copy: 0 of 8/);
    assert.match(
      made.stdout,
      /^restored Engram's vector index .* \(0 of 8 probes found vs 8 of 8 on the fresh preload\)/m,
    );
    assert.ok(
      (made.report.notes ?? []).some((n) => LOST.test(n)),
      (made.report.notes ?? []).join("\n"),
    );
    assert.match(made.html, /restored Engram&#39;s vector index holds only memories stored after/);
    assert.match(
      made.report.methods.index_probe!,
      /8 preloaded memories .* recalled by their own embedding/,
    );
    assert.ok(
      !made.report.invalid_reasons.some((r) => /index/.test(r)),
      "not invalid: before and after on one restored state still compare with each other",
    );

    // A restored run: the fresh figure comes from the snapshot's meta.json.
    const restored = await check(s, "after", FORGETS);
    assert.equal(restored.report.preload.snapshot!.action, "restored");
    assert.deepEqual(restored.report.preload.snapshot!.index_probe, {
      probes: 8,
      found_fresh: 8,
      found_restored: 0,
    });
    assert.ok((restored.report.notes ?? []).some((n) => LOST.test(n)));

    const compared = await compare(s);
    assert.match(
      compared.stderr,
      /warning: the before and after runs: restored Engram's vector index holds only memories stored after the restore \(0 of 8 probes found vs 8 of 8/,
    );

    // A snapshot made before the probe existed: no fresh figure, the restored side still probed.
    const m = await meta(s, snap.key);
    delete m.index_probe;
    await Deno.writeTextFile(join(s.out, "snapshots", snap.key, "meta.json"), JSON.stringify(m));
    const old = await check(s, "after", FORGETS);
    assert.deepEqual(old.report.preload.snapshot!.index_probe, {
      probes: 8,
      found_fresh: null,
      found_restored: 0,
    });
    assert.match(
      old.stdout,
      /0 of 8 probes found; the fresh preload was not probed when the snapshot was made/,
    );
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("index probe: a restored store that keeps its index finds every probe, without a warning", async () => {
  const s = await setup();
  try {
    const made = await check(s, "before");
    assert.deepEqual(made.report.preload.snapshot!.index_probe, {
      probes: 8,
      found_fresh: 8,
      found_restored: 8,
    });
    const restored = await check(s, "after");
    assert.deepEqual(restored.report.preload.snapshot!.index_probe, {
      probes: 8,
      found_fresh: 8,
      found_restored: 8,
    });
    for (const r of [made, restored]) {
      assert.doesNotMatch(r.stdout, LOST);
      assert.doesNotMatch(r.html, /vector index holds only/);
      assert.ok(!(r.report.notes ?? []).some((n) => LOST.test(n)));
      assert.ok(r.report.methods.index_probe, "the probe is defined in methods");
    }
    const compared = await compare(s);
    assert.doesNotMatch(compared.stderr, LOST);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});
