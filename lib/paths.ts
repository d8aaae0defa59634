/**
 * Where the tool's own files are, computed once from this module's location (also inside a
 * compiled binary, whose embedded sources keep the same layout). Nothing else in lib/ derives
 * paths from `import.meta.url`, so modules can move without breaking file lookups.
 *
 * @example
 * ```ts
 * import { SCENARIOS_DIR, TOOL_ROOT } from "./paths.ts";
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(SCENARIOS_DIR.startsWith(TOOL_ROOT), true);
 * ```
 */
import { fileURLToPath } from "node:url";

/** The tool's root directory (holds `deno.json`, `scenarios/`, `lib/`), with a trailing slash. */
export const TOOL_ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** The tool's shipped scenarios (`m17_baseline.toml`, `competitive/…`), with a trailing slash. */
export const SCENARIOS_DIR: string = fileURLToPath(new URL("../scenarios/", import.meta.url));

/** The shipped competitor baselines file. */
export const BASELINES_PATH: string = SCENARIOS_DIR + "competitive/baselines.toml";

/** The reference server's entrypoint (run as a child process from source). */
export const REFERENCE_MAIN: string = fileURLToPath(
  new URL("./reference/main.ts", import.meta.url),
);
