/**
 * The settle wait after Engram starts on a restored preload snapshot: a start on a copy replays the
 * log and may go on working after it reports healthy (compaction, index builds, in other builds),
 * and that work must not be measured. Before the warm-up, the run waits until Engram's own CPU
 * stays under `quietCpuPct` of one core for `quietSeconds` in a row, at most `maxSeconds`, and
 * records how long it waited, so a report also says Engram was quiet when its window began. Engram
 * 5d54816 at 92,453 restored memories: quiet at once (3.0 s; its WAL compaction ends before it
 * listens); the slow first seconds of its 100K runs come with the first requests, which a warm-up
 * absorbs (BENCHMARKS.md, "The 100K acceptance").
 * @module
 */
import type { SettleRecord } from "../report/schema.ts";
import { processCpuSeconds } from "../target/system.ts";
import type { EngramTarget } from "../target/target.ts";
import type { RunContext } from "./steps.ts";

/**
 * The rule: quiet = under 50% of one core for 3 s in a row, waited for at most 180 s. Not 0: an
 * idle Engram works in the background (5d54816 on the restored 92K store: 20–33% of a core, no
 * requests), against 150–370% in the work after its start.
 */
export const SETTLE_RULE = { quietCpuPct: 50, quietSeconds: 3, maxSeconds: 180, sampleMs: 1000 };

/** What `settle` reads and how it waits (a test hands in its own clock and CPU counter). */
export interface SettleDeps {
  cpuSeconds: (pid: number) => Promise<number | null>;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

const REAL: SettleDeps = {
  cpuSeconds: processCpuSeconds,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => performance.now(),
};

/**
 * Waits until process `pid` is quiet (`SETTLE_RULE`); null when its CPU cannot be read (nothing
 * waited) or the wait was interrupted (`signal`).
 *
 * ```ts
 * import { strictEqual } from "node:assert";
 * let cpu = 0, t = 0;
 * const busy = [1.5, 1.5, 0.1, 0.1, 0.1]; // CPU seconds used in each second
 * const r = await settle(1, new AbortController().signal, undefined, {
 *   cpuSeconds: () => Promise.resolve(cpu),
 *   sleep: (ms) => { t += ms; cpu += busy.shift() ?? 0; return Promise.resolve(); },
 *   now: () => t,
 * });
 * strictEqual(r?.quiet, true);
 * strictEqual(r?.seconds, 5);
 * ```
 */
export async function settle(
  pid: number,
  signal: AbortSignal,
  rule = SETTLE_RULE,
  deps: SettleDeps = REAL,
): Promise<SettleRecord | null> {
  const t0 = deps.now();
  let prev = await deps.cpuSeconds(pid);
  if (prev === null) return null;
  let prevT = t0;
  let quietFor = 0;
  let last: number | null = null;
  while (!signal.aborted) {
    await deps.sleep(rule.sampleMs);
    const cpu = await deps.cpuSeconds(pid);
    const t = deps.now();
    if (cpu === null) return null;
    const dt = t - prevT;
    if (dt > 0) last = (100 * (cpu - prev)) / (dt / 1000);
    [prev, prevT] = [cpu, t];
    quietFor = last !== null && last < rule.quietCpuPct ? quietFor + dt : 0;
    const seconds = (t - t0) / 1000;
    const round = (x: number) => Math.round(x * 10) / 10;
    if (quietFor >= rule.quietSeconds * 1000) {
      return { quiet: true, seconds: round(seconds), last_cpu_pct: round(last ?? 0) };
    }
    if (seconds >= rule.maxSeconds) {
      const lastPct = last === null ? null : round(last);
      return { quiet: false, seconds: round(seconds), last_cpu_pct: lastPct };
    }
  }
  return null;
}

/**
 * Waits for Engram to settle after its start on a snapshot's copy and says so: the report's
 * `preload.snapshot.settle` (absent when Engram's CPU could not be read or the run was interrupted).
 */
export async function settleRestored(
  ctx: RunContext,
  target: EngramTarget,
): Promise<{ settle?: SettleRecord }> {
  const s = await settle(target.details.pid, ctx.signal);
  if (s === null) return {};
  const { quietCpuPct, quietSeconds } = SETTLE_RULE;
  if (s.quiet) {
    ctx.log.line(
      `preload snapshot: Engram settled ${
        s.seconds.toFixed(1)
      } s after its start on the copy (its CPU under ${quietCpuPct}% of a core for ${quietSeconds} s in a row)`,
    );
  } else {
    ctx.log.warn(
      `preload snapshot: Engram still busy ${
        s.seconds.toFixed(0)
      } s after its start on the copy (${s.last_cpu_pct}% of a core over the last second): measuring anyway`,
    );
  }
  return { settle: s };
}
