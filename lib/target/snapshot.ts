/**
 * Preload snapshots: copies of a gracefully stopped Engram's data directory after the preload,
 * kept as `<out-dir>/snapshots/<key>/` (`data/` and `meta.json`) and keyed by what determines
 * the preloaded state: the preload stream's fingerprint, the count, and the sha256 of the Engram
 * binary that wrote it. A partial snapshot (an interrupted preload) holds the first `stored`
 * memories of the stream. A run of another build with the same stream and count may start on a
 * complete snapshot too (`sharedSnapshot`). Every write copies into a temporary directory first, renamed into place.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const out = await Deno.makeTempDir();
 * const data = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${data}/wal.log`, "m1\n");
 * const key = snapshotKey("f00d", 2, "ab12");
 * const meta = newSnapshotMeta({ key, preloadFingerprint: "f00d", count: 2, binarySha256: "ab12" });
 * await saveSnapshot(out, data, { ...meta, stored: 2, complete: true, engram_version: null });
 * strictEqual((await readSnapshot(out, key))?.meta.stored, 2);
 * await Deno.remove(out, { recursive: true });
 * await Deno.remove(data, { recursive: true });
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic } from "../shared/atomic.ts";
import { messageOf } from "../shared/errors.ts";
import { PLATFORM } from "../shared/platform.ts";

/** What `meta.json` holds (format 1). */
export interface SnapshotMeta {
  format: 1;
  key: string;
  /** The preload stream's fingerprint (lib/workload/ops.ts `preloadStreamFingerprint`). */
  preload_fingerprint: string;
  /** Memories the preload stores. */
  count: number;
  /** Memories of the stream stored so far: `count` when complete, fewer in a partial snapshot. */
  stored: number;
  complete: boolean;
  /** sha256 of the Engram binary that wrote the data. */
  binary_sha256: string;
  engram_version: string | null;
  created_at: string;
  /** Seconds spent preloading it, summed over its parts. */
  preload_seconds: number;
  /**
   * Engram's memory count when the snapshot was first restored: every later start on a copy
   * must report it. Null until the first restore.
   */
  restored_count: number | null;
  /**
   * The vector-index probe of the live store right after the preload, before the graceful stop
   * (lib/run/index_probe.ts); absent in snapshots made before the probe existed, or when it failed.
   */
  index_probe?: { probes: number; found: number };
}

/** One snapshot on disk. */
export interface Snapshot {
  key: string;
  /** `<out-dir>/snapshots/<key>`. */
  dir: string;
  /** The copied data directory (`<dir>/data`). */
  dataDir: string;
  meta: SnapshotMeta;
}

/** The directory holding every snapshot of an out dir. */
export function snapshotsRoot(outDir: string): string {
  return join(outDir, "snapshots");
}

/** The snapshot key: 20 hex digits of the sha256 of fingerprint, count and binary. */
export function snapshotKey(
  preloadFingerprint: string,
  count: number,
  binarySha256: string,
): string {
  return createHash("sha256")
    .update(JSON.stringify({ preloadFingerprint, count, binarySha256 }))
    .digest("hex").slice(0, 20);
}

/** A partial snapshot's meta before anything is stored. */
export function newSnapshotMeta(
  k: { key: string; preloadFingerprint: string; count: number; binarySha256: string },
): SnapshotMeta {
  return {
    format: 1,
    key: k.key,
    preload_fingerprint: k.preloadFingerprint,
    count: k.count,
    stored: 0,
    complete: false,
    binary_sha256: k.binarySha256,
    engram_version: null,
    created_at: new Date().toISOString(),
    preload_seconds: 0,
    restored_count: null,
  };
}

/** A meta.json `index_probe`: found of probes, both whole numbers. */
function probeOk(p: unknown): boolean {
  const o = p as { probes?: unknown; found?: unknown } | null;
  return typeof o === "object" && o !== null && Number.isInteger(o.probes) &&
    Number.isInteger(o.found) && (o.found as number) >= 0 &&
    (o.found as number) <= (o.probes as number);
}

function parseMeta(text: string, key: string): SnapshotMeta | null {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  const ok = m !== null && typeof m === "object" && m.format === 1 && m.key === key &&
    typeof m.preload_fingerprint === "string" && num(m.count) && num(m.stored) &&
    typeof m.complete === "boolean" && typeof m.binary_sha256 === "string" &&
    num(m.preload_seconds) && (m.restored_count === null || num(m.restored_count)) &&
    (m.engram_version === null || typeof m.engram_version === "string") &&
    typeof m.created_at === "string" && (m.index_probe === undefined || probeOk(m.index_probe));
  return ok ? m as unknown as SnapshotMeta : null;
}

/** The snapshot `key` of `outDir`, or null when there is none (or its meta.json is unreadable). */
export async function readSnapshot(outDir: string, key: string): Promise<Snapshot | null> {
  const dir = join(snapshotsRoot(outDir), key);
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, "meta.json"));
  } catch {
    return null;
  }
  const meta = parseMeta(text, key);
  if (meta === null) return null;
  const dataDir = join(dir, "data");
  if (!(await Deno.stat(dataDir).catch(() => null))?.isDirectory) return null;
  return { key, dir, dataDir, meta };
}

/**
 * Of `snapshots`, the one a run of build `binarySha256` starts on when its build has none of its
 * own: a complete one another build wrote for the same preload stream and count, whose count after
 * restore is recorded (its writer restored it once), the one made first (oldest `created_at`, ties
 * by key), so every build of a milestone starts on one state. Null when there is none. Whether
 * this build reads it the same way is checked after the start (Engram's memory count against
 * `restored_count`).
 */
export function pickShared<T extends { meta: SnapshotMeta | null }>(
  snapshots: T[],
  preloadFingerprint: string,
  count: number,
  binarySha256: string | null,
): T | null {
  const usable = snapshots.filter(({ meta: m }) =>
    m !== null && m.complete && m.restored_count !== null && m.count === count &&
    m.preload_fingerprint === preloadFingerprint && m.binary_sha256 !== binarySha256
  );
  const order = (x: string, y: string) => x < y ? -1 : x > y ? 1 : 0;
  usable.sort((x, y) =>
    order(x.meta!.created_at, y.meta!.created_at) || order(x.meta!.key, y.meta!.key)
  );
  return usable[0] ?? null;
}

/** `pickShared` among the snapshots of `outDir` (entries being copied or left by a crash skipped). */
export async function sharedSnapshot(
  outDir: string,
  preloadFingerprint: string,
  count: number,
  binarySha256: string,
): Promise<Snapshot | null> {
  const snapshots: Snapshot[] = [];
  try {
    for await (const e of Deno.readDir(snapshotsRoot(outDir))) {
      if (!e.isDirectory || e.name.startsWith(".")) continue; // `.tmp-…`, `.old-…`
      const s = await readSnapshot(outDir, e.name);
      if (s !== null) snapshots.push(s);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return pickShared(snapshots, preloadFingerprint, count, binarySha256);
}

/**
 * Copies a directory tree into `to`, which must exist, keeping sparse files sparse: Engram
 * preallocates a 3.1 GB `warm_tier.dat` that holds a few MB, and a plain copy would write all of
 * it. GNU `cp --sparse=always` (Linux) punches holes for zero blocks; elsewhere `cp -R -p`; without
 * `cp`, a walk that copies files, directories and symlinks.
 */
export async function copyTree(from: string, to: string): Promise<void> {
  const args = PLATFORM.linux
    ? ["-a", "--sparse=always", `${from}/.`, `${to}/`]
    : ["-R", "-p", `${from}/.`, `${to}/`];
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("cp", { args, stdout: "null", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return await walkCopy(from, to);
    throw e;
  }
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new Error(`cp ${args.join(" ")} failed: ${why || `exit code ${out.code}`}`);
  }
}

async function walkCopy(from: string, to: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory) {
      await Deno.mkdir(dst);
      await walkCopy(src, dst);
    } else if (e.isSymlink) {
      await Deno.symlink(await Deno.readLink(src), dst);
    } else if (e.isFile) {
      await Deno.copyFile(src, dst);
    } // sockets and FIFOs are not data
  }
}

/** Disk used by the regular files under `dir` (allocated blocks; 0 when it is missing). */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) total += await treeBytes(p);
      else if (e.isFile) {
        const st = await Deno.lstat(p);
        total += st.blocks !== null ? st.blocks * 512 : st.size;
      }
    }
  } catch { /* gone meanwhile */ }
  return total;
}

/** Disk use in words: MB (10^6 bytes) with one decimal, as `snapshots list` and the run print it. */
export function diskMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

const TEMP_PREFIX = ".tmp-";
const OLD_PREFIX = ".old-";

/**
 * A fresh scratch directory `<out-dir>/snapshots/.tmp-<name>-<pid>` for a copy of a data dir:
 * beside the snapshots, on the filesystem that holds them, never in the system temp dir (small, or
 * RAM on tmpfs; a 100K data dir is ~450 MB). The caller removes it; one a crash leaves is skipped
 * by `sharedSnapshot`, listed as a leftover and removed by every prune.
 */
export async function scratchDir(outDir: string, name: string): Promise<string> {
  const root = snapshotsRoot(outDir);
  const dir = join(root, `${TEMP_PREFIX}${name}-${Deno.pid}`);
  await Deno.mkdir(root, { recursive: true });
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir);
  return dir;
}

/**
 * Keeps a copy of the stopped Engram's `dataDir` as snapshot `meta.key` (replacing an older one
 * of that key): copied into `.tmp-<key>-<pid>` with its meta.json, then renamed into place.
 */
export async function saveSnapshot(
  outDir: string,
  dataDir: string,
  meta: SnapshotMeta,
): Promise<Snapshot> {
  const root = snapshotsRoot(outDir);
  await Deno.mkdir(root, { recursive: true });
  const temp = join(root, `${TEMP_PREFIX}${meta.key}-${Deno.pid}`);
  const old = join(root, `${OLD_PREFIX}${meta.key}-${Deno.pid}`);
  const dir = join(root, meta.key);
  await Deno.remove(temp, { recursive: true }).catch(() => {});
  try {
    await Deno.mkdir(join(temp, "data"), { recursive: true });
    await copyTree(dataDir, join(temp, "data"));
    await Deno.writeTextFile(join(temp, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
    const replacing = await Deno.stat(dir).then(() => true, () => false);
    if (replacing) await Deno.rename(dir, old);
    await Deno.rename(temp, dir);
    if (replacing) await Deno.remove(old, { recursive: true });
  } catch (e) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw new Error(`snapshot ${dir}: cannot keep the data dir (${messageOf(e)})`);
  }
  return { key: meta.key, dir, dataDir: join(dir, "data"), meta };
}

/** Rewrites a snapshot's meta.json (atomically) with `patch` applied. */
export async function updateSnapshotMeta(
  s: Snapshot,
  patch: Partial<SnapshotMeta>,
): Promise<Snapshot> {
  const meta = { ...s.meta, ...patch };
  await writeFileAtomic(join(s.dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  return { ...s, meta };
}

/** One entry of `snapshots list`: a snapshot, or a directory that is not one (a leftover). */
export interface SnapshotEntry {
  name: string;
  dir: string;
  bytes: number;
  /** Null: not a readable snapshot (a crashed copy, a damaged meta.json). */
  meta: SnapshotMeta | null;
}

/** Every directory under the snapshots root, sorted by name, with its disk use. */
export async function listSnapshots(outDir: string): Promise<SnapshotEntry[]> {
  const root = snapshotsRoot(outDir);
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) if (e.isDirectory) names.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  names.sort();
  const out: SnapshotEntry[] = [];
  for (const name of names) {
    const s = await readSnapshot(outDir, name);
    const dir = join(root, name);
    out.push({ name, dir, bytes: await treeBytes(dir), meta: s?.meta ?? null });
  }
  return out;
}

/** Removes one entry of the snapshots root (a snapshot or a leftover) by name. */
export async function removeSnapshotEntry(outDir: string, name: string): Promise<void> {
  if (name.includes("/") || name === "." || name === "..") {
    throw new Error(`${name}: not a snapshot name`);
  }
  await Deno.remove(join(snapshotsRoot(outDir), name), { recursive: true });
}
