/**
 * `m17_check snapshots [list|prune]`: the preload snapshots of an out dir (lib/target/snapshot.ts)
 * with their disk use, and their removal; and the Engram directories killed runs left
 * (lib/run/leftovers.ts).
 * @module
 */
import { basename } from "node:path";
import { EXIT, messageOf, UsageError } from "../shared/errors.ts";
import {
  diskMb,
  listSnapshots,
  pickShared,
  removeSnapshotEntry,
  type SnapshotEntry,
  snapshotsRoot,
} from "../target/snapshot.ts";
import { parseFlags } from "./flags.ts";
import {
  describeLeftoverState,
  findRunLeftovers,
  removeLeftover,
  type RunLeftover,
  whatGoes,
} from "../run/leftovers.ts";

/** `m17_check snapshots --help`. */
export const SNAPSHOTS_USAGE = `Usage: m17_check snapshots [list] [--out-dir D]
       m17_check snapshots prune (KEY... | --partial | --all | --killed) [--out-dir D]

Preload snapshots: copies of Engram's data dir after a preload, kept in <out-dir>/snapshots/ and
keyed by the preload stream, its count and the Engram binary that wrote it (README "Preload
snapshots"). A build without a snapshot of its own starts on the one marked "shared".
  list        (default) each snapshot: key, complete or partial, memories, Engram's count after
              restore, the binary that wrote it, preload time, disk used; and the total
  prune KEY   remove these snapshots (a later run preloads again; a build that started on a
              removed shared snapshot starts on the next one made, or preloads afresh)
  --partial   with prune: remove every partial snapshot (interrupted preloads)
  --all       with prune: remove every snapshot
  --killed    with prune: remove only what killed runs left (below)
  --out-dir D results directory (default tmp/m17_performance)
Every prune also removes what an interrupted copy left (.tmp-*, .old-*, unreadable entries).
list also shows the runs' Engram directories in the out dir (<run>_data, <run>_tmp) and whose
they are; those of a run killed with SIGKILL (its claim's pid gone from this host) go with every
prune (and at the start of the next check); the run's logs stay.`;

const SNAPSHOTS_FLAGS = {
  "out-dir": { type: "string" },
  partial: { type: "boolean" },
  all: { type: "boolean" },
  killed: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** What `snapshots` was asked to do. */
export type SnapshotsCommand =
  | { kind: "help" }
  | { kind: "list"; outDir: string }
  | { kind: "prune"; outDir: string; which: "partial" | "all" | "killed" | string[] };

/** `snapshots`'s command line (throws UsageError). */
export function parseSnapshotsArgs(argv: string[]): SnapshotsCommand {
  const { values, positionals } = parseFlags(argv, SNAPSHOTS_FLAGS);
  if (values.help) return { kind: "help" };
  const outDir = values["out-dir"] ?? "tmp/m17_performance";
  const [action = "list", ...keys] = positionals;
  if (action === "list") {
    if (keys.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(keys[0])}`);
    if (values.partial || values.all || values.killed) {
      throw new UsageError("--partial, --all and --killed go with prune");
    }
    return { kind: "list", outDir };
  }
  if (action !== "prune") {
    throw new UsageError(`unknown action ${JSON.stringify(action)} (list or prune)`);
  }
  const flags = [values.partial, values.all, values.killed];
  const chosen = [keys.length > 0, ...flags.map((f) => f === true)].filter(Boolean);
  if (chosen.length !== 1) {
    throw new UsageError("prune needs exactly one of: snapshot keys, --partial, --all, --killed");
  }
  return {
    kind: "prune",
    outDir,
    which: values.all ? "all" : values.partial ? "partial" : values.killed ? "killed" : keys,
  };
}

/**
 * One line of `snapshots list`; `shared`: the snapshot the builds without one of their own start
 * on (`pickShared`).
 */
export function describeEntry(e: SnapshotEntry, shared = false): string {
  const m = e.meta;
  if (m === null) {
    return `${e.name}  not a snapshot (an interrupted copy or a damaged meta.json)  ${
      diskMb(e.bytes)
    }`;
  }
  const state = m.complete ? `complete, ${m.count} memories` : `partial, ${m.stored} of ${m.count}`;
  const held = m.restored_count === null
    ? "not restored yet"
    : `${m.restored_count} held after restore`;
  return `${e.name}  ${state}, ${held}, written by engram sha256 ${m.binary_sha256.slice(0, 12)}${
    shared ? " (shared: builds without their own start on it)" : ""
  }, preload fingerprint ${m.preload_fingerprint.slice(0, 12)}, preloaded in ${
    m.preload_seconds.toFixed(0)
  } s, ${diskMb(e.bytes)}`;
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
      }, ${diskMb(total)} on disk`,
    );
    await listRunDirs(cmd.outDir);
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
      (which === "partial" ? !e.meta.complete : which !== "killed" && which.includes(e.name));
    if (!chosen) continue;
    await removeSnapshotEntry(cmd.outDir, e.name);
    console.log(`removed ${e.name} (${diskMb(e.bytes)})`);
    freed += e.bytes;
    removed++;
  }
  for (const l of await findRunLeftovers(cmd.outDir)) {
    if (l.state.kind !== "killed") continue;
    const what = whatGoes(l);
    const bytes = await removeLeftover(l);
    console.log(`removed the ${what} of the killed run ${l.stem} (${diskMb(bytes)})`);
    freed += bytes;
    removed++;
  }
  console.log(`${removed} removed, ${diskMb(freed)} freed`);
  return EXIT.ok;
}

/**
 * `list`'s second part: every run in the out dir with an Engram directory (`<run>_data`,
 * `<run>_tmp`) or a claim, whose it is, its disk use, and the totals.
 */
async function listRunDirs(outDir: string): Promise<void> {
  const runs = await findRunLeftovers(outDir);
  for (const l of runs) {
    const names = l.dirs.length > 0 ? l.dirs : [l.claim ?? l.stem];
    console.log(
      `${names.map((p) => basename(p)).join(", ")}  ${describeLeftoverState(l.state)}, ${
        diskMb(l.bytes)
      }`,
    );
  }
  const mb = (ls: RunLeftover[]) => diskMb(ls.reduce((a, l) => a + l.bytes, 0));
  // A killed run that kept its data dir (--keep-data) leaves only a few bytes to prune.
  const killed = runs.filter((l) => l.state.kind === "killed" && !l.state.keepsData);
  const total = `${runs.length} run${runs.length === 1 ? "" : "s"} with an Engram directory or a ` +
    `claim in ${outDir}, ${mb(runs)} on disk`;
  console.log(`${total}; ${killed.length} killed (${mb(killed)}; prune removes them)`);
}
