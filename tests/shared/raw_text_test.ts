/**
 * Byte-preserving text (lib/shared/raw_text.ts): every byte of a file survives decode → encode,
 * invalid UTF-8, a byte order mark and surrogate-looking sequences included.
 */
import assert from "node:assert/strict";
import { bytesOfText, textOfBytes } from "../../lib/shared/raw_text.ts";

Deno.test("raw text: any bytes round-trip exactly", () => {
  const cases = [
    [0xef, 0xbb, 0xbf, 0x23, 0x0a], // a BOM, then "#\n"
    [0xed, 0xa0, 0x80, 0x41], // an encoded UTF-16 surrogate (not UTF-8)
    [0xc0, 0xaf, 0xe0, 0x80, 0xaf], // overlong forms
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xf0, 0x90, 0x82, 0x80], // U+10080: a valid pair whose low half is DC80
    [0xe2, 0x9c], // cut short
  ];
  for (const c of cases) {
    const bytes = new Uint8Array(c);
    assert.deepEqual(bytesOfText(textOfBytes(bytes)), bytes, c.join(" "));
  }
  // Random bytes too.
  let x = 12345;
  const random = new Uint8Array(4096).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  assert.deepEqual(bytesOfText(textOfBytes(random)), random);
});
