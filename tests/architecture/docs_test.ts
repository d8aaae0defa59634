/**
 * Documentation examples can fail: `deno task test` runs them (`deno test --doc … tests/ lib/`), so
 * an example must assert with `node:assert` — `console.assert` only prints and never fails.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tsFilesUnder } from "./graph.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("no example or test anywhere asserts with console.assert", () => {
  const files = [
    "m17_check.ts",
    "m17_compare.ts",
    ...["lib", "tests", "bench"].flatMap((dir) => tsFilesUnder(ROOT, dir)),
  ].filter((path) => !path.endsWith("docs_test.ts"));
  const offenders = files.flatMap((path) =>
    Deno.readTextFileSync(join(ROOT, path)).split("\n").flatMap((line, i) =>
      line.includes("console.assert(") ? [`${path}:${i + 1}: ${line.trim()}`] : []
    )
  );
  assert.deepEqual(offenders, [], `use node:assert/strict instead:\n${offenders.join("\n")}`);
});

Deno.test("the test task runs the documentation examples of lib/", () => {
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  const test: string = config.tasks.test;
  assert.match(test, /^deno test --doc /);
  assert.deepEqual(test.split(" ").slice(-2), ["tests/", "lib/"]);
});
