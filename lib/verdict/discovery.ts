/**
 * Finding and reading run reports: which file is the newest `before`/`after` run of a task, and
 * turning a report file into a checked value (current schema or the old Rust tool's report).
 *
 * Report names are `[competitive_]<task>_<phase>_<YYYYmmdd_HHMMSS>[_N].json`; sibling files of a
 * run (`_loadtest.log`, `_sys.txt`, `_diag.txt`, `.hlog`, `_server.log`) never match.
 * `check --runs N` writes N such reports sharing one `run.group`: a phase's runs are the newest
 * report and the other reports of its group.
 *
 * @example
 * ```ts
 * import { parseReportName } from "./discovery.ts";
 * const name = parseReportName("001_after_20250101_120000_2.json", "001", "after", "internal");
 * console.assert(name?.timestamp === "20250101_120000" && name.suffix === 2);
 * ```
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../shared/errors.ts";
import { type LegacyOpStats, type RunReport, SCHEMA_VERSION } from "../report/schema.ts";

export type { LegacyOpStats };

/** Internal runs use the baseline scenario; competitive runs the competitive one. */
export type Mode = "internal" | "competitive";
/** Which side of the task a run measured. */
export type Phase = "before" | "after";

const TASK_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Returns `id` when it is a valid task id (1–64 of `[A-Za-z0-9._-]`, never a path). */
export function validateTaskId(id: string): string {
  if (!TASK_ID.test(id) || id.includes("..") || id === ".") {
    throw new UsageError(
      `task id '${id}' is not valid: use 1-64 characters of A-Z a-z 0-9 . _ - (no '..', no '/')`,
    );
  }
  return id;
}

/** File name prefix of a task's runs: `[competitive_]<task>_<phase>`. */
export function reportPrefix(task: string, phase: Phase, mode: Mode): string {
  return `${mode === "competitive" ? "competitive_" : ""}${task}_${phase}`;
}

/** The command that produces a missing run. */
export function checkCommand(task: string, phase: Phase, mode: Mode): string {
  return `deno task check ${task} ${phase}${mode === "competitive" ? " --competitive" : ""}`;
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

/**
 * Path of the newest report of `task`/`phase` in `dir` (by the timestamp in the name; the file's
 * mtime, then the `_N` suffix break ties), or null when there is none.
 */
export async function findNewestReport(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
): Promise<string | null> {
  return (await listReports(dir, task, phase, mode)).at(-1) ?? null;
}

/** Paths of every report of `task`/`phase` in `dir`, oldest first (see `findNewestReport`). */
export async function listReports(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
): Promise<string[]> {
  const candidates: { name: string; timestamp: string; suffix: number; mtimeMs: number }[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile && !entry.isSymlink) continue;
      const parsed = parseReportName(entry.name, task, phase, mode);
      if (!parsed) continue;
      const info = await Deno.stat(join(dir, entry.name)).catch(() => null);
      if (!info?.isFile) continue;
      candidates.push({ name: entry.name, ...parsed, mtimeMs: info.mtime?.getTime() ?? 0 });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    if (e instanceof Deno.errors.NotADirectory) throw new UsageError(`${dir} is not a directory`);
    throw new UsageError(`cannot list ${dir}: ${(e as Error).message.split("\n")[0]}`);
  }
  candidates.sort((a, b) =>
    a.timestamp.localeCompare(b.timestamp) || a.mtimeMs - b.mtimeMs || a.suffix - b.suffix ||
    a.name.localeCompare(b.name)
  );
  return candidates.map((c) => join(dir, c.name));
}

/**
 * The runs of the `check --runs N` invocation that wrote `newest`: the reports of `dir` with its
 * prefix and `run.group`, in run order, and a warning when fewer than `run.count` are there.
 * Old-tool reports and single runs are their own group.
 */
export async function gatherRunGroup(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
  newest: LoadedReport,
): Promise<{ runs: LoadedReport[]; warning: string | null }> {
  if (newest.kind === "legacy" || !(newest.report.run?.count > 1)) {
    return { runs: [newest], warning: null };
  }
  const { group, count } = newest.report.run;
  const runs: LoadedReport[] = [newest];
  for (const path of await listReports(dir, task, phase, mode)) {
    if (path === newest.path) continue;
    const other = await readIfInGroup(path, group);
    if (other && !runs.some((r) => runIndex(r) === runIndex(other))) runs.push(other);
  }
  runs.sort((a, b) => runIndex(a) - runIndex(b));
  if (runs.length >= count) return { runs, warning: null };
  const found = new Set(runs.map(runIndex));
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !found.has(i));
  return {
    runs,
    warning: `only ${runs.length} of the ${count} ${phase} runs of check group ${
      group.slice(0, 8)
    } are in ${dir} (missing run ${missing.join(", ")}); comparing the ${runs.length} found`,
  };
}

/**
 * Every run of each side: the run group of each newest report, or just the given file for
 * `--before FILE` / `--after FILE`; with warnings for incomplete groups.
 */
export async function gatherRuns(
  options: { dir: string; task: string; mode: Mode; before?: string; after?: string },
  newest: { before: LoadedReport; after: LoadedReport },
): Promise<{ before: LoadedReport[]; after: LoadedReport[]; warnings: string[] }> {
  const side = (phase: Phase) =>
    options[phase] !== undefined
      ? { runs: [newest[phase]], warning: null }
      : gatherRunGroup(options.dir, options.task, phase, options.mode, newest[phase]);
  const before = await side("before");
  const after = await side("after");
  return {
    before: before.runs,
    after: after.runs,
    warnings: [before.warning, after.warning].filter((w) => w !== null),
  };
}

function runIndex(r: LoadedReport): number {
  return r.kind === "current" ? r.report.run?.index ?? 1 : 1;
}

/** The report at `path` when it belongs to run group `group`; unreadable files are skipped. */
async function readIfInGroup(path: string, group: string): Promise<LoadedReport | null> {
  const text = await Deno.readTextFile(path).catch(() => "");
  if (!text.includes(group)) return null;
  try {
    const r = parseReport(text, path);
    return r.kind === "current" && r.report.run?.group === group ? r : null;
  } catch {
    return null;
  }
}

/**
 * Runs of one build for calibration: the newest report's run group when it has at least `min`
 * runs, else every valid report of the phase that ran the same workload, scenario and target kind
 * as the newest one. Unreadable reports are skipped.
 */
export async function calibrationRuns(
  dir: string,
  task: string,
  phase: Phase,
  mode: Mode,
  min: number,
): Promise<{ runs: LoadedReport[]; source: "group" | "phase" }> {
  const newestPath = await findNewestReport(dir, task, phase, mode);
  if (newestPath === null) {
    throw new UsageError(
      `no '${phase}' run for task ${task} in ${dir}; run: ${checkCommand(task, phase, mode)} ` +
        `--runs 5`,
    );
  }
  const newest = await readReport(newestPath);
  const { runs } = await gatherRunGroup(dir, task, phase, mode, newest);
  if (runs.length >= min) return { runs, source: "group" };
  const identity = (r: LoadedReport) =>
    r.kind === "legacy"
      ? "legacy"
      : [r.report.workload_fingerprint, r.report.scenario.name, r.report.target.kind].join(" ");
  const all: LoadedReport[] = [];
  for (const path of await listReports(dir, task, phase, mode)) {
    const r = path === newest.path ? newest : await readReport(path).catch(() => null);
    if (r && identity(r) === identity(newest) && (r.kind === "legacy" || r.report.valid)) {
      all.push(r);
    }
  }
  return { runs: all, source: "phase" };
}

/** Where the before and after reports are: given explicitly, else the newest in `dir`. */
export async function locateRuns(options: {
  dir: string;
  task: string;
  mode: Mode;
  before?: string;
  after?: string;
}): Promise<{ before: string; after: string }> {
  const locate = async (phase: Phase, given: string | undefined): Promise<string> => {
    if (given !== undefined) return given;
    const found = await findNewestReport(options.dir, options.task, phase, options.mode);
    if (found) return found;
    const pattern = `${reportPrefix(options.task, phase, options.mode)}_*.json`;
    throw new UsageError(
      `no '${phase}' run for task ${options.task} in ${options.dir} (looked for ${pattern}); ` +
        `run: ${checkCommand(options.task, phase, options.mode)}`,
    );
  };
  return {
    before: await locate("before", options.before),
    after: await locate("after", options.after),
  };
}

/** A report of the old Rust load generator: no `schema_version`, only these fields. */
export interface LegacyReport {
  config_name: string;
  elapsed_seconds: number;
  total_operations: number;
  total_errors: number;
  overall_throughput: number;
  overall_error_rate: number;
  p50_latency_ms: number;
  p95_latency_ms: number;
  p99_latency_ms: number;
  per_operation_stats: Record<string, LegacyOpStats>;
}

/** A report read from disk, checked for every field compare uses. */
export type LoadedReport =
  | { kind: "current"; path: string; report: RunReport }
  | { kind: "legacy"; path: string; report: LegacyReport };

const OLD_NUMBER_FIELDS = [
  "elapsed_seconds",
  "total_operations",
  "total_errors",
  "overall_throughput",
  "overall_error_rate",
  "p50_latency_ms",
  "p95_latency_ms",
  "p99_latency_ms",
] as const;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads and checks one report; every problem is a `UsageError` naming the file. */
export async function readReport(path: string): Promise<LoadedReport> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new UsageError(`cannot read report ${path}: ${why}`);
  }
  return parseReport(text, path);
}

/** Parses and checks the text of a report (see `readReport`). */
export function parseReport(text: string, path: string): LoadedReport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message.split("\n")[0];
    // The parser stopped at (or past) the last character: the file ends early.
    const at = /at position (\d+)/.exec(message);
    const truncated = /end of JSON input/.test(message) ||
      (at !== null && Number(at[1]) >= text.trimEnd().length);
    throw new UsageError(
      truncated
        ? `report ${path} is truncated or empty (the JSON ends early); rerun the check`
        : `report ${path} is not valid JSON: ${message}`,
    );
  }
  if (!isObject(json)) throw new UsageError(`report ${path} is not a JSON object`);
  const bad = (what: string) => new UsageError(`report ${path}: ${what}`);

  for (const field of OLD_NUMBER_FIELDS) {
    if (typeof json[field] !== "number" || !Number.isFinite(json[field])) {
      throw bad(`field '${field}' is missing or not a number`);
    }
  }
  const perOp = json.per_operation_stats;
  if (!isObject(perOp)) throw bad(`field 'per_operation_stats' is missing or not an object`);
  for (const [kind, stats] of Object.entries(perOp)) {
    for (const field of ["count", "error_count", "p99_latency_us"]) {
      if (!isObject(stats) || typeof stats[field] !== "number") {
        throw bad(`field 'per_operation_stats.${kind}.${field}' is missing or not a number`);
      }
    }
  }

  if (!("schema_version" in json)) {
    return { kind: "legacy", path, report: json as unknown as LegacyReport };
  }
  if (json.schema_version !== SCHEMA_VERSION) {
    throw bad(
      `unknown schema_version ${JSON.stringify(json.schema_version)} ` +
        `(this m17_compare reads version ${SCHEMA_VERSION}); use a matching m17_compare`,
    );
  }
  const need = (ok: boolean, field: string, type: string) => {
    if (!ok) throw bad(`field '${field}' is missing or not ${type}`);
  };
  need(typeof json.valid === "boolean", "valid", "a boolean");
  need(
    Array.isArray(json.invalid_reasons) &&
      json.invalid_reasons.every((r) => typeof r === "string"),
    "invalid_reasons",
    "a list of strings",
  );
  need(typeof json.workload_fingerprint === "string", "workload_fingerprint", "a string");
  need(
    isObject(json.scenario) && typeof json.scenario.name === "string",
    "scenario.name",
    "a string",
  );
  need(isObject(json.target) && typeof json.target.kind === "string", "target.kind", "a string");
  need(json.mode === "internal" || json.mode === "competitive", "mode", "internal or competitive");
  return { kind: "current", path, report: json as unknown as RunReport };
}
