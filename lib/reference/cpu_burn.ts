/**
 * The CPU-burn knob (`--cpu-burn OP:MS`): every request of one operation kind spends MS
 * milliseconds of CPU in one named function, `referenceCpuBurn`, before it is processed — a
 * known, named regression for the profiler's tests (`check --profile`, `compare`'s profile
 * table). Unlike `--latency-ms`, which waits on a timer, this occupies the server's thread, so
 * it shows in a CPU profile and delays every request queued behind it.
 * @module
 */

/** The operation kinds, by the routes that serve them. */
export const BURN_OPS = {
  store: ["/api/v1/memories", "/api/v1/memories/remember", "/api/v1/episodes/remember"],
  recall: ["/api/v1/memories/recall"],
  search: ["/api/v1/memories/search"],
  complete: ["/api/v1/complete"],
} as const;

/** One operation kind the knob can slow down. */
export type BurnOp = keyof typeof BURN_OPS;

/** The knob's value: which kind, how many ms of CPU per request. */
export interface CpuBurn {
  readonly op: BurnOp;
  readonly ms: number;
}

/** The most CPU one request may burn (ms). */
export const MAX_BURN_MS = 1000;

/** The outcome of validating the knob's text. */
export type CpuBurnCheck =
  | { readonly ok: true; readonly burn: CpuBurn }
  | { readonly ok: false; readonly problem: string };

/**
 * THE validation of `--cpu-burn` (the server's flag) and `m17_check --ref-cpu-burn` alike.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { parseCpuBurn } from "./cpu_burn.ts";
 * deepStrictEqual(parseCpuBurn("recall:2"), { ok: true, burn: { op: "recall", ms: 2 } });
 * deepStrictEqual(parseCpuBurn("fly:2", "ref-"), {
 *   ok: false,
 *   problem: '--ref-cpu-burn "fly:2": expected OP:MS with OP one of store, recall, search, complete and MS from 0 to 1000',
 * });
 * ```
 */
export function parseCpuBurn(text: string, flagPrefix = ""): CpuBurnCheck {
  const problem = `--${flagPrefix}cpu-burn ${JSON.stringify(text)}: expected OP:MS with OP one of ${
    Object.keys(BURN_OPS).join(", ")
  } and MS from 0 to ${MAX_BURN_MS}`;
  const m = /^([a-z]+):([0-9]+(?:\.[0-9]+)?)$/.exec(text.trim());
  if (!m || !Object.hasOwn(BURN_OPS, m[1])) return { ok: false, problem };
  const ms = Number(m[2]);
  if (!(ms >= 0 && ms <= MAX_BURN_MS)) return { ok: false, problem };
  return { ok: true, burn: { op: m[1] as BurnOp, ms } };
}

/** Milliseconds to burn for a request to `path` (0 when the knob does not apply). */
export function burnMsFor(burn: CpuBurn | null, path: string): number {
  if (burn === null || burn.ms === 0) return 0;
  return (BURN_OPS[burn.op] as readonly string[]).includes(path) ? burn.ms : 0;
}

let sink = 0;

/**
 * Spends `ms` of CPU in arithmetic; the name profiles show. The clock is read once per 4,096
 * steps so the time is spent here, not in the clock's native code.
 */
export function referenceCpuBurn(ms: number): number {
  const end = performance.now() + ms;
  let x = sink;
  for (let rounds = 0; rounds < 10_000_000; rounds++) {
    for (let i = 0; i < 4096; i++) x = (x * 1103515245 + 12345 + i) % 2147483647;
    if (performance.now() >= end) break;
  }
  sink = x;
  return x;
}

/**
 * Burns `ms` from a promise reaction, so `referenceCpuBurn` runs with no JavaScript caller that
 * an optimising compiler could inline it into: its frame keeps its name in every profile.
 */
export function burnCpu(ms: number): Promise<number> {
  return ms > 0 ? Promise.resolve(ms).then(referenceCpuBurn) : Promise.resolve(0);
}
