import assert from "node:assert/strict";
import { join } from "node:path";
import {
  inputKind,
  readInputText,
  readInputTextOrNull,
  regularOrMissing,
} from "../../lib/shared/input_file.ts";
import { cleanLines, cleanStrings, oneLine } from "../../lib/shared/sanitize.ts";

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "m17_input_file_" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readInputText() refuses a FIFO within a second, without opening it (no writer ever comes)", async () => {
  await withDir(async (dir) => {
    const fifo = join(dir, "pipe.toml");
    assert.equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
    const started = performance.now();
    await assert.rejects(
      readInputText(fifo, { label: "scenario", maxBytes: 1024 }),
      {
        name: "UsageError",
        message: `scenario ${fifo}: is a FIFO (named pipe), not a regular file`,
      },
    );
    assert.ok(performance.now() - started < 1000, "answered within a second");
  });
});

Deno.test("inputKind() names every kind of path that is not a regular file", async () => {
  await withDir(async (dir) => {
    await Deno.symlink(join(dir, "nowhere"), join(dir, "dangling"));
    await Deno.symlink(join(dir, "b"), join(dir, "a"));
    await Deno.symlink(join(dir, "a"), join(dir, "b"));
    await Deno.writeTextFile(join(dir, "file"), "x");
    await Deno.symlink(join(dir, "file"), join(dir, "link"));
    const cases: [string, string][] = [
      [dir, "a directory"],
      [join(dir, "dangling"), "a dangling symlink"],
      [join(dir, "a"), "a symlink loop"],
      ["/dev/zero", "a character device"],
      [join(dir, "file", "below"), "under a path that is not a directory"],
    ];
    for (const [path, what] of cases) {
      assert.deepEqual(await inputKind(path), { kind: "not_regular", what }, path);
    }
    assert.deepEqual(await inputKind(join(dir, "link")), { kind: "file", size: 1 });
    assert.deepEqual(await inputKind(join(dir, "missing")), { kind: "missing" });
    assert.equal(await regularOrMissing(join(dir, "link"), "x"), "file");
    await assert.rejects(
      regularOrMissing(join(dir, "a"), "--ref-record"),
      /--ref-record .*a: is a symlink loop/,
    );
  });
});

Deno.test("readInputText() caps the size: a file over the cap is refused in one line, one within it is read whole", async () => {
  await withDir(async (dir) => {
    const big = join(dir, "big.json");
    await Deno.writeTextFile(big, "x".repeat(3 * 1024 * 1024));
    await assert.rejects(
      readInputText(big, { label: "report", maxBytes: 1024 * 1024 }),
      /report .*big\.json: is 3 MiB, more than the 1 MiB such a file can be/,
    );
    assert.equal(
      await readInputText(big, { label: "report", maxBytes: 3 * 1024 * 1024 }).then((t) =>
        t.length
      ),
      3 * 1024 * 1024,
    );
    assert.equal(
      await readInputTextOrNull(join(dir, "none"), { label: "--log", maxBytes: 10 }),
      null,
    );
    await assert.rejects(
      readInputText(join(dir, "none"), { label: "report", maxBytes: 10 }),
      /report .*none: no such file/,
    );
  });
});

Deno.test("oneLine() and cleanStrings() leave no control character, escape sequence or line break", () => {
  const hostile =
    "a\x1b[31mb\x1b[0m\x1b]8;;http://x\x1b\\c\x1b]0;t\x07d\x9b2Je\r\nf\tg\x00h\u2028i\u202ej\x7f";
  const clean = oneLine(hostile);
  assert.equal(clean, "abcde f g h i j ");
  const controls = [...clean].filter((c) => {
    const code = c.codePointAt(0)!;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x2028 && code <= 0x202e);
  });
  assert.deepEqual(controls, []);
  assert.equal(oneLine("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
  assert.equal(cleanLines("one\x1b[2K\ntwo\r\n"), "one\ntwo\n");
  assert.deepEqual(cleanStrings({ k: [hostile, 5, true, null, { "x\ny": "z\x1b[1m" }] }), {
    k: [clean, 5, true, null, { "x y": "z" }],
  });
});
