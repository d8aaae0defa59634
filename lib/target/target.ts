/**
 * What `check` measures: a running server (`--url`), an Engram checkout (built and started by
 * us), or the built-in reference server (a child process on a free loopback port). Every
 * target says what it is, so the report can record it and compare can refuse mismatches.
 * Start-up lives in start.ts (one function for all three), url.ts, engram.ts and reference.ts.
 * @module
 */
import type { BuildProfile } from "./builds.ts";
import type { ServerProcess } from "./process.ts";

/** Reference server knobs passed through from `check`. */
export interface ReferenceKnobs {
  latencyMs?: number;
  jitterMs?: number;
  errorRate?: number;
  stallEverySeconds?: number;
  stallMs?: number;
  noSpreading?: boolean;
  /** `--ref-cpu-burn OP:MS` as given (validated by the reference's `parseCpuBurn`). */
  cpuBurn?: string;
  seed?: string;
  record?: string;
}

/** What every running target offers, whatever its kind. */
interface RunningBase {
  url: string;
  /** The `version` its `/health` reported, when it reported one. */
  version: string | null;
  /** Why the server is no longer usable (it exited), or null while it is fine. */
  deathReason(): string | null;
  /** Stops what we started (nothing for `--url`); safe to call twice. */
  stop(): Promise<void>;
}

/** A server we did not start (`--url`): no process, nothing to record beyond its url. */
export type UrlTarget = RunningBase & {
  kind: "url";
  process: null;
  details: Record<string, never>;
};

/** The Engram server we built and started; `details` goes into the report as is. */
export type EngramTarget = RunningBase & {
  kind: "engram";
  process: ServerProcess;
  /**
   * SIGTERM and wait (up to a minute) for Engram to flush and exit, keeping its data dir until
   * `stop()`. Null when it exited cleanly, else how it ended (killed, exit code).
   */
  stopGracefully(): Promise<string | null>;
  details: {
    pid: number;
    port: number;
    data_dir: string;
    checkout: string;
    git_commit: string | null;
    /** Tracked changes outside `git_dirty_ignores` (the installed m17 shims). */
    git_dirty: boolean | null;
    git_dirty_ignores: readonly string[];
    /** The binary started, its sha256, its kept copy and build profile (lib/target/builds.ts). */
    binary?: string;
    binary_sha256?: string;
    kept_binary?: string | null;
    build_profile?: BuildProfile;
  };
};

/** The built-in reference server we started; `details` goes into the report as is. */
export type ReferenceTarget = RunningBase & {
  kind: "reference";
  process: ServerProcess;
  details: { pid: number; knobs: ReferenceKnobs; dim: number };
};

/** A target ready to receive load, told apart by its kind. */
export type Target = UrlTarget | EngramTarget | ReferenceTarget;
