/**
 * The whole workflow end to end: check before, check after, compare — against the reference
 * server with injected latency. Bounded: a few seconds of load per run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, type ToolName } from "./cli.ts";

/** Runs a CLI from source in the tool root; `out` is stdout followed by stderr. */
async function run(tool: ToolName, args: string[]): Promise<{ code: number; out: string }> {
  const r = await runCli(tool, args);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** A valid check run (retried once if the shared host made the run invalid). */
async function check(dir: string, task: string, phase: string, latencyMs: number): Promise<void> {
  const args = [
    task,
    phase,
    "--duration",
    "4",
    "--warmup",
    "1",
    "--rate",
    "200",
    "--ref-latency-ms",
    String(latencyMs),
    "--out-dir",
    dir,
  ];
  let r = await run("m17_check", args);
  if (r.code === 1 && r.out.includes("RUN INVALID")) {
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.startsWith(`${task}_${phase}_`)) Deno.removeSync(join(dir, e.name));
    }
    r = await run("m17_check", args);
  }
  assert.equal(r.code, 0, r.out);
}

Deno.test("check 20 ms then 30 ms of server latency: compare reports a regression (exit 1)", async () => {
  // The issue asks for 2 ms → 3 ms. On this host Deno's timers wake 1–4 ms late, so the P99 of a
  // 2 ms delay is timer noise (~6.6 ms either way) and only P50 moves; the same +50% step at
  // 20 ms → 30 ms is far above that noise, so the P99 verdict is deterministic.
  const dir = await Deno.makeTempDir();
  await check(dir, "slow", "before", 20);
  await check(dir, "slow", "after", 30);
  const r = await run("m17_compare", ["slow", "--dir", dir]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /=== Performance Comparison: Task slow ===/);
  assert.match(r.out, /⚠ UNCONFIRMED: .*P99.* on one pair of runs/);
  // The knobs check recorded are the change under test: printed, never refused.
  assert.match(r.out, /^Reference knobs: --ref-latency-ms 20 → --ref-latency-ms 30$/m);
  assert.match(r.out, /Summary for PERFORMANCE_LOG\.md:/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("check twice with identical settings: compare passes (exit 0)", async () => {
  const dir = await Deno.makeTempDir();
  // 100 ms of injected latency dominates the host's timer jitter: under the full suite two
  // identical 20 ms runs once differed by 1.6 ms at P99 (+6.7%, a false regression); the same
  // jitter is under 2% of 100 ms.
  await check(dir, "same", "before", 100);
  await check(dir, "same", "after", 100);
  const r = await run("m17_compare", ["same", "--dir", dir]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /✓ No regression past the 5% threshold on this pair of runs/);
  assert.doesNotMatch(r.out, /^Reference knobs:/m);
  assert.match(
    r.out,
    /Performance: P99 latency [+-]\d+\.\d%, throughput [+-]\d+\.\d% \(within 5% target\)/,
  );
  await Deno.remove(dir, { recursive: true });
});
