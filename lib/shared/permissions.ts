/**
 * The Deno flags each entrypoint runs with: baked into the compiled binaries
 * (`scripts/compile.ts`), used by the `deno run` fallback of the installed shims
 * (`lib/target/engram_shims.ts`), and proven sufficient by `tests/compile_test.ts`. The grants match the
 * `check` and `compare` tasks of deno.json; `--no-prompt` makes a missing grant fail at once
 * instead of asking on a terminal.
 *
 * @example
 * ```ts
 * import { PERMISSIONS } from "./permissions.ts";
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(PERMISSIONS.m17_compare.includes("--allow-read"), true);
 * strictEqual(PERMISSIONS.m17_compare.includes("--allow-net"), false);
 * ```
 * @module
 */

/** The two entrypoints, named as their files (`m17_check.ts`) and binaries. */
export type ToolName = "m17_check" | "m17_compare";

/**
 * m17_check: reads scenarios and the tool's own files, writes results, talks HTTP to the
 * target, reads environment variables (INIT_CWD, NO_COLOR), runs subprocesses (itself as
 * `serve` or deno for the reference server, cargo, engram, ps, ss, git) and reads host
 * information (hostname, load, memory); on Linux it calls libc through FFI for the measured
 * run's sockets and waits (lib/run/epoll.ts; without the grant it falls back to Deno's sockets).
 */
export const CHECK_PERMISSIONS: readonly string[] = [
  "--no-prompt",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-ffi",
];

/** m17_compare: reads reports and baselines, writes HTML, exports and the log, reads NO_COLOR. */
export const COMPARE_PERMISSIONS: readonly string[] = [
  "--no-prompt",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

/** The flags of each entrypoint, by name. */
export const PERMISSIONS: Readonly<Record<ToolName, readonly string[]>> = {
  m17_check: CHECK_PERMISSIONS,
  m17_compare: COMPARE_PERMISSIONS,
};
