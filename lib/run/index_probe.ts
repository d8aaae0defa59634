/**
 * The vector-index probe of a preload snapshot: does the Engram the run measures find its
 * preloaded memories by embedding? Engram 5d54816 rebuilds its store from the write-ahead log at
 * start but never its HNSW vector index (engram-core/src/store.rs: WAL replay,
 * `apply_wal_entry_payload`, inserts into the hot memories and the content index only; the
 * index's `Rebuild` update is "not yet implemented"), so a restored store answers embedding
 * recalls from an index holding only what was stored after the restore: not the preloaded state.
 *
 * The probe: `PROBES` memories spread evenly over the preload stream (the same deterministic
 * stream the preload stored), each recalled with its own embedding
 * (`GET /api/v1/memories/recall?embedding=…&mode=similarity`, the scenario's threshold and
 * max_results); found = the recall returned at least one memory. Not "returned the memory
 * itself": Engram's index search is approximate and its deduplication drops or replaces
 * near-duplicates, so a fresh store returns the memory itself for only some probes (4 of 8 after
 * 500 memories), but with ~200 same-cluster memories at cosine ~0.94 every recall on a store whose
 * index holds the preload returns some; a restored Engram 5d54816 returns none (0 of 8 at 10K).
 * Run on the live store right after a fresh preload (before the graceful stop that keeps the
 * snapshot: the reference, kept in the snapshot's meta.json) and after every start on a copy,
 * before anything else is stored; fewer found on the copy is a warning and a report note
 * (lib/report/index_probe.ts).
 * @module
 */
import { indexProbeNote, type IndexProbeRecord } from "../report/index_probe.ts";
import { getJson } from "../target/health.ts";
import type { Target } from "../target/target.ts";
import type { Workload } from "../workload/ops.ts";
import type { RunContext } from "./steps.ts";

/** Preloaded memories probed (fewer when the preload is smaller). */
export const PROBES = 8;

/** One probed memory: its position in the preload stream and the recall that probes it. */
export interface ProbeMemory {
  index: number;
  /** `GET` path: recall by the memory's own embedding, in its memory space. */
  path: string;
}

/** The probed positions of a preload of `count` memories: `PROBES` evenly spread, distinct. */
export function probeIndexes(count: number): number[] {
  const n = Math.min(PROBES, count);
  return Array.from({ length: n }, (_, j) => Math.floor(((j + 0.5) * count) / n));
}

/** Each workload's probed memories, once: reaching them at 100K means rendering ~94K memories (~2 s). */
const PROBED = new WeakMap<Workload, { count: number; memories: ProbeMemory[] }>();

/**
 * The probed memories of the preload stream of `w` with `count` memories, each with the recall
 * the measured recalls send (the scenario's threshold and max_results), in similarity mode (the
 * vector index) with the memory's own embedding.
 */
export function probeMemories(w: Workload, count: number): ProbeMemory[] {
  const known = PROBED.get(w);
  if (known?.count === count) return known.memories;
  const s = w.scenario;
  const wanted = probeIndexes(count);
  const stream = w.stream("preload");
  const out: ProbeMemory[] = [];
  for (let i = 0; out.length < wanted.length; i++) {
    const op = stream.next();
    if (i !== wanted[out.length]) continue;
    const body = JSON.parse(op.body!) as { embedding: number[]; memory_space_id?: string };
    const space = body.memory_space_id ? `&space=${body.memory_space_id}` : "";
    const path = `/api/v1/memories/recall?embedding=${
      encodeURIComponent(JSON.stringify(body.embedding))
    }&mode=similarity&threshold=${s.recallThreshold}&max_results=${s.maxResults}${space}`;
    out.push({ index: i, path });
  }
  PROBED.set(w, { count, memories: out });
  return out;
}

/**
 * What one probe of a store gave: `found` = recalls that returned at least one memory, `itself`
 * = recalls that returned the probed memory itself; or why there is no count.
 */
export type IndexProbeCount =
  | { probes: number; found: number; itself: number }
  | { failure: string };

/** The memory `m17 memory <i> cluster …` is `i`: the content's head names it. */
function names(content: unknown, index: number): boolean {
  return typeof content === "string" && content.startsWith(`m17 memory ${index} `);
}

/**
 * Sends the probe recalls to `url` one at a time and counts those answered with memories; a
 * recall not answered 200 with recall JSON makes the whole probe a failure (nothing counted).
 */
export async function probeStore(
  url: string,
  memories: ProbeMemory[],
  timeoutMs: number,
): Promise<IndexProbeCount> {
  let found = 0, itself = 0;
  for (const m of memories) {
    const res = await getJson(`${url}${m.path}`, timeoutMs);
    if ("failure" in res) return { failure: `recall of memory ${m.index}: ${res.failure}` };
    const lists = (res.json as { memories?: Record<string, unknown> } | undefined)?.memories;
    if (res.status !== 200 || typeof lists !== "object" || lists === null) {
      return { failure: `recall of memory ${m.index}: HTTP ${res.status} without memories` };
    }
    const all = Object.values(lists).flatMap((l) => Array.isArray(l) ? l : []);
    if (all.length > 0) found++;
    if (all.some((r) => names((r as { content?: unknown })?.content, m.index))) itself++;
  }
  return { probes: memories.length, found, itself };
}

/**
 * Probes the store `target` holds now; null (after a warning) when it could not. `where` names
 * the store in the log line (`the live store after the preload`, `the restored copy`).
 */
export async function probeIndex(
  ctx: RunContext,
  target: Target,
  w: Workload,
  where: string,
): Promise<{ probes: number; found: number } | null> {
  const count = ctx.prepared.scenario.preload;
  const c = await probeStore(target.url, probeMemories(w, count), ctx.o.timeoutMs);
  if ("failure" in c) {
    ctx.log.warn(`index probe of ${where}: not made (${c.failure})`);
    return null;
  }
  ctx.log.line(
    `index probe of ${where}: ${c.found} of ${c.probes} recalls by a preloaded memory's own embedding returned memories (the memory itself: ${c.itself})`,
  );
  return { probes: c.probes, found: c.found };
}

/**
 * Probes the restored copy `target` runs on and returns the report's record of it against the
 * fresh figure (`fresh`; absent: not probed when the snapshot was made), warning when the copy
 * found fewer; no record when the probe could not be made.
 */
export async function probeRestored(
  ctx: RunContext,
  target: Target,
  w: Workload,
  fresh: { probes: number; found: number } | null | undefined,
): Promise<{ index_probe?: IndexProbeRecord }> {
  const restored = await probeIndex(ctx, target, w, "the restored copy");
  if (restored === null) return {};
  const record: IndexProbeRecord = {
    probes: restored.probes,
    found_fresh: fresh && fresh.probes === restored.probes ? fresh.found : null,
    found_restored: restored.found,
  };
  const note = indexProbeNote(record);
  if (note !== null) ctx.log.warn(note);
  return { index_probe: record };
}
