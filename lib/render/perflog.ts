/**
 * PERFORMANCE_LOG.md: one section per task, sections separated by `---` lines, each
 * `## Task NNN: <Name>`, `**Status**: …`, then `Results:` bullets (`- Before:`, `- After:`,
 * `- Change:`, `- Status:`, `- Files:`). Competitive results live in their own section,
 * `## Task NNN: <Name> (Competitive Scenario)`.
 *
 * Updating replaces only this tool's result bullets of the task's section, where they are; the
 * heading as written (`## Task 012 (Competitive Scenario)` stays), the `**Status**` line, other
 * bullets (`- Notes: …`) and lines (commands, notes) and every other section stay byte for byte.
 * Each written section carries one provenance bullet (`- Measured: …`: target, tool, latency
 * definition), so a reader can tell these figures from the old generator's. Running the same
 * update twice gives the same file. `ascii` writes `[OK]`/`[WARN]` for ✅/⚠️.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { findTaskSection } from "./perflog.ts";
 * const s = findTaskSection("# Log\n\n---\n\n## Task 005: Binding\n", "005", "internal");
 * strictEqual(s?.name, "Binding");
 * ```
 * @module
 */
import { capacityLines } from "./capacity_words.ts";
import { dirname, resolve } from "node:path";
import { match } from "ts-pattern";
import { writeFileAtomic } from "../shared/atomic.ts";
import type { Comparison, Verdict } from "../verdict/types.ts";
import type { Mode } from "../report/schema.ts";
import { UsageError } from "../shared/errors.ts";
import { INPUT_LIMITS, readInputBytesOrNull } from "../shared/input_file.ts";
import { bytesOfText, textOfBytes } from "../shared/raw_text.ts";
import { oneLine } from "../shared/sanitize.ts";
import type { PlannedOutput } from "./outputs.ts";
import {
  asciiGlyphs,
  competitorBullet,
  formatChange,
  formatMetricChange,
  formatMs,
  markLowerBound,
  positionWords,
  thresholdWords,
} from "./format.ts";
import { failedSummary } from "./wording.ts";
import { onlyUnconfirmed, ruledOutSentence, runsWords } from "./evidence_words.ts";

const COMPETITIVE_SUFFIX = "(Competitive Scenario)";
const RESULT_KEYS = new Set([
  "Before",
  "After",
  "Change",
  "Status",
  "File",
  "Files",
  "File(s)",
  "vs",
  "Measured",
]);

/** A `**Status**` line exactly as this tool writes it (any glyph set). */
const OWN_STATUS =
  /^\*\*Status\*\*: (✅ PASS|⚠️ (UNCONFIRMED )?REGRESSION|❔ INCONCLUSIVE|\[OK\] PASS|\[WARN\] (UNCONFIRMED )?REGRESSION|\[\?\?\] INCONCLUSIVE)\r?$/;

/** The latency every figure of a written section means (README "What the numbers mean"). */
export const LATENCY_DEFINITION = "response time from due instant";

/** Where a task's section is: heading line index, end (exclusive) and the name it carries. */
export interface SectionLocation {
  heading: number;
  end: number;
  name: string | null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}

/** Lines outside fenced code blocks, as a predicate over line indices. */
function outsideFences(lines: string[]): boolean[] {
  let inFence = false;
  return lines.map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return false;
    }
    return !inFence;
  });
}

/**
 * Finds the task's section (by its heading) in the log text, or null. The heading may name the
 * task as this tool writes it (`## Task 001: Name`) or by hand (`## Task 001 - Name`,
 * `## Task 001 — Name`, `## Task 001 (Name)`, `## task 001`); `## Task 0012` and
 * `## Task 001-b` are other tasks.
 */
export function findTaskSection(text: string, task: string, mode: Mode): SectionLocation | null {
  const lines = text.split("\n");
  const outside = outsideFences(lines);
  // After the id: its end, then a separator (`:`, a space, `(`, a dash that no id holds, `,`).
  const heading = new RegExp(
    `^## Task ${escapeRegExp(task)}(?=$|[:\\s(—–,])(.*?)(\\s*${
      escapeRegExp(COMPETITIVE_SUFFIX)
    })?\\s*$`,
    "i",
  );
  for (let i = 0; i < lines.length; i++) {
    const m = outside[i] ? heading.exec(lines[i].trimEnd()) : null;
    if (!m || (m[2] !== undefined) !== (mode === "competitive")) continue;
    let end = i + 1;
    while (end < lines.length && !(outside[end] && isBoundary(lines[end]))) end++;
    return { heading: i, end, name: handName(m[1] ?? "") };
  }
  return null;
}

/** The name in a heading's tail (`: Name`, `- Name`, `(Name)`), or null when it has none. */
function handName(tail: string): string | null {
  const name = tail.trim().replace(/^[:,\-–—]\s*/, "").replace(/^\((.*)\)$/, "$1").trim();
  return name === "" ? null : name;
}

/** A section ends at a `---` separator or at the next `## ` heading. */
function isBoundary(line: string): boolean {
  return line.trimEnd() === "---" || line.startsWith("## ");
}

/** The lines this tool owns in a task's section. */
export interface SectionContent {
  heading: string;
  status: string;
  results: string[];
}

/** The heading of a task's section (`## Task 012 (Competitive Scenario)` when it has no name). */
export function sectionHeading(task: string, mode: Mode, name: string | null): string {
  const named = name ? `: ${name}` : "";
  return `## Task ${task}${named}${mode === "competitive" ? ` ${COMPETITIVE_SUFFIX}` : ""}`;
}

/**
 * The provenance bullet: what was measured (target kind, version, commit), by which tool, and
 * what the latency is.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const run = {
 *   targetKind: "engram",
 *   provenance: {
 *     targetVersion: "0.1.0", targetCommit: "5d54816aa11b22", targetDirty: false,
 *     toolVersion: "0.1.0", toolCommit: "c845a07",
 *   },
 * };
 * strictEqual(
 *   provenanceLine(run, run),
 *   "- Measured: engram 0.1.0 at 5d54816aa11b by m17 0.1.0 (c845a07); " +
 *     "latency = response time from due instant",
 * );
 * ```
 */
export function provenanceLine(
  before: Pick<Comparison["before"], "targetKind" | "provenance">,
  after: Pick<Comparison["after"], "targetKind" | "provenance">,
): string {
  const describe = (r: typeof before) => {
    const p = r.provenance;
    if (p === null) return "the old Rust load generator";
    const target = r.targetKind === "reference"
      ? "the built-in reference server (not Engram)"
      : r.targetKind ?? "unknown target";
    const at = p.targetCommit
      ? ` at ${p.targetCommit.slice(0, 12)}${p.targetDirty ? " (uncommitted changes)" : ""}`
      : "";
    const tool = `m17 ${p.toolVersion}${p.toolCommit ? ` (${p.toolCommit.slice(0, 12)})` : ""}`;
    return `${target}${p.targetVersion ? ` ${p.targetVersion}` : ""}${at} by ${tool}`;
  };
  const b = describe(before);
  const a = describe(after);
  const what = a === b ? a : `before ${b}; after ${a}`;
  const latency = after.provenance === null
    ? "time from the actual send (old generator)"
    : LATENCY_DEFINITION;
  return `- Measured: ${what}; latency = ${latency}`;
}

/** Builds the section content for a comparison (the log's own number format). */
export function sectionContent(
  c: Comparison,
  v: Verdict,
  name: string | null,
  ascii = false,
): SectionContent {
  const { p50, p95, p99, throughput, errors } = c.metrics;
  // A percentile censored at the timeout is a lower bound (`P99=≥10000ms`), its change a bound.
  const ms = (m: typeof p50, s: "before" | "after") => markLowerBound(m, s, formatMs(m[s]!));
  const side = (s: "before" | "after") =>
    `P50=${ms(p50, s)}ms, P95=${ms(p95, s)}ms, P99=${ms(p99, s)}ms, ` +
    `Throughput=${throughput[s]!.toFixed(2)} ops/s`;
  const p99Change = formatMetricChange(p99, 2);
  const failed = v.kind === "regression" || v.kind === "competitive_regression" ? v.failed : [];
  // An improvement only when the P99 surely fell: an exact decrease or at most one (`≤-80.00%`);
  // not `≥-…%` or `censored`, which say nothing about the direction.
  const p99Note = failed.includes("p99")
    ? " (regression)"
    : /^≤?-/.test(p99Change)
    ? " (improvement)"
    : "";
  const throughputNote = failed.includes("throughput") ? " (regression)" : "";
  const errorsNote = errors.delta !== 0 ? `, Errors ${errors.before} → ${errors.after}` : "";
  const target = `${thresholdWords(v.thresholds)}${
    c.mode === "competitive" ? " competitive" : ""
  } target`;
  const pos = c.positioning;
  const position = pos ? `${positionWords(pos.gapPct)} than ${pos.baseline.displayName}` : null;
  const unconfirmed = onlyUnconfirmed(v);
  const runs = runsWords(c);
  const ruledOut = ruledOutSentence(c);
  const status = match(v)
    .with({ kind: "pass" }, () => `✅ PASS (within ${target}${position ? `; ${position}` : ""})`)
    .with(
      { kind: "regression" },
      { kind: "competitive_regression" },
      (r) =>
        `⚠️ ${unconfirmed ? "UNCONFIRMED " : ""}REGRESSION (${failedSummary(c, r.failed, 2)}${
          unconfirmed ? " on one pair of runs" : ""
        }; ${target})`,
    )
    .with(
      { kind: "inconclusive" },
      (r) =>
        `❔ INCONCLUSIVE (${failedSummary(c, r.uncertain, 2)}, ${
          runs === null ? "not significant" : `not decided after ${runs}`
        }; ${target})`,
    )
    .exhaustive() + (ruledOut === null ? "" : `; ${ruledOut}`);
  const results = [
    `- Before: ${side("before")}`,
    `- After: ${side("after")}`,
    `- Change: P99 ${p99Change}${p99Note}, ` +
    `Throughput ${formatChange(throughput.changePct, 2)}${throughputNote}${errorsNote}`,
    `- Status: ${status}`,
    `- Files: \`${c.before.path}\`, \`${c.after.path}\``,
  ];
  results.push(provenanceLine(c.before, c.after));
  if (pos) results.push(competitorBullet(pos, pos.baseline.source));
  // Two --find-rate runs: the sustained rate before → after (capacity_words.ts), one bullet.
  const capacity = capacityLines(c.capacity);
  if (capacity.length > 0) results.push(`- ${capacity.map((l) => l.trim()).join("; ")}`);
  const glyphs = ascii ? asciiGlyphs : (s: string) => s;
  return {
    heading: sectionHeading(c.task, c.mode, name),
    results: results.map(glyphs),
    status: glyphs(`**Status**: ${
      match(v.kind)
        .with("pass", () => "✅ PASS")
        .with(
          "regression",
          "competitive_regression",
          () => unconfirmed ? "⚠️ UNCONFIRMED REGRESSION" : "⚠️ REGRESSION",
        )
        .with("inconclusive", () => "❔ INCONCLUSIVE")
        .exhaustive()
    }`),
  };
}

/** The key of a result bullet (`- Before: …` → `Before`), or null for other lines. */
function resultKey(line: string): string | null {
  const m = /^- (File\(s\)|[A-Za-z]+)(?: [A-Za-z0-9]+)?:/.exec(line);
  return m ? m[1] : null;
}

/**
 * Rewrites the owned lines of an existing section body (lines after the heading): the result
 * bullets this tool writes, in place of the first of them; everything else stays where it is.
 */
function updateBody(body: string[], content: SectionContent, cr: string): string[] {
  const out = [...body];
  const statusAt = out.findIndex((l) => /^\*\*Status\*\*:/.test(l));
  if (statusAt < 0) out.unshift(cr, content.status + cr);
  // A status this tool wrote follows the verdict; a hand-written one stays.
  else if (OWN_STATUS.test(out[statusAt])) out[statusAt] = content.status + cr;

  const ours = content.results.map((l) => l + cr);
  const resultsAt = out.findIndex((l) => /^(\*\*)?Results(\*\*)?:(\*\*)?\s*$/.test(l));
  if (resultsAt < 0) {
    while (out.length > 0 && out.at(-1)!.trim() === "") out.pop();
    return [...out, cr, "Results:" + cr, ...ours];
  }
  // The bullet list: `- ` lines and their indented continuation lines.
  let end = resultsAt + 1;
  while (end < out.length && /^(- |\s+\S)/.test(out[end])) end++;
  const list: string[] = [];
  let keepCurrent = true;
  let placed = false;
  for (const line of out.slice(resultsAt + 1, end)) {
    if (line.startsWith("- ")) {
      const key = resultKey(line);
      keepCurrent = key === null || !RESULT_KEYS.has(key);
      if (!keepCurrent && !placed) {
        list.push(...ours);
        placed = true;
      }
    }
    if (keepCurrent) list.push(line);
  }
  if (!placed) list.unshift(...ours);
  return [...out.slice(0, resultsAt + 1), ...list, ...out.slice(end)];
}

/** The log text with the task's section created or updated; other text is untouched. */
export function upsertTaskSection(
  text: string,
  c: Comparison,
  v: Verdict,
  taskName?: string,
  ascii = false,
): { text: string; heading: string; created: boolean } {
  const cr = text.includes("\r\n") ? "\r" : "";
  const lines = text.split("\n");
  const found = findTaskSection(text, c.task, c.mode);
  const name = taskName ?? found?.name ?? null;
  const content = sectionContent(c, v, name, ascii);
  // An existing heading is kept as written, unless --task-name renames the section.
  if (found && taskName === undefined) content.heading = lines[found.heading].replace(/\r$/, "");
  if (found) {
    let last = found.end - 1;
    while (last > found.heading && lines[last].trim() === "") last--;
    const body = updateBody(lines.slice(found.heading + 1, last + 1), content, cr);
    const updated = [
      ...lines.slice(0, found.heading),
      content.heading + cr,
      ...body,
      ...lines.slice(last + 1),
    ];
    return { text: updated.join("\n"), heading: content.heading, created: false };
  }
  const section = [content.heading, "", content.status, "", "Results:", ...content.results]
    .map((l) => l + cr);
  const outside = outsideFences(lines);
  const summaryAt = lines.findIndex((l, i) => outside[i] && l.trimEnd() === "## Summary");
  if (summaryAt >= 0) {
    const inserted = [...section, cr, "---" + cr, cr];
    return {
      text: [...lines.slice(0, summaryAt), ...inserted, ...lines.slice(summaryAt)].join("\n"),
      heading: content.heading,
      created: true,
    };
  }
  const eol = cr + "\n";
  const head = text === ""
    ? `# Milestone 17 Performance Log${eol}${eol}---${eol}${eol}`
    : text + (text.endsWith("\n") ? "" : eol) + `${eol}---${eol}${eol}`;
  return { text: head + section.join("\n") + eol, heading: content.heading, created: true };
}

/**
 * The log at `path` with the task's section created or updated, nothing written: compare checks
 * every output before writing any (lib/render/outputs.ts). The text is read as bytes and every
 * byte this tool does not rewrite is kept, invalid UTF-8 included. When it is written, `merge`
 * rebuilds it from the log as it is then (another compare may have added a section since).
 * A log that cannot be read, or whose directory does not exist, is a `UsageError`.
 */
export async function planPerformanceLog(
  path: string,
  c: Comparison,
  v: Verdict,
  taskName?: string,
  ascii = false,
): Promise<
  PlannedOutput & { heading: string; created: boolean; merge: NonNullable<PlannedOutput["merge"]> }
> {
  const plan = async () => {
    const bytes = await readInputBytesOrNull(path, {
      label: "--log",
      maxBytes: INPUT_LIMITS.logBytes,
    });
    if (bytes === null) await existingDirectory(path);
    const result = upsertTaskSection(bytes ? textOfBytes(bytes) : "", c, v, taskName, ascii);
    const note = `${result.created ? "Added" : "Updated"} '${oneLine(result.heading)}' in ${
      oneLine(path)
    }`;
    return { ...result, note };
  };
  const planned = await plan();
  const merge = async () => {
    const now = await plan();
    return { bytes: bytesOfText(now.text), note: now.note };
  };
  return { path, what: "--log", ...planned, merge };
}

/** A new log's directory must exist: `--log` never creates directories. */
async function existingDirectory(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  const info = await Deno.stat(dir).catch(() => null);
  if (info === null) {
    throw new UsageError(
      `--log ${oneLine(path)}: directory ${oneLine(dir)} does not exist (create it first)`,
    );
  }
}

/** Creates or updates the task's section of the log at `path`, atomically. */
export async function updatePerformanceLog(
  path: string,
  c: Comparison,
  v: Verdict,
  taskName?: string,
  ascii = false,
): Promise<{ heading: string; created: boolean }> {
  const planned = await planPerformanceLog(path, c, v, taskName, ascii);
  try {
    await writeFileAtomic(path, (await planned.merge()).bytes);
  } catch (e) {
    throw new UsageError(`cannot write --log ${path}: ${(e as Error).message}`);
  }
  return { heading: planned.heading, created: planned.created };
}
