/**
 * The keys a scenario file may have, table by table, and the check that names an unknown key
 * with the nearest valid one (the old tool ignored typos silently).
 *
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { checkKeys } from "./scenario_keys.ts";
 * throws(() => checkKeys({ duraton: {} }, "", "x.toml"), /did you mean "duration"/);
 * ```
 * @module
 */
import { suggest, UsageError } from "../shared/errors.ts";

type Table = Record<string, unknown>;

/** Allowed keys per table; `*` marks a nested table. */
const SCHEMA: Record<string, readonly string[]> = {
  "": [
    "name",
    "description",
    "seed",
    "duration",
    "arrival",
    "operations",
    "data",
    "validation",
    "chaos",
  ],
  duration: ["total_seconds", "warmup_seconds"],
  arrival: [
    "pattern",
    "rate",
    "lambda",
    "base_rate",
    "burst_rate",
    "burst_duration_sec",
    "burst_period_sec",
  ],
  operations: [
    "store_weight",
    "recall_weight",
    "semantic_recall_weight",
    "blended_recall_weight",
    "embedding_search_weight",
    "pattern_completion_weight",
    "recall_mode",
    "semantic_recall_mode",
    "blended_recall_mode",
    "recall_threshold",
    "max_results",
    "search_limit",
  ],
  data: ["num_nodes", "preload", "embedding_dim", "memory_spaces", "embedding_distribution"],
  "data.embedding_distribution": ["type", "num_clusters", "std_dev", "center", "exponent"],
  validation: ["expected_p99_latency_ms", "expected_throughput_ops_sec", "max_error_rate"],
  chaos: ["enabled", "*"],
};

/** Throws `UsageError` naming the first unknown key (or table/value mix-up) under `path`. */
export function checkKeys(doc: Table, path: string, where: string): void {
  const allowed = SCHEMA[path];
  if (!allowed) return;
  if (allowed.includes("*")) return;
  for (const [key, value] of Object.entries(doc)) {
    const full = path ? `${path}.${key}` : key;
    if (!allowed.includes(key)) {
      const hint = suggest(key, allowed);
      throw new UsageError(
        `scenario ${where}: unknown key "${full}"${
          hint ? ` (did you mean "${path ? path + "." : ""}${hint}"?)` : ""
        }`,
      );
    }
    if (
      typeof value === "object" && value !== null && !Array.isArray(value) &&
      !(value instanceof Date)
    ) {
      if (SCHEMA[full] === undefined) {
        throw new UsageError(`scenario ${where}: "${full}" must be a value, not a table`);
      }
      checkKeys(value as Table, full, where);
    } else if (SCHEMA[full] !== undefined) {
      throw new UsageError(`scenario ${where}: "${full}" must be a table`);
    }
  }
}
