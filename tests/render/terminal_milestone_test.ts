/**
 * compare of the milestone's own runs (written only by `m17_check milestone confirm`) never
 * suggests `check milestone before|after`, which is refused: the next step is `--history`.
 */
import assert from "node:assert/strict";
import { comparePair, run } from "../fixtures/pair.ts";
import { renderTerminal } from "../../lib/render/terminal.ts";

Deno.test("a milestone regression points at --history, never at check milestone before/after", () => {
  const m = comparePair(run(1), run(1.5), "milestone");
  assert.equal(m.verdict.kind, "regression");
  const text = renderTerminal(m.comparison, m.verdict);
  assert.doesNotMatch(text, /check milestone (before|after)/);
  assert.match(text, /Find the task that added it \(steps and change points\): .*--history$/m);
  assert.match(text, /check milestone confirm/);
  // A task's own compare keeps its steps.
  const t = comparePair(run(1), run(1.5), "001");
  assert.match(renderTerminal(t.comparison, t.verdict), /check 001 after/);
});
