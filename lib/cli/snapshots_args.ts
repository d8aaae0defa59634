/**
 * `m17_check snapshots [list|prune]`: the preload snapshots of an out dir (lib/target/snapshot.ts)
 * with their disk use, and their removal.
 * @module
 */
import { EXIT, messageOf, UsageError } from "../shared/errors.ts";
import {
  listSnapshots,
  pickShared,
  removeSnapshotEntry,
  type SnapshotEntry,
  snapshotsRoot,
} from "../target/snapshot.ts";
import { parseFlags } from "./flags.ts";

/** `m17_check snapshots --help`. */
export const SNAPSHOTS_USAGE = `Usage: m17_check snapshots [list] [--out-dir D]
       m17_check snapshots prune (KEY... | --partial | --all) [--out-dir D]

Preload snapshots: copies of Engram's data dir after a preload, kept in <out-dir>/snapshots/ and
keyed by the preload stream, its count and the Engram binary that wrote it (README "Preload
snapshots"). A build without a snapshot of its own starts on the one marked "shared".
  list        (default) each snapshot: key, complete or partial, memories, Engram's count after
              restore, the binary that wrote it, preload time, disk used; and the total
  prune KEY   remove these snapshots (a later run preloads again; a build that started on a
              removed shared snapshot starts on the next one made, or preloads afresh)
  --partial   with prune: remove every partial snapshot (interrupted preloads)
  --all       with prune: remove every snapshot
  --out-dir D results directory (default tmp/m17_performance)
Every prune also removes what an interrupted copy left (.tmp-*, .old-*, unreadable entries).`;

const SNAPSHOTS_FLAGS = {
  "out-dir": { type: "string" },
  partial: { type: "boolean" },
  all: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** What `snapshots` was asked to do. */
export type SnapshotsCommand =
  | { kind: "help" }
  | { kind: "list"; outDir: string }
  | { kind: "prune"; outDir: string; which: "partial" | "all" | string[] };

/** `snapshots`'s command line (throws UsageError). */
export function parseSnapshotsArgs(argv: string[]): SnapshotsCommand {
  const { values, positionals } = parseFlags(argv, SNAPSHOTS_FLAGS);
  if (values.help) return { kind: "help" };
  const outDir = values["out-dir"] ?? "tmp/m17_performance";
  const [action = "list", ...keys] = positionals;
  if (action === "list") {
    if (keys.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(keys[0])}`);
    if (values.partial || values.all) throw new UsageError("--partial and --all go with prune");
    return { kind: "list", outDir };
  }
  if (action !== "prune") {
    throw new UsageError(`unknown action ${JSON.stringify(action)} (list or prune)`);
  }
  const chosen = [keys.length > 0, values.partial === true, values.all === true].filter(Boolean);
  if (chosen.length !== 1) {
    throw new UsageError("prune needs exactly one of: snapshot keys, --partial, --all");
  }
  return {
    kind: "prune",
    outDir,
    which: values.all ? "all" : values.partial ? "partial" : keys,
  };
}

/** Bytes as MB with one decimal. */
function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * One line of `snapshots list`; `shared`: the snapshot the builds without one of their own start
 * on (`pickShared`).
 */
export function describeEntry(e: SnapshotEntry, shared = false): string {
  const m = e.meta;
  if (m === null) {
    return `${e.name}  not a snapshot (an interrupted copy or a damaged meta.json)  ${mb(e.bytes)}`;
  }
  const state = m.complete ? `complete, ${m.count} memories` : `partial, ${m.stored} of ${m.count}`;
  const held = m.restored_count === null
    ? "not restored yet"
    : `${m.restored_count} held after restore`;
  return `${e.name}  ${state}, ${held}, written by engram sha256 ${m.binary_sha256.slice(0, 12)}${
    shared ? " (shared: builds without their own start on it)" : ""
  }, preload fingerprint ${m.preload_fingerprint.slice(0, 12)}, preloaded in ${
    m.preload_seconds.toFixed(0)
  } s, ${mb(e.bytes)}`;
}

/** Runs `snapshots`; returns the exit code (3 for usage errors, printed with the usage). */
export async function snapshotsCommand(argv: string[]): Promise<number> {
  let cmd: SnapshotsCommand;
  try {
    cmd = parseSnapshotsArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`m17_check snapshots: ${messageOf(e)}\n${SNAPSHOTS_USAGE}`);
    return EXIT.usage;
  }
  if (cmd.kind === "help") {
    console.log(SNAPSHOTS_USAGE);
    return EXIT.ok;
  }
  const entries = await listSnapshots(cmd.outDir);
  if (cmd.kind === "list") {
    for (const e of entries) {
      const m = e.meta;
      const shared = m !== null && pickShared(entries, m.preload_fingerprint, m.count, null) === e;
      console.log(describeEntry(e, shared));
    }
    const total = entries.reduce((a, e) => a + e.bytes, 0);
    console.log(
      `${entries.length} entr${entries.length === 1 ? "y" : "ies"} in ${
        snapshotsRoot(cmd.outDir)
      }, ${mb(total)} on disk`,
    );
    return EXIT.ok;
  }
  const which = cmd.which;
  if (Array.isArray(which)) {
    const unknown = which.find((k) => !entries.some((e) => e.name === k));
    if (unknown !== undefined) {
      console.error(`m17_check snapshots: no snapshot ${unknown} in ${snapshotsRoot(cmd.outDir)}`);
      return EXIT.usage;
    }
  }
  let freed = 0, removed = 0;
  for (const e of entries) {
    const chosen = e.meta === null || which === "all" ||
      (which === "partial" ? !e.meta.complete : which.includes(e.name));
    if (!chosen) continue;
    await removeSnapshotEntry(cmd.outDir, e.name);
    console.log(`removed ${e.name} (${mb(e.bytes)})`);
    freed += e.bytes;
    removed++;
  }
  console.log(`${removed} removed, ${mb(freed)} freed`);
  return EXIT.ok;
}
