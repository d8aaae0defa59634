/**
 * Scenario files: TOML → one validated, typed `Scenario`.
 *
 * Accepts every key of the old Rust load generator's schema and adds `seed`,
 * `[duration] warmup_seconds`, semantic/blended recall weights, recall modes, `[data] preload`
 * and the `scale_free` embedding distribution. Unknown keys are errors naming the key path and
 * the nearest valid key; the old tool ignored typos silently.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { parseScenario } from "./scenario.ts";
 * const s = parseScenario('name = "x"\n[arrival]\nrate = 10\n[operations]\nstore_weight = 1', "x.toml");
 * strictEqual(s.rate, 10);
 * ```
 * @module
 */
import { parse as parseToml } from "smol-toml";
import { UsageError } from "../shared/errors.ts";
import { INPUT_LIMITS, readInputText } from "../shared/input_file.ts";
import { oneLine } from "../shared/sanitize.ts";
import { parseSeed } from "./prng.ts";
import { checkKeys } from "./scenario_keys.ts";

/** The operation kinds, in report order. Report keys of the old tool are kept (`Store`, …). */
export const OP_KINDS = [
  "Store",
  "Recall",
  "SemanticRecall",
  "BlendedRecall",
  "Search",
  "PatternCompletion",
] as const;
/** One operation kind. */
export type OpKind = typeof OP_KINDS[number];

/** Recall modes Engram understands. */
export type RecallMode = "similarity" | "spreading" | "hybrid";

/** How embeddings are drawn. */
export type EmbeddingDistribution =
  | { type: "uniform" }
  | { type: "clustered"; numClusters: number; stdDev: number }
  | { type: "hot_spot"; center: number; stdDev: number }
  | { type: "scale_free"; numClusters: number; stdDev: number; exponent: number };

/** How arrivals are spaced. Constant is exact; the others are seeded. */
export type Arrival =
  | { pattern: "constant"; rate: number }
  | { pattern: "poisson"; rate: number }
  | {
    pattern: "periodic_burst";
    rate: number;
    baseRate: number;
    burstRate: number;
    burstDurationSec: number;
    burstPeriodSec: number;
  };

/** A validated scenario. Every number is finite and in range. */
export interface Scenario {
  name: string;
  /** Workload seed (unsigned 64-bit). */
  seed: bigint;
  /** Mean target rate in operations per second. */
  rate: number;
  arrival: Arrival;
  durationSeconds: number;
  warmupSeconds: number;
  /** Relative weights by operation kind (not normalised). */
  weights: Record<OpKind, number>;
  modes: { recall: RecallMode; semanticRecall: RecallMode; blendedRecall: RecallMode };
  /** Recall parameters. */
  recallThreshold: number;
  maxResults: number;
  searchLimit: number;
  /** Data shape: memories stored before the clock starts. */
  preload: number;
  /** `[data] num_nodes` (the old schema's dataset size), null when absent. */
  numNodes: number | null;
  /** Where `seed` and `preload` came from; said in the run's output and recorded in the report. */
  origins: ScenarioOrigins;
  embeddingDim: number;
  memorySpaces: number;
  distribution: EmbeddingDistribution;
  validation: {
    expectedP99LatencyMs?: number;
    expectedThroughputOpsSec?: number;
    maxErrorRate?: number;
  };
}

/**
 * Where a scenario's seed came from: the file's own `seed`, `--seed`, or the mode's seed (the file
 * has none: baseline 0xDEADBEEF, competitive 0xABCD1234, as the old scripts passed). Recorded as
 * is in the report (`scenario.seed_source`, e.g. `{"from": "mode", "mode": "competitive"}`).
 */
export type SeedOrigin =
  | { from: "scenario" }
  | { from: "flag" }
  | { from: "mode"; mode: keyof typeof MODE_SEEDS };

/**
 * Where a scenario's preload count came from: `[data] preload`, `[data] num_nodes` (the file has
 * no `preload`, as Engram's competitive scenario), or neither (0). Recorded as is in the report
 * (`scenario.preload_source`, e.g. `{"from": "num_nodes"}`).
 */
export type PreloadOrigin = { from: "scenario" } | { from: "num_nodes" } | { from: "none" };

/** Where a scenario's seed and preload came from. */
export interface ScenarioOrigins {
  seed: SeedOrigin;
  preload: PreloadOrigin;
}

/** The seed of each mode when the scenario has none (the old scripts' `--seed` values). */
export const MODE_SEEDS = { baseline: 0xDEADBEEFn, competitive: 0xABCD1234n } as const;

/** Limits that keep a run bounded. */
export const LIMITS = {
  maxRate: 100_000,
  maxDurationSeconds: 86_400,
  maxWarmupSeconds: 3_600,
  maxDim: 4_096,
  maxPreload: 2_000_000,
  maxSpaces: 1_000,
  maxClusters: 100_000,
} as const;

type Table = Record<string, unknown>;

/** Reads and validates a scenario file. Throws `UsageError` with file (and line) on any problem. */
export async function loadScenario(path: string): Promise<{ scenario: Scenario; text: string }> {
  const text = await readInputText(path, { label: "scenario", maxBytes: INPUT_LIMITS.tomlBytes });
  return { scenario: parseScenario(text, path), text };
}

/** Parses and validates scenario TOML text; `where` names the file in error messages. */
export function parseScenario(text: string, where: string): Scenario {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    const err = e as { line?: number; column?: number; message?: string };
    const first = (err.message ?? String(e)).split("\n")[0].replace(/^Invalid TOML document: /, "");
    const at = err.line ? `:${err.line}${err.column ? `:${err.column}` : ""}` : "";
    throw new UsageError(`scenario ${where}${at}: invalid TOML: ${first}`);
  }
  checkKeys(doc, "", where);
  const v = new Reader(doc, where);

  const duration = v.table("duration");
  const arrivalT = v.table("arrival");
  const ops = v.table("operations");
  const data = v.table("data");
  const validationT = v.table("validation");
  const chaos = v.table("chaos");

  const durationSeconds = v.num(duration, "duration.total_seconds", 300, {
    min: 0,
    exclusiveMin: true,
    max: LIMITS.maxDurationSeconds,
  });
  const warmupSeconds = v.num(duration, "duration.warmup_seconds", 0, {
    min: 0,
    max: LIMITS.maxWarmupSeconds,
  });

  const pattern = v.str(arrivalT, "arrival.pattern", "constant");
  const rateOpt = { min: 0, exclusiveMin: true, max: LIMITS.maxRate };
  let arrival: Arrival;
  if (pattern === "constant") {
    arrival = { pattern, rate: v.num(arrivalT, "arrival.rate", 1000, rateOpt) };
  } else if (pattern === "poisson" || pattern === "exponential") {
    const key = arrivalT.lambda !== undefined ? "lambda" : "rate";
    arrival = { pattern: "poisson", rate: v.num(arrivalT, `arrival.${key}`, 1000, rateOpt) };
  } else if (pattern === "periodic_burst") {
    const baseRate = v.num(arrivalT, "arrival.base_rate", undefined, rateOpt);
    const burstRate = v.num(arrivalT, "arrival.burst_rate", undefined, rateOpt);
    const burstDurationSec = v.num(arrivalT, "arrival.burst_duration_sec", undefined, {
      min: 0,
      exclusiveMin: true,
      max: LIMITS.maxDurationSeconds,
    });
    const burstPeriodSec = v.num(arrivalT, "arrival.burst_period_sec", undefined, {
      min: 0,
      exclusiveMin: true,
      max: LIMITS.maxDurationSeconds,
    });
    if (burstDurationSec > burstPeriodSec) {
      throw new UsageError(
        `scenario ${where}: arrival.burst_duration_sec (${burstDurationSec}) exceeds arrival.burst_period_sec (${burstPeriodSec})`,
      );
    }
    const rate = (burstRate * burstDurationSec + baseRate * (burstPeriodSec - burstDurationSec)) /
      burstPeriodSec;
    arrival = { pattern, rate, baseRate, burstRate, burstDurationSec, burstPeriodSec };
  } else {
    throw new UsageError(
      `scenario ${where}: arrival.pattern "${pattern}" is not one of constant, poisson, exponential, periodic_burst`,
    );
  }

  const wOpt = { min: 0, max: 1e9 };
  const weights: Record<OpKind, number> = {
    Store: v.num(ops, "operations.store_weight", 0, wOpt),
    Recall: v.num(ops, "operations.recall_weight", 0, wOpt),
    SemanticRecall: v.num(ops, "operations.semantic_recall_weight", 0, wOpt),
    BlendedRecall: v.num(ops, "operations.blended_recall_weight", 0, wOpt),
    Search: v.num(ops, "operations.embedding_search_weight", 0, wOpt),
    PatternCompletion: v.num(ops, "operations.pattern_completion_weight", 0, wOpt),
  };
  if (Object.values(weights).every((w) => w === 0)) {
    throw new UsageError(
      `scenario ${where}: [operations] weights are all zero (set at least one *_weight > 0)`,
    );
  }
  const modes = {
    recall: v.mode(ops, "operations.recall_mode", "similarity"),
    semanticRecall: v.mode(ops, "operations.semantic_recall_mode", "spreading"),
    blendedRecall: v.mode(ops, "operations.blended_recall_mode", "hybrid"),
  };

  const embeddingDim = v.int(data, "data.embedding_dim", 768, { min: 1, max: LIMITS.maxDim });
  // Old-schema keys that change nothing here: still type-checked, so a typo'd value is an error.
  v.str(doc, "description", "");
  const numNodes = data.num_nodes === undefined
    ? null
    : v.int(data, "data.num_nodes", 0, { min: 0, max: LIMITS.maxPreload });
  v.bool(chaos, "chaos.enabled", false);
  // No `preload`: the dataset is `num_nodes` memories, as the specification's 100K scenario says.
  const preloadOrigin: PreloadOrigin = data.preload !== undefined
    ? { from: "scenario" }
    : numNodes
    ? { from: "num_nodes" }
    : { from: "none" };
  const preload = v.int(data, "data.preload", numNodes ?? 0, { min: 0, max: LIMITS.maxPreload });
  const memorySpaces = v.int(data, "data.memory_spaces", 1, { min: 1, max: LIMITS.maxSpaces });
  const distribution = readDistribution(v, data, where);

  const validation: Scenario["validation"] = {};
  if (validationT.expected_p99_latency_ms !== undefined) {
    validation.expectedP99LatencyMs = v.num(validationT, "validation.expected_p99_latency_ms", 0, {
      min: 0,
      exclusiveMin: true,
      max: 1e7,
    });
  }
  if (validationT.expected_throughput_ops_sec !== undefined) {
    validation.expectedThroughputOpsSec = v.num(
      validationT,
      "validation.expected_throughput_ops_sec",
      0,
      { min: 0, max: LIMITS.maxRate },
    );
  }
  if (validationT.max_error_rate !== undefined) {
    validation.maxErrorRate = v.num(validationT, "validation.max_error_rate", 0, {
      min: 0,
      max: 1,
    });
  }

  const seedRaw = doc.seed;
  let seed: bigint = MODE_SEEDS.baseline; // `withModeSeed` applies the competitive one
  if (seedRaw !== undefined) {
    const parsed =
      typeof seedRaw === "string" || typeof seedRaw === "number" || typeof seedRaw === "bigint"
        ? parseSeed(seedRaw)
        : undefined;
    if (parsed === undefined) {
      throw new UsageError(
        `scenario ${where}: seed ${
          JSON.stringify(String(seedRaw))
        } is not an unsigned 64-bit integer (decimal or "0x…" hex)`,
      );
    }
    seed = parsed;
  }

  return {
    name: oneLine(v.str(doc, "name", "unnamed"), Infinity), // printed and recorded: no controls
    seed,
    rate: arrival.rate,
    arrival,
    durationSeconds,
    warmupSeconds,
    weights,
    modes,
    recallThreshold: v.num(ops, "operations.recall_threshold", 0.5, { min: 0, max: 1 }),
    maxResults: v.int(ops, "operations.max_results", 10, { min: 1, max: 1000 }),
    searchLimit: v.int(ops, "operations.search_limit", 10, { min: 1, max: 1000 }),
    preload,
    numNodes,
    origins: {
      seed: seedRaw === undefined ? { from: "mode", mode: "baseline" } : { from: "scenario" },
      preload: preloadOrigin,
    },
    embeddingDim,
    memorySpaces,
    distribution,
    validation,
  };
}

function readDistribution(v: Reader, data: Table, where: string): EmbeddingDistribution {
  const raw = data.embedding_distribution;
  if (raw === undefined) return { type: "clustered", numClusters: 10, stdDev: 0.1 };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new UsageError(`scenario ${where}: data.embedding_distribution must be a table`);
  }
  const t = raw as Table;
  const type = v.str(t, "data.embedding_distribution.type", "clustered");
  const clusters = () =>
    v.int(t, "data.embedding_distribution.num_clusters", 10, { min: 1, max: LIMITS.maxClusters });
  const stdDev = () => v.num(t, "data.embedding_distribution.std_dev", 0.1, { min: 0, max: 10 });
  switch (type) {
    case "uniform":
      return { type };
    case "clustered":
      return { type, numClusters: clusters(), stdDev: stdDev() };
    case "hot_spot":
      return {
        type,
        center: v.num(t, "data.embedding_distribution.center", 0.5, { min: -1, max: 1 }),
        stdDev: stdDev(),
      };
    case "scale_free":
      return {
        type,
        numClusters: clusters(),
        stdDev: stdDev(),
        exponent: v.num(t, "data.embedding_distribution.exponent", 2.1, {
          min: 0,
          exclusiveMin: true,
          max: 10,
        }),
      };
    default:
      throw new UsageError(
        `scenario ${where}: data.embedding_distribution.type "${type}" is not one of uniform, clustered, hot_spot, scale_free`,
      );
  }
}

interface Range {
  min: number;
  max: number;
  exclusiveMin?: boolean;
}

/** Typed field access with one-line errors naming the file and key. */
class Reader {
  constructor(readonly doc: Table, readonly where: string) {}

  table(key: string): Table {
    const t = this.doc[key];
    return (t ?? {}) as Table;
  }

  num(t: Table, path: string, fallback: number | undefined, r: Range): number {
    const key = path.split(".").pop()!;
    const raw = t[key];
    if (raw === undefined) {
      if (fallback === undefined) {
        throw new UsageError(`scenario ${this.where}: ${path} is required`);
      }
      return fallback;
    }
    const n = typeof raw === "bigint" ? Number(raw) : raw;
    if (typeof n !== "number" || !Number.isFinite(n)) {
      throw new UsageError(
        `scenario ${this.where}: ${path} must be a finite number, got ${fmt(raw)}`,
      );
    }
    if (n < r.min || (r.exclusiveMin && n === r.min) || n > r.max) {
      const lo = r.exclusiveMin ? `> ${r.min}` : `≥ ${r.min}`;
      throw new UsageError(
        `scenario ${this.where}: ${path} = ${n} is out of range (${lo} and ≤ ${r.max})`,
      );
    }
    return n;
  }

  int(t: Table, path: string, fallback: number, r: Range): number {
    const n = this.num(t, path, fallback, r);
    if (!Number.isInteger(n)) {
      throw new UsageError(`scenario ${this.where}: ${path} must be an integer, got ${n}`);
    }
    return n;
  }

  str(t: Table, path: string, fallback: string): string {
    const key = path.split(".").pop()!;
    const raw = t[key];
    if (raw === undefined) return fallback;
    if (typeof raw !== "string") {
      throw new UsageError(`scenario ${this.where}: ${path} must be a string, got ${fmt(raw)}`);
    }
    return raw;
  }

  bool(t: Table, path: string, fallback: boolean): boolean {
    const key = path.split(".").pop()!;
    const raw = t[key];
    if (raw === undefined) return fallback;
    if (typeof raw !== "boolean") {
      throw new UsageError(
        `scenario ${this.where}: ${path} must be true or false, got ${fmt(raw)}`,
      );
    }
    return raw;
  }

  mode(t: Table, path: string, fallback: RecallMode): RecallMode {
    const m = this.str(t, path, fallback);
    if (m !== "similarity" && m !== "spreading" && m !== "hybrid") {
      throw new UsageError(
        `scenario ${this.where}: ${path} "${m}" is not one of similarity, spreading, hybrid`,
      );
    }
    return m;
  }
}

function fmt(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** Returns a copy with command-line overrides applied and re-validated. */
export function withOverrides(
  s: Scenario,
  o: { seed?: bigint; rate?: number; durationSeconds?: number; warmupSeconds?: number },
): Scenario {
  const out: Scenario = { ...s };
  if (o.seed !== undefined) {
    out.seed = o.seed;
    out.origins = { ...out.origins, seed: { from: "flag" } };
  }
  if (o.rate !== undefined) {
    if (!(o.rate > 0 && o.rate <= LIMITS.maxRate)) {
      throw new UsageError(`--rate ${o.rate} is out of range (> 0 and ≤ ${LIMITS.maxRate})`);
    }
    out.rate = o.rate;
    out.arrival = out.arrival.pattern === "periodic_burst"
      ? { pattern: "constant", rate: o.rate }
      : { ...out.arrival, rate: o.rate };
  }
  if (o.durationSeconds !== undefined) {
    if (!(o.durationSeconds > 0 && o.durationSeconds <= LIMITS.maxDurationSeconds)) {
      throw new UsageError(
        `--duration ${o.durationSeconds} is out of range (> 0 and ≤ ${LIMITS.maxDurationSeconds})`,
      );
    }
    out.durationSeconds = o.durationSeconds;
  }
  if (o.warmupSeconds !== undefined) {
    if (!(o.warmupSeconds >= 0 && o.warmupSeconds <= LIMITS.maxWarmupSeconds)) {
      throw new UsageError(
        `--warmup ${o.warmupSeconds} is out of range (≥ 0 and ≤ ${LIMITS.maxWarmupSeconds})`,
      );
    }
    out.warmupSeconds = o.warmupSeconds;
  }
  return out;
}
