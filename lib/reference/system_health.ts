/**
 * `GET /api/v1/system/health`, Engram's per-space health: the body the reference server answers,
 * so that `check` reads a memory count from it as it does from Engram (`engramMemoryCount`, lib/target/health.ts).
 * @module
 */
import { DEFAULT_SPACE } from "./request.ts";
import type { MemoryStore } from "./store.ts";

/**
 * Engram's shape (`status`, `timestamp`, `checks`, `spaces[]` with each space's `memories`,
 * `cluster`), the default space listed even when empty, as Engram's is.
 */
export function systemHealth(store: MemoryStore): unknown {
  const counts = { [DEFAULT_SPACE]: 0, ...store.counts() };
  return {
    status: "healthy",
    timestamp: new Date().toISOString(),
    checks: [],
    spaces: Object.entries(counts).map(([space, memories]) => ({
      space,
      memories,
      pressure: 0,
      wal_lag_ms: 0,
      consolidation_rate: 0,
    })),
    cluster: null,
  };
}
