/**
 * The per-second P99 sparklines under the compare table: character sets, the common scale,
 * gaps, bucketing of long runs, and when the terminal output shows them.
 */
import assert from "node:assert/strict";
import {
  ASCII_LEVELS,
  bucketMax,
  isUnicodeTerminal,
  p99SparklineLines,
  sparkline,
  UNICODE_LEVELS,
} from "../../lib/render/sparkline.ts";
import { compareCli, LEGACY_AFTER, LEGACY_BEFORE, run, withPairOnDisk } from "../fixtures/pair.ts";

Deno.test("isUnicodeTerminal: a UTF-8 locale (LC_ALL > LC_CTYPE > LANG) and no NO_COLOR", () => {
  assert.equal(isUnicodeTerminal({ LANG: "en_US.UTF-8" }), true);
  assert.equal(isUnicodeTerminal({ LANG: "C.utf8" }), true);
  assert.equal(isUnicodeTerminal({ LC_CTYPE: "de_DE.UTF-8", LANG: "C" }), true);
  assert.equal(isUnicodeTerminal({ LC_ALL: "C", LANG: "en_US.UTF-8" }), false);
  assert.equal(isUnicodeTerminal({ LANG: "en_US.UTF-8", NO_COLOR: "1" }), false);
  assert.equal(isUnicodeTerminal({ LANG: "en_US.ISO-8859-1" }), false);
  assert.equal(isUnicodeTerminal({}), false);
});

Deno.test("sparkline: min is the lowest level, max the highest, null a gap", () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], { min: 1, max: 8 }, UNICODE_LEVELS), "▁▂▃▄▅▆▇█");
  assert.equal(sparkline([0, null, 9], { min: 0, max: 9 }, UNICODE_LEVELS), "▁ █");
  // The ASCII space is kept for gaps: the lowest value is '.', never blank.
  assert.equal(
    sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8], { min: 0, max: 8 }, ASCII_LEVELS),
    ".:-=+*#%@",
  );
  assert.equal(sparkline([3, 3], { min: 3, max: 3 }, ASCII_LEVELS), "++");
  assert.deepEqual(bucketMax([1, 5, 2, null, null, null, 7], 3), [5, null, 7]);
});

Deno.test("p99SparklineLines: one common scale, each line's own min and max", () => {
  const lines = p99SparklineLines([1, 2, 3, 4], [2, 2, 8, null], { unicode: true });
  assert.deepEqual(lines, [
    "Per-second P99 (ms), one scale for both lines: lowest 1, highest 8",
    "Before |▁▂▃▄| min 1  max 4",
    "After  |▂▂█ | min 2  max 8",
  ]);
  const ascii = p99SparklineLines([1, 2, 3, 4], [2, 2, 8, null], { unicode: false });
  assert.equal(ascii[1], "Before |.:-=| min 1  max 4");
  assert.deepEqual(p99SparklineLines([], [1], { unicode: true }), []);
  // Long runs are bucketed to at most 60 characters, each the max of its seconds.
  const long = Array.from({ length: 600 }, (_, i) => i === 305 ? 50 : 1);
  const [head, before] = p99SparklineLines(long, long, { unicode: true });
  assert.match(head, /one character = max of 10 s$/);
  assert.equal(before, `Before |${"▁".repeat(30)}█${"▁".repeat(29)}| min 1  max 50`);
});

Deno.test("m17_compare: sparklines under the table, Unicode or ASCII, never in --json", async () => {
  await withPairOnDisk(run(1), run(1.5), async (dir) => {
    const utf8 = await compareCli(dir, ["001"], { LANG: "en_US.UTF-8" });
    assert.equal(utf8.code, 1, utf8.stderr);
    const lines = utf8.stdout.split("\n");
    const at = lines.findIndex((l) => l.startsWith("Per-second P99 (ms)"));
    assert.ok(at > lines.findIndex((l) => l.startsWith("P99 latency (ms)")), "under the table");
    assert.match(lines[at + 1], /^Before \|[▁▂▃▄▅▆▇█]{60}\| min [\d.]+ {2}max [\d.]+$/);
    assert.match(lines[at + 2], /^After {2}\|[▁▂▃▄▅▆▇█]{60}\| min [\d.]+ {2}max [\d.]+$/);

    const plain = await compareCli(dir, ["001"], { LANG: "en_US.UTF-8", NO_COLOR: "1" });
    assert.match(plain.stdout, /^Before \|[.:\-=+*#%@]{60}\| min /m);
    assert.doesNotMatch(plain.stdout, /[▁▂▃▄▅▆▇█]/);

    const json = await compareCli(dir, ["001", "--json"], { LANG: "en_US.UTF-8" });
    assert.doesNotMatch(json.stdout, /Per-second P99/);
    const md = await compareCli(dir, ["001", "--markdown"], { LANG: "en_US.UTF-8" });
    assert.doesNotMatch(md.stdout, /Per-second P99/);
  });
});

Deno.test("m17_compare: no sparklines for old-tool reports (no intervals)", async () => {
  await withPairOnDisk(run(1), run(1), async (dir) => {
    const r = await compareCli(dir, ["005", "--before", LEGACY_BEFORE, "--after", LEGACY_AFTER], {
      LANG: "en_US.UTF-8",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /Per-second P99/);
  });
});
