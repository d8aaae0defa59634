/**
 * Which Engram binary a run starts: the checkout's fresh build, kept first in the results
 * directory's store (lib/target/builds.ts) and started from there, so the bytes measured are the
 * bytes kept; or, for `confirm`, a build kept earlier, its hash checked again before it starts.
 * @module
 */
import { messageOf, RunError } from "../shared/errors.ts";
import { type EngramBinary, keepBuild, sha256OfFile, verifyKeptBuild } from "./builds.ts";
import { engramBinary, gitState } from "./engram.ts";

/**
 * Keeps the checkout's built binary (release, or `--profile`'s) and returns the kept copy to
 * run. When it cannot be kept (a full disk), says so and runs the checkout's own file, recorded
 * with its hash and `kept: null` (`confirm` then refuses that run's build).
 */
export async function keepCheckoutBinary(
  checkout: string,
  outDir: string,
  profile: boolean,
  say: (line: string) => void,
): Promise<EngramBinary> {
  const source = engramBinary(checkout, profile);
  const info = await Deno.stat(source).catch(() => null);
  if (!info?.isFile) {
    throw new RunError(
      `${source} not found: build Engram (cargo build --release), or drop --no-build`,
    );
  }
  const git = await gitState(checkout);
  const origin = {
    git_commit: git.commit,
    git_dirty: git.dirty,
    build_profile: profile ? "m17-profile" as const : "release" as const,
    checkout,
  };
  try {
    const kept = await keepBuild(outDir, source, origin);
    say(
      `target: binary sha256 ${kept.sha256.slice(0, 12)} ${
        kept.reused ? "already kept" : "kept"
      } as ${kept.path} (started from there)`,
    );
    return { path: kept.path, sha256: kept.sha256, kept: kept.path, origin };
  } catch (e) {
    say(`target: warning: the binary was not kept (${messageOf(e)}); running ${source}`);
    return { path: source, sha256: await sha256OfFile(source), kept: null, origin };
  }
}

/**
 * A build kept earlier, to start again (`confirm`): a RunError when it is gone or its bytes no
 * longer hash to its name.
 */
export async function keptBinary(outDir: string, sha256: string): Promise<EngramBinary> {
  const check = await verifyKeptBuild(outDir, sha256);
  if (check.kind === "missing") {
    throw new RunError(`kept build ${sha256.slice(0, 12)} is gone (${check.path})`);
  }
  if (check.kind === "mismatch") {
    throw new RunError(
      `kept build ${check.path} is damaged: its sha256 is ${
        check.actual?.slice(0, 12) ?? "unreadable"
      }, not ${sha256.slice(0, 12)}${check.record === null ? " (or its build.json is gone)" : ""}`,
    );
  }
  const { path, record } = check.build;
  const { git_commit, git_dirty, build_profile, checkout } = record;
  return { path, sha256, kept: path, origin: { git_commit, git_dirty, build_profile, checkout } };
}
