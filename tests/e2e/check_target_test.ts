/**
 * What a run says about the target: throughput that does not depend on latency (a server that
 * answers everything 250 ms late has the offered rate as its throughput), and what the workload
 * did to the target's store (memory counts from its system health API, deduplicated stores).
 * Real CLI against the reference server and a fake Engram checkout; every run is a few seconds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunReport } from "../../lib/report/schema.ts";
import { closedPort, fakeCheckout, lightScenario, listing, run } from "../fixtures/reliability.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

/**
 * The run measured what it should: exit 0, or exit 1 only because a loaded host held the
 * generator back (the numbers these tests read do not depend on when requests were sent).
 */
function assertMeasured(r: { code: number; stdout: string; stderr: string }, report: RunReport) {
  if (r.code === 1 && !report.valid) {
    for (const reason of report.invalid_reasons) {
      assert.match(reason, /load generator fell behind/, r.stdout);
    }
  } else assert.equal(r.code, 0, r.stderr + r.stdout);
}

async function onlyRun(out: string): Promise<{ report: RunReport; html: string | null }> {
  const names = listing(out) ?? [];
  const json = names.filter((n) => n.endsWith(".json"));
  assert.equal(json.length, 1, `one report in ${names}`);
  const html = names.find((n) => n.endsWith(".html"));
  return {
    report: JSON.parse(await Deno.readTextFile(join(out, json[0]))),
    html: html ? await Deno.readTextFile(join(out, html)) : null,
  };
}

Deno.test("a reference server answering in 250 ms: throughput is the offered rate; its memory count is every store", async () => {
  await inTempDir("m17_target_ref_", async (dir) => {
    const out = join(dir, "out");
    const r = await run([
      "t250",
      "--reference",
      "--scenario",
      await lightScenario(dir),
      "--ref-latency-ms",
      "250",
      "--rate",
      "200",
      "--duration",
      "5",
      "--warmup",
      "0",
      "--out-dir",
      out,
    ]);
    const { report } = await onlyRun(out);
    assertMeasured(r, report);
    assert.equal(report.total_errors, 0);
    // Counting only the responses that arrived inside the window read 950 / 5 s = 190 (-5%).
    assert.equal(report.overall_throughput, 200);
    assert.deepEqual(report.intervals.map((i) => i.completed), [200, 200, 200, 200, 200]);
    assert.match(r.stdout, /operations: +1000 in 5\.\d s +\(200\.00 ops\/s; target 200/);
    // The reference server keeps every store: no deduplication note.
    const stores = report.per_operation_stats.Store.success_count;
    assert.ok(stores > 300, `${stores} stores`);
    assert.deepEqual(report.target_state, {
      memories_after_preload: 0,
      memories_at_end: stores,
      stores_accepted: stores,
    });
    assert.ok(!report.notes?.some((n) => n.includes("deduplicated")), `${report.notes}`);
    assert.match(
      r.stdout,
      new RegExp(
        `target state: +memories 0 after the preload, ${stores.toLocaleString("en-US")} at the end`,
      ),
    );
  });
});

Deno.test("an Engram that deduplicates stores: the terminal, the report and the HTML page say so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_target_dedup_" });
  const checkout = await fakeCheckout("dedup");
  try {
    const out = join(dir, "out");
    const r = await run([
      "tdedup",
      "--engram-dir",
      checkout,
      "--no-build",
      "--port",
      String(closedPort()),
      "--scenario",
      await lightScenario(dir, 20),
      "--rate",
      "100",
      "--duration",
      "2",
      "--warmup",
      "0",
      "--html",
      "--out-dir",
      out,
    ]);
    const { report, html } = await onlyRun(out);
    assertMeasured(r, report);
    const stores = report.per_operation_stats.Store.success_count;
    assert.deepEqual(report.target_state, {
      memories_after_preload: 3,
      memories_at_end: 3,
      stores_accepted: stores,
    });
    const note = `stores deduplicated away: ${
      stores + 20
    } stores accepted (20 in the preload); Engram holds 3 memories (3 after the preload, +0 since)`;
    assert.ok(report.notes?.some((n) => n.startsWith(note)), `${report.notes}`);
    assert.match(r.stdout, /target state: +memories 3 after the preload, 3 at the end/);
    assert.ok(r.stdout.includes(`note:          ${note}`), r.stdout);
    assert.ok(html?.includes(note), "the HTML page has the note");
    assert.match(html!, /Memories at the end<\/td><td class="num">3</);
    assert.match(report.methods.target_state ?? "", /GET \/api\/v1\/system\/health/);
  } finally {
    await Deno.remove(checkout, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});
