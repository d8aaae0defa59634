/**
 * Every file name the two tools make or look for, made and parsed here:
 * a run's files `<out>/[competitive_]<task>_<phase>_<YYYYmmdd_HHMMSS>[_N]` + `.json`,
 * `_loadtest.log`, `_sys.txt`, `_diag.txt`, `.hlog`, `_server.log`, `.html`, `.claim`, and
 * compare's page `<dir>/[competitive_]<task>_compare.html`. A run claims its stem with an
 * exclusive create, so two runs started in the same second get distinct names (`…_HHMMSS_2`),
 * never overwriting.
 *
 * @example
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * import { filesFor, parseReportName } from "./files.ts";
 * const files = filesFor("tmp/001_after_20250101_120000_2");
 * strictEqual(files.report, "tmp/001_after_20250101_120000_2.json");
 * deepStrictEqual(parseReportName("001_after_20250101_120000_2.json", "001", "after", "internal"), {
 *   timestamp: "20250101_120000",
 *   suffix: 2,
 * });
 * ```
 * @module
 */
import { join } from "node:path";
import { match } from "ts-pattern";
import { UsageError } from "../shared/errors.ts";
import { inputKind } from "../shared/input_file.ts";
import type { Mode, Phase } from "./schema.ts";

/** Local time as `YYYYmmdd_HHMMSS` (the old scripts' `date +%Y%m%d_%H%M%S`). */
export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${
    p(d.getMinutes())
  }${p(d.getSeconds())}`;
}

const REPORT_EXT = ".json";
const TASK_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The task id of the milestone confirm's runs (`m17_check milestone confirm`): its before runs
 * are the milestone's first before build, its after runs the latest after build. Not a step of
 * the milestone (`--history` leaves it out), and `check` does not take it as a task.
 */
export const MILESTONE_TASK = "milestone";

/** Returns `id` when it is a valid task id (1–64 of `[A-Za-z0-9._-]`, never a path). */
export function validateTaskId(id: string): string {
  if (!TASK_ID.test(id) || id.includes("..") || id === ".") {
    throw new UsageError(
      `task id '${id}' is not valid: use 1-64 characters of A-Z a-z 0-9 . _ - (no '..', no '/')`,
    );
  }
  return id;
}

const modePrefix = (mode: Mode) => mode === "competitive" ? "competitive_" : "";

/** File name prefix of a task's runs: `[competitive_]<task>_<phase>`. */
export function reportPrefix(task: string, phase: Phase, mode: Mode): string {
  return `${modePrefix(mode)}${task}_${phase}`;
}

/** The glob-like pattern of a task's reports, for messages: `<prefix>_*.json`. */
export function reportPattern(task: string, phase: Phase, mode: Mode): string {
  return `${reportPrefix(task, phase, mode)}_*${REPORT_EXT}`;
}

/** Timestamp and same-second suffix of a report name, or null when it is not such a report. */
export function parseReportName(
  name: string,
  task: string,
  phase: Phase,
  mode: Mode,
): { timestamp: string; suffix: number } | null {
  const prefix = reportPrefix(task, phase, mode);
  if (!name.startsWith(prefix + "_")) return null;
  const m = /^_(\d{8}_\d{6})(?:_(\d+))?\.json$/.exec(name.slice(prefix.length));
  return m ? { timestamp: m[1], suffix: m[2] === undefined ? 1 : Number(m[2]) } : null;
}

/** A report file name of any task: its mode, task, phase, time stamp and same-second suffix. */
export interface ReportName {
  mode: Mode;
  task: string;
  phase: Phase;
  timestamp: string;
  suffix: number;
}

/**
 * Parses any report name (`[competitive_]<task>_<phase>_<YYYYmmdd_HHMMSS>[_N].json`), or null.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { parseAnyReportName } from "./files.ts";
 * strictEqual(parseAnyReportName("competitive_007_after_20250101_120000.json")?.task, "007");
 * strictEqual(parseAnyReportName("007_compare.html"), null);
 * ```
 */
export function parseAnyReportName(name: string): ReportName | null {
  const m = /^(competitive_)?(.+)_(before|after)_(\d{8}_\d{6})(?:_(\d+))?\.json$/.exec(name);
  if (!m || !TASK_ID.test(m[2])) return null;
  return {
    mode: m[1] ? "competitive" : "internal",
    task: m[2],
    phase: m[3] as Phase,
    timestamp: m[4],
    suffix: m[5] === undefined ? 1 : Number(m[5]),
  };
}

/** A name's `YYYYmmdd_HHMMSS` local time stamp in ms since the epoch (NaN when malformed). */
export function timestampMs(stamp: string): number {
  const [, y, mo, d, h, mi, sec] = /^(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)$/.exec(stamp) ?? [];
  return new Date(+y, +mo - 1, +d, +h, +mi, +sec).getTime();
}

/**
 * How the user runs the two tools where they are, so every suggested command works there: the
 * shims' paths in an Engram checkout, `deno task …` in the tool's repository (or a checkout's
 * deno.json), a binary's name. The entrypoint decides (lib/cli/invocation.ts) and passes it down.
 */
export interface ToolCommands {
  check: string;
  compare: string;
}

/** The commands from the tool's own repository (and the deno.json tasks install-scripts adds). */
export const DENO_TASK_COMMANDS: ToolCommands = {
  check: "deno task check",
  compare: "deno task compare",
};

/**
 * The command that produces a missing run.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const shims = { check: "scripts/m17_performance_check.sh", compare: "" };
 * strictEqual(checkCommand("003", "after", "competitive", shims),
 *   "scripts/m17_performance_check.sh 003 after --competitive");
 * ```
 */
export function checkCommand(task: string, phase: Phase, mode: Mode, via: ToolCommands): string {
  return `${via.check} ${task} ${phase}${mode === "competitive" ? " --competitive" : ""}`;
}

/**
 * The command that re-measures a task's before and after builds interleaved, continuing the
 * newest confirm session when there is one (`m17_check <task> confirm`).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(confirmCommand("001", "internal", { check: "deno task check", compare: "" }),
 *   "deno task check 001 confirm");
 * ```
 */
export function confirmCommand(task: string, mode: Mode, via: ToolCommands): string {
  return `${via.check} ${task} confirm${mode === "competitive" ? " --competitive" : ""}`;
}

/** The command that compares a task's runs. */
export function compareCommand(task: string, mode: Mode, via: ToolCommands): string {
  return `${via.compare} ${task}${mode === "competitive" ? " --competitive" : ""}`;
}

/** Where `compare --html` writes by default: `<dir>/[competitive_]<task>_compare.html`. */
export function compareHtmlPath(dir: string, task: string, mode: Mode): string {
  return join(dir, `${modePrefix(mode)}${task}_compare.html`);
}

/** The paths of one run's artifacts. */
export interface RunFiles {
  stem: string;
  report: string;
  log: string;
  sys: string;
  diag: string;
  hlog: string;
  serverLog: string;
  /** The single-run HTML page (`check --html`). */
  html: string;
  /** `check --profile`: collapsed stacks and flame graph of the measured window. */
  profileFolded: string;
  profileSvg: string;
  /** Exclusive claim on the stem, removed when the run finishes. */
  claim: string;
}

/** File names for a stem path (without extension). */
export function filesFor(stem: string): RunFiles {
  return {
    stem,
    report: `${stem}${REPORT_EXT}`,
    log: `${stem}_loadtest.log`,
    sys: `${stem}_sys.txt`,
    diag: `${stem}_diag.txt`,
    hlog: `${stem}.hlog`,
    serverLog: `${stem}_server.log`,
    html: `${stem}.html`,
    profileFolded: `${stem}_profile.folded`,
    profileSvg: `${stem}_profile.svg`,
    claim: `${stem}.claim`,
  };
}

/** The sibling files of a report at `reportPath` (its name without `.json` is the stem). */
export function filesOfReport(reportPath: string): RunFiles {
  return filesFor(
    reportPath.endsWith(REPORT_EXT) ? reportPath.slice(0, -REPORT_EXT.length) : reportPath,
  );
}

/**
 * Creates the out dir if needed and claims a fresh stem for this run, the claim naming this
 * process as its owner (`ClaimOwner`; `keepsData`: the run keeps its Engram data dir, so no later
 * run removes it should this one be killed). Throws `UsageError` when the directory cannot be
 * written.
 */
export async function claimRunFiles(
  outDir: string,
  task: string,
  phase: Phase,
  mode: Mode,
  now = new Date(),
  keepsData = false,
): Promise<RunFiles> {
  // Say what is in the way (a dangling symlink, a loop, /dev/null), not mkdir's "File exists".
  const kind = await inputKind(outDir);
  const what = match(kind)
    .with({ kind: "file" }, () => "a regular file")
    .with({ kind: "missing" }, () => null)
    .with({ kind: "not_regular" }, (k) => k.what)
    .exhaustive();
  if (what !== null && what !== "a directory" && !what.startsWith("unreadable")) {
    const is = what.startsWith("a ") ? `it is ${what}, not a directory` : `it is ${what}`;
    throw new UsageError(`out dir ${outDir}: cannot create (${is})`);
  }
  try {
    await Deno.mkdir(outDir, { recursive: true });
  } catch (e) {
    throw new UsageError(
      `out dir ${outDir}: cannot create (${(e as Error).message.split("\n")[0]})`,
    );
  }
  const base = join(outDir, `${reportPrefix(task, phase, mode)}_${timestamp(now)}`);
  for (let n = 1; n < 1000; n++) {
    const files = filesFor(n === 1 ? base : `${base}_${n}`);
    try {
      const f = await Deno.open(files.claim, { write: true, createNew: true });
      await writeClaimOwner(f, now, keepsData);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw new UsageError(
        `out dir ${outDir}: cannot write (${(e as Error).message.split("\n")[0]})`,
      );
    }
    // A finished run (report) or an interrupted one (log, no report) already holds the stem.
    if (await exists(files.report) || await exists(files.log)) {
      await Deno.remove(files.claim).catch(() => {});
      continue;
    }
    // Any other file of the stem would only fail once the run is measured: refuse it now.
    const stray = await firstExisting(siblingPaths(files));
    if (stray !== null) {
      await Deno.remove(files.claim).catch(() => {});
      throw new UsageError(
        `out dir ${outDir}: ${stray} already exists and the run would write it: move it away`,
      );
    }
    OPEN_CLAIMS.add(files.claim);
    return files;
  }
  throw new UsageError(`out dir ${outDir}: too many runs named ${base}`);
}

/**
 * Who holds a claim, as its file says: this process's pid, host name, start time and whether the
 * run keeps its data dir (`--keep-data`), one line of JSON written right after the exclusive
 * create; or `unknown` for a claim that is empty (being written, or made before claims named their
 * owner) or not such a line.
 */
export type ClaimOwner =
  | { kind: "known"; pid: number; host: string; startedAt: string; keepsData: boolean }
  | { kind: "unknown" };

/** Writes this process as the claim's owner into the freshly created `f`, and closes it. */
async function writeClaimOwner(f: Deno.FsFile, now: Date, keepsData: boolean): Promise<void> {
  try {
    const owner = {
      pid: Deno.pid,
      host: Deno.hostname(),
      started_at: now.toISOString(),
      keeps_data: keepsData,
    };
    const bytes = new TextEncoder().encode(JSON.stringify(owner) + "\n");
    let written = 0;
    while (written < bytes.length) written += await f.write(bytes.subarray(written));
  } catch {
    // A full disk (or no host name to read): the claim holds the stem all the same, its owner
    // unknown, so nothing of the run is ever removed as a dead run's.
  } finally {
    f.close();
  }
}

/**
 * The owner a claim file names (`unknown` when it is empty, of the old format or unreadable).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { claimRunFiles, readClaimOwner, releaseClaim } from "./files.ts";
 * const files = await claimRunFiles(await Deno.makeTempDir(), "001", "before", "internal");
 * const owner = await readClaimOwner(files.claim);
 * strictEqual(owner.kind === "known" && owner.pid, Deno.pid);
 * await releaseClaim(files);
 * strictEqual((await readClaimOwner(files.claim)).kind, "unknown");
 * ```
 */
export async function readClaimOwner(path: string): Promise<ClaimOwner> {
  let o: { pid?: unknown; host?: unknown; started_at?: unknown; keeps_data?: unknown };
  try {
    o = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return { kind: "unknown" };
  }
  const ok = typeof o === "object" && o !== null && Number.isInteger(o.pid) &&
    (o.pid as number) > 0 && typeof o.host === "string" && typeof o.started_at === "string";
  return ok
    ? {
      kind: "known",
      pid: o.pid as number,
      host: o.host as string,
      startedAt: o.started_at as string,
      keepsData: o.keeps_data === true,
    }
    : { kind: "unknown" };
}

/** Every path a run may write besides its report, log and claim. */
function siblingPaths(files: RunFiles): string[] {
  const { stem: _stem, report: _report, log: _log, claim: _claim, ...siblings } = files;
  return Object.values(siblings);
}

async function firstExisting(paths: string[]): Promise<string | null> {
  for (const path of paths) if (await exists(path)) return path;
  return null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Releases a stem claim (the report, if written, now holds the name). */
export async function releaseClaim(files: RunFiles): Promise<void> {
  await Deno.remove(files.claim).catch(() => {});
  OPEN_CLAIMS.delete(files.claim);
}

const OPEN_CLAIMS = new Set<string>();

/** Removes every claim still held, at once: for an exit that skips the runs' own cleanup. */
export function releaseOpenClaimsSync(): void {
  for (const claim of OPEN_CLAIMS) {
    try {
      Deno.removeSync(claim);
    } catch { /* already gone */ }
  }
  OPEN_CLAIMS.clear();
}
