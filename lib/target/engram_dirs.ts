/**
 * The directories a started Engram uses beside its run's files, named after the run's stem:
 * `<stem>_data`, its `ENGRAM_DATA_DIR` (a fresh, empty one per run), and `<stem>_tmp`, its
 * `TMPDIR`: Engram writes its pid file to `std::env::temp_dir()/engram.pid`, which is
 * `/tmp/engram.pid` for every server on the host, so two runs would overwrite each other's. Both
 * are made fresh at start and removed when the server stops (the data dir is kept with
 * `--keep-data`) or at an exit that skips the teardown; a run killed with SIGKILL leaves them,
 * and the next run removes them (lib/run/leftovers.ts).
 *
 * @example
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * import { engramRunDirs, parseEngramRunDir } from "./engram_dirs.ts";
 * strictEqual(engramRunDirs("out", "out/001_before_20250101_120000").tmp,
 *   "out/001_before_20250101_120000_tmp");
 * deepStrictEqual(parseEngramRunDir("001_before_20250101_120000_data"),
 *   { stem: "001_before_20250101_120000", suffix: "_data" });
 * strictEqual(parseEngramRunDir("snapshots"), null);
 * ```
 * @module
 */
import { basename, join } from "node:path";
import { messageOf, RunError } from "../shared/errors.ts";

/** What the directories' names add to the run's stem. */
export const ENGRAM_RUN_DIR_SUFFIXES = ["_data", "_tmp"] as const;

/** A run's Engram directories. */
export interface EngramRunDirs {
  /** `<outDir>/<basename(stem)>_data`: the server's `ENGRAM_DATA_DIR`. */
  data: string;
  /** `<outDir>/<basename(stem)>_tmp`: the server's `TMPDIR` (its `engram.pid`). */
  tmp: string;
}

/** The Engram directories of the run whose file stem is `stem`. */
export function engramRunDirs(outDir: string, stem: string): EngramRunDirs {
  return {
    data: join(outDir, `${basename(stem)}_data`),
    tmp: join(outDir, `${basename(stem)}_tmp`),
  };
}

/** The stem and suffix of a run's Engram directory name, or null when it is not one. */
export function parseEngramRunDir(
  name: string,
): { stem: string; suffix: typeof ENGRAM_RUN_DIR_SUFFIXES[number] } | null {
  for (const suffix of ENGRAM_RUN_DIR_SUFFIXES) {
    if (name.endsWith(suffix) && name.length > suffix.length) {
      return { stem: name.slice(0, -suffix.length), suffix };
    }
  }
  return null;
}

/**
 * The pid in the `engram.pid` Engram wrote into a run's TMPDIR (`<pid>:<port>`, removed at a
 * graceful stop), or null when there is none (not started yet, stopped, or not that format).
 */
export async function engramPidIn(tmpDir: string): Promise<number | null> {
  try {
    const m = /^(\d+):\d+\s*$/.exec(await Deno.readTextFile(join(tmpDir, "engram.pid")));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Fresh run directories and their removal. */
export interface FreshEngramRunDirs extends EngramRunDirs {
  /** Removes them (the data dir only when not kept); once is enough, more is harmless. */
  remove(): Promise<void>;
}

/**
 * Makes the run's Engram directories, both fresh (an existing one is not fresh state: a RunError
 * naming it), registered for `removeEngramRunDirsSync` until `remove()`.
 */
export async function makeEngramRunDirs(
  outDir: string,
  stem: string,
  keepData: boolean,
): Promise<FreshEngramRunDirs> {
  const dirs = engramRunDirs(outDir, stem);
  // Only what this call made is removed, and the data dir not when it is kept.
  const made: string[] = [];
  const remove = async () => {
    for (const dir of made) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      HELD_DIRS.delete(dir);
    }
  };
  await Deno.mkdir(outDir, { recursive: true }).catch(() => {}); // the mkdir below says why
  for (const dir of [dirs.data, dirs.tmp]) {
    try {
      await Deno.mkdir(dir); // not recursive: an existing dir is not fresh state
    } catch (e) {
      await remove();
      const what = dir === dirs.data ? "data dir" : "TMPDIR";
      throw new RunError(`${what} ${dir}: cannot create a fresh one (${messageOf(e)})`);
    }
    if (dir === dirs.data && keepData) continue;
    made.push(dir);
    HELD_DIRS.add(dir);
  }
  return { ...dirs, remove };
}

/** Directories of running servers that are removed when they stop. */
const HELD_DIRS = new Set<string>();

/** Removes every run directory still held, at once: for an exit that skips the runs' teardown. */
export function removeEngramRunDirsSync(): void {
  for (const dir of HELD_DIRS) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  }
  HELD_DIRS.clear();
}
