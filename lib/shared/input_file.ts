/**
 * The one way the tools read a file a user named (scenario, reports, baselines, `Cargo.toml`,
 * `--log`): it must be a regular file (or a symlink to one) of bounded size. Anything else — a
 * FIFO, a directory, a device such as `/dev/zero`, a socket, a dangling or looping symlink, an
 * unreadable or oversized file — is a one-line `UsageError` naming the path and what it is.
 * A FIFO is never opened (opening one blocks until a writer appears); the kind is checked with
 * `stat` before opening and again on the open file, and at most `maxBytes + 1` bytes are read.
 *
 * @example
 * ```ts
 * import { rejects, strictEqual } from "node:assert/strict";
 * import { readInputText } from "./input_file.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.toml`, "x = 1\n");
 * strictEqual(await readInputText(`${dir}/a.toml`, { label: "scenario", maxBytes: 100 }), "x = 1\n");
 * await rejects(readInputText(dir, { label: "scenario", maxBytes: 100 }), /is a directory/);
 * await rejects(readInputText("/dev/zero", { label: "report", maxBytes: 100 }), /character device/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
import { messageOf, UsageError } from "./errors.ts";

/** Size caps of the files the tools read (a report of a 24 h run is a few MiB). */
export const INPUT_LIMITS = {
  /** Scenario, baselines and `Cargo.toml` files. */
  tomlBytes: 1024 * 1024,
  /** Run reports. */
  reportBytes: 64 * 1024 * 1024,
  /** `compare --log` (the performance log, rewritten whole). */
  logBytes: 16 * 1024 * 1024,
} as const;

/** What a path is, as far as reading it is concerned. */
export type InputKind =
  | { kind: "file"; size: number }
  | { kind: "missing" }
  | { kind: "not_regular"; what: string };

/**
 * What `path` is: a regular file (following symlinks), missing, or something that must not be
 * read, described in words (`a FIFO (named pipe)`, `a dangling symlink`, …).
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { inputKind } from "./input_file.ts";
 * deepStrictEqual(await inputKind("/nonexistent/x"), { kind: "missing" });
 * deepStrictEqual(await inputKind("/dev/null"), { kind: "not_regular", what: "a character device" });
 * ```
 */
export async function inputKind(path: string): Promise<InputKind> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    return await whyNotStat(path, e);
  }
  return describe(info);
}

/** The kind of an already `stat`ed path. */
function describe(info: Deno.FileInfo): InputKind {
  if (info.isFile) return { kind: "file", size: info.size };
  if (info.isDirectory) return { kind: "not_regular", what: "a directory" };
  if (info.isFifo) return { kind: "not_regular", what: "a FIFO (named pipe)" };
  if (info.isCharDevice) return { kind: "not_regular", what: "a character device" };
  if (info.isBlockDevice) return { kind: "not_regular", what: "a block device" };
  if (info.isSocket) return { kind: "not_regular", what: "a socket" };
  return { kind: "not_regular", what: "not a regular file" };
}

async function whyNotStat(path: string, e: unknown): Promise<InputKind> {
  if (e instanceof Deno.errors.NotFound) {
    const link = await Deno.lstat(path).catch(() => null);
    return link?.isSymlink
      ? { kind: "not_regular", what: "a dangling symlink" }
      : { kind: "missing" };
  }
  if (e instanceof Deno.errors.FilesystemLoop || /ELOOP|symbolic links/i.test(String(e))) {
    return { kind: "not_regular", what: "a symlink loop" };
  }
  if (e instanceof Deno.errors.NotADirectory) {
    return { kind: "not_regular", what: "under a path that is not a directory" };
  }
  // Deno refuses device and kernel files (/dev/full, /proc/…) to all but --allow-all.
  if (e instanceof Error && e.name === "NotCapable" && /Requires all access/.test(e.message)) {
    return { kind: "not_regular", what: "a device or kernel file" };
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return { kind: "not_regular", what: "unreadable (permission denied)" };
  }
  return { kind: "not_regular", what: `unreadable (${messageOf(e)})` };
}

/** How `readInputText` names the file in messages, and how large it may be. */
export interface InputOptions {
  /** What the file is, first in the message: `scenario`, `report`, `--baselines`. */
  label: string;
  /** Largest size accepted, in bytes. */
  maxBytes: number;
}

/**
 * The text of `path`, which must be a regular file of at most `maxBytes`; otherwise one
 * `UsageError` line `LABEL PATH: is a FIFO (named pipe), not a regular file` (or `no such file`,
 * `is 2.1 GB, larger than the 64 MiB a report can be`, …).
 */
export async function readInputText(path: string, o: InputOptions): Promise<string> {
  const text = await readInputTextOrNull(path, o);
  if (text === null) throw new UsageError(`${o.label} ${path}: no such file`);
  return text;
}

/** As `readInputText`, but a missing file is `null` (a file the tool may create, like `--log`). */
export async function readInputTextOrNull(path: string, o: InputOptions): Promise<string | null> {
  const bytes = await readInputBytesOrNull(path, o);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/**
 * As `readInputTextOrNull`, but the file's bytes as they are (`--log`, whose hand-written text is
 * kept byte for byte, invalid UTF-8 included).
 */
export async function readInputBytesOrNull(
  path: string,
  o: InputOptions,
): Promise<Uint8Array | null> {
  const kind = await inputKind(path);
  if (kind.kind === "missing") return null;
  if (kind.kind === "not_regular") throw notRegular(path, o.label, kind.what);
  if (kind.size > o.maxBytes) throw tooLarge(path, o, kind.size);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new UsageError(`${o.label} ${path}: cannot read (${messageOf(e)})`);
  }
  try {
    const again = describe(await file.stat()); // replaced between stat and open
    if (again.kind === "not_regular") throw notRegular(path, o.label, again.what);
    const bytes = await readAtMost(file, o.maxBytes + 1);
    if (bytes.length > o.maxBytes) throw tooLarge(path, o, bytes.length);
    return bytes;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${o.label} ${path}: cannot read (${messageOf(e)})`);
  } finally {
    file.close();
  }
}

/**
 * Whether `path` is a regular file or missing; anything else is refused in one line. For files
 * that are looked for (scenario candidates) or created and appended to (`--ref-record`), where a
 * FIFO or device would block or swallow what is written.
 *
 * @example
 * ```ts
 * import { rejects, strictEqual } from "node:assert/strict";
 * import { regularOrMissing } from "./input_file.ts";
 * strictEqual(await regularOrMissing("/nonexistent/x", "--ref-record"), "missing");
 * await rejects(
 *   regularOrMissing("/dev/null", "--ref-record"),
 *   /--ref-record \/dev\/null: is a character device, not a regular file/,
 * );
 * ```
 */
export async function regularOrMissing(path: string, label: string): Promise<"file" | "missing"> {
  const kind = await inputKind(path);
  if (kind.kind === "not_regular") throw notRegular(path, label, kind.what);
  return kind.kind;
}

function notRegular(path: string, label: string, what: string): UsageError {
  const is = what.startsWith("a ") ? `is ${what}, not a regular file` : `is ${what}`;
  return new UsageError(`${label} ${path}: ${is}`);
}

function tooLarge(path: string, o: InputOptions, size: number): UsageError {
  const mib = (n: number) => `${Math.round(n / (1024 * 1024) * 10) / 10} MiB`;
  return new UsageError(
    `${o.label} ${path}: is ${size > o.maxBytes + 1 ? mib(size) : "larger than the limit"}, ` +
      `more than the ${mib(o.maxBytes)} such a file can be`,
  );
}

/** Reads until end of file or `limit` bytes, whichever comes first. */
async function readAtMost(file: Deno.FsFile, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(64 * 1024);
  while (total < limit) {
    const n = await file.read(buf.subarray(0, Math.min(buf.length, limit - total)));
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
