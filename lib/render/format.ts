/**
 * Number formatting and text decoration shared by every text rendering (terminal, Markdown,
 * HTML, PERFORMANCE_LOG.md, exports): one definition of each, so the outputs agree digit for
 * digit. Colour is ANSI only on a terminal without NO_COLOR or `--no-color`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { formatChange, formatMs } from "./format.ts";
 * strictEqual(formatChange(7.44), "+7.4%");
 * strictEqual(formatChange(null), "N/A");
 * strictEqual(formatMs(10.850), "10.85");
 * ```
 * @module
 */
import type { ChangeBound, MetricChange, Thresholds } from "../verdict/types.ts";
import { changeBound } from "../verdict/compare.ts";
import { lowerBoundMark } from "../report/censoring.ts";

// ---------------------------------------------------------------------------------------------
// Colour

/** Text decorations; identity functions when colour is off. */
export interface Style {
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

const ansi = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;

/** No decoration at all. */
export const PLAIN: Style = { bold: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s };
/** ANSI SGR colours. */
export const ANSI: Style = { bold: ansi(1), red: ansi(31), green: ansi(32), yellow: ansi(33) };

/** Colour only on a terminal, without NO_COLOR (any non-empty value) and without --no-color. */
export function useColor(
  options: { noColorFlag: boolean; noColorEnv?: string; isTty: boolean },
): boolean {
  return options.isTty && !options.noColorFlag && !options.noColorEnv;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** Milliseconds with at most 3 decimals and no trailing zeros (`0.417`, `8.2`, `10.85`). */
export function formatMs(ms: number): string {
  return String(Number(ms.toFixed(3)));
}

/** Operations per second with at most 2 decimals and no trailing zeros (`999.91`, `490`). */
export function formatOps(opsPerSec: number): string {
  return String(Number(opsPerSec.toFixed(2)));
}

/** A threshold percentage without needless decimals (`5`, `7.5`). */
export function formatThreshold(pct: number): string {
  return String(Number(pct.toFixed(2)));
}

/** Signed percent change (`+7.4%`, `-3.1%`, `+0.0%`), or `N/A`. */
export function formatChange(pct: number | null, decimals = 1): string {
  if (pct === null) return "N/A";
  const fixed = pct.toFixed(decimals);
  // A change that rounds to zero is shown as +0.0%, whatever its sign.
  if (Number(fixed) === 0) return `+${(0).toFixed(decimals)}%`;
  return `${pct > 0 ? "+" : ""}${fixed}%`;
}

/**
 * A change given its bound (README, "What the numbers mean"): `≥+400.0%` when only the after
 * value is a lower bound (censored at the timeout), `≤-80.0%` when only the before value is,
 * `censored` when both are (the change is unknown), else as `formatChange`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { formatBoundedChange } from "./format.ts";
 * strictEqual(formatBoundedChange(400, "lower"), "≥+400.0%");
 * strictEqual(formatBoundedChange(0, "unknown"), "censored");
 * strictEqual(formatBoundedChange(null, "lower"), "N/A");
 * ```
 */
export function formatBoundedChange(pct: number | null, bound: ChangeBound, decimals = 1): string {
  if (pct === null) return "N/A";
  const text = formatChange(pct, decimals);
  return bound === "lower"
    ? `≥${text}`
    : bound === "upper"
    ? `≤${text}`
    : bound === "unknown"
    ? "censored"
    : text;
}

/** A metric's change, marked by its bound (`formatBoundedChange`). */
export function formatMetricChange(m: MetricChange, decimals = 1): string {
  return formatBoundedChange(m.changePct, changeBound(m), decimals);
}

/** One side's value of a metric, `≥` first when it is a lower bound (`≥10000.000`). */
export function markLowerBound(m: MetricChange, side: "before" | "after", text: string): string {
  return `${lowerBoundMark(m.censored?.[side] ?? false)}${text}`;
}

/** A confidence interval of a change: `[+2.1%, +12.9%]`. */
export function formatInterval(ci: readonly [number, number]): string {
  return `[${formatChange(ci[0])}, ${formatChange(ci[1])}]`;
}

/** A p-value with two significant digits, `<0.001` below that (`0.05`, `0.004`). */
export function formatPValue(p: number): string {
  return p < 0.001 ? "<0.001" : String(Number(p.toPrecision(2)));
}

/** The threshold in words: `5%` when both are equal, else `5% P99 / 3% throughput`. */
export function thresholdWords(t: Thresholds): string {
  return t.p99Pct === t.throughputPct
    ? `${formatThreshold(t.p99Pct)}%`
    : `${formatThreshold(t.p99Pct)}% P99 / ${formatThreshold(t.throughputPct)}% throughput`;
}

/** A count change with its sign (`+3`, `-1`, `+0`). */
export function signedInt(n: number): string {
  return `${n >= 0 ? "+" : ""}${n}`;
}

/** An error-rate change in percentage points (`+0.25pp`), from a change of the ratio. */
export function formatPointsChange(deltaRatio: number): string {
  return `${formatChange(deltaRatio * 100, 2).slice(0, -1)}pp`;
}

/** A ratio as a percentage with two decimals (`0.0125` → `1.25%`). */
export function formatRatioPct(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

/**
 * Engram's gap to a competitor's P99 in words. Faster, as the specification writes it: the share
 * of the competitor's P99 saved (`61.2% faster`). Slower: the extra time as a share of the
 * competitor's P99 (`30.0% slower`) below twice its P99, from there the ratio (`7.1× slower`:
 * Engram's P99 is 7.1 times the competitor's), never `613.2% slower`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(positionWords(61.2), "61.2% faster");
 * strictEqual(positionWords(-30), "30.0% slower");
 * strictEqual(positionWords((27.96 - 199.4) / 27.96 * 100), "7.1× slower");
 * ```
 */
export function positionWords(gapPct: number): string {
  if (gapPct >= 0) return `${gapPct.toFixed(1)}% faster`;
  const ratio = 1 - gapPct / 100;
  return ratio >= 2 ? `${ratio.toFixed(1)}× slower` : `${(-gapPct).toFixed(1)}% slower`;
}

/**
 * The summary's `- vs Neo4j: …` bullet. Faster, the specification's form:
 * `- vs Neo4j: 61.2% (baseline: 27.96ms)`. Slower, which the specification has no example of and
 * whose signed gap read as `-613.2%`, in plain words: `- vs Neo4j: P99 199.4ms vs Neo4j's
 * published 27.96ms: 7.1× slower (indicative: different workload)`. `source` (the log's form)
 * adds where the competitor's figure comes from.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const baseline = { displayName: "Neo4j", p99Ms: 27.96 };
 * strictEqual(
 *   competitorBullet({ baseline, engramP99Ms: 10.85, gapPct: 61.2 }),
 *   "- vs Neo4j: 61.2% (baseline: 27.96ms)",
 * );
 * strictEqual(
 *   competitorBullet({ baseline, engramP99Ms: 199.4, gapPct: -613.2 }),
 *   "- vs Neo4j: P99 199.4ms vs Neo4j's published 27.96ms: 7.1× slower (indicative: different workload)",
 * );
 * ```
 */
export function competitorBullet(
  pos: {
    baseline: { displayName: string; p99Ms: number };
    engramP99Ms: number;
    gapPct: number;
  },
  source?: string,
): string {
  const name = pos.baseline.displayName;
  const theirs = `${formatMs(pos.baseline.p99Ms)}ms`;
  if (pos.gapPct >= 0) {
    return `- vs ${name}: ${pos.gapPct.toFixed(1)}% (baseline: ${theirs}${
      source === undefined ? "" : `; ${source}; indicative only`
    })`;
  }
  return `- vs ${name}: P99 ${formatMs(pos.engramP99Ms)}ms vs ${name}'s published ${theirs}: ${
    positionWords(pos.gapPct)
  } (${source === undefined ? "" : `${source}; `}indicative: different workload)`;
}

// ---------------------------------------------------------------------------------------------
// Glyphs

/** The specification's glyphs and their ASCII forms, as the old scripts printed them. */
const ASCII_GLYPHS: readonly [RegExp, string][] = [
  [/✅/g, "[OK]"],
  [/⚠️?/g, "[WARN]"],
  [/❔/g, "[??]"],
  [/✓/g, "[OK]"],
];

/**
 * The locale's environment variables that say whether the terminal shows UTF-8: the first set
 * of LC_ALL, LC_CTYPE, LANG wins, as in POSIX.
 */
export interface LocaleEnv {
  LC_ALL?: string;
  LC_CTYPE?: string;
  LANG?: string;
}

/**
 * ASCII glyphs (`[OK]`/`[WARN]`) with `--ascii`, or when the locale is not UTF-8 (none set means
 * the POSIX "C" locale, which is not).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { useAscii } from "./format.ts";
 * strictEqual(useAscii(false, { LANG: "en_US.UTF-8" }), false);
 * strictEqual(useAscii(false, { LANG: "C" }), true);
 * strictEqual(useAscii(false, { LC_ALL: "C", LANG: "en_US.UTF-8" }), true);
 * strictEqual(useAscii(true, { LANG: "en_US.utf8" }), true);
 * ```
 */
export function useAscii(flag: boolean, env: LocaleEnv): boolean {
  if (flag) return true;
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((v) => v !== undefined && v !== "");
  return locale === undefined || !/utf-?8/i.test(locale);
}

/**
 * `text` with the specification's glyphs (✓ ⚠ ✅ ⚠️ ❔) as `[OK]`, `[WARN]`, `[??]`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { asciiGlyphs } from "./format.ts";
 * strictEqual(asciiGlyphs("✓ Within 5% target; ⚠️ REGRESSION"), "[OK] Within 5% target; [WARN] REGRESSION");
 * ```
 */
export function asciiGlyphs(text: string): string {
  return ASCII_GLYPHS.reduce((t, [glyph, ascii]) => t.replace(glyph, ascii), text);
}
