/**
 * lib/cli/exit.ts: bad input exits 3 in one line; a crash (a TypeError, say) is not bad input:
 * it exits 70 with its stack.
 */
import assert from "node:assert/strict";
import { failure } from "../../lib/cli/exit.ts";
import { EXIT, RunError, UsageError } from "../../lib/shared/errors.ts";

Deno.test("a UsageError is bad input: exit 3, one line", () => {
  const f = failure("m17_compare", new UsageError("no task given"));
  assert.deepEqual(f, { code: 3, text: "m17_compare: no task given" });
});

Deno.test("a RunError is a failed run: exit 1, one line", () => {
  const f = failure("m17_check", new RunError("target down"));
  assert.deepEqual(f, { code: 1, text: "m17_check: run failed: target down" });
});

Deno.test("an operating-system error takes the tool's code for it, one line", () => {
  const e = new Deno.errors.PermissionDenied("cannot read x.json");
  assert.deepEqual(failure("m17_compare", e, EXIT.usage), {
    code: 3,
    text: "m17_compare: cannot read x.json",
  });
  assert.equal(failure("m17_check", e).code, EXIT.runFailed);
});

Deno.test("a TypeError is a crash: exit 70 with its stack, whatever the tool", () => {
  let thrown: unknown;
  try {
    // A genuine TypeError from the runtime, with a real stack.
    (null as unknown as { x: number }).x;
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof TypeError);
  for (const f of [failure("m17_compare", thrown, EXIT.usage), failure("m17_check", thrown)]) {
    assert.equal(f.code, 70);
    assert.equal(f.code, EXIT.internalError);
    assert.match(f.text, /^m17_(compare|check): internal error \(a bug in m17_\w+; please report/);
    assert.match(f.text, /TypeError: Cannot read properties of null/);
    assert.match(f.text, /\n\s+at .*exit_test\.ts:\d+:\d+/, "the stack names where it happened");
  }
});

Deno.test("a thrown non-Error is a crash too", () => {
  const f = failure("m17_compare", "boom", EXIT.usage);
  assert.equal(f.code, 70);
  assert.match(f.text, /internal error.*\nboom$/);
});
