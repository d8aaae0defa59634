/**
 * How `check --profile` builds Engram so its profile has Rust names and whole stacks: debug line
 * tables, not stripped, frame pointers forced, in a target directory of its own (so switching
 * between profiled and plain runs never rebuilds the other).
 *
 * Frame pointers rather than DWARF unwinding, measured on real Engram (commit 5d54816, 2-core
 * host, 1,000 ops/s baseline load, 12 s at 99 Hz, 2026-12-01): with frame pointers 83% of
 * samples had a complete stack (down to `start_thread`), mean depth 19, 0.8 MB of perf data,
 * `perf script` 0.6 s; `--call-graph dwarf` on the same binary completed only 33% of stacks
 * (tokio's deep stacks overflow the 8 KB copy), 6.4 MB of data, `perf script` 11.3 s.
 * @module
 */
import { join } from "node:path";

/** The profiled build's target directory, inside the checkout. */
export function profileTargetDir(checkout: string): string {
  return join(checkout, "target", "m17-profile");
}

/** The profiled build's server binary. */
export function profileBinary(checkout: string): string {
  return join(profileTargetDir(checkout), "release", "engram");
}

/**
 * Environment of the profiled `cargo build --release`; `rustflags` is the caller's RUSTFLAGS
 * (kept, frame pointers added).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { profileBuildEnv } from "./engram_profile.ts";
 * const env = profileBuildEnv("/src/engram", "-C target-cpu=native");
 * strictEqual(env.RUSTFLAGS, "-C target-cpu=native -C force-frame-pointers=yes");
 * strictEqual(env.CARGO_PROFILE_RELEASE_STRIP, "false");
 * ```
 */
export function profileBuildEnv(
  checkout: string,
  rustflags: string | undefined = Deno.env.get("RUSTFLAGS"),
): Record<string, string> {
  return {
    CARGO_PROFILE_RELEASE_DEBUG: "line-tables-only",
    CARGO_PROFILE_RELEASE_STRIP: "false",
    CARGO_TARGET_DIR: profileTargetDir(checkout),
    RUSTFLAGS: [rustflags?.trim(), "-C force-frame-pointers=yes"].filter(Boolean).join(" "),
  };
}
