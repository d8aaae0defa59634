/**
 * One platform module (issue 25): every branch on the operating system or CPU goes through
 * lib/shared/platform.ts; no other file of the tool reads `Deno.build.os` or `Deno.build.arch`.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PLATFORM_MODULE = "lib/shared/platform.ts";

/** The tool's TypeScript files: the entrypoints, lib/, bench/ and scripts/. */
function* sources(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* sources(path);
    else if (e.name.endsWith(".ts")) yield path;
  }
}

Deno.test("only lib/shared/platform.ts reads Deno.build.os / Deno.build.arch", () => {
  const files = [
    join(ROOT, "m17_check.ts"),
    join(ROOT, "m17_compare.ts"),
    ...["lib", "bench", "scripts"].flatMap((d) => [...sources(join(ROOT, d))]),
  ];
  const offenders: string[] = [];
  for (const file of files) {
    const rel = relative(ROOT, file);
    if (rel === PLATFORM_MODULE) continue;
    Deno.readTextFileSync(file).split("\n").forEach((line, i) => {
      if (/Deno\.build\.(os|arch)\b/.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, [], `OS/CPU branches outside ${PLATFORM_MODULE}`);
  assert.match(Deno.readTextFileSync(join(ROOT, PLATFORM_MODULE)), /Deno\.build\.os/);
});
