/**
 * `deno task` runs commands in the directory of deno.json and passes the caller's directory as
 * `INIT_CWD`. Relative paths given by the user mean the caller's directory, so the entrypoints
 * move back there — but only when the task runner moved them (the current directory is the
 * tool's own root); a process started elsewhere on purpose keeps its directory.
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Changes to `INIT_CWD` when the current directory is `root` (the tool's own checkout). */
export function restoreCallerCwd(root: URL): void {
  const initCwd = Deno.env.get("INIT_CWD");
  if (!initCwd || root.protocol !== "file:") return;
  try {
    if (
      resolve(Deno.cwd()) === resolve(fileURLToPath(root)) &&
      resolve(initCwd) !== resolve(Deno.cwd())
    ) {
      Deno.chdir(initCwd);
    }
  } catch { /* the caller's directory is gone: stay where we are */ }
}
