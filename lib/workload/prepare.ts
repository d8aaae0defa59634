/**
 * The run's scenario: `--scenario` resolved to a file (a path, or a shipped name looked up in
 * `./scenarios/` then the tool's own), loaded, and the command-line overrides applied.
 * @module
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { SCENARIOS_DIR } from "../paths.ts";
import { UsageError } from "../shared/errors.ts";
import { Workload } from "./ops.ts";
import { loadScenario, type Scenario, withOverrides } from "./scenario.ts";

/** The scenario a run asked for: `--scenario`, `--competitive` and the overriding flags. */
export interface ScenarioChoice {
  /** A path or a shipped name; default `m17_baseline` (`competitive/hybrid_production_100k`). */
  scenario?: string;
  competitive: boolean;
  seed?: bigint;
  rate?: number;
  durationSeconds?: number;
  warmupSeconds?: number;
}

/** A loaded scenario with where it came from. */
export interface PreparedScenario {
  scenario: Scenario;
  /** Absolute path of the scenario file. */
  path: string;
  /** SHA-256 of the file's text, hex. */
  sha256: string;
}

/**
 * Resolves `--scenario`: an existing path, else a shipped scenario name (`m17_baseline`,
 * `competitive/hybrid_production_100k`), looked up in `./scenarios/` then the tool's own.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * const path = await resolveScenarioPath(undefined, false);
 * ok(path.endsWith("m17_baseline.toml"));
 * ```
 */
export async function resolveScenarioPath(
  arg: string | undefined,
  competitive: boolean,
): Promise<string> {
  const name = arg ?? (competitive ? "competitive/hybrid_production_100k" : "m17_baseline");
  const candidates = arg !== undefined && (arg.includes("/") || arg.endsWith(".toml")) ? [arg] : [];
  const file = name.endsWith(".toml") ? name : `${name}.toml`;
  candidates.push(join("scenarios", file), join(SCENARIOS_DIR, file));
  for (const c of candidates) {
    try {
      if ((await Deno.stat(c)).isFile) return resolve(c);
    } catch { /* try the next */ }
  }
  throw new UsageError(`scenario ${arg ?? name}: not found (tried ${candidates.join(", ")})`);
}

/**
 * Loads the scenario with command-line overrides applied; a UsageError when it is not found or
 * not valid.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const { scenario } = await prepareScenario({ competitive: false, rate: 50 });
 * strictEqual(scenario.rate, 50);
 * ```
 */
export async function prepareScenario(o: ScenarioChoice): Promise<PreparedScenario> {
  const path = await resolveScenarioPath(o.scenario, o.competitive);
  const { scenario, text } = await loadScenario(path);
  const s = withOverrides(scenario, {
    seed: o.seed,
    rate: o.rate,
    durationSeconds: o.durationSeconds,
    warmupSeconds: o.warmupSeconds,
  });
  new Workload(s); // validates the embedding space size up front
  return { scenario: s, path, sha256: createHash("sha256").update(text).digest("hex") };
}
