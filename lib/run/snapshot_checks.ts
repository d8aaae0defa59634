/**
 * The checks that keep a preload snapshot honest about the state it restores (lib/run/preload_step.ts
 * runs them): Engram's memory count, the resume check before a partial snapshot is resumed (does
 * this build keep what it stores after a start on recovered data?) and the refusal of a copy that
 * holds fewer memories than the live store it was copied from.
 * @module
 */
import { RunError } from "../shared/errors.ts";
import { engramMemoryCount } from "../target/health.ts";
import { copyTree, removeSnapshotEntry, scratchDir, type Snapshot } from "../target/snapshot.ts";
import type { EngramTarget } from "../target/target.ts";
import type { OpStream, Workload } from "../workload/ops.ts";
import { runPreload } from "./preload.ts";
import type { RunContext } from "./steps.ts";

/**
 * A copy that holds fewer memories than the live store held before its graceful stop has lost
 * some (a replay only ever holds more: it skips deduplications the live store made), so it is not
 * the preload: the snapshot is removed and the run fails, saying why. After a resumed partial
 * snapshot this is Engram 5d54816's loss of what it stores after a start that recovered memories.
 */
export async function refuseLossyCopy(
  ctx: RunContext,
  snap: Snapshot,
  live: number,
  held: number,
  resumedFrom: number,
): Promise<never> {
  await removeSnapshotEntry(ctx.o.outDir, snap.key);
  const why = resumedFrom > 0
    ? `the preload resumed a partial snapshot of ${resumedFrom} memories, and this build lost what it stored after starting on it (Engram 5d54816: the WAL compaction at recovery removes the log file it goes on writing to), so its preload cannot be made in parts: preload in one go (a run that is not interrupted), or pass --no-preload-cache`
    : `pass --no-preload-cache to measure the live store`;
  throw new RunError(
    `preload snapshot ${snap.key}: not kept: Engram holds ${held} memories on the copy but held ${live} before its graceful stop, so the copy does not restore the preload; ${why}`,
  );
}

/**
 * What the resume check found: the build keeps stores made after a restore (`stream`: the preload
 * stream positioned after the memories the check stored), or loses them; or the run was
 * interrupted (SIGINT, SIGTERM) before it could tell, and the partial snapshot is left as it was.
 */
export type Canary =
  | { kind: "keeps"; stored: number; stream: OpStream }
  | { kind: "loses"; why: string }
  | { kind: "interrupted" };

/** At most this many of the stream's next memories are stored until Engram's count grows. */
const CANARY_MAX = 5;

/** Thrown by the resume check at the first await that ends after an interrupt. */
class Interrupt extends Error {}

/**
 * Before resuming a partial snapshot: stores the stream's next memories (as the resume would) until
 * Engram's count grows, stops Engram gracefully and starts it on a copy of its data dir. A build
 * that keeps what it stores after a start on recovered data holds the same count; one that loses
 * it (Engram 5d54816: its WAL compaction at recovery removes the log file it goes on writing to)
 * holds fewer, and resuming would lose every memory stored from here, found only hours later.
 * An interrupt at any of its steps (what it cancels: a store, the start on the copy) is
 * `interrupted`, never a failure; the copy (`scratchDir`) is removed on every path.
 */
export async function resumeCanary(
  ctx: RunContext,
  current: () => EngramTarget,
  w: Workload,
  from: number,
  restartOn: (seedFrom: string | null) => Promise<void>,
): Promise<Canary> {
  try {
    return await canary(ctx, current, w, from, restartOn);
  } catch (e) {
    if (ctx.signal.aborted) return { kind: "interrupted" };
    throw e;
  }
}

async function canary(
  ctx: RunContext,
  current: () => EngramTarget,
  w: Workload,
  from: number,
  restartOn: (seedFrom: string | null) => Promise<void>,
): Promise<Canary> {
  const { o, signal } = ctx;
  /** Every await of the check is followed by this: an interrupt ends it there. */
  const go = <T>(v: T): T => {
    if (signal.aborted) throw new Interrupt();
    return v;
  };
  const before = go(await memoriesHeld(current()));
  const stream = w.stream("preload");
  for (let i = 0; i < from; i++) stream.next();
  let stored = 0;
  let live = before;
  while (live === before && stored < CANARY_MAX && from + stored < ctx.prepared.scenario.preload) {
    const p = go(
      await runPreload(stream, 1, {
        baseUrl: current().url,
        timeoutMs: o.timeoutMs,
        concurrency: 1,
        signal,
      }),
    );
    if (p.errors > 0 || p.count !== 1) {
      throw new RunError(
        `preload snapshot: the resume check could not store a memory (${p.errors} errors)`,
      );
    }
    stored++;
    live = go(await memoriesHeld(current()));
  }
  const how = go(await current().stopGracefully());
  if (how !== null) {
    throw new RunError(
      `engram did not stop gracefully for the resume check (${how}); rerun, or pass --no-preload-cache`,
    );
  }
  const copy = await scratchDir(o.outDir, "resume-check");
  try {
    go(await copyTree(current().details.data_dir, copy));
    go(await restartOn(copy));
  } finally {
    await Deno.remove(copy, { recursive: true }).catch(() => {});
  }
  const held = go(await memoriesHeld(current()));
  ctx.log.line(
    `preload snapshot: resume check: Engram held ${live} memories after ${stored} more of the stream, ${held} after a restart on a copy`,
  );
  return held < live
    ? {
      kind: "loses",
      why:
        `this build loses what it stores after starting on recovered data (Engram held ${live} memories, ${held} after a restart on a copy of its data dir; Engram 5d54816's WAL compaction at recovery removes the log file it goes on writing to), so a partial snapshot cannot be resumed with it`,
    }
    : { kind: "keeps", stored, stream };
}

/** Engram's memory count; a RunError when it cannot be read (the snapshot cannot be checked). */
export async function memoriesHeld(target: EngramTarget): Promise<number> {
  const c = await engramMemoryCount(target.url);
  if ("count" in c) return c.count;
  throw new RunError(
    `cannot read Engram's memory count (${c.failure}): preload snapshots need it; pass --no-preload-cache`,
  );
}
