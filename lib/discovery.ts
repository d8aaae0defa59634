/**
 * Finding and reading run reports: which file is the newest `before`/`after` run of a task, and
 * turning a report file into a checked value (current schema or the old Rust tool's report).
 *
 * Report names are `[competitive_]<task>_<phase>_<YYYYmmdd_HHMMSS>[_N].json`; sibling files of a
 * run (`_loadtest.log`, `_sys.txt`, `_diag.txt`, `.hlog`, `_server.log`) never match.
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
import { UsageError } from "./errors.ts";
import { type RunReport, SCHEMA_VERSION } from "./report.ts";

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
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof Deno.errors.NotADirectory) throw new UsageError(`${dir} is not a directory`);
    throw new UsageError(`cannot list ${dir}: ${(e as Error).message.split("\n")[0]}`);
  }
  candidates.sort((a, b) =>
    a.timestamp.localeCompare(b.timestamp) || a.mtimeMs - b.mtimeMs || a.suffix - b.suffix ||
    a.name.localeCompare(b.name)
  );
  const newest = candidates.at(-1);
  return newest ? join(dir, newest.name) : null;
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

/** Per-operation statistics of the old Rust load generator (microseconds). */
export interface LegacyOpStats {
  count: number;
  success_count: number;
  error_count: number;
  p50_latency_us: number;
  p95_latency_us: number;
  p99_latency_us: number;
  p999_latency_us: number;
  mean_latency_us: number;
  max_latency_us: number;
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
