/**
 * Terminal sparklines of the per-second P99 of two runs, drawn on one common scale so the lines
 * can be compared by eye. Unicode blocks `▁▂▃▄▅▆▇█` on a UTF-8 terminal, otherwise the ASCII
 * ramp ` .:-=+*#%@`. A space is always a second without requests (no P99), so the lowest P99
 * is `▁` or `.`, never blank.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { ASCII_LEVELS, sparkline } from "./sparkline.ts";
 * strictEqual(sparkline([0, null, 5, 10], { min: 0, max: 10 }, ASCII_LEVELS), ". +@");
 * ```
 * @module
 */
import type { LoadedReport } from "../report/read.ts";

/** Eight block heights, lowest first. */
export const UNICODE_LEVELS = "▁▂▃▄▅▆▇█";
/** The ASCII ramp; its first character (a space) only marks seconds without a value. */
export const ASCII_LEVELS = " .:-=+*#%@";
/** Widest sparkline; longer runs are bucketed (each character the max of its seconds). */
export const MAX_SPARKLINE_WIDTH = 60;

/** The environment variables that decide the character set. */
export interface TerminalEnv {
  LC_ALL?: string;
  LC_CTYPE?: string;
  LANG?: string;
  NO_COLOR?: string;
}

/**
 * Whether block characters may be used: the effective locale (first non-empty of LC_ALL,
 * LC_CTYPE, LANG, as the C library resolves them) names UTF-8, and NO_COLOR is not set (a
 * NO_COLOR terminal gets the plainest output).
 */
export function isUnicodeTerminal(env: TerminalEnv): boolean {
  if (env.NO_COLOR) return false;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale);
}

/** Reads the `TerminalEnv` variables from the process environment. */
export function terminalEnv(): TerminalEnv {
  const get = (name: string) => Deno.env.get(name);
  return {
    LC_ALL: get("LC_ALL"),
    LC_CTYPE: get("LC_CTYPE"),
    LANG: get("LANG"),
    NO_COLOR: get("NO_COLOR"),
  };
}

/**
 * One character per value, `min` the lowest level and `max` the highest; null is a space.
 * A ramp starting with a space keeps it for null. When `max` equals `min` every value gets
 * the middle level (a flat line).
 */
export function sparkline(
  values: (number | null)[],
  scale: { min: number; max: number },
  levels: string,
): string {
  const all = [...levels];
  const chars = all[0] === " " ? all.slice(1) : all;
  const top = chars.length - 1;
  const span = scale.max - scale.min;
  return values.map((v) => {
    if (v === null) return " ";
    if (!(span > 0)) return chars[Math.floor(top / 2)];
    const level = Math.round((v - scale.min) / span * top);
    return chars[Math.max(0, Math.min(top, level))];
  }).join("");
}

/** Splits `values` into buckets of `size` and keeps each bucket's maximum (null if none). */
export function bucketMax(values: (number | null)[], size: number): (number | null)[] {
  if (size <= 1) return values;
  const out: (number | null)[] = [];
  for (let i = 0; i < values.length; i += size) {
    const present = values.slice(i, i + size).filter((v): v is number => v !== null);
    out.push(present.length > 0 ? maxOf(present) : null);
  }
  return out;
}

// reduce, not Math.max(...v): a spread of a very long run would overflow the call stack.
const maxOf = (v: number[]) => v.reduce((a, b) => Math.max(a, b), -Infinity);
const minOf = (v: number[]) => v.reduce((a, b) => Math.min(a, b), Infinity);

function ms(v: number): string {
  return String(Number(v.toFixed(3)));
}

/**
 * The sparkline block shown under the compare table: a heading naming the common scale, then
 * one line per run with its own lowest and highest per-second P99. Null entries are seconds
 * without requests. No lines when either run has no values.
 *
 * ```text
 * Per-second P99 (ms), one scale for both lines: lowest 0.412, highest 0.98
 * Before |..:-.@:.| min 0.412  max 0.98
 * After  |..::-:..| min 0.42  max 0.65
 * ```
 */
export function p99SparklineLines(
  beforeMs: (number | null)[],
  afterMs: (number | null)[],
  options: { unicode: boolean; maxWidth?: number },
): string[] {
  const present = (v: (number | null)[]) => v.filter((x): x is number => x !== null);
  const b = present(beforeMs);
  const a = present(afterMs);
  if (b.length === 0 || a.length === 0) return [];
  const width = options.maxWidth ?? MAX_SPARKLINE_WIDTH;
  const bucket = Math.max(1, Math.ceil(Math.max(beforeMs.length, afterMs.length) / width));
  const scale = { min: Math.min(minOf(b), minOf(a)), max: Math.max(maxOf(b), maxOf(a)) };
  const levels = options.unicode ? UNICODE_LEVELS : ASCII_LEVELS;
  const per = bucket === 1 ? "" : `, one character = max of ${bucket} s`;
  const line = (label: string, values: (number | null)[], own: number[]) =>
    `${label.padEnd(6)} |${sparkline(bucketMax(values, bucket), scale, levels)}| ` +
    `min ${ms(minOf(own))}  max ${ms(maxOf(own))}`;
  return [
    `Per-second P99 (ms), one scale for both lines: lowest ${ms(scale.min)}, highest ${
      ms(scale.max)
    }${per}`,
    line("Before", beforeMs, b),
    line("After", afterMs, a),
  ];
}

/**
 * The sparkline block for a comparison, or no lines when either run has no per-second
 * intervals (old load-test reports do not). Seconds without requests are gaps.
 */
export function compareSparklineLines(
  before: LoadedReport,
  after: LoadedReport,
  unicode: boolean,
): string[] {
  const p99s = (r: LoadedReport) =>
    r.kind === "current"
      ? (r.report.intervals ?? []).map((i) => i.count > 0 ? i.p99_ms : null)
      : [];
  return p99SparklineLines(p99s(before), p99s(after), { unicode });
}
