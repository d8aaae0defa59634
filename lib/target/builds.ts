/**
 * Kept builds: the exact server binary a check ran, content-addressed in the results directory,
 * so `m17_check <task> confirm` can run the same bytes again later, whatever happened to the
 * checkout since (a rebuild, another commit, a deleted tree).
 *
 *   <out-dir>/builds/<sha256>/engram       the binary (mode 0755), copied, never linked: cargo
 *                                          may rewrite target/release/engram in place
 *   <out-dir>/builds/<sha256>/build.json   what it is (`BuildRecord`)
 *
 * A build is kept once per content (same sha256: the existing copy is reused after its hash is
 * checked); both files are written under a temporary name and renamed into place, so a kept
 * build is complete or absent. Which reports use a build is not stored here: a report records
 * `target.details.binary_sha256`, and `m17_check builds` reads the reports.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic } from "../shared/atomic.ts";
import { messageOf, RunError } from "../shared/errors.ts";

/** The kept builds' folder inside the results directory. */
export const BUILDS_DIR = "builds";

/** Which cargo profile built the binary: `release`, or `m17-profile` (`check --profile`). */
export type BuildProfile = "release" | "m17-profile";

/** `build.json`: what a kept binary is and where it came from. */
export interface BuildRecord {
  sha256: string;
  /** Bytes of the binary. */
  size: number;
  /** The checkout's commit and dirty flag when the binary was kept (null outside git). */
  git_commit: string | null;
  git_dirty: boolean | null;
  build_profile: BuildProfile;
  /** The Engram checkout it was built in. */
  checkout: string;
  /** The file it was copied from (`<checkout>/target/release/engram`). */
  source: string;
  /** When it was first kept (ISO 8601 UTC). */
  first_kept_at: string;
}

/** What is known of a binary before it is kept. */
export type BuildOrigin = Pick<
  BuildRecord,
  "git_commit" | "git_dirty" | "build_profile" | "checkout"
>;

/** A binary the store holds: where it is and what it is. */
export interface KeptBuild {
  sha256: string;
  /** The kept binary. */
  path: string;
  record: BuildRecord;
}

/** Bytes read at a time while hashing and copying. */
const CHUNK = 1 << 20;

/** SHA-256 (hex) of a file's bytes, read in chunks (a release binary is tens of MB). */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const buf = new Uint8Array(CHUNK);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/** The folder of the build with `sha256`. */
export function buildDir(outDir: string, sha256: string): string {
  return join(outDir, BUILDS_DIR, sha256);
}

/** The kept binary of the build with `sha256`. */
export function keptBinaryPath(outDir: string, sha256: string): string {
  return join(buildDir(outDir, sha256), "engram");
}

/** A 64-digit lowercase hex SHA-256. */
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Keeps `binary` in `outDir`'s store and returns the kept copy. Reuses an existing copy of the
 * same content (its hash checked; a damaged copy is replaced). A binary that changes while it is
 * copied (cargo rebuilding) is a RunError, as is a store that cannot be written.
 */
export async function keepBuild(
  outDir: string,
  binary: string,
  origin: BuildOrigin,
  now: Date = new Date(),
): Promise<KeptBuild & { reused: boolean }> {
  const sha256 = await sha256OfFile(binary);
  const dir = buildDir(outDir, sha256);
  const path = keptBinaryPath(outDir, sha256);
  const existing = await verifyKeptBuild(outDir, sha256);
  if (existing.kind === "ok") return { ...existing.build, reused: true };
  try {
    await Deno.mkdir(dir, { recursive: true });
    const temp = join(dir, `.engram.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`);
    try {
      await Deno.copyFile(binary, temp);
      await Deno.chmod(temp, 0o755);
      const copied = await sha256OfFile(temp);
      if (copied !== sha256) {
        throw new RunError(
          `${binary} changed while it was kept (a build running?): sha256 ${
            sha256.slice(0, 12)
          } then ${copied.slice(0, 12)}`,
        );
      }
      const record: BuildRecord = {
        sha256,
        size: (await Deno.stat(temp)).size,
        ...origin,
        source: binary,
        first_kept_at: existing.kind === "mismatch" && existing.record
          ? existing.record.first_kept_at
          : now.toISOString(),
      };
      // The record first: a binary in place always has its record.
      await writeFileAtomic(join(dir, "build.json"), JSON.stringify(record, null, 2) + "\n");
      await Deno.rename(temp, path);
      return { sha256, path, record, reused: false };
    } finally {
      await Deno.remove(temp).catch(() => {});
    }
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot keep ${binary} in ${dir}: ${messageOf(e)}`);
  }
}

/** Whether the store holds the build with `sha256`, intact. */
export type KeptCheck =
  | { kind: "ok"; build: KeptBuild }
  | { kind: "missing"; path: string }
  /** The file is there but its bytes are not the recorded build's (or its record is gone). */
  | { kind: "mismatch"; path: string; actual: string | null; record: BuildRecord | null };

/** Checks the kept build `sha256`: present, its bytes hash to its name, its record readable. */
export async function verifyKeptBuild(outDir: string, sha256: string): Promise<KeptCheck> {
  const path = keptBinaryPath(outDir, sha256);
  if (!SHA256.test(sha256)) return { kind: "missing", path };
  const info = await Deno.stat(path).catch(() => null);
  if (!info?.isFile) return { kind: "missing", path };
  const record = await readRecord(buildDir(outDir, sha256));
  const actual = await sha256OfFile(path).catch(() => null);
  if (actual !== sha256 || record === null || record.sha256 !== sha256) {
    return { kind: "mismatch", path, actual, record };
  }
  return { kind: "ok", build: { sha256, path, record } };
}

/** The `build.json` of a build folder, or null when it is missing or not a record. */
async function readRecord(dir: string): Promise<BuildRecord | null> {
  try {
    const r = JSON.parse(await Deno.readTextFile(join(dir, "build.json")));
    return typeof r?.sha256 === "string" && typeof r?.first_kept_at === "string" ? r : null;
  } catch {
    return null;
  }
}

/** One folder of the store, as listed (its hash is not checked: listing stays fast). */
export interface StoredBuild {
  sha256: string;
  dir: string;
  /** Bytes on disk of the folder's files (binary, record, leftovers). */
  bytes: number;
  /** Null when build.json is missing or unreadable. */
  record: BuildRecord | null;
}

/** Every build folder in `outDir`'s store, oldest first (by when it was kept). */
export async function listStoredBuilds(outDir: string): Promise<StoredBuild[]> {
  const root = join(outDir, BUILDS_DIR);
  const found: StoredBuild[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      if (!entry.isDirectory || !SHA256.test(entry.name)) continue;
      const dir = join(root, entry.name);
      let bytes = 0;
      for await (const f of Deno.readDir(dir)) {
        if (f.isFile) bytes += (await Deno.stat(join(dir, f.name)).catch(() => null))?.size ?? 0;
      }
      found.push({ sha256: entry.name, dir, bytes, record: await readRecord(dir) });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw new RunError(`cannot list ${root}: ${messageOf(e)}`);
  }
  const at = (b: StoredBuild) => b.record?.first_kept_at ?? "";
  return found.sort((a, b) => at(a).localeCompare(at(b)) || a.sha256.localeCompare(b.sha256));
}

/**
 * Removes a kept build: its folder is renamed out of the store first, so a half-removed build is
 * never found as a build.
 */
export async function removeStoredBuild(build: StoredBuild): Promise<void> {
  const doomed = join(build.dir, "..", `.removing.${build.sha256}.${Deno.pid}`);
  await Deno.rename(build.dir, doomed);
  await Deno.remove(doomed, { recursive: true });
}

/** The server binary a run starts, and what it is. */
export interface EngramBinary {
  /** The file run. */
  path: string;
  sha256: string;
  /** The kept copy (normally `path`); null when it could not be kept (the run goes on). */
  kept: string | null;
  origin: BuildOrigin;
}

/** The report's `target.details` fields of the binary a run started. */
export function binaryDetails(b: EngramBinary): {
  binary: string;
  binary_sha256: string;
  kept_binary: string | null;
  build_profile: BuildProfile;
} {
  return {
    binary: b.path,
    binary_sha256: b.sha256,
    kept_binary: b.kept,
    build_profile: b.origin.build_profile,
  };
}
