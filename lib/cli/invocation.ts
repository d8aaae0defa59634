/**
 * How the user started the tool, from the environment the entrypoint sees: the installed shims
 * and the deno.json tasks they add set `M17_INVOCATION` (`shim`, `deno-task`); a compiled binary
 * is named by its file name; otherwise the tool runs from its own repository (`deno task …`).
 * The entrypoint passes the resulting commands down to every hint.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { toolCommands } from "./invocation.ts";
 * strictEqual(toolCommands({ invocation: "shim" }).compare, "scripts/compare_m17_performance.sh");
 * strictEqual(
 *   toolCommands({ standaloneBinary: "/opt/m17/m17_compare-x86_64-unknown-linux-gnu" }).check,
 *   "m17_check-x86_64-unknown-linux-gnu",
 * );
 * strictEqual(toolCommands({}).check, "deno task check");
 * ```
 * @module
 */
import { basename } from "node:path";
import { DENO_TASK_COMMANDS, type ToolCommands } from "../report/files.ts";

/** The shims' paths, relative to the Engram checkout root the shims work in. */
const SHIM_COMMANDS: ToolCommands = {
  check: "scripts/m17_performance_check.sh",
  compare: "scripts/compare_m17_performance.sh",
};

/** What the entrypoint knows about how it was started. */
export interface Started {
  /** `M17_INVOCATION`, when set. */
  invocation?: string;
  /** The binary's path when this is a compiled binary. */
  standaloneBinary?: string;
}

/** What this process knows: `M17_INVOCATION` and, for a compiled binary, its path. */
export function startedFromEnv(): Started {
  return {
    invocation: Deno.env.get("M17_INVOCATION"),
    standaloneBinary: Deno.build.standalone ? Deno.execPath() : undefined,
  };
}

/** The commands a hint suggests, for how the tool was started. */
export function toolCommands(started: Started): ToolCommands {
  if (started.invocation === "shim") return SHIM_COMMANDS;
  if (started.invocation === "deno-task") return DENO_TASK_COMMANDS;
  if (started.standaloneBinary !== undefined) {
    const name = basename(started.standaloneBinary);
    const other = (from: string, to: string) => name.replace(from, to);
    return name.startsWith("m17_compare")
      ? { check: other("m17_compare", "m17_check"), compare: name }
      : { check: name, compare: other("m17_check", "m17_compare") };
  }
  return DENO_TASK_COMMANDS;
}
