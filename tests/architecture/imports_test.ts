/**
 * The dependency rule of lib/ (lib/README.md), checked on the real sources: every import of
 * every file under lib/ and of the two entrypoints follows the layer table below, no file
 * imports itself back through others, and no lib file is longer than 500 lines. The first tests
 * feed the same checks a synthetic graph to prove they fail when they should.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildGraph,
  cycles,
  importsOf,
  layerOf,
  type LayerRule,
  layerViolations,
  oversized,
  tsFilesUnder,
} from "./graph.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENTRYPOINTS = ["m17_check.ts", "m17_compare.ts"];
const MAX_LINES = 500;

/**
 * The rule, as data (mirrored in lib/README.md). Top to bottom: entrypoints and cli; the
 * three stages run, verdict and render; the pieces they are built from (workload, target,
 * report: only report may import workload, for the scenario it describes); the leaves. A layer
 * may import only what its row names, and itself.
 */
export const RULE: LayerRule = {
  layers: [
    { name: "entrypoints", paths: ENTRYPOINTS },
    { name: "cli", paths: ["lib/cli/"] },
    { name: "run", paths: ["lib/run/"] },
    { name: "verdict", paths: ["lib/verdict/"] },
    { name: "render", paths: ["lib/render/"] },
    { name: "report", paths: ["lib/report/"] },
    { name: "target", paths: ["lib/target/"] },
    { name: "workload", paths: ["lib/workload/"] },
    { name: "shared", paths: ["lib/shared/", "lib/paths.ts"] },
    { name: "reference", paths: ["lib/reference/"] },
  ],
  allowed: {
    entrypoints: [
      "cli",
      "run",
      "verdict",
      "render",
      "report",
      "target",
      "workload",
      "shared",
      "reference",
    ],
    cli: ["run", "verdict", "render", "report", "target", "workload", "shared", "reference"],
    run: ["report", "target", "workload", "shared"],
    verdict: ["report", "workload", "shared"],
    render: ["verdict", "report", "workload", "shared"],
    report: ["workload", "shared"],
    target: ["shared"],
    workload: ["shared"],
    shared: [],
    reference: ["shared", "lib/workload/prng.ts"],
  },
};

function readSources(): Map<string, string> {
  const paths = [...ENTRYPOINTS, ...tsFilesUnder(ROOT, "lib")];
  return new Map(paths.map((p) => [p, Deno.readTextFileSync(join(ROOT, p))]));
}

// ---- the checker itself ------------------------------------------------------------------------

Deno.test("importsOf() finds static, type-only, re-exported and dynamic imports, not code in comments", () => {
  const src = `/**
 * @example
 * \`\`\`ts
 * import { hidden } from "./in_jsdoc.ts";
 * \`\`\`
 */
import { a } from "./a.ts";
import type { B } from "../b.ts";
import {
  c,
  type C,
} from "./c.ts";
import "./side_effect.ts";
export { d } from "./d.ts";
export type { E } from "./e.ts";
export * from "./f.ts";
// import { g } from "./line_comment.ts";
const re = /"import x from 'y'"/;
const text = "not an import: from './z.ts'";
export const PATH = "./not_an_import.ts";
const h = await import("./h.ts");
const half = 1 / 2; const other = 3 / 4;
`;
  assert.deepEqual(importsOf(src), [
    { specifier: "./a.ts", typeOnly: false },
    { specifier: "../b.ts", typeOnly: true },
    { specifier: "./c.ts", typeOnly: false },
    { specifier: "./side_effect.ts", typeOnly: false },
    { specifier: "./d.ts", typeOnly: false },
    { specifier: "./e.ts", typeOnly: true },
    { specifier: "./f.ts", typeOnly: false },
    { specifier: "./h.ts", typeOnly: false },
  ]);
});

Deno.test("the checker reports a forbidden edge, a cycle with its path, an unplaced file and a long file", () => {
  const files = new Map([
    ["lib/render/x.ts", `import { runLoad } from "../run/driver.ts";\n`],
    ["lib/run/driver.ts", `import type { Report } from "../report/a.ts";\n`],
    ["lib/report/a.ts", `import { b } from "./b.ts";\n`],
    ["lib/report/b.ts", `import { c } from "./c.ts";\n`],
    ["lib/report/c.ts", `export { a } from "./a.ts";\n`],
    ["lib/reference/server.ts", `import { mulberry } from "../workload/prng.ts";\n`],
    ["lib/reference/knobs.ts", `import { scenario } from "../workload/scenario.ts";\n`],
    ["lib/misc/y.ts", `import "../cli/flags.ts";\n`],
    ["lib/workload/long.ts", "x;\n".repeat(MAX_LINES + 1)],
  ]);
  const graph = buildGraph(files);
  assert.deepEqual(layerViolations(RULE, graph), [
    "lib/misc/y.ts: belongs to no layer (add it to the rule)",
    "lib/reference/knobs.ts → lib/workload/scenario.ts: reference may not import workload",
    "lib/render/x.ts → lib/run/driver.ts: render may not import run",
  ]);
  assert.deepEqual(cycles(graph), [
    "lib/report/a.ts → lib/report/b.ts → lib/report/c.ts → lib/report/a.ts",
  ]);
  assert.deepEqual(cycles(new Map([["lib/x.ts", ["lib/x.ts"]]])), ["lib/x.ts → lib/x.ts"]);
  assert.deepEqual(oversized(files, MAX_LINES), [
    `lib/workload/long.ts: ${MAX_LINES + 1} lines (at most ${MAX_LINES})`,
  ]);
});

Deno.test("a single file of a folder can be allowed without the folder; paths.ts is a leaf", () => {
  assert.equal(layerOf(RULE, "lib/paths.ts"), "shared");
  assert.equal(layerOf(RULE, "m17_check.ts"), "entrypoints");
  assert.equal(layerOf(RULE, "lib/cli/flags.ts"), "cli");
  assert.equal(layerOf(RULE, "lib/elsewhere.ts"), null);
});

// ---- the real sources --------------------------------------------------------------------------

Deno.test("every import of lib/ and the entrypoints follows the layer rule of lib/README.md", () => {
  const problems = layerViolations(RULE, buildGraph(readSources()));
  assert.deepEqual(problems, [], `forbidden imports:\n${problems.join("\n")}`);
});

Deno.test("no import cycle among lib/ and the entrypoints, not even inside one folder", () => {
  const found = cycles(buildGraph(readSources()));
  assert.deepEqual(found, [], `import cycles:\n${found.join("\n")}`);
});

Deno.test(`no file in lib/ is longer than ${MAX_LINES} lines`, () => {
  const lib = new Map([...readSources()].filter(([path]) => path.startsWith("lib/")));
  const long = oversized(lib, MAX_LINES);
  assert.deepEqual(long, [], long.join("\n"));
});

Deno.test("the rule table is well formed and lib/README.md shows exactly it", () => {
  const names = RULE.layers.map((l) => l.name);
  assert.deepEqual(Object.keys(RULE.allowed).sort(), [...names].sort());
  for (const targets of Object.values(RULE.allowed)) {
    for (const t of targets) assert.ok(names.includes(t) || t.endsWith(".ts"), t);
  }
  const readme = Deno.readTextFileSync(join(ROOT, "lib/README.md"));
  for (const [from, targets] of Object.entries(RULE.allowed)) {
    const row = readme.split("\n").find((l) => l.startsWith(`| ${from} `));
    assert.ok(row, `lib/README.md has no row for ${from}`);
    const listed = row.split("|")[2].split(",").map((t) => t.trim())
      .filter((t) => /^[\w/.]+$/.test(t));
    assert.deepEqual(listed, targets, `lib/README.md: the row of ${from}`);
  }
});
