/**
 * Text that keeps every byte of a file, invalid UTF-8 included, through a decode → edit → encode
 * round trip: each byte that is not part of a valid UTF-8 sequence decodes to a lone low
 * surrogate U+DC80–U+DCFF (Python's "surrogateescape") and encodes back to that byte. For files
 * the tool edits in place but did not write whole (`compare --log`): bytes it did not write are
 * written back unchanged, never as U+FFFD.
 *
 * @example
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * import { bytesOfText, textOfBytes } from "./raw_text.ts";
 * const bytes = new Uint8Array([0x61, 0xff, 0xe2, 0x9c, 0x85, 0xc3]); // a, bad, ✅, cut short
 * const text = textOfBytes(bytes);
 * strictEqual(text, "a\udcff✅\udcc3");
 * deepStrictEqual(bytesOfText(text + "!"), new Uint8Array([...bytes, 0x21]));
 * ```
 * @module
 */

// ignoreBOM: a byte order mark at the start is text like any other, kept (not dropped).
const STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const ENCODER = new TextEncoder();
/** A low surrogate standing for one raw byte, not preceded by a high surrogate. */
const ESCAPED = /(?<![\ud800-\udbff])[\udc80-\udcff]/;

/** The length of a valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const x = b[i];
  if (x < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (x >= 0xc2 && x <= 0xdf) return cont(1) ? 2 : 0;
  if (x >= 0xe0 && x <= 0xef) {
    const y = b[i + 1];
    // No overlong forms (E0 80–9F) and no UTF-16 surrogates (ED A0–BF).
    if ((x === 0xe0 && y < 0xa0) || (x === 0xed && y > 0x9f)) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (x >= 0xf0 && x <= 0xf4) {
    const y = b[i + 1];
    // No overlong forms (F0 80–8F) and nothing above U+10FFFF (F4 90–BF).
    if ((x === 0xf0 && y < 0x90) || (x === 0xf4 && y > 0x8f)) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** The text of `bytes`, each byte outside valid UTF-8 as U+DC00 + the byte. */
export function textOfBytes(bytes: Uint8Array): string {
  try {
    return STRICT.decode(bytes); // valid UTF-8 never decodes to a lone surrogate
  } catch { /* some bytes are not UTF-8: decode piece by piece */ }
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    parts.push(STRICT.decode(bytes.subarray(start, i)), String.fromCharCode(0xdc00 + bytes[i]));
    i++;
    start = i;
  }
  parts.push(STRICT.decode(bytes.subarray(start)));
  return parts.join("");
}

/** The bytes of `text`, each escaped byte of `textOfBytes` back as that byte. */
export function bytesOfText(text: string): Uint8Array {
  if (!ESCAPED.test(text)) return ENCODER.encode(text);
  const parts = text.split(new RegExp(`(${ESCAPED.source})`));
  const chunks = parts.map((p, k) =>
    k % 2 === 1 ? new Uint8Array([p.charCodeAt(0) - 0xdc00]) : ENCODER.encode(p)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
