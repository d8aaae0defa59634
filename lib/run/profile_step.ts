/**
 * `check --profile`: the server's on-CPU stacks during the measured window only. perf is
 * attached before warm-up with sampling off, switched on when the measured window starts and
 * off when it ends; the stacks are folded into `<stem>_profile.folded` and drawn as
 * `<stem>_profile.svg`. Where perf cannot record, one line says why and the run goes on.
 * @module
 */
import { basename, dirname } from "node:path";
import { writeFileAtomic } from "../shared/atomic.ts";
import { oneLine } from "../shared/sanitize.ts";
import {
  type FoldedProfile,
  foldPerfScript,
  formatFolded,
  type ProfileRecord,
} from "../report/profile.ts";
import { type CallGraph, PerfRecording } from "../target/profiler.ts";

/** Draws the flame graph (injected: lib/run may not import lib/render). */
export type FlameGraphRenderer = (profile: FoldedProfile, title: string) => string;

/** Where the profile goes. */
export interface ProfileFiles {
  readonly folded: string;
  readonly svg: string;
  /** perf's own output is appended here (the server log). */
  readonly perfLog: string;
}

/** A profile being recorded for one run. */
export interface ProfileSession {
  /** The measured window starts: sampling on. Never throws; a failure shows in `finish`. */
  windowStarted(): void;
  /** The measured window ended: sampling off, files written, the report's record returned. */
  finish(title: string): Promise<ProfileRecord>;
  /** Stops perf without writing anything (errors, interrupts). */
  abandon(): Promise<void>;
}

/**
 * Attaches perf to `pid` (sampling off). Returns the session, or the report's "none" record
 * with the reason when perf cannot be used; `say` prints that reason as one line.
 */
export async function startProfile(
  pid: number,
  files: ProfileFiles,
  render: FlameGraphRenderer,
  say: (line: string) => void,
  opts: { callGraph?: CallGraph; frequencyHz?: number } = {},
): Promise<ProfileSession | ProfileRecord> {
  const rec = await PerfRecording.start({
    pid,
    workDir: dirname(files.folded),
    logPath: files.perfLog,
    callGraph: opts.callGraph,
    frequencyHz: opts.frequencyHz,
  });
  // A reason may quote perf's own output: printed and recorded on one line, without escapes.
  const none = (reason: string): ProfileRecord => {
    const why = oneLine(reason);
    say(why);
    return { kind: "none", reason: why };
  };
  if (!(rec instanceof PerfRecording)) return none(rec.reason);
  let enabled: Promise<string | null> | null = null;
  return {
    windowStarted() {
      enabled ??= rec.enable().then(() => null, (e) => `no profile: perf did not switch on (${e})`);
    },
    async finish(title) {
      const failedToEnable = enabled
        ? await enabled
        : "no profile: the measured window never started";
      const result = await rec.stop();
      const reason = failedToEnable ?? (result.kind === "unavailable" ? result.reason : null);
      if (reason !== null || result.kind !== "recorded") return none(reason ?? "no profile");
      const profile = foldPerfScript(result.scriptText);
      await writeFileAtomic(files.folded, formatFolded(profile));
      await writeFileAtomic(files.svg, render(profile, title));
      const windowS = result.windowMs / 1000;
      say(
        `profile: ${profile.samples} samples at ${result.frequencyHz} Hz over ${
          windowS.toFixed(1)
        } s ` +
          `(perf used ${
            (100 * result.perfCpuMs / Math.max(1, result.windowMs)).toFixed(1)
          }% of a core): ${files.svg}`,
      );
      return {
        kind: "recorded",
        tool: "perf",
        event: "cpu-clock",
        frequency_hz: result.frequencyHz,
        call_graph: result.callGraph,
        samples: profile.samples,
        window_s: Math.round(windowS * 1000) / 1000,
        perf_cpu_pct: Math.round(10_000 * result.perfCpuMs / Math.max(1, result.windowMs)) / 100,
        lost_chunks: result.lostChunks,
        folded_file: basename(files.folded),
        svg_file: basename(files.svg),
      };
    },
    async abandon() {
      await rec.discard().catch(() => {});
    },
  };
}

/** What `beginProfile` needs to know about the run. */
export interface ProfileRequest {
  /** `--profile` given. */
  readonly profile: boolean;
  /** `--url` given: the server is not ours, `--profile-pid` names it. */
  readonly url?: string;
  readonly profilePid?: number;
  /** The started server's pid (Engram or reference), null for `--url`. */
  readonly targetPid: number | null;
  /** The reference server writes V8's perf map, which is ours to remove afterwards. */
  readonly ownPerfMap: boolean;
}

/** A profile in progress, a "none" record (why not), or null without `--profile`. */
export type ProfileStart = ProfileSession | ProfileRecord | null;

/** Attaches perf to the server before warm-up, when `--profile` asks (see `startProfile`). */
export async function beginProfile(
  req: ProfileRequest,
  files: ProfileFiles,
  render: FlameGraphRenderer,
  say: (line: string) => void,
): Promise<ProfileStart> {
  if (!req.profile) return null;
  const pid = req.url !== undefined ? req.profilePid ?? null : req.targetPid;
  if (pid === null) {
    const reason = "no profile: with --url, name the server's process with --profile-pid PID";
    say(reason);
    return { kind: "none", reason };
  }
  const started = await startProfile(pid, files, render, say);
  if (!req.ownPerfMap || !("finish" in started)) return started;
  return {
    ...started,
    async finish(title) {
      try {
        return await started.finish(title);
      } finally {
        await Deno.remove(`/tmp/perf-${pid}.map`).catch(() => {});
      }
    },
  };
}

/** The measured window started: sampling on (no-op without a session). */
export function profileWindowStarted(p: ProfileStart): void {
  if (p !== null && "windowStarted" in p) p.windowStarted();
}

/** The window ended: the report's record (null without `--profile`). */
export async function endProfile(p: ProfileStart, title: string): Promise<ProfileRecord | null> {
  if (p === null || !("finish" in p)) return p;
  return await p.finish(title);
}
