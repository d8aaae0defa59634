/**
 * Target up and target down, whatever the kind: `startTarget` builds and starts Engram, starts
 * the reference server or checks a `--url` server, saying what it does through `say`;
 * `stopTarget` stops what was started.
 * @module
 */
import { match } from "ts-pattern";
import type { EngramBinary } from "./builds.ts";
import { buildEngram, startEngram } from "./engram.ts";
import { keepCheckoutBinary, keptBinary } from "./engram_binary.ts";
import { startReference } from "./reference.ts";
import type { ReferenceKnobs, Target } from "./target.ts";
import { connectUrl } from "./url.ts";

/** Which target to bring up, told apart by its kind. */
export type TargetSpec =
  | { kind: "url"; url: string }
  | {
    kind: "engram";
    /** The checkout (from `findEngramCheckout`). */
    dir: string;
    /** Run `cargo build --release` first. */
    build: boolean;
    port: number;
    /** Results directory (the fresh data dir goes here) and the run's file stem. */
    outDir: string;
    stem: string;
    keepData: boolean;
    startupTimeoutMs: number;
    /** `--profile`: build with symbols and frame pointers (lib/target/engram_profile.ts). */
    profile: boolean;
    /**
     * Called with the binary once it is built and kept: the directory (a preload snapshot) whose
     * contents seed the fresh data dir, or null for an empty one.
     */
    seedData?: (binary: EngramBinary) => Promise<string | null>;
    /**
     * `confirm`: the sha256 of a build kept in `outDir`'s store to start instead of building
     * (`dir` is then only the server's working directory).
     */
    kept?: string;
  }
  | {
    kind: "reference";
    knobs: ReferenceKnobs;
    /** Embedding dimension. */
    dim: number;
    /** `--profile`: start it with V8's perf map. */
    profile: boolean;
  };

/** Options of `startTarget`. */
export interface StartTargetOptions {
  spec: TargetSpec;
  /** Build and server output (the run's `_server.log`). */
  serverLog: string;
  /** Aborting stops what was started and fails the start. */
  signal: AbortSignal;
  /** One line of progress for the run's log. */
  say: (line: string) => void;
  /** Start the server on these CPUs (`--server-cpus`); null or absent: anywhere. */
  serverCpus?: string | null;
}

/** Brings the target up and returns it healthy; the caller must `stopTarget` it. */
export async function startTarget(o: StartTargetOptions): Promise<Target> {
  const { spec, say } = o;
  return await match(spec)
    .with({ kind: "url" }, async (s) => {
      const t = await connectUrl(s.url, o.signal);
      say(
        `target: running server at ${t.url} (version ${
          t.version ?? "unknown"
        }); nothing started or stopped`,
      );
      return t;
    })
    .with({ kind: "engram" }, async (s) => {
      const binary = s.kept !== undefined
        ? await startKept(s.outDir, s.kept, say)
        : await buildAndKeep(s, o, say);
      const seedFrom = s.seedData ? await s.seedData(binary) : null;
      const t = await startEngram({
        seedFrom,
        dir: s.dir,
        port: s.port,
        outDir: s.outDir,
        stem: s.stem,
        logPath: o.serverLog,
        keepData: s.keepData,
        startupTimeoutMs: s.startupTimeoutMs,
        signal: o.signal,
        profile: s.profile,
        cpus: o.serverCpus,
        binary,
      });
      const d = t.details;
      const commit = d.git_commit !== null ? d.git_commit.slice(0, 12) : "not a git checkout";
      say(
        `target: engram ${
          t.version ?? "(version unknown)"
        } at ${t.url} (pid ${d.pid}, commit ${commit}${
          d.git_dirty ? " with uncommitted changes" : ""
        }${
          d.git_commit !== null
            ? ` (the dirty flag ignores the m17 files ${d.git_dirty_ignores.join(", ")})`
            : ""
        }), fresh data dir ${d.data_dir}${seedFrom ? ` (a copy of ${seedFrom})` : ""}${
          s.keepData ? " (kept)" : ""
        }`,
      );
      return t;
    })
    .with({ kind: "reference" }, async (s) => {
      say("target: BUILT-IN REFERENCE SERVER (not Engram) — starting it on a free loopback port");
      const t = await startReference(s.knobs, {
        dim: s.dim,
        logPath: o.serverLog,
        signal: o.signal,
        profile: s.profile,
        cpus: o.serverCpus,
      });
      say(`target: reference server ${t.version ?? ""} at ${t.url} (pid ${t.process.pid})`);
      return t;
    })
    .exhaustive();
}

/** Stops what `startTarget` started (nothing for `--url`), saying so when a process stops. */
export async function stopTarget(target: Target, say: (line: string) => void): Promise<void> {
  if (target.kind === "url") return await target.stop();
  const name = target.kind === "engram" ? "engram" : "reference server";
  say(`target: stopping the ${name} (pid ${target.process.pid})`);
  await target.stop();
  say(`target: ${name} stopped`);
}

type EngramSpec = Extract<TargetSpec, { kind: "engram" }>;

/** Builds the checkout (unless `--no-build`) and keeps the binary the run will start. */
async function buildAndKeep(
  s: EngramSpec,
  o: StartTargetOptions,
  say: (line: string) => void,
): Promise<EngramBinary> {
  if (s.build) {
    say(
      `target: Engram checkout ${s.dir}: cargo build --release${
        s.profile ? " with symbols and frame pointers (--profile)" : ""
      } (output in ${o.serverLog})`,
    );
    await buildEngram(s.dir, o.serverLog, o.signal, s.profile);
  } else {
    say(
      `target: Engram checkout ${s.dir}: --no-build, using the existing ${
        s.profile ? "target/m17-profile/release/engram (--profile)" : "target/release/engram"
      }`,
    );
  }
  return await keepCheckoutBinary(s.dir, s.outDir, s.profile, say);
}

/** A kept build (`confirm`), its hash checked before it starts. */
async function startKept(
  outDir: string,
  sha256: string,
  say: (line: string) => void,
): Promise<EngramBinary> {
  const binary = await keptBinary(outDir, sha256);
  say(`target: kept Engram build ${sha256.slice(0, 12)} (${binary.path}), not rebuilt`);
  return binary;
}
