/**
 * The preload step of a run (not measured), with its progress (count, rate, Engram's memory
 * count, an ETA on the measured cost curve: lib/run/preload_progress.ts) and, for the Engram
 * targets the tool starts, preload snapshots (lib/target/snapshot.ts): a run whose snapshot
 * exists starts Engram on a fresh copy of it and checks Engram's memory count; a run without one
 * preloads, stops Engram gracefully, keeps its data dir and restarts Engram on a fresh copy, so
 * every run measures the same restored state; an interrupted preload keeps what it stored as a
 * partial snapshot that the next run resumes. A build without a snapshot of its own starts on the
 * one another build wrote for the same preload (`sharedSnapshot`), so the builds of a before/after
 * pair start on one state; when its memory count on the copy is not the writer's, it does not
 * read that snapshot the same way and preloads afresh under its own key.
 * @module
 */
import type { PreloadSnapshotRecord } from "../report/schema.ts";
import { describeReason, preloadReason } from "../report/validity.ts";
import { messageOf, RunError } from "../shared/errors.ts";
import { oneLine } from "../shared/sanitize.ts";
import { engramMemoryCount } from "../target/health.ts";
import {
  newSnapshotMeta,
  readSnapshot,
  removeSnapshotEntry,
  saveSnapshot,
  sharedSnapshot,
  type Snapshot,
  snapshotKey,
  updateSnapshotMeta,
} from "../target/snapshot.ts";
import type { EngramBinary } from "../target/builds.ts";
import type { TargetSpec } from "../target/start.ts";
import type { EngramTarget, Target } from "../target/target.ts";
import { type OpStream, preloadStreamFingerprint, type Workload } from "../workload/ops.ts";
import { probeIndex, probeRestored } from "./index_probe.ts";
import { settleRestored } from "./settle.ts";
import { runPreload } from "./preload.ts";
import { memoriesHeld, refuseLossyCopy, resumeCanary } from "./snapshot_checks.ts";
import { formatDuration, PreloadProgress } from "./preload_progress.ts";
import { interruption, type PreloadCounts, type RunContext, type Skipped } from "./steps.ts";

type EngramSpec = Extract<TargetSpec, { kind: "engram" }>;

/** How often the preload asks Engram for its memory count. */
const COUNT_POLL_MS = 10_000;
/** How often the status line also goes to the log file (and a non-TTY terminal). */
const PLAIN_EVERY_MS = 30_000;

/** What one stretch of preloading did: the `runPreload` result plus where it started. */
interface Stretch {
  from: number;
  count: number;
  issued: number;
  errors: number;
  seconds: number;
  skipped: Skipped | null;
}

/**
 * Stores the stream's memories `from`…`total` (not measured), showing progress. Returns what it
 * did and, when the run was interrupted or the target died meanwhile, why the warm-up and
 * measured window are skipped. With `drain`, an interrupt lets the requests in flight finish.
 */
async function preloadStretch(
  ctx: RunContext,
  target: Target,
  w: Workload,
  from: number,
  drain: boolean,
  positioned?: OpStream,
): Promise<Stretch> {
  const { o, log, signal } = ctx;
  const total = ctx.prepared.scenario.preload;
  ctx.stage = "preload";
  log.line(
    from > 0
      ? `preload: resuming at ${from} of ${total}: storing ${total - from} memories (not measured)`
      : `preload: storing ${total} memories (not measured)`,
  );
  // The resume check hands over its stream where it stopped: the skip is not generated twice.
  const stream = positioned ?? w.stream("preload");
  if (positioned === undefined) { for (let i = 0; i < from; i++) stream.next(); }
  const t0 = performance.now();
  const progress = new PreloadProgress(total, from, t0);
  let engram: { count: number; stored: number } | null = null;
  let polling = false;
  let lastPoll = t0;
  let lastPlain = t0;
  const p = await runPreload(stream, total - from, {
    baseUrl: target.url,
    timeoutMs: o.timeoutMs,
    concurrency: o.preloadConcurrency,
    signal,
    drainOnAbort: drain,
    onPreloadProgress: (stored) => {
      const now = performance.now();
      progress.sample(from + stored, now);
      if (target.kind === "engram" && !polling && now - lastPoll >= COUNT_POLL_MS) {
        polling = true;
        lastPoll = now;
        const asked = from + stored;
        engramMemoryCount(target.url).then((c) => {
          if ("count" in c) engram = { count: c.count, stored: asked };
          polling = false;
        });
      }
      const plain = now - lastPlain >= PLAIN_EVERY_MS;
      if (plain) lastPlain = now;
      log.status(progress.text(from + stored, now - t0, engram), plain);
    },
  });
  log.line(
    `preload: ${p.count} memories in ${p.seconds.toFixed(1)} s, ${p.errors} errors${
      progress.falling()
        ? ` (the rate fell as the count grew: cost per memory ×${progress.growth().toFixed(1)})`
        : ""
    }`,
  );
  const preloadInvalid = preloadReason(p.errors, p.firstError);
  if (preloadInvalid) ctx.invalid.push(preloadInvalid);
  const dead = target.deathReason();
  let skipped: Skipped | null = null;
  if (signal.aborted) skipped = interruption(signal, ctx.stage);
  else if (dead) skipped = { kind: "target_died", death: dead, during: "preload" };
  return { from, count: p.count, issued: p.issued, errors: p.errors, seconds: p.seconds, skipped };
}

/** Marks the run as skipping its measured window and says why. */
function skip(ctx: RunContext, skipped: Skipped): void {
  ctx.invalid.push({ kind: "no_measured_window", cause: skipped });
  ctx.log.warn(`${describeReason(skipped)}: skipping the warm-up and the measured window`);
}

/**
 * Preload snapshots of one run: `start` starts Engram with `seedData` in its spec (it picks the
 * snapshot once the binary is built), `preloadStep` runs after the start.
 */
export class PreloadCache {
  readonly fingerprint: string;
  readonly count: number;
  /**
   * Set by `seedData`: the key of this run's own snapshot (its build's), the build, and the
   * snapshot Engram started on: the own one, another build's (`foreign`), or none.
   */
  key: string | null = null;
  binarySha256: string | null = null;
  found: Snapshot | null = null;
  /** When the start on the snapshot's copy began (copying included). */
  seededMs = 0;
  /** Why another build's snapshot was given up before the preload step, when it was. */
  remadeBecause: string | undefined;

  #restarts = 0;
  /** The sha256 of the build's kept copy (undefined: not kept; a restart runs the checkout's). */
  #kept: string | undefined;

  constructor(readonly ctx: RunContext, readonly spec: EngramSpec) {
    this.fingerprint = preloadStreamFingerprint(ctx.prepared.scenario);
    this.count = ctx.prepared.scenario.preload;
  }

  /**
   * Starts the run's Engram on the snapshot `seedData` picks. When it does not start on a copy of
   * another build's snapshot (it exits or stays unhealthy: this build may not read that storage),
   * says so and starts it again on an empty data dir, to preload afresh under its own key.
   */
  async start(start: StartTarget): Promise<Target> {
    try {
      return await start({ ...this.spec, seedData: this.seedData });
    } catch (e) {
      if (!this.foreign || this.ctx.signal.aborted || !(e instanceof RunError)) throw e;
      const s = this.found!;
      // The first line says why; the server's last output follows it in the log.
      const [why, ...tail] = e.message.split("\n");
      this.remadeBecause = `engram did not start on a copy of snapshot ${s.key} written by engram ${
        s.meta.binary_sha256.slice(0, 12)
      } (${oneLine(why, 300)})`;
      this.ctx.log.warn(
        `preload snapshot ${s.key}: ${this.remadeBecause}; starting it on an empty data dir and preloading afresh as this build's snapshot ${this.key}${
          tail.map((l) => `\n${l}`).join("")
        }`,
      );
      this.found = null;
      return await start(this.restartSpec(null));
    }
  }

  /**
   * The spec that starts Engram again on a fresh copy of `seedFrom` (null: empty): the build that
   * ran (its kept copy, never rebuilt), and with `--keep-data` a data dir of its own.
   */
  restartSpec(seedFrom: string | null): EngramSpec {
    const s = this.spec;
    const kept = this.#kept;
    return {
      ...s,
      build: false,
      ...(kept !== undefined ? { kept } : {}),
      stem: s.keepData ? `${s.stem}_restart${++this.#restarts}` : s.stem,
      seedData: () => Promise.resolve(seedFrom),
    };
  }

  /** The snapshot found was written by another build (its key is not the run's). */
  get foreign(): boolean {
    return this.found !== null && this.found.key !== this.key;
  }

  /**
   * The directory whose copy Engram starts on, or null: the run's own snapshot (complete or
   * partial), else another build's complete one of the same preload (`sharedSnapshot`).
   */
  seedData = async (binary: EngramBinary): Promise<string | null> => {
    const { log, o } = this.ctx;
    this.seededMs = performance.now();
    this.binarySha256 = binary.sha256;
    this.#kept = binary.kept !== null ? binary.sha256 : undefined;
    this.key = snapshotKey(this.fingerprint, this.count, this.binarySha256);
    this.found = await readSnapshot(o.outDir, this.key) ??
      await sharedSnapshot(o.outDir, this.fingerprint, this.count, this.binarySha256);
    const m = this.found?.meta;
    log.line(
      m === undefined
        ? `preload snapshot ${this.key}: none yet (preload stream ${this.fingerprint}, ${this.count} memories, engram sha256 ${
          this.binarySha256.slice(0, 12)
        }): preloading, then keeping it`
        : this.foreign
        ? `preload snapshot ${this.found!.key}: written by engram ${
          m.binary_sha256.slice(0, 12)
        }, this run's build ${this.binarySha256.slice(0, 12)} (${m.count} memories, ${
          m.restored_count ?? "no"
        } held after its writer's restore, made in ${
          formatDuration(m.preload_seconds)
        }): Engram starts on a fresh copy`
        : m.complete
        ? `preload snapshot ${this.key}: found (${m.count} memories, ${
          m.restored_count ?? "no"
        } held after restore, made in ${
          formatDuration(m.preload_seconds)
        }): Engram starts on a fresh copy`
        : `preload snapshot ${this.key}: partial (${m.stored} of ${m.count} stored in ${
          formatDuration(m.preload_seconds)
        }): Engram starts on a fresh copy and the preload resumes`,
    );
    return this.found?.dataDir ?? null;
  };
}

/** Starts a target (lib/target/start.ts `startTarget` with the run's options). */
export type StartTarget = (spec: TargetSpec) => Promise<Target>;

/**
 * The preload step. Without a cache (not an Engram target we start, no preload,
 * `--no-preload-cache`) it stores the preload as it always did. With one it restores, resumes
 * or makes the snapshot as the module says; `setTarget` is told of every restart (the caller
 * stops the last one).
 */
export async function preloadStep(
  ctx: RunContext,
  target: Target,
  w: Workload,
  cache: PreloadCache | null,
  start: StartTarget,
  setTarget: (t: Target) => void,
): Promise<{ counts: PreloadCounts; skipped: Skipped | null }> {
  const total = ctx.prepared.scenario.preload;
  if (total <= 0) return { counts: { count: 0, errors: 0, seconds: 0 }, skipped: null };
  if (cache === null || cache.key === null || target.kind !== "engram") {
    const s = await preloadStretch(ctx, target, w, 0, false);
    if (s.skipped) skip(ctx, s.skipped);
    return { counts: { count: s.count, errors: s.errors, seconds: s.seconds }, skipped: s.skipped };
  }
  return await snapshotPreload(ctx, target, w, cache, start, setTarget);
}

async function snapshotPreload(
  ctx: RunContext,
  first: EngramTarget,
  w: Workload,
  cache: PreloadCache,
  start: StartTarget,
  setTarget: (t: Target) => void,
): Promise<{ counts: PreloadCounts; skipped: Skipped | null }> {
  const { log, o } = ctx;
  const key = cache.key!;
  const binarySha256 = cache.binarySha256!;
  const total = cache.count;
  let target = first;
  let found = cache.found;
  const foreign = cache.foreign;
  let remadeBecause = cache.remadeBecause;
  const restartOn = async (seedFrom: string | null) => {
    const spec = cache.restartSpec(seedFrom);
    await target.stop();
    const t = await start(spec);
    setTarget(t);
    if (t.kind !== "engram") throw new Error("an Engram spec started another kind of target");
    target = t;
  };

  // ---- a complete snapshot: Engram must hold the count recorded at its first restore ----
  if (found?.meta.complete) {
    const held = await memoriesHeld(target);
    const expected = found.meta.restored_count;
    const writer = `engram ${found.meta.binary_sha256.slice(0, 12)}`;
    if (expected === null || held === expected) {
      // Only the writer records the count (another build's snapshot is chosen with one).
      if (expected === null && !foreign) {
        found = await updateSnapshotMeta(found, { restored_count: held });
      }
      log.line(
        `preload snapshot ${found.key}: restored, Engram holds ${held} memories as recorded${
          foreign ? ` by its writer, ${writer}` : ""
        } (${total} preloaded)`,
      );
      const seconds = (performance.now() - cache.seededMs) / 1000;
      const probe = await probeRestored(ctx, target, w, found.meta.index_probe);
      const settled = await settleRestored(ctx, target);
      return {
        counts: {
          count: total,
          errors: 0,
          seconds,
          snapshot: {
            ...record("restored", found, binarySha256, 0, held, seconds),
            ...probe,
            ...settled,
          },
        },
        skipped: null,
      };
    }
    if (foreign) {
      remadeBecause =
        `this build holds ${held} memories on snapshot ${found.key} written by ${writer}, which recorded ${expected}: it does not read that snapshot the same way (storage format or replay)`;
      log.warn(
        `preload snapshot ${found.key}: ${remadeBecause}; restarting Engram on an empty data dir and preloading afresh as this build's snapshot ${key}`,
      );
    } else {
      remadeBecause =
        `Engram held ${held} memories after starting on the snapshot, which recorded ${expected}`;
      log.warn(`preload snapshot ${key}: ${remadeBecause}: preloading afresh`);
    }
    found = null;
    await restartOn(null);
  }

  // ---- a partial snapshot: first make sure this build keeps what it stores after a restore ----
  let resumedFrom = found?.meta.stored ?? 0;
  let from = resumedFrom;
  let positioned: OpStream | undefined;
  if (found !== null && from > 0) {
    ctx.stage = "preload";
    log.line(
      `preload snapshot ${key}: resume check: storing the stream's next memory, then restarting Engram on a copy of its data dir`,
    );
    const canary = await resumeCanary(ctx, () => target, w, from, restartOn);
    if (canary.kind === "interrupted") {
      // As an interrupted preload: a report without a measured window; the snapshot untouched.
      const skipped = interruption(ctx.signal, ctx.stage);
      log.warn(
        `preload snapshot ${key}: the resume check was interrupted: the partial snapshot (${from} of ${total}) is kept as it was; the next run resumes it`,
      );
      skip(ctx, skipped);
      return { counts: { count: from, errors: 0, seconds: 0 }, skipped };
    }
    if (canary.kind === "keeps") {
      from += canary.stored;
      positioned = canary.stream;
    } else {
      remadeBecause = canary.why;
      log.warn(
        `preload snapshot ${key}: ${canary.why}; removing the partial snapshot and preloading from the start in one go`,
      );
      await removeSnapshotEntry(o.outDir, key);
      found = null;
      from = resumedFrom = 0;
      await restartOn(null);
    }
  }

  // ---- preload (from scratch or resuming a partial snapshot), draining on an interrupt ----
  const s = await preloadStretch(ctx, target, w, from, true, positioned);
  const meta = {
    ...(found?.meta ??
      newSnapshotMeta({ key, preloadFingerprint: cache.fingerprint, count: total, binarySha256 })),
    engram_version: target.version,
    preload_seconds: (found?.meta.preload_seconds ?? 0) + s.seconds,
  };
  const counts: PreloadCounts = { count: from + s.count, errors: s.errors, seconds: s.seconds };
  const exact = s.errors === 0 && s.count === s.issued && target.deathReason() === null;
  if (s.skipped) {
    if (exact && s.issued > 0 && s.skipped.kind === "interrupted") {
      await keepPartial(ctx, target, { ...meta, stored: from + s.issued, complete: false });
    }
    skip(ctx, s.skipped);
    return { counts, skipped: s.skipped };
  }
  if (!exact) {
    log.warn(`preload snapshot ${key}: not kept (the preload had errors)`);
    return { counts, skipped: null };
  }

  // ---- keep it, restart on a fresh copy, record the count the copy holds ----
  const live = await memoriesHeld(target);
  const fresh = await probeIndex(ctx, target, w, "the live store after the preload");
  const stoppedMs = performance.now();
  const how = await target.stopGracefully();
  if (how !== null) {
    throw new RunError(
      `engram did not stop gracefully after the preload (${how}): its data dir is not kept as a snapshot; rerun, or pass --no-preload-cache`,
    );
  }
  let snap = await saveSnapshot(o.outDir, target.details.data_dir, {
    ...meta,
    stored: total,
    complete: true,
    ...(fresh ? { index_probe: fresh } : {}),
  });
  log.line(
    `preload snapshot ${key}: kept ${snap.dir} (Engram held ${live} memories before its graceful stop); restarting Engram on a fresh copy`,
  );
  await restartOn(snap.dataDir);
  const held = await memoriesHeld(target);
  if (held < live) await refuseLossyCopy(ctx, snap, live, held, resumedFrom);
  snap = await updateSnapshotMeta(snap, { restored_count: held });
  const restoreSeconds = (performance.now() - stoppedMs) / 1000;
  log.line(
    `preload snapshot ${key}: Engram holds ${held} memories on the copy (restored in ${
      restoreSeconds.toFixed(1)
    } s); every later run must find the same count`,
  );
  const probe = await probeRestored(ctx, target, w, fresh);
  counts.snapshot = {
    ...record("made", snap, binarySha256, resumedFrom, held, restoreSeconds, remadeBecause),
    ...probe,
    ...await settleRestored(ctx, target),
  };
  return { counts, skipped: null };
}

/** Stops Engram gracefully and keeps what it stored as a partial snapshot, saying so. */
async function keepPartial(
  ctx: RunContext,
  target: EngramTarget,
  meta: Parameters<typeof saveSnapshot>[2],
): Promise<void> {
  const how = await target.stopGracefully();
  if (how !== null) {
    ctx.log.warn(
      `preload snapshot ${meta.key}: engram did not stop gracefully (${how}): nothing kept`,
    );
    return;
  }
  try {
    const s = await saveSnapshot(ctx.o.outDir, target.details.data_dir, meta);
    ctx.log.warn(
      `preload snapshot ${meta.key}: kept the ${meta.stored} of ${meta.count} memories stored as a partial snapshot (${s.dir}); the next run resumes there`,
    );
  } catch (e) {
    ctx.log.warn(messageOf(e));
  }
}

/** The report's `preload.snapshot`; `binarySha256` is the build the run measured. */
function record(
  action: "made" | "restored",
  s: Snapshot,
  binarySha256: string,
  resumedFrom: number,
  memories: number,
  restoreSeconds: number,
  remadeBecause?: string,
): PreloadSnapshotRecord {
  return {
    action,
    key: s.key,
    path: s.dir,
    binary_sha256: s.meta.binary_sha256,
    ...(s.meta.binary_sha256 !== binarySha256 ? { written_by_another_build: true as const } : {}),
    resumed_from: resumedFrom,
    memories,
    preload_seconds: Math.round(s.meta.preload_seconds * 1000) / 1000,
    restore_seconds: Math.round(restoreSeconds * 1000) / 1000,
    ...(remadeBecause ? { remade_because: remadeBecause } : {}),
  };
}
