/**
 * Text from outside the tool (a server's `/health` fields and error bodies, strings inside a
 * report, file names) made safe to print: ANSI escape sequences are removed and every other
 * control character (line breaks and tabs included) becomes one space, so such text can neither
 * recolour or rewrite the terminal nor forge a line of the output or of `_loadtest.log`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { oneLine } from "./sanitize.ts";
 * strictEqual(oneLine("engram\x1b[31m 1.0\x1b[0m\nFAKE: ok"), "engram 1.0 FAKE: ok");
 * ```
 * @module
 */

// Matching control characters is the point of these two expressions.
// CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ESC \`), other two-byte escapes, and the 8-bit CSI.
const ANSI =
  // deno-lint-ignore no-control-regex
  /\x1b\[[0-?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -\/]*[@-~]/g;
// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides.
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/**
 * `text` on one line without control characters: escape sequences dropped, each run of other
 * control characters one space, at most `maxChars` characters (an ellipsis marks a cut).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { oneLine } from "./sanitize.ts";
 * strictEqual(oneLine("a\r\n\tb\x07"), "a b ");
 * strictEqual(oneLine("\x1b]0;title\x07ok"), "ok");
 * strictEqual(oneLine("x".repeat(10), 4), "xxx…");
 * ```
 */
export function oneLine(text: string, maxChars = 1000): string {
  const clean = text.replace(ANSI, "").replace(CONTROL, " ");
  return clean.length > maxChars ? clean.slice(0, maxChars - 1) + "…" : clean;
}

/**
 * Multi-line text (a server's last output lines quoted in an error) with each line cleaned by
 * `oneLine`: the line breaks are the tool's own, escape sequences and other controls are gone.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { cleanLines } from "./sanitize.ts";
 * strictEqual(cleanLines("a\x1b[1m!\r\n  b\x00"), "a!\n  b ");
 * ```
 */
export function cleanLines(text: string): string {
  return text.split(/\r?\n/).map((l) => oneLine(l, Infinity)).join("\n");
}

/**
 * A copy of a parsed JSON value with every string passed through `oneLine` (keys too): applied
 * once where a report is read, so every renderer shows its strings clean.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { cleanStrings } from "./sanitize.ts";
 * deepStrictEqual(cleanStrings({ "a\nb": ["x\x1b[2Jy", 1, null] }), { "a b": ["xy", 1, null] });
 * ```
 */
export function cleanStrings(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return oneLine(value, Infinity);
  if (depth > 64 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => cleanStrings(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[oneLine(k)] = cleanStrings(v, depth + 1);
  return out;
}
