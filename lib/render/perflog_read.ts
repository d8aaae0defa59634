/**
 * Reading back the results PERFORMANCE_LOG.md holds (the bullets `perflog.ts` writes, and the old
 * script's, which have the same shape): per task section, the before and after P99 and
 * throughput, the error counts when the `Change` bullet names them, and the report files named.
 * `m17_compare --history` uses them for tasks whose reports are gone.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { logResults } from "./perflog_read.ts";
 * const [r] = logResults(
 *   "## Task 004: Cache\n\nResults:\n- Before: P50=1ms, P95=2ms, P99=3ms, Throughput=990.00 ops/s\n" +
 *     "- After: P50=1ms, P95=2ms, P99=3.3ms, Throughput=985.50 ops/s\n",
 * );
 * strictEqual(r.after.p99Ms, 3.3);
 * strictEqual(r.name, "Cache");
 * ```
 * @module
 */
import type { Mode } from "../report/schema.ts";
import { findTaskSection } from "./perflog.ts";

/** One side of a task's logged result. */
export interface LoggedSide {
  p99Ms: number;
  throughput: number;
  /** The error count, when the log names it (the `Change` bullet does only when it changed). */
  errors: number | null;
}

/** A task's results as PERFORMANCE_LOG.md records them. */
export interface LoggedResult {
  task: string;
  mode: Mode;
  name: string | null;
  before: LoggedSide;
  after: LoggedSide;
  /** The report paths of the `Files` bullet, in order (before, after). */
  files: string[];
}

const HEADING = /^## Task ([A-Za-z0-9._-]{1,64})(?::|\s*\(Competitive Scenario\)\s*$|\s*$)/;

/** Every task section with complete `Before`/`After` bullets, in the log's order. */
export function logResults(text: string): LoggedResult[] {
  const results: LoggedResult[] = [];
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const task = HEADING.exec(line.trimEnd())?.[1];
    if (task === undefined) continue;
    for (const mode of ["internal", "competitive"] as const) {
      if (seen.has(`${mode} ${task}`)) continue;
      const section = findTaskSection(text, task, mode);
      if (section === null) continue;
      seen.add(`${mode} ${task}`);
      const body = text.split("\n").slice(section.heading + 1, section.end);
      const parsed = parseSection(body);
      if (parsed !== null) results.push({ task, mode, name: section.name, ...parsed });
    }
  }
  return results;
}

/** The figures of one section's bullets, or null when a side is missing. */
function parseSection(
  body: string[],
): Pick<LoggedResult, "before" | "after" | "files"> | null {
  const bullet = (key: string) => body.find((l) => l.startsWith(`- ${key}:`))?.trimEnd() ?? null;
  const before = sideOf(bullet("Before"));
  const after = sideOf(bullet("After"));
  if (before === null || after === null) return null;
  // `, Errors 0 → 12` (or `->` in an ASCII log) appears only when the count changed.
  const errors = /Errors (\d+) (?:→|->) (\d+)/.exec(bullet("Change") ?? "");
  if (errors) {
    before.errors = Number(errors[1]);
    after.errors = Number(errors[2]);
  }
  const files = [...(bullet("Files") ?? bullet("File(s)") ?? "").matchAll(/`([^`]+)`/g)]
    .map((m) => m[1]);
  return { before, after, files };
}

/** `P99=3.3ms` (or `P99=≥10000ms`, a lower bound kept as its value) and `Throughput=…`. */
function sideOf(line: string | null): LoggedSide | null {
  if (line === null) return null;
  const p99 = /P99=≥?([\d.]+)\s*ms/.exec(line);
  const throughput = /Throughput=([\d.]+)/.exec(line);
  if (!p99 || !throughput) return null;
  const values = [Number(p99[1]), Number(throughput[1])];
  if (!values.every(Number.isFinite)) return null;
  return { p99Ms: values[0], throughput: values[1], errors: null };
}
