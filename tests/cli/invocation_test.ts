/** How the tool was started decides the commands every hint suggests (issue 18, item 4). */
import assert from "node:assert/strict";
import { toolCommands } from "../../lib/cli/invocation.ts";
import { checkCommand, compareCommand } from "../../lib/report/files.ts";

Deno.test("toolCommands(): the shim's paths, deno task, or the binary's own name", () => {
  const shim = toolCommands({ invocation: "shim" });
  assert.equal(
    checkCommand("003", "after", "internal", shim),
    "scripts/m17_performance_check.sh 003 after",
  );
  assert.equal(
    compareCommand("003", "competitive", shim),
    "scripts/compare_m17_performance.sh 003 --competitive",
  );
  assert.equal(
    compareCommand("003", "internal", toolCommands({ invocation: "deno-task" })),
    "deno task compare 003",
  );
  const binary = toolCommands({ standaloneBinary: "/opt/bin/m17_check" });
  assert.deepEqual(binary, { check: "m17_check", compare: "m17_compare" });
  // The shim's setting wins over a binary found by the shim.
  assert.equal(
    toolCommands({ invocation: "shim", standaloneBinary: "/opt/bin/m17_check" }).check,
    "scripts/m17_performance_check.sh",
  );
  assert.deepEqual(toolCommands({}), { check: "deno task check", compare: "deno task compare" });
});
