/**
 * The operating system and CPU the tool runs on, and every branch the code takes on them, in one
 * place: nothing else reads `Deno.build.os` (kept by tests/architecture/platform_test.ts). Linux
 * has the epoll engine, CPU pinning (`taskset`), `perf`, /proc and `ss`; elsewhere (macOS) the
 * tool uses Deno's sockets, `ps` and `lsof`, and says what it cannot do.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { osName, PLATFORM } from "./platform.ts";
 * strictEqual(osName("darwin"), "macOS");
 * strictEqual(typeof PLATFORM.linux, "boolean");
 * ```
 * @module
 */

/** An operating system as Deno names it (`linux`, `darwin`, `windows`, …). */
export type Os = typeof Deno.build.os;

/** This host's facts (read once). */
export const PLATFORM = {
  os: Deno.build.os,
  arch: Deno.build.arch,
  /** /proc, `ss`, `taskset`, `perf`, epoll: the Linux branches. */
  linux: Deno.build.os === "linux",
  /** File modes (chmod) exist everywhere but Windows. */
  fileModes: Deno.build.os !== "windows",
  /** The separator of PATH's directories. */
  pathListSeparator: Deno.build.os === "windows" ? ";" : ":",
} as const;

/** The name people know an OS by (`macOS` for `darwin`). */
export function osName(os: Os = PLATFORM.os): string {
  return os === "darwin" ? "macOS" : os;
}

/** `linux/x86_64`: the OS and CPU, for logs and diagnostics. */
export function platformLabel(): string {
  return `${PLATFORM.os}/${PLATFORM.arch}`;
}

/**
 * Why the epoll engine's struct layout is unknown here (not Linux, or a CPU other than x86-64
 * and aarch64), or null when it is known; `epollEventStride` is then the `struct epoll_event`
 * size (x86-64 packs it to 12 bytes).
 */
export function epollLayoutMissing(): string | null {
  if (!PLATFORM.linux) return `not Linux (${PLATFORM.os})`;
  if (PLATFORM.arch !== "x86_64" && PLATFORM.arch !== "aarch64") {
    return `no epoll layout for ${PLATFORM.arch}`;
  }
  return null;
}

/** The size of `struct epoll_event` on this CPU (packed to 12 bytes on x86-64). */
export const epollEventStride: number = PLATFORM.arch === "x86_64" ? 12 : 16;
