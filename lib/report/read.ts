/**
 * Reading a report file into a checked value: the current schema, or the old Rust tool's report
 * (no `schema_version`, only the fields of `OLD_REPORT_FIELDS`). Every problem is a `UsageError`
 * naming the file.
 *
 * @example
 * ```ts
 * import { strictEqual, throws } from "node:assert/strict";
 * import { parseReport } from "./read.ts";
 * throws(() => parseReport("{", "a.json"), /a.json is truncated or empty/);
 * throws(() => parseReport("{}", "a.json"), /field 'config_name' is missing or not a string/);
 * ```
 * @module
 */
import { messageOf, UsageError } from "../shared/errors.ts";
import { INPUT_LIMITS, readInputText } from "../shared/input_file.ts";
import { cleanStrings, oneLine } from "../shared/sanitize.ts";
import { LatencyHistogram } from "./histogram.ts";
import { impossibleValue } from "./plausible.ts";
import {
  type LegacyReport,
  OLD_OP_STAT_FIELDS,
  OLD_REPORT_FIELDS,
  type OldReportField,
  type RunReport,
  SCHEMA_VERSION,
  THROUGHPUT_DEFINITIONS,
} from "./schema.ts";

/** A report read from disk, checked for every field compare uses. */
export type LoadedReport =
  | { kind: "current"; path: string; report: RunReport }
  | { kind: "legacy"; path: string; report: LegacyReport };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads and checks one report; every problem is a `UsageError` naming the file. */
export async function readReport(path: string): Promise<LoadedReport> {
  const text = await readInputText(path, { label: "report", maxBytes: INPUT_LIMITS.reportBytes });
  return parseReport(text, path);
}

/** Parses and checks the text of a report (see `readReport`). */
export function parseReport(text: string, path: string): LoadedReport {
  // Strings from the file are shown by every renderer: control characters go here, once.
  const json = cleanStrings(parseJson(text, path)) as Json;
  const bad = (what: string) => new UsageError(`report ${path}: ${what}`);
  const infinite = infiniteField(json, "");
  if (infinite !== null) {
    throw bad(
      `field '${infinite}' is too large to be a measurement (beyond 1.8e308, read as infinity)`,
    );
  }
  for (const field of OLD_REPORT_FIELDS) {
    const problem = oldFieldProblem(json, field);
    if (problem !== null) throw bad(problem);
  }
  const impossible = impossibleValue(json);
  if (impossible !== null) throw bad(`${impossible}; the report was edited or corrupted`);
  if (!("schema_version" in json)) {
    return { kind: "legacy", path, report: json as unknown as LegacyReport };
  }
  if (
    typeof json.schema_version !== "number" || !(json.schema_version in THROUGHPUT_DEFINITIONS)
  ) {
    throw bad(
      `unknown schema_version ${JSON.stringify(json.schema_version)} ` +
        `(this m17_compare reads versions 1 to ${SCHEMA_VERSION}); use a matching m17_compare`,
    );
  }
  const problem = currentFieldProblem(json) ?? consistencyProblem(json) ?? histogramProblem(json);
  if (problem !== null) throw bad(problem);
  return { kind: "current", path, report: json as unknown as RunReport };
}

/**
 * A report's `started_at` in UTC ms, or null when it is not an ISO 8601 date and time with a zone
 * (`2025-01-01T12:00:00.000Z`, `…+02:00`): a time without a zone would be read in the local
 * zone of whoever compares, so which run is newest would depend on `TZ`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { startedAtMs } from "./read.ts";
 * strictEqual(startedAtMs("2025-01-01T12:00:00.000Z"), Date.UTC(2025, 0, 1, 12));
 * strictEqual(startedAtMs("2025-01-01T12:00:00"), null);
 * strictEqual(startedAtMs("not a date"), null);
 * ```
 */
export function startedAtMs(text: unknown): number | null {
  if (typeof text !== "string") return null;
  const iso = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?([Zz]|[+-]\d\d:?\d\d)$/;
  const ms = iso.test(text) ? Date.parse(text) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** Fields that contradict each other, or a `started_at` that is not a zoned date, or null. */
function consistencyProblem(json: Json): string | null {
  if (startedAtMs(json.started_at) === null) {
    return `field 'started_at' (${
      JSON.stringify(json.started_at)
    }) is not an ISO 8601 date and time with a zone (like 2025-01-01T12:00:00.000Z); ` +
      `the report was edited or corrupted`;
  }
  const reasons = json.invalid_reasons as string[];
  if (json.valid === true && reasons.length > 0) {
    return `is marked valid but lists invalid_reasons (${
      reasons.join("; ")
    }); the report was edited or corrupted`;
  }
  return null;
}

/**
 * The first histogram that does not decode (or records more requests than its second had), or
 * null: compare's statistics read them, and a corrupt one must not pass as "no interval".
 */
function histogramProblem(json: Json): string | null {
  const corrupt = (field: string, why: string) =>
    `field '${field}' is not a valid histogram (${why}); the report was edited or corrupted`;
  const decoded = (field: string, value: unknown): LatencyHistogram | string => {
    if (typeof value !== "string") return corrupt(field, "not a string");
    try {
      return LatencyHistogram.decode(value);
    } catch (e) {
      return corrupt(field, oneLine(messageOf(e), 120));
    }
  };
  const h = isObject(json.histograms) ? json.histograms : {};
  const perOp = isObject(h.per_operation) ? h.per_operation : {};
  const named: [string, unknown][] = [
    ...["response_time", "service_time", "schedule_lag"]
      .filter((k) => k in h)
      .map((k): [string, unknown] => [`histograms.${k}`, h[k]]),
    ...Object.entries(perOp).map((
      [k, v],
    ): [string, unknown] => [`histograms.per_operation.${k}`, v]),
  ];
  for (const [field, value] of named) {
    const r = decoded(field, value);
    if (typeof r === "string") return r;
  }
  const intervals = Array.isArray(json.intervals) ? json.intervals : [];
  for (const [i, interval] of intervals.entries()) {
    if (!isObject(interval)) return `field 'intervals[${i}]' is not an object`;
    const r = decoded(`intervals[${i}].histogram`, interval.histogram);
    if (typeof r === "string") return r;
    if (typeof interval.count === "number" && r.count > interval.count) {
      return corrupt(
        `intervals[${i}].histogram`,
        `${r.count} responses recorded for ${interval.count} requests`,
      );
    }
  }
  return null;
}

/**
 * The path (`per_operation_stats.Store.p99_latency_us`) of the first number that is not finite,
 * or null. JSON has no infinity: a number too large for a double (`1e999`) parses as one.
 */
function infiniteField(value: unknown, at: string, depth = 0): string | null {
  if (typeof value === "number") return Number.isFinite(value) ? null : at;
  if (typeof value !== "object" || value === null || depth > 64) return null;
  const entries = Array.isArray(value)
    ? value.map((v, i): [string, unknown] => [`${at}[${i}]`, v])
    : Object.entries(value).map(([k, v]): [string, unknown] => [at ? `${at}.${k}` : k, v]);
  for (const [path, v] of entries) {
    const found = infiniteField(v, path, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** The JSON object of a report's text, or a `UsageError` saying why it is not one. */
function parseJson(text: string, path: string): Json {
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
  return json;
}

/** What is wrong with one of the old tool's fields, or null when it is fine. */
function oldFieldProblem(json: Json, field: OldReportField): string | null {
  const value = json[field.key];
  switch (field.kind) {
    case "string":
      return typeof value === "string" ? null : `field '${field.key}' is missing or not a string`;
    case "number":
      // Infinite numbers (1e999) were refused before, naming the field (`infiniteField`).
      return typeof value === "number" ? null : `field '${field.key}' is missing or not a number`;
    case "op_stats": {
      if (!isObject(value)) return `field '${field.key}' is missing or not an object`;
      for (const [kind, stats] of Object.entries(value)) {
        for (const stat of OLD_OP_STAT_FIELDS) {
          if (!isObject(stats) || typeof stats[stat] !== "number") {
            return `field '${field.key}.${kind}.${stat}' is missing or not a number`;
          }
        }
      }
      return null;
    }
  }
}

/** What is wrong with the fields m17 added that compare relies on, or null. */
function currentFieldProblem(json: Json): string | null {
  const checks: [ok: boolean, field: string, type: string][] = [
    [typeof json.valid === "boolean", "valid", "a boolean"],
    [
      Array.isArray(json.invalid_reasons) &&
      json.invalid_reasons.every((r) => typeof r === "string"),
      "invalid_reasons",
      "a list of strings",
    ],
    [typeof json.workload_fingerprint === "string", "workload_fingerprint", "a string"],
    [
      isObject(json.scenario) && typeof json.scenario.name === "string",
      "scenario.name",
      "a string",
    ],
    [isObject(json.target) && typeof json.target.kind === "string", "target.kind", "a string"],
    [json.mode === "internal" || json.mode === "competitive", "mode", "internal or competitive"],
  ];
  const failed = checks.find(([ok]) => !ok);
  return failed ? `field '${failed[1]}' is missing or not ${failed[2]}` : null;
}
