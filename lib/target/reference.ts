/**
 * The built-in reference server as a target: the command line that starts it (from source or
 * from a compiled binary), the knobs as its arguments, and its start-up on a free loopback port.
 * @module
 */
import { resolve } from "node:path";
import { REFERENCE_MAIN } from "../paths.ts";
import { RunError } from "../shared/errors.ts";
import { healthyVersion, waitHealthy } from "./health.ts";
import { describeStatus, ServerProcess } from "./process.ts";
import type { ReferenceKnobs, ReferenceTarget } from "./target.ts";

/** The flags the reference server needs at run time (also baked into compiled binaries). */
export const REFERENCE_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
];

/**
 * V8 heap settings of the reference server process (also in deno.json's `serve` task).
 *
 * With V8's defaults the server's old generation starts with a limit of a few MB, so a server
 * whose live heap is ~7 MB ran a mark-compact every 1–2 s (`--trace-gc`: "GC in old space
 * requested"), each a 2–7 ms pause plus concurrent-marking threads that, with the load generator
 * spinning on the other core, share the server's one core: the main cause of its 10–20 ms stalls.
 * A 512 MB initial old-generation limit (a limit, not a reservation) removes them for runs of
 * minutes (0 mark-compacts in 25 s of the baseline, where old space grows ~0.6 MB/s), and no
 * memory reducer means no idle-time compactions. Baseline at 1,000 ops/s, 20 s, this 2-core host:
 * client-observed P99 3.3–4.6 ms in 3 runs (6.3–11.7 ms without); BENCHMARKS.md, reference.
 *
 * A compiled binary cannot pass these: `deno compile` bakes V8 flags into the whole binary (the
 * load generator included) and standalone binaries ignore DENO_V8_FLAGS, so `m17_check serve`
 * runs with V8's defaults.
 */
export const REFERENCE_V8_FLAGS = "--initial-old-space-size=512,--no-memory-reducer";

/** How long the reference server has to print its address, then to answer `/health`. */
const LISTEN_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 10_000;

/**
 * Command line that starts the reference server, from source or from a compiled binary.
 * `perfMap` (`check --profile`) adds V8's `--perf-basic-prof`, so perf can name JavaScript
 * frames (a compiled binary cannot pass V8 flags: its JavaScript frames stay unnamed).
 */
export function referenceCommand(
  args: string[],
  opts: { perfMap?: boolean } = {},
): { cmd: string; args: string[] } {
  if (Deno.build.standalone) return { cmd: Deno.execPath(), args: ["serve", ...args] };
  const v8 = opts.perfMap ? `${REFERENCE_V8_FLAGS},--perf-basic-prof` : REFERENCE_V8_FLAGS;
  return {
    cmd: Deno.execPath(),
    args: [
      "run",
      `--v8-flags=${v8}`,
      ...REFERENCE_PERMISSIONS,
      REFERENCE_MAIN,
      ...args,
    ],
  };
}

/**
 * The reference server's arguments for `check`'s knobs (unset knobs are left out).
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(knobArgs({ latencyMs: 2, noSpreading: true }), [
 *   "--latency-ms",
 *   "2",
 *   "--no-spreading",
 * ]);
 * ```
 */
export function knobArgs(k: ReferenceKnobs): string[] {
  const a: string[] = [];
  if (k.latencyMs !== undefined) a.push("--latency-ms", String(k.latencyMs));
  if (k.jitterMs !== undefined) a.push("--jitter-ms", String(k.jitterMs));
  if (k.errorRate !== undefined) a.push("--error-rate", String(k.errorRate));
  if (k.stallEverySeconds !== undefined) a.push("--stall-every-s", String(k.stallEverySeconds));
  if (k.stallMs !== undefined) a.push("--stall-ms", String(k.stallMs));
  if (k.noSpreading) a.push("--no-spreading");
  if (k.cpuBurn !== undefined) a.push("--cpu-burn", k.cpuBurn);
  if (k.seed !== undefined) a.push("--seed", k.seed);
  if (k.record !== undefined) a.push("--record", k.record);
  return a;
}

/** Options of `startReference`. */
export interface ReferenceStartOptions {
  /** Embedding dimension the server accepts (the scenario's). */
  dim: number;
  /** The server's output (the run's `_server.log`). */
  logPath?: string;
  /** Deadline for the server to print its address (default 30 s). */
  startupTimeoutMs?: number;
  /** Aborting stops the server and fails the start. */
  signal?: AbortSignal;
  /** Start it with V8's perf map (`check --profile`). */
  profile?: boolean;
  /** Start it on these CPUs (`taskset -c`, `--server-cpus`); null: anywhere. */
  cpus?: string | null;
}

/** Starts the reference server on a free loopback port and waits until it is healthy. */
export async function startReference(
  knobs: ReferenceKnobs,
  opts: ReferenceStartOptions,
): Promise<ReferenceTarget> {
  // V8's perf map (`--profile`) also writes an `isolate-…-v8.log` into the process's working
  // directory (no V8 flag stops it; `--logfile` moves it to stdout), which left files in the
  // user's directory, an Engram checkout's root included: the profiled server runs in a
  // directory of its own, removed when it stops. A relative `--ref-record` path is resolved first.
  const ownDir = opts.profile && !Deno.build.standalone
    ? await Deno.makeTempDir({ prefix: "m17_reference_" })
    : null;
  const removeOwnDir = () =>
    ownDir === null ? Promise.resolve() : Deno.remove(ownDir, { recursive: true }).catch(() => {});
  const placed = ownDir !== null && knobs.record !== undefined
    ? { ...knobs, record: resolve(knobs.record) }
    : knobs;
  const { cmd, args } = referenceCommand([
    "--port",
    "0",
    "--dim",
    String(opts.dim),
    "--exit-with-parent",
    ...knobArgs(placed),
  ], { perfMap: opts.profile });
  const proc = new ServerProcess("reference server", cmd, args, {
    logPath: opts.logPath,
    cpus: opts.cpus,
    cwd: ownDir ?? undefined,
  });
  let url: string;
  try {
    const m = await proc.waitForLine(
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      opts.startupTimeoutMs ?? LISTEN_TIMEOUT_MS,
    );
    url = m[1];
  } catch (e) {
    await proc.stop(1000);
    await removeOwnDir();
    throw new RunError(
      `${(e as Error).message}; last output: ${proc.tail().slice(-5).join(" | ")}`,
    );
  }
  const wait = await waitHealthy(url, {
    timeoutMs: HEALTH_TIMEOUT_MS,
    exited: proc.exited,
    signal: opts.signal,
  });
  if (wait.kind !== "healthy") {
    await proc.stop(1000);
    await removeOwnDir();
  }
  const version = healthyVersion(url, wait, HEALTH_TIMEOUT_MS);
  return {
    kind: "reference",
    url,
    version,
    details: { pid: proc.pid, knobs, dim: opts.dim },
    process: proc,
    deathReason: () =>
      proc.status ? `reference server exited (${describeStatus(proc.status)})` : null,
    stop: async () => {
      await proc.stop();
      await removeOwnDir();
    },
  };
}
