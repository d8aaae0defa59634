/**
 * What `check` measures: a running server (`--url`), an Engram checkout (built and started by
 * us), or the built-in reference server (a child process on a free loopback port). Every
 * target says what it is, so the report can record it and compare can refuse mismatches.
 * @module
 */
import { REFERENCE_MAIN } from "../paths.ts";
import { RunError, UsageError } from "../shared/errors.ts";
import { describeStatus, ServerProcess } from "./process.ts";

/** A target ready to receive load. */
export interface Target {
  kind: "reference" | "url" | "engram";
  url: string;
  version: string | null;
  details: Record<string, unknown>;
  /** Local server process, when we started one. */
  process: ServerProcess | null;
  /** Why the server is no longer usable (it exited), or null while it is fine. */
  deathReason(): string | null;
  /** Stops what we started (nothing for `--url`). */
  stop(): Promise<void>;
}

/** Reference server knobs passed through from `check`. */
export interface ReferenceKnobs {
  latencyMs?: number;
  jitterMs?: number;
  errorRate?: number;
  stallEverySeconds?: number;
  stallMs?: number;
  noSpreading?: boolean;
  seed?: string;
  record?: string;
}

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

/** Command line that starts the reference server, from source or from a compiled binary. */
export function referenceCommand(args: string[]): { cmd: string; args: string[] } {
  if (Deno.build.standalone) return { cmd: Deno.execPath(), args: ["serve", ...args] };
  const main = REFERENCE_MAIN;
  return {
    cmd: Deno.execPath(),
    args: ["run", `--v8-flags=${REFERENCE_V8_FLAGS}`, ...REFERENCE_PERMISSIONS, main, ...args],
  };
}

function knobArgs(k: ReferenceKnobs): string[] {
  const a: string[] = [];
  if (k.latencyMs !== undefined) a.push("--latency-ms", String(k.latencyMs));
  if (k.jitterMs !== undefined) a.push("--jitter-ms", String(k.jitterMs));
  if (k.errorRate !== undefined) a.push("--error-rate", String(k.errorRate));
  if (k.stallEverySeconds !== undefined) a.push("--stall-every-s", String(k.stallEverySeconds));
  if (k.stallMs !== undefined) a.push("--stall-ms", String(k.stallMs));
  if (k.noSpreading) a.push("--no-spreading");
  if (k.seed !== undefined) a.push("--seed", k.seed);
  if (k.record !== undefined) a.push("--record", k.record);
  return a;
}

/** Starts the reference server on a free loopback port and waits until it is healthy. */
export async function startReference(
  knobs: ReferenceKnobs,
  opts: { dim: number; logPath?: string; startupTimeoutMs?: number; signal?: AbortSignal },
): Promise<Target> {
  const { cmd, args } = referenceCommand([
    "--port",
    "0",
    "--dim",
    String(opts.dim),
    "--exit-with-parent",
    ...knobArgs(knobs),
  ]);
  const proc = new ServerProcess("reference server", cmd, args, { logPath: opts.logPath });
  let url: string;
  try {
    const m = await proc.waitForLine(
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      opts.startupTimeoutMs ?? 30_000,
    );
    url = m[1];
  } catch (e) {
    await proc.stop(1000);
    throw new RunError(
      `${(e as Error).message}; last output: ${proc.tail().slice(-5).join(" | ")}`,
    );
  }
  const version = await waitHealthy(url, 10_000, () => proc.status !== null, opts.signal).catch(
    async (e) => {
      await proc.stop(1000);
      throw e;
    },
  );
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
    },
  };
}

/**
 * The origin of a `--url` argument; a UsageError for anything but an http(s) URL. Checked while
 * parsing the command line, before any file is written.
 */
export function parseTargetUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url ${raw}: not a valid URL (expected e.g. http://127.0.0.1:7432)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new UsageError(`--url ${raw}: only http:// and https:// are supported`);
  }
  return u.origin;
}

/** Uses an already running server; nothing is started or stopped. */
export async function connectUrl(raw: string, signal?: AbortSignal): Promise<Target> {
  const url = parseTargetUrl(raw);
  const version = await waitHealthy(url, 5_000, () => false, signal);
  return {
    kind: "url",
    url,
    version,
    details: {},
    process: null,
    deathReason: () => null,
    stop: () => Promise.resolve(),
  };
}

/**
 * Why a server we did not start is gone after a run: null when `GET /health` still answers
 * 200 within `timeoutMs`, else what happened instead (a `--url` server has no exit status).
 */
export async function healthLost(url: string, timeoutMs = 2000): Promise<string | null> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200 ? null : `server at ${url} answers /health with HTTP ${res.status}`;
  } catch (e) {
    return `server at ${url} no longer answers /health (${
      (e as Error).name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : "connection refused"
    })`;
  }
}

/**
 * Polls `GET /health` until it answers 200; returns the `version` it reports. Gives up at the
 * deadline, or at once when `dead()` says the process is gone or `signal` aborts.
 */
export async function waitHealthy(
  url: string,
  timeoutMs: number,
  dead: () => boolean,
  signal?: AbortSignal,
): Promise<string | null> {
  const deadline = performance.now() + timeoutMs;
  let last = "no answer";
  while (performance.now() < deadline) {
    if (dead()) throw new RunError(`server at ${url} exited before it became healthy`);
    if (signal?.aborted) throw new RunError(`interrupted while waiting for ${url}/health`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (res.status === 200) {
        try {
          const v = JSON.parse(text)?.version;
          return typeof v === "string" ? v : null;
        } catch {
          return null;
        }
      }
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).name === "TimeoutError" ? "timeout" : "connection refused";
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new RunError(`server at ${url} is not healthy after ${timeoutMs} ms (last: ${last})`);
}
