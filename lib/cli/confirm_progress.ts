/**
 * What a `confirm` session prints as it goes: the line after each pair (the current estimate,
 * the verdict so far, elapsed time and how much more at most), and when the budget stops it.
 * @module
 */
import { match } from "ts-pattern";
import type { CheckOptions } from "../run/check.ts";
import type { PairSlot } from "../run/interleave.ts";
import type { Comparison, Verdict } from "../verdict/types.ts";

/** The judgement of the group so far, made as compare makes it. */
export interface Judgement {
  comparison: Comparison;
  verdict: Verdict;
}

/** Mean measured time of a pair (two runs), 0 before any run. */
export function meanPairMs(runMs: number[]): number {
  return runMs.length === 0 ? 0 : 2 * runMs.reduce((s, x) => s + x, 0) / runMs.length;
}

/**
 * Why no further pair starts: one more pair of the mean measured length would end past the
 * budget (minutes from the session's start); null while it fits.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(budgetStop(50_000, [4000, 6000], 1), null); // 50 s + 10 s = the minute
 * strictEqual(budgetStop(51_000, [4000, 6000], 1), "budget: another pair (10.0 s) would end past 1 min");
 * ```
 */
export function budgetStop(
  elapsedMs: number,
  runMs: number[],
  budgetMinutes: number,
): string | null {
  const pairMs = meanPairMs(runMs);
  return elapsedMs + pairMs > budgetMinutes * 60_000
    ? `budget: another pair (${seconds(pairMs)}) would end past ${budgetMinutes} min`
    : null;
}

/** `12.3 s`, or `2.5 min` from two minutes on. */
export function seconds(ms: number): string {
  return ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

function signed(pct: number | null): string {
  return pct === null ? "n/a" : `${pct >= 0 ? "+" : "−"}${Math.abs(pct).toFixed(1)}%`;
}

/**
 * The line after pair k: `pair 3 of ≤20: P99 +4.1%, throughput −0.2% (after vs before, medians of
 * 3 pairs): inconclusive, going on; 41.0 s elapsed, at most 3.4 min more` (the smaller of the
 * pairs left at the mean pair time and the budget left).
 *
 * @example
 * ```ts
 * import { match as re } from "node:assert/strict";
 * const metric = (changePct: number) => ({ before: 1, after: 1, delta: 0, changePct });
 * const j = {
 *   comparison: { metrics: { p99: metric(4.06), throughput: metric(-0.2) } },
 *   verdict: { kind: "inconclusive" },
 * } as unknown as Judgement;
 * const line = progressLine({ pair: 3, block: 2, order: "AB" }, 20, j, 41_000, [7000, 7000], 20 * 60_000);
 * re(line, /^pair 3 of ≤20: P99 \+4\.1%, throughput −0\.2% \(after vs before, medians of 3 pairs\)/);
 * re(line, /inconclusive, going on; 41\.0 s elapsed, at most 4\.0 min more$/);
 * ```
 */
export function progressLine(
  slot: PairSlot,
  lastPair: number,
  j: Judgement,
  elapsedMs: number,
  runMs: number[],
  budgetMs: number,
): string {
  const m = j.comparison.metrics;
  const left = lastPair - slot.pair;
  const etaMs = Math.min(left * meanPairMs(runMs), Math.max(0, budgetMs - elapsedMs));
  const verdict = match(j.verdict.kind)
    .with("inconclusive", () => "inconclusive, going on")
    .with("pass", () => "PASS")
    .with("regression", () => "REGRESSION")
    .with("competitive_regression", () => "COMPETITIVE REGRESSION")
    .exhaustive();
  return `pair ${slot.pair} of ≤${lastPair}: P99 ${signed(m.p99.changePct)}, throughput ${
    signed(m.throughput.changePct)
  } (after vs before, medians of ${slot.pair} pair${slot.pair === 1 ? "" : "s"}): ${verdict}; ` +
    `${seconds(elapsedMs)} elapsed${
      j.verdict.kind === "inconclusive" && left > 0 ? `, at most ${seconds(etaMs)} more` : ""
    }`;
}

/** The settings every run repeats, in one phrase. */
export function describeRun(c: CheckOptions): string {
  return `${c.rate} ops/s for ${c.durationSeconds} s after ${c.warmupSeconds} s warm-up, ` +
    `timeout ${c.timeoutMs} ms, in-flight cap ${c.maxInFlight}, fresh server and data dir`;
}
