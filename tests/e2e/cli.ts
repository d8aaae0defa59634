/**
 * The one way tests run the real CLIs: `m17_check.ts` or `m17_compare.ts` from source, with
 * exactly the Deno permissions of their tasks and binaries (lib/shared/permissions.ts), in a
 * given working directory and environment. `runCli` waits for the end; `spawnCli` hands back
 * the child to watch its output and signal it.
 * @module
 */
import { join } from "node:path";
import { PERMISSIONS, type ToolName } from "../../lib/shared/permissions.ts";
import { TOOL_ROOT } from "../../lib/paths.ts";

export type { ToolName };

/** How to run a CLI. */
export interface CliOptions {
  /** Working directory; the tool root unless given. */
  cwd?: string;
  /** Environment variables; `{ NO_COLOR: "1" }` unless given. */
  env?: Record<string, string>;
  /** Start from an empty environment (plus `env`) instead of inheriting this process's. */
  clearEnv?: boolean;
  /** SIGKILL the child after this long: a hang fails one test, never the suite. */
  timeoutMs?: number;
  /** Extra `deno run` flags before the entrypoint (e.g. `--preload`). */
  denoFlags?: string[];
}

/** A finished CLI run. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** The entrypoint file of `tool` in this checkout. */
export function entrypoint(tool: ToolName): string {
  return join(TOOL_ROOT, `${tool}.ts`);
}

/** Starts `tool` with `args` (stdin closed, stdout and stderr piped). */
export function spawnCli(tool: ToolName, args: string[], opts: CliOptions = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS[tool], ...(opts.denoFlags ?? []), entrypoint(tool), ...args],
    cwd: opts.cwd ?? TOOL_ROOT,
    env: opts.env ?? { NO_COLOR: "1" },
    clearEnv: opts.clearEnv ?? false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs `tool` with `args` to its end (or to `opts.timeoutMs`) and returns what it printed. */
export async function runCli(tool: ToolName, args: string[], opts: CliOptions = {}): Promise<Ran> {
  const started = performance.now();
  const child = spawnCli(tool, args, opts);
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, opts.timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      ms: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}
