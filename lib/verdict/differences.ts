/**
 * What is expected to differ between a before and an after run because it is the change under
 * test: the Engram build (commit, version, uncommitted changes), a `--url` server's version, the
 * reference server's knobs that simulate a change, the tool's own version, and the preloaded state
 * the runs started on when it is not one (another build's snapshot that this build does not read
 * the same way, or a preload without a snapshot on one side). Compare never
 * refuses these; it prints them as `what: before → after` above the table, followed by how the
 * runs were measured where that differs (I/O engine, load workers, host CPUs, Deno: see
 * lib/verdict/setup.ts, which refuses the first three unless `--force`).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { knobWords } from "./differences.ts";
 * strictEqual(knobWords({}), "none");
 * strictEqual(knobWords({ latencyMs: 2, noSpreading: true, seed: "7" }), "--ref-latency-ms 2 --ref-no-spreading");
 * ```
 * @module
 */
import type { LoadedReport } from "../report/read.ts";
import { preloadedState } from "../report/preload_words.ts";
import { REFERENCE_KNOB_FLAGS, type RunReport } from "../report/schema.ts";
import type { ExpectedDifference } from "./types.ts";
import { setupDifferences } from "./setup.ts";

/** Each recorded knob and its `check` flag (`--ref-latency-ms`), in `check --help` order. */
const KNOB_FLAGS = Object.entries(REFERENCE_KNOB_FLAGS).map(([key, flag]) => [key, `--${flag}`]);
const NOT_KNOBS = new Set(["seed"]);

/** The knobs as `check` flags (`--ref-latency-ms 2 --ref-no-spreading`), `none` without any. */
export function knobWords(knobs: Record<string, unknown>): string {
  const known = new Set(KNOB_FLAGS.map(([k]) => k));
  const words = KNOB_FLAGS.flatMap(([key, flag]) => {
    const v = knobs[key];
    if (v === undefined || v === false) return [];
    return v === true ? [flag] : [`${flag} ${String(v)}`];
  });
  // A knob this version does not know (a newer report) is still shown, as recorded.
  for (const key of Object.keys(knobs).sort()) {
    if (!known.has(key) && !NOT_KNOBS.has(key)) words.push(`${key}=${JSON.stringify(knobs[key])}`);
  }
  return words.length === 0 ? "none" : words.join(" ");
}

/** `v0.1.0`, as Engram's version is usually written (`?` when /health reported none). */
function versionWords(version: string | null): string {
  if (version === null || version === "") return "version ?";
  return /^\d/.test(version) ? `v${version}` : version;
}

/** An Engram build: `5d54816aa11b (v0.1.0, uncommitted changes)`. */
function engramWords(r: RunReport): string {
  const d = r.target.details;
  const commit = typeof d.git_commit === "string" ? d.git_commit.slice(0, 12) : "commit ?";
  const dirty = d.git_dirty === true ? ", uncommitted changes" : "";
  return `${commit} (${versionWords(r.target.version)}${dirty})`;
}

/** The tool that measured: `0.1.0 (c845a07)`. */
function toolWords(r: RunReport): string {
  return `${r.tool.version}${r.tool.commit ? ` (${r.tool.commit})` : ""}`;
}

function knobsOf(r: RunReport): Record<string, unknown> {
  const k = r.target.details.knobs;
  return typeof k === "object" && k !== null ? k as Record<string, unknown> : {};
}

/**
 * The preloaded states a side's runs started on (lib/report/preload_words.ts `preloadedState`),
 * each once in run order: `snapshot 4a0d… (written by build ae7f…)`; `none` without a preload.
 */
function preloadedStates(runs: LoadedReport[]): string {
  const states = runs.map((r) =>
    (r.kind === "current" ? preloadedState(r.report.preload) : null) ?? "none"
  );
  return [...new Set(states)].join(" and ");
}

/**
 * What differs between the runs as the change under test, in display order; empty when nothing
 * does or a side is an old-tool report (which records none of it). Targets of different kinds
 * are a comparability problem, not a change under test: only the tool line is compared then.
 * `runs` (default: just `before` and `after`) are every run of each side: the preloaded-state
 * line compares the states all of them started on.
 */
export function expectedDifferences(
  before: LoadedReport,
  after: LoadedReport,
  runs: { before: LoadedReport[]; after: LoadedReport[] } = {
    before: [before],
    after: [after],
  },
): ExpectedDifference[] {
  if (before.kind !== "current" || after.kind !== "current") return [];
  const b = before.report, a = after.report;
  const out: ExpectedDifference[] = [];
  const add = (what: string, f: (r: RunReport) => string) => {
    const x = f(b), y = f(a);
    if (x !== y) out.push({ what, before: x, after: y });
  };
  if (b.target.kind === a.target.kind) {
    if (b.target.kind === "engram") add("Engram", engramWords);
    if (b.target.kind === "url") add("Server version", (r) => versionWords(r.target.version));
    if (b.target.kind === "reference") add("Reference knobs", (r) => knobWords(knobsOf(r)));
  }
  add("m17_check", toolWords);
  const states = { before: preloadedStates(runs.before), after: preloadedStates(runs.after) };
  if (states.before !== states.after) {
    out.push({ what: "Preloaded state", before: states.before, after: states.after });
  }
  return [...out, ...setupDifferences(b, a)];
}
