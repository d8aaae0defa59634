/**
 * How sure a verdict is, in words: what the repeated runs' evidence rules out ("P99 regressions
 * above +3.8% are ruled out (95%)"), the always-valid p-value behind a regression, and for a
 * single pair the measured spread of identical runs on this host (or that it is unknown).
 * lib/render/wording.ts builds the verdict lines, summary and commit line from these.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { ruledOutWords } from "./evidence_words.ts";
 * const e = { estimate: 0, pValue: 0.5, upper: 0.037, looks: 8, boundPct: 3.8 };
 * strictEqual(ruledOutWords("p99", e), "P99 regressions above +3.8%");
 * strictEqual(ruledOutWords("throughput", { ...e, boundPct: -1.2 }), "throughput drops below -1.2%");
 * ```
 * @module
 */
import { match } from "ts-pattern";
import type {
  Comparison,
  CriterionId,
  RunDesign,
  RunEvidence,
  Thresholds,
  Verdict,
} from "../verdict/types.ts";
import { ALPHA, CONFIDENCE, displayedChange } from "../verdict/significance.ts";
import { formatChange, formatPValue, formatThreshold } from "./format.ts";

/** Pairs the confirm command is suggested with: the budget the simulation validates. */
export const SUGGESTED_PAIRS = 20;

/** The gated metrics the sequential rule decides. */
type Decided = "p99" | "throughput";

/** What one metric's bound rules out (`P99 regressions above +3.8%`), or null: nothing yet. */
export function ruledOutWords(id: Decided, e: RunEvidence | null): string | null {
  if (e === null || e.boundPct === null) return null;
  const b = formatChange(e.boundPct);
  // Worded by the bound as printed: `+0.0%` is neither a regression nor a drop.
  const shown = displayedChange(e.boundPct);
  return match(id)
    .with("p99", () => shown > 0 ? `P99 regressions above ${b}` : `P99 changes above ${b}`)
    .with(
      "throughput",
      () => shown < 0 ? `throughput drops below ${b}` : `throughput changes below ${b}`,
    )
    .exhaustive();
}

/** The repeated runs in words: `8 interleaved pairs`, `5 before and 5 after runs`. */
export function designWords(design: RunDesign, before: number, after: number): string {
  return match(design)
    .with(
      { kind: "paired" },
      (d) => `${d.pairs} interleaved pair${d.pairs === 1 ? "" : "s"}`,
    )
    .with({ kind: "unpaired" }, () => `${before} before and ${after} after runs`)
    .exhaustive();
}

/** The repeated runs of a comparison in words, or null with one run per side. */
export function runsWords(c: Comparison): string | null {
  const s = c.statistics;
  return s.method === "runs"
    ? designWords(s.design, s.perRun.p99.before.length, s.perRun.p99.after.length)
    : null;
}

/**
 * What the evidence rules out, as a sentence (`P99 regressions above +3.8% and throughput drops
 * below -1.2% are ruled out (95%, 8 interleaved pairs)`); null with one run per side.
 */
export function ruledOutSentence(c: Comparison): string | null {
  const s = c.statistics;
  if (s.method !== "runs") return null;
  const runs = runsWords(c);
  const parts = (["p99", "throughput"] as const).flatMap((id) =>
    ruledOutWords(id, s.perRun[id].evidence) ?? []
  );
  const level = `${CONFIDENCE * 100}%`;
  if (parts.length === 0) return `nothing is ruled out yet (${level}): ${runs} are too few`;
  const none = (["p99", "throughput"] as const).filter((id) =>
    ruledOutWords(id, s.perRun[id].evidence) === null
  ).map((id) => id === "p99" ? "P99" : "throughput");
  return `${parts.join(" and ")} ${
    parts.length === 1 ? "is" : "are"
  } ruled out (${level}, ${runs})` +
    (none.length > 0 ? `; nothing yet for ${none.join(" and ")}` : "");
}

/**
 * Why a repeated-run criterion failed or is undecided (`; worse after: always-valid p = 0.004
 * over 8 interleaved pairs`), from the comparison's evidence.
 */
export function sequentialWords(c: Comparison, id: Decided, status: "fail" | "open"): string {
  const s = c.statistics;
  if (s.method !== "runs") return "";
  const e = s.perRun[id].evidence;
  if (e === null) return "; not judged: a run's value is not positive";
  const p = `always-valid ${pEquals(e.pValue)} over ${runsWords(c)}`;
  return status === "fail"
    ? `; worse after: ${p}`
    : `; not decided yet: ${p} (a regression needs p ≤ ${ALPHA} and the change past the threshold; a pass needs the bound within it)`;
}

/** `p = 0.004`, or `p < 0.001`. */
export function pEquals(p: number): string {
  const text = formatPValue(p);
  return text.startsWith("<") ? `p ${text.replace("<", "< ")}` : `p = ${text}`;
}

/**
 * The measured spread of identical runs on this host for a single pair (`identical runs on this
 * host spread ±4.1% (6 runs of the before build)`: the 95th percentile of |change| between two
 * of them), or that it is unknown.
 */
export function spreadWords(c: Comparison, id: Decided): string {
  const sp = c.spread;
  if (sp === undefined) {
    return "the spread of identical runs on this host is unknown (fewer than 3 earlier runs " +
      "of the before build)";
  }
  const f = sp.floors[id];
  return `identical runs on this host spread ±${f.p95PairPct.toFixed(1)}% ` +
    `(${f.runs} runs of the before build)`;
}

/**
 * Whether a failed criterion is unconfirmed: P99 or throughput judged on one pair of runs (the
 * point rule, or --significance's within-run interval, which cannot see run-to-run variance).
 */
export function isUnconfirmed(v: Verdict, id: CriterionId): boolean {
  return v.rule !== "sequential" && (id === "p99" || id === "throughput");
}

/** Whether every failed criterion of a regression verdict is unconfirmed (`isUnconfirmed`). */
export function onlyUnconfirmed(v: Verdict): boolean {
  const failed = v.kind === "regression" || v.kind === "competitive_regression" ? v.failed : [];
  return failed.length > 0 && failed.every((id) => isUnconfirmed(v, id));
}

/** The threshold with its sign on the worse side (`+5%`, `-5%`). */
export function signedThresholdWords(id: Decided, t: Thresholds): string {
  return id === "p99" ? `+${formatThreshold(t.p99Pct)}%` : `-${formatThreshold(t.throughputPct)}%`;
}
