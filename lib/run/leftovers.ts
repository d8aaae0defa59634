/**
 * What runs killed with SIGKILL left in an out dir (a session that ends kills every process, and
 * no handler runs): the Engram data dir and TMPDIR of the run (`<stem>_data`, `<stem>_tmp`,
 * lib/target/engram_dirs.ts; hundreds of MB at 100,000 memories) and its `.claim`. A run's claim
 * names its owner (pid, host); a run whose owner is gone from this host is dead, and what it left
 * may go. Never removed: anything whose owner may be alive (a live pid, another host), a killed
 * check's directories while the Engram it started still runs (the `engram.pid` in its TMPDIR: a
 * kill of the check alone; reported), a claim that names no owner (empty, or made before claims
 * named one: reported), a directory without a claim, the data dir of a killed run that kept it
 * (`--keep-data`, in its claim), and the killed run's logs (`_loadtest.log`, `_server.log`: the
 * evidence of what happened).
 * @module
 */
import { basename, dirname, join } from "node:path";
import { match } from "ts-pattern";
import { type ClaimOwner, filesFor, parseAnyReportName, readClaimOwner } from "../report/files.ts";
import { messageOf } from "../shared/errors.ts";
import { engramPidIn, engramRunDirs, parseEngramRunDir } from "../target/engram_dirs.ts";
import { diskMb, treeBytes } from "../target/snapshot.ts";
import { isAlive, ownerState } from "../target/system.ts";

/** Whose a run's leftover directories are, and so whether they may go. */
export type LeftoverState =
  /** The claim's owner ran on this host and is gone: everything listed may be removed. */
  | { kind: "killed"; pid: number; reportWritten: boolean; keepsData: boolean }
  /** The claim's owner is gone but its Engram still runs (a kill of the check alone). */
  | { kind: "server_alive"; pid: number; serverPid: number }
  /** The claim's owner is alive (or its pid is another live process's): the run is in use. */
  | { kind: "running"; pid: number }
  /** The claim's owner ran on another host sharing the out dir: its pid says nothing here. */
  | { kind: "other_host"; pid: number; host: string }
  /** The claim names no owner (empty, or of the old format): not removed, only reported. */
  | { kind: "unknown_owner" }
  /** No claim: kept on purpose (`--keep-data`) or by an older version; left alone. */
  | { kind: "unclaimed" };

/** One run's leftovers in the out dir. */
export interface RunLeftover {
  /** The run's stem (file name without extension). */
  stem: string;
  /** Its Engram directories still on disk (`<stem>_data`, `<stem>_tmp`). */
  dirs: string[];
  /** Its `.claim` file, or null when there is none. */
  claim: string | null;
  /** Disk used by `dirs`. */
  bytes: number;
  state: LeftoverState;
}

/**
 * Every run of `outDir` with an Engram directory or a claim, by stem (sorted), with whose it is.
 * A claim without directories whose owner is not known is left out: it may be a run claiming its
 * stem this very moment (the claim is created, then its owner written).
 */
export async function findRunLeftovers(outDir: string): Promise<RunLeftover[]> {
  const byStem = new Map<string, { dirs: string[]; claim: string | null }>();
  const entry = (stem: string) => {
    let e = byStem.get(stem);
    if (!e) byStem.set(stem, e = { dirs: [], claim: null });
    return e;
  };
  try {
    for await (const e of Deno.readDir(outDir)) {
      const dir = e.isDirectory ? parseEngramRunDir(e.name) : null;
      if (dir !== null && isRunStem(dir.stem)) entry(dir.stem).dirs.push(join(outDir, e.name));
      const claimed = e.isFile && e.name.endsWith(".claim") ? e.name.slice(0, -6) : null;
      if (claimed !== null && isRunStem(claimed)) entry(claimed).claim = join(outDir, e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const found: RunLeftover[] = [];
  for (const [stem, { dirs, claim }] of [...byStem].sort(([a], [b]) => a.localeCompare(b))) {
    const owner: ClaimOwner | null = claim === null ? null : await readClaimOwner(claim);
    if (owner?.kind === "unknown" && dirs.length === 0) continue;
    dirs.sort();
    const state = await stateOf(owner, join(outDir, stem));
    let bytes = 0;
    for (const dir of dirs) bytes += await treeBytes(dir);
    found.push({ stem, dirs, claim, bytes, state });
  }
  return found;
}

/** A name a run's files are called by: `[competitive_]<task>_<phase>_<stamp>[_N]`. */
function isRunStem(name: string): boolean {
  return parseAnyReportName(`${name}.json`) !== null;
}

async function stateOf(owner: ClaimOwner | null, stemPath: string): Promise<LeftoverState> {
  if (owner === null) return { kind: "unclaimed" };
  if (owner.kind === "unknown") return { kind: "unknown_owner" };
  const { pid, host } = owner;
  return await match(await ownerState(owner))
    .with("alive", () => Promise.resolve({ kind: "running", pid } as const))
    .with("other_host", () => Promise.resolve({ kind: "other_host", pid, host } as const))
    .with("dead", () => deadOwnerState(pid, owner.keepsData, stemPath))
    .exhaustive();
}

/** A run whose check is gone: killed, unless the Engram it started (its `engram.pid`) runs on. */
async function deadOwnerState(
  pid: number,
  keepsData: boolean,
  stemPath: string,
): Promise<LeftoverState> {
  const serverPid = await engramPidIn(engramRunDirs(dirname(stemPath), stemPath).tmp);
  if (serverPid !== null && await isAlive(serverPid)) {
    return { kind: "server_alive", pid, serverPid };
  }
  const reportWritten = await Deno.lstat(filesFor(stemPath).report).then(() => true, () => false);
  return { kind: "killed", pid, reportWritten, keepsData };
}

/** The directories of a killed run that go: all but a data dir its run kept (`--keep-data`). */
function removable(l: RunLeftover): string[] {
  const keepsData = l.state.kind === "killed" && l.state.keepsData;
  return l.dirs.filter((d) => !(keepsData && parseEngramRunDir(basename(d))?.suffix === "_data"));
}

/**
 * Removes a killed run's directories (`removable`), then its claim (last: while the claim stands,
 * no new run takes the stem and makes directories of that name); returns the bytes freed. Its
 * logs stay.
 */
export async function removeLeftover(l: RunLeftover): Promise<number> {
  if (l.state.kind !== "killed") throw new Error(`${l.stem}: not a killed run's leftovers`);
  const goneMeanwhile = (e: unknown) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  };
  let freed = 0;
  for (const dir of removable(l)) {
    freed += await treeBytes(dir);
    await Deno.remove(dir, { recursive: true }).catch(goneMeanwhile);
  }
  if (l.claim !== null) await Deno.remove(l.claim).catch(goneMeanwhile);
  return freed;
}

/** Why a killed run's leftovers may go, in words. */
function killedWords(k: Extract<LeftoverState, { kind: "killed" }>): string {
  return `pid ${k.pid} is gone, ${
    k.reportWritten ? "killed after its report was written" : "no report"
  }; its logs are kept${k.keepsData ? ", and its data dir (--keep-data)" : ""}`;
}

/** Whose a leftover is and what may happen to it, in words (`snapshots list`). */
export function describeLeftoverState(s: LeftoverState): string {
  return match(s)
    .with(
      { kind: "killed" },
      (k) =>
        `left by a killed run (${killedWords(k)}): prune removes ${
          k.keepsData ? "its TMPDIR and claim" : "it"
        }`,
    )
    .with({ kind: "running" }, (r) => `in use by the run of pid ${r.pid}`)
    .with({ kind: "server_alive" }, (a) => serverAliveWords(a))
    .with({ kind: "other_host" }, (o) => `claimed by pid ${o.pid} on host ${o.host}`)
    .with({ kind: "unknown_owner" }, () => UNKNOWN_OWNER)
    .with({ kind: "unclaimed" }, () => "no claim (kept with --keep-data, or an older m17_check)")
    .exhaustive();
}

function serverAliveWords(a: Extract<LeftoverState, { kind: "server_alive" }>): string {
  return `its run (pid ${a.pid}) is gone but its Engram (pid ${a.serverPid}) still runs: not ` +
    `removed; stop it (m17_check diag --kill-leaked) and the next check removes it`;
}

const UNKNOWN_OWNER =
  "its claim names no owner (made by an older m17_check): whether its run is alive cannot be told, so it is not removed";

/** What of a killed run's leftovers goes, in words: `data dir and TMPDIR`, `claim`. */
export function whatGoes(l: RunLeftover): string {
  const names = removable(l).map((d) => d.endsWith("_data") ? "data dir" : "TMPDIR");
  return names.length === 0 ? "claim" : names.join(" and ");
}

/**
 * At the start of a check: removes what killed runs left in `outDir` and says so, one line each
 * (`out dir: removed the data dir and TMPDIR of a killed run … (pid 4242 is gone, no report; its
 * logs are kept): 302.0 MB freed`); says which it leaves because it cannot tell (a claim naming
 * no owner) or because the killed run's Engram still runs. Running runs, other hosts' and
 * unclaimed directories: not a word.
 */
export async function removeKilledRuns(outDir: string, say: (line: string) => void): Promise<void> {
  let found: RunLeftover[];
  try {
    found = await findRunLeftovers(outDir);
  } catch (e) {
    say(`out dir: not looked for what killed runs left (${messageOf(e)})`);
    return;
  }
  for (const l of found) {
    if (l.state.kind === "killed") {
      const what = whatGoes(l);
      let freed: number;
      try {
        freed = await removeLeftover(l);
      } catch (e) {
        say(`out dir: cannot remove the ${what} of a killed run ${l.stem} (${messageOf(e)})`);
        continue;
      }
      say(
        `out dir: removed the ${what} of a killed run ${l.stem} (${killedWords(l.state)})${
          what === "claim" ? "" : `: ${diskMb(freed)} freed`
        }`,
      );
    } else if (l.state.kind === "unknown_owner") {
      say(
        `out dir: ${l.dirs.join(", ")} (${diskMb(l.bytes)}): ${UNKNOWN_OWNER}; if no run uses ` +
          `it, remove it and ${l.claim}`,
      );
    } else if (l.state.kind === "server_alive") {
      say(`out dir: ${l.dirs.join(", ")} (${diskMb(l.bytes)}): ${serverAliveWords(l.state)}`);
    }
  }
}
