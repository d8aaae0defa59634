/**
 * What the workload did to the target's store, in words: the note a report, the run's summary and
 * its HTML page carry when stores were accepted but added no memory (Engram deduplicates a store
 * whose embedding is near-identical to a stored one), and the one-line state the summary prints.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const state = { memories_after_preload: 10, memories_at_end: 10, stores_accepted: 10_500 };
 * strictEqual(
 *   deduplicationNote({ state, preloadAccepted: 1000, server: "Engram", clusterCosine: 0.973 }),
 *   "stores deduplicated away: 11,500 stores accepted (1,000 in the preload); Engram holds 10 " +
 *     "memories (10 after the preload, +0 since): the scenario's same-cluster embeddings are " +
 *     "near-identical (cosine ≈ 0.973; Engram deduplicates at ≥ 0.95)",
 * );
 * ```
 * @module
 */
import { ENGRAM_DEDUP_COSINE } from "../workload/dedup.ts";
import type { RunReport, TargetState } from "./schema.ts";

/** What the deduplication note is made from. */
export interface DeduplicationFacts {
  state: TargetState;
  /** Preload stores answered 2xx (`preload.count − preload.errors`). */
  preloadAccepted: number;
  /** `Engram`, `the reference server` or `the server` (`serverName`). */
  server: string;
  /** The scenario's expected same-cluster cosine (`sameClusterCosine`); null: uniform. */
  clusterCosine: number | null;
}

const count = (n: number) => n.toLocaleString("en-US");

/** How a note names a target of this kind. */
export function serverName(kind: RunReport["target"]["kind"]): string {
  return kind === "engram"
    ? "Engram"
    : kind === "reference"
    ? "the reference server"
    : "the server";
}

/**
 * `stores deduplicated away: 11,500 stores accepted (1,000 in the preload); Engram holds 10
 * memories (…): …` when the stores accepted after the preload added fewer memories than their
 * number, or the preload's accepted stores left fewer memories than theirs; null otherwise and
 * whenever the target did not report a count (nothing is said that was not measured).
 */
export function deduplicationNote(f: DeduplicationFacts): string | null {
  const { memories_after_preload: after, memories_at_end: end, stores_accepted } = f.state;
  if (after === null || end === null) return null;
  const added = end - after;
  const preloadShort = f.preloadAccepted > 0 && after < f.preloadAccepted;
  if (added >= stores_accepted && !preloadShort) return null;
  const total = stores_accepted + f.preloadAccepted;
  const ofPreload = f.preloadAccepted > 0 ? ` (${count(f.preloadAccepted)} in the preload)` : "";
  const sign = added >= 0 ? "+" : "−";
  const near = f.clusterCosine !== null && f.clusterCosine >= ENGRAM_DEDUP_COSINE;
  const why = near
    ? `the scenario's same-cluster embeddings are near-identical (cosine ≈ ${
      f.clusterCosine!.toFixed(3)
    }; Engram deduplicates at ≥ ${ENGRAM_DEDUP_COSINE})`
    : `${f.server} deduplicated or dropped the rest`;
  return `stores deduplicated away: ${count(total)} stores accepted${ofPreload}; ${f.server} ` +
    `holds ${count(end)} memories (${count(after)} after the preload, ${sign}${
      count(Math.abs(added))
    } since): ${why}`;
}

/**
 * `memories 10 after the preload, 10 at the end; 10,500 stores accepted after the preload`: the
 * summary's line (`not reported` where the target gave no count).
 */
export function describeTargetState(s: TargetState): string {
  const m = (n: number | null) => n === null ? "not reported" : count(n);
  if (s.memories_after_preload === null && s.memories_at_end === null) {
    return `memory count not reported (GET /api/v1/system/health); ${
      count(s.stores_accepted)
    } stores accepted after the preload`;
  }
  return `memories ${m(s.memories_after_preload)} after the preload, ${
    m(s.memories_at_end)
  } at the end; ${count(s.stores_accepted)} stores accepted after the preload`;
}
