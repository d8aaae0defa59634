/**
 * compare's output files (`--log`, `--html`, `--export`) in two steps, so that compare writes
 * nothing before it knows it can finish: `checkOutputs` refuses, before any file is written or
 * any verdict shown, a target that is not a regular file, a parent that is not a writable
 * directory, and two outputs aimed at one file; `writeOutputs` then writes every file (each
 * atomically) and returns one line per file it could not write (a full disk) instead of
 * throwing.
 *
 * @example
 * ```ts
 * import { deepStrictEqual, rejects } from "node:assert/strict";
 * import { checkOutputs, writeOutputs } from "./outputs.ts";
 * const dir = await Deno.makeTempDir();
 * const html = { path: `${dir}/c.html`, what: "HTML report", text: "<p>ok</p>" };
 * await checkOutputs([html]);
 * await rejects(checkOutputs([{ ...html, path: dir }]), /is a directory, not a file/);
 * deepStrictEqual(await writeOutputs([html]), { written: [`HTML report: ${dir}/c.html`], failures: [] });
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../shared/atomic.ts";
import { ioReason, UsageError } from "../shared/errors.ts";
import { oneLine } from "../shared/sanitize.ts";

/** One file compare will write, rendered before anything is written. */
export interface PlannedOutput {
  path: string;
  /** What it is, for messages: `HTML report`, `Bencher Metric Format export`, `--log`. */
  what: string;
  text: string;
  /** The line said once it is written; `<what>: <path>` when absent. */
  note?: string;
  /**
   * A file others may be updating at the same moment (the performance log): rebuilt from the
   * file as it is when written (`merge` re-reads it), under a lock on its directory, and written
   * only after every other output was.
   */
  merge?: () => Promise<{ bytes: Uint8Array; note: string }>;
}

/** What a path is, in words, when it is not a regular file. */
function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFile) return "a regular file";
  if (info.isSymlink) return "a symbolic link";
  return "a FIFO, socket or device";
}

/**
 * `UsageError` (one line) when an output cannot be written: its target exists and is not a
 * regular file, its nearest existing parent is not a writable directory, or two outputs name
 * the same file. Writes nothing (the writability probe is created and removed at once).
 */
export async function checkOutputs(outputs: PlannedOutput[]): Promise<void> {
  const seen = new Map<string, string>();
  for (const o of outputs) {
    const full = resolve(o.path);
    const other = seen.get(full);
    if (other) throw new UsageError(`${o.what} ${o.path}: also the target of ${other}`);
    seen.set(full, o.what);
    const info = await Deno.stat(o.path).catch(() => null);
    if (info && !info.isFile) {
      throw new UsageError(`${o.what} ${o.path}: is ${kindOf(info)}, not a file`);
    }
    await checkWritableDir(o, dirname(full));
  }
}

/** The nearest existing ancestor of `dir` must be a directory a file can be created in. */
async function checkWritableDir(o: PlannedOutput, dir: string): Promise<void> {
  let at = dir;
  // Bounded by the path's depth: dirname() of the root is the root.
  for (;;) {
    const info = await Deno.stat(at).catch(() => null);
    if (info) {
      if (!info.isDirectory) {
        throw new UsageError(`${o.what} ${o.path}: ${at} is ${kindOf(info)}, not a directory`);
      }
      break;
    }
    if (dirname(at) === at) break;
    at = dirname(at);
  }
  const probe = `${at}/.m17_probe_${Deno.pid}_${crypto.randomUUID().slice(0, 8)}`;
  try {
    (await Deno.open(probe, { write: true, createNew: true })).close();
    await Deno.remove(probe);
  } catch (e) {
    throw new UsageError(`${o.what} ${o.path}: cannot write in ${at} (${ioReason(e)})`);
  }
}

/** What `writeOutputs` did: a line per file written, and a line per file it could not write. */
export interface OutputsWritten {
  written: string[];
  /** One line per output not written: it failed, or a merged one skipped after a failure. */
  failures: string[];
}

/**
 * Writes every output (missing parent directories created), through a symlink to the file it
 * names; never throws for a failed write. A merged output (`merge`) goes last and is skipped
 * when another failed, so the log never records outputs that do not exist.
 */
export async function writeOutputs(outputs: PlannedOutput[]): Promise<OutputsWritten> {
  const done: OutputsWritten = { written: [], failures: [] };
  for (const o of outputs.filter((o) => o.merge === undefined)) {
    try {
      const path = await throughLink(o.path);
      await Deno.mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, o.text);
      done.written.push(o.note ?? `${o.what}: ${oneLine(o.path)}`);
    } catch (e) {
      done.failures.push(`${o.what} ${oneLine(o.path)} could not be written (${ioReason(e)})`);
    }
  }
  const failed = done.failures.length;
  for (const o of outputs) {
    if (o.merge === undefined) continue;
    if (failed > 0) {
      done.failures.push(`${o.what} ${oneLine(o.path)} was not written: another output failed`);
      continue;
    }
    try {
      done.written.push(await writeMerged(o.path, o.merge));
    } catch (e) {
      done.failures.push(`${o.what} ${oneLine(o.path)} could not be written (${ioReason(e)})`);
    }
  }
  return done;
}

/** The file a symlink at `path` names (so writing replaces it, not the link); else `path`. */
async function throughLink(path: string): Promise<string> {
  const info = await Deno.lstat(path).catch(() => null);
  return info?.isSymlink ? await Deno.realPath(path) : path;
}

/**
 * Writes what `merge` makes of the file at `path` as it is now, holding an exclusive lock on
 * its directory (the file itself is replaced by a rename, so it cannot carry the lock): two
 * writers at once each see the other's result, and neither loses the other's section.
 */
async function writeMerged(
  path: string,
  merge: NonNullable<PlannedOutput["merge"]>,
): Promise<string> {
  const target = await throughLink(path);
  const lock = await lockHolder(target);
  try {
    // A file system without locks (some network mounts): one writer at a time is then the
    // user's to ensure; the write itself is still atomic.
    await lock.lock(true).catch(() => {});
    const { bytes, note } = await merge();
    await writeFileAtomic(target, bytes);
    return note;
  } finally {
    lock.close(); // releases the lock
  }
}

/**
 * What the lock of `path` is taken on: its directory; where a directory cannot be opened
 * (Windows), a `.<name>.lock` file beside it, which stays (removing it would race a waiter).
 */
async function lockHolder(path: string): Promise<Deno.FsFile> {
  const dir = dirname(resolve(path));
  try {
    return await Deno.open(dir, { read: true });
  } catch {
    return await Deno.open(join(dir, `.${basename(path)}.lock`), { write: true, create: true });
  }
}
