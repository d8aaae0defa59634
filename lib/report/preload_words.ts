/**
 * A run's preload in words (the summary's `preload:` line and the HTML page's "Preload" row), and
 * the preloaded state it started on, as compare tells two states apart (README "Preload
 * snapshots"): the snapshot's key, whichever build wrote it, or a preload without a snapshot.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const snapshot = {
 *   action: "restored" as const, key: "4a0d19e2c3b4a5968778", path: "tmp/snapshots/4a0d19e2c3b4a5968778",
 *   binary_sha256: "ae7f09c124f4" + "0".repeat(52), written_by_another_build: true as const,
 *   resumed_from: 0, memories: 300, preload_seconds: 12.5, restore_seconds: 1.2,
 * };
 * strictEqual(
 *   describePreload({ count: 300, errors: 0, seconds: 1.25, snapshot }),
 *   "snapshot 4a0d19e2c3b4a5968778 restored (written by build ae7f09c124f4): Engram holds 300 " +
 *     "memories on its copy, ready in 1.2 s (300 preloaded in 12.5 s when it was made)",
 * );
 * strictEqual(preloadedState({ count: 300, errors: 0, seconds: 9 }), "preloaded without a snapshot");
 * ```
 * @module
 */
import type { RunReport } from "./schema.ts";

type Preload = RunReport["preload"];

const count = (n: number) => n.toLocaleString("en-US");

/**
 * What the run's preload did, in one line; null when it preloaded nothing. A snapshot another
 * build wrote is named by that build (`written by build <sha256>`).
 */
export function describePreload(p: Preload | undefined): string | null {
  const s = p?.snapshot;
  if (p === undefined || (p.count === 0 && s === undefined)) return null;
  if (s === undefined) {
    return `${count(p.count)} memories stored in ${p.seconds.toFixed(1)} s, ${p.errors} errors`;
  }
  const how = s.action === "restored"
    ? `restored${
      s.written_by_another_build ? ` (written by build ${s.binary_sha256.slice(0, 12)})` : ""
    }`
    : s.resumed_from > 0
    ? `made (resuming at ${count(s.resumed_from)})`
    : "made";
  const afresh = s.remade_because ? `; preloaded afresh: ${s.remade_because}` : "";
  const made = `${count(p.count)} preloaded in ${s.preload_seconds.toFixed(1)} s${
    s.action === "restored" ? " when it was made" : ""
  }`;
  return `snapshot ${s.key} ${how}: Engram holds ${count(s.memories)} memories on its copy, ` +
    `ready in ${s.restore_seconds.toFixed(1)} s (${made})${afresh}`;
}

/**
 * The state the run's measured window started on: `snapshot <key> (written by build <sha12>)`,
 * `preloaded without a snapshot` (`--no-preload-cache`, a target the tool does not start, a
 * report older than snapshots), or null when nothing was preloaded. Two runs started on one state
 * when these are equal (a snapshot's key names its writer).
 */
export function preloadedState(p: Preload | undefined): string | null {
  if (p === undefined) return null;
  const s = p.snapshot;
  if (s !== undefined) {
    return `snapshot ${s.key} (written by build ${s.binary_sha256.slice(0, 12)})`;
  }
  return p.count > 0 ? "preloaded without a snapshot" : null;
}
