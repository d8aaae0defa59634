/**
 * The run's scenario: `--scenario` resolved to a file (a path, or a shipped name looked up in
 * `./scenarios/` then the tool's own), loaded, and the command-line overrides applied.
 * @module
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { SCENARIOS_DIR } from "../paths.ts";
import { UsageError } from "../shared/errors.ts";
import { regularOrMissing } from "../shared/input_file.ts";
import { Workload } from "./ops.ts";
import { LIMITS, loadScenario, MODE_SEEDS, type Scenario, withOverrides } from "./scenario.ts";

/** The scenario a run asked for: `--scenario`, `--competitive` and the overriding flags. */
export interface ScenarioChoice {
  /** A path or a shipped name; default `m17_baseline` (`competitive/hybrid_production_100k`). */
  scenario?: string;
  competitive: boolean;
  /** Whose `scenarios/` a shipped name is looked up in first (the Engram checkout); default cwd. */
  scenarioDir?: string;
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
 * `competitive/hybrid_production_100k`), looked up in `<scenarioDir>/scenarios/` (the Engram checkout, or `.`) then the tool's own.
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
  scenarioDir = ".",
): Promise<string> {
  const name = arg ?? (competitive ? "competitive/hybrid_production_100k" : "m17_baseline");
  const candidates = arg !== undefined && (arg.includes("/") || arg.endsWith(".toml")) ? [arg] : [];
  const file = name.endsWith(".toml") ? name : `${name}.toml`;
  candidates.push(join(scenarioDir, "scenarios", file), join(SCENARIOS_DIR, file));
  for (const c of candidates) {
    // A FIFO, directory, device or broken symlink in the way is named, not skipped or opened.
    if ((await regularOrMissing(c, "scenario")) === "file") return resolve(c);
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
  const path = await resolveScenarioPath(o.scenario, o.competitive, o.scenarioDir);
  const { scenario, text } = await loadScenario(path);
  const s = withOverrides(withModeSeed(scenario, o.competitive ? "competitive" : "baseline"), {
    seed: o.seed,
    rate: o.rate,
    durationSeconds: o.durationSeconds,
    warmupSeconds: o.warmupSeconds,
  });
  checkMeasurable(s, {
    rate: o.rate !== undefined ? "--rate" : `scenario ${path}: arrival rate`,
    duration: o.durationSeconds !== undefined
      ? "--duration"
      : `scenario ${path}: duration.total_seconds`,
  });
  new Workload(s); // validates the embedding space size up front
  return { scenario: s, path, sha256: createHash("sha256").update(text).digest("hex") };
}

/**
 * The smallest run that measures something: a measured window of at least 1 s holding at least
 * 200 planned requests (a P99 needs a hundred or more samples, a P99.9 cannot be told apart
 * from the maximum below a thousand: 200 is the floor, not a recommendation).
 */
export const MEASURABLE = { minDurationSeconds: 1, minRequests: 200 } as const;

/**
 * Refuses a scenario whose measured window cannot make a measurement (shorter than 1 s, or
 * fewer than 200 planned requests), naming the flag or key to change and its smallest sensible
 * value. `from` says where the rate and duration came from (`--rate` or the scenario key).
 *
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { parseScenario } from "./scenario.ts";
 * const s = parseScenario("[arrival]\nrate = 2\n[operations]\nstore_weight = 1", "x.toml");
 * const from = { rate: "--rate", duration: "--duration" };
 * throws(() => checkMeasurable({ ...s, rate: 1000, durationSeconds: 0.5 }, from), /at least 1 s/);
 * throws(() => checkMeasurable({ ...s, rate: 1, durationSeconds: 60 }, from), /rate ≥ 3\.34 ops/);
 * checkMeasurable({ ...s, rate: 200, durationSeconds: 1 }, from);
 * ```
 */
export function checkMeasurable(s: Scenario, from: { rate: string; duration: string }): void {
  const { minDurationSeconds, minRequests } = MEASURABLE;
  if (s.durationSeconds < minDurationSeconds) {
    throw new UsageError(
      `${from.duration} ${s.durationSeconds} s makes no measurement: the measured window must ` +
        `be at least ${minDurationSeconds} s`,
    );
  }
  const planned = s.rate * s.durationSeconds;
  if (planned < minRequests) {
    const minRate = Math.ceil((minRequests / s.durationSeconds) * 100) / 100;
    const minDuration = Math.ceil((minRequests / s.rate) * 100) / 100;
    // A duration beyond the longest allowed window is no advice.
    const orDuration = minDuration <= LIMITS.maxDurationSeconds
      ? ` or a duration ≥ ${minDuration} s`
      : "";
    throw new UsageError(
      `${from.rate} ${s.rate} ops/s for ${s.durationSeconds} s plans ${Math.floor(planned)} ` +
        `measured requests, fewer than the ${minRequests} a measurement needs: use a rate ≥ ` +
        `${minRate} ops/s${orDuration}`,
    );
  }
}

/**
 * The scenario with its mode's seed when the file has no `seed` (baseline 0xDEADBEEF,
 * competitive 0xABCD1234); a file's own seed is kept.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { parseScenario } from "./scenario.ts";
 * const s = parseScenario("[operations]\nstore_weight = 1", "x.toml");
 * strictEqual(withModeSeed(s, "competitive").seed, 0xABCD1234n);
 * strictEqual(withModeSeed(s, "baseline").seed, 0xDEADBEEFn);
 * ```
 */
export function withModeSeed(s: Scenario, mode: keyof typeof MODE_SEEDS): Scenario {
  return s.origins.seed.from === "mode"
    ? { ...s, seed: MODE_SEEDS[mode], origins: { ...s.origins, seed: { from: "mode", mode } } }
    : s;
}

/**
 * What the run will preload and why, for the run's output and `--dry-run`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { parseScenario } from "./scenario.ts";
 * const s = parseScenario("[operations]\nstore_weight = 1\n[data]\nnum_nodes = 100_000", "x");
 * strictEqual(describePreload(s), "100,000 memories ([data] num_nodes; the scenario has no preload)");
 * ```
 */
export function describePreload(s: Scenario): string {
  const n = `${s.preload.toLocaleString("en-US")} memories`;
  switch (s.origins.preload.from) {
    case "num_nodes":
      return `${n} ([data] num_nodes; the scenario has no preload)`;
    case "scenario":
      return n;
    case "none":
      return `${n} (the scenario has neither preload nor num_nodes)`;
  }
}

/**
 * Where the seed came from, for the run's output and `--dry-run`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { parseScenario } from "./scenario.ts";
 * const s = withModeSeed(parseScenario("[operations]\nstore_weight = 1", "x"), "competitive");
 * strictEqual(describeSeedOrigin(s), "the competitive mode's seed: the scenario has none");
 * ```
 */
export function describeSeedOrigin(s: Scenario): string {
  const o = s.origins.seed;
  switch (o.from) {
    case "scenario":
      return "from the scenario";
    case "flag":
      return "from --seed";
    case "mode":
      return `the ${o.mode} mode's seed: the scenario has none`;
  }
}
