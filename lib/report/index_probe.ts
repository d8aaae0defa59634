/**
 * The words of the vector-index probe of a preload snapshot (lib/run/index_probe.ts): the note a
 * report carries when the restored Engram finds fewer preloaded memories than the fresh preload
 * did, used by `check` (terminal, log, report notes, HTML) and `compare` (its warnings), and the
 * report's `methods.index_probe`.
 *
 * @example
 * ```ts
 * import { match, strictEqual } from "node:assert/strict";
 * strictEqual(indexProbeNote({ probes: 8, found_fresh: 8, found_restored: 8 }), null);
 * match(
 *   indexProbeNote({ probes: 8, found_fresh: 8, found_restored: 0 })!,
 *   /^restored Engram's vector index .* \(0 of 8 probes found vs 8 of 8 on the fresh preload\)/,
 * );
 * ```
 * @module
 */
/**
 * The vector-index probe of a preload snapshot (README "Preload snapshots"): `probes` preloaded
 * memories spread over the stream, each recalled by its own embedding; found = the recall returned
 * at least one memory. `found_fresh` on the live store right after the preload, before the graceful stop that
 * kept the snapshot (null: the snapshot was made before the probe existed); `found_restored` on
 * the copy this run measured, right after Engram started on it.
 */
export interface IndexProbeRecord {
  probes: number;
  found_fresh: number | null;
  found_restored: number;
}

/** What the notes read of a report: its preload snapshot's probe (this file imports no schema). */
interface Probed {
  preload?: { snapshot?: { index_probe?: IndexProbeRecord } };
}

/**
 * Whether the restored store found fewer preloaded memories than the fresh one: fewer than
 * `found_fresh`, or, for a snapshot made before the probe existed, fewer than every probe.
 */
export function indexLost(p: IndexProbeRecord): boolean {
  return p.found_restored < (p.found_fresh ?? p.probes);
}

/** `3 of 8`: a count of found probes. */
function found(k: number, n: number): string {
  return `${k} of ${n}`;
}

/**
 * The note (and terminal warning) of a restored Engram that lost its vector index; null when it
 * found as many preloaded memories as the fresh preload did.
 */
export function indexProbeNote(p: IndexProbeRecord): string | null {
  if (!indexLost(p)) return null;
  const n = p.probes;
  const fresh = p.found_fresh === null
    ? "; the fresh preload was not probed when the snapshot was made"
    : ` vs ${found(p.found_fresh, n)} on the fresh preload`;
  return `restored Engram's vector index holds only memories stored after the restore (${
    found(p.found_restored, n)
  } probes found${fresh}): recall/search latencies are not those of a preloaded store; --no-preload-cache measures the preloaded state (hours at 100K)`;
}

/** The report's notes of a preload snapshot's index probe: the one above, or none. */
export function indexProbeNotes(
  snapshot: { index_probe?: IndexProbeRecord } | undefined,
): string[] {
  const note = snapshot?.index_probe && indexProbeNote(snapshot.index_probe);
  return note ? [note] : [];
}

/**
 * Compare's warnings about the runs' restored states: the note of each side whose restored Engram
 * found fewer preloaded memories than its fresh preload, once for both when they say the same.
 */
export function indexProbeWarnings(before: Probed, after: Probed): string[] {
  const [b] = indexProbeNotes(before.preload?.snapshot);
  const [a] = indexProbeNotes(after.preload?.snapshot);
  if (b !== undefined && b === a) return [`the before and after runs: ${b}`];
  return [
    ...(b !== undefined ? [`the before run: ${b}`] : []),
    ...(a !== undefined ? [`the after run: ${a}`] : []),
  ];
}

/** `methods.index_probe` of a report whose preload snapshot was probed. */
export const INDEX_PROBE_METHOD =
  "Engram targets with a preload snapshot: 8 preloaded memories spread evenly over the preload stream (positions floor((j + 1/2) × n / 8)) are each recalled by their own embedding (GET /api/v1/memories/recall?embedding=…&mode=similarity, the scenario's threshold and max_results), on the live store right after a fresh preload (before the graceful stop that keeps the snapshot; kept in its meta.json) and on every copy right after Engram starts on it (before the warm-up); found = the recall returned at least one memory (not necessarily the memory itself: Engram's index search is approximate and deduplication drops near-duplicates); found_fresh = on the live store (null: the snapshot was made before the probe existed), found_restored = on this run's copy. Fewer found on the copy than on the live store (than every probe without a fresh figure) adds a note: the copy's vector index lacks the preloaded memories. On Engram 5d54816 WAL replay at start (engram-core/src/store.rs recover_from_wal, apply_wal_entry_payload) fills the hot memories and the content index but never the HNSW index (its Rebuild is not implemented), so a restored store's index holds only what was stored after the restore: 0 of 8 found on restored 500- and 10,000-memory snapshots, 8 of 8 on the live 500-memory store. Measured (competitive scenario, preload 10,000, 50 ops/s, 20 s, 6 alternated pairs): freshly preloaded Search P50 14.6-16.5 ms, Recall P50 6.0-6.5 ms, P99 36-51 ms, 9,570 memories; restored Search P50 1.1-1.3 ms, Recall P50 1.4-1.7 ms, P99 15-27 ms, 9,759 memories, over the whole window. What the probe proves: the copy's index does not answer for the probed preloaded memories. What it does not: how much of the index is missing beyond 8 probes, or that a copy that passes measures like the live store. The note does not make a run invalid: a before and an after run on the same restored state still compare like with like; --no-preload-cache measures the preloaded state";
