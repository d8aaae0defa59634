/**
 * What a build knows about itself, for `--version` and reports: the git commit of the tool and,
 * in a compiled binary, its target and build time. `scripts/compile.ts` fills in `BUILD` in the
 * staged copy it compiles; run from source, `BUILD.commit` is null and the commit is read from
 * the tool's own `.git` (files only: m17_compare has no permission to run git).
 *
 * @example
 * ```ts
 * import { versionLine } from "./build_info.ts";
 * import { match } from "node:assert/strict";
 * // e.g. "m17_check 0.1.0 (commit 5990026abcde, from source /home/me/m17)"
 * match(await versionLine("m17_check"), /^m17_check \d+\.\d+\.\d+ \(commit /);
 * ```
 * @module
 */
import { TOOL_ROOT } from "../paths.ts";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { VERSION } from "./version.ts";

/** Facts recorded at compile time (all null when running from source). */
export interface BuildInfo {
  /** Full git commit the binary was compiled from. */
  commit: string | null;
  /** The working tree had uncommitted changes to the compiled files. */
  dirty: boolean;
  /** Deno target triple of the binary (`x86_64-unknown-linux-gnu`). */
  target: string | null;
  /** When it was compiled (ISO 8601, UTC). */
  builtAt: string | null;
}

// scripts/compile.ts replaces the next line in the copy it compiles (BUILD_LINE matches it).
export const BUILD: BuildInfo = { commit: null, dirty: false, target: null, builtAt: null };

/** Matches the `BUILD` line above, for `scripts/compile.ts`. */
export const BUILD_LINE = /^export const BUILD: BuildInfo = .*;$/m;

/** The `BUILD` line recording `info`. */
export function buildLine(info: BuildInfo): string {
  return `export const BUILD: BuildInfo = ${JSON.stringify(info)};`;
}

/** The tool's commit (12 hex digits), `-dirty` when compiled from a modified tree; else null. */
export async function toolCommit(): Promise<string | null> {
  // A binary knows its commit from compile time; its own files are not in a git checkout.
  if (BUILD.target !== null) {
    return BUILD.commit ? BUILD.commit.slice(0, 12) + (BUILD.dirty ? "-dirty" : "") : null;
  }
  const head = await readGitHead(TOOL_ROOT);
  return head?.slice(0, 12) ?? null;
}

/** `m17_check 0.1.0 (commit …, <target> binary built …)` or `(commit …, from source <dir>)`. */
export async function versionLine(tool: string): Promise<string> {
  const commit = `commit ${(await toolCommit()) ?? "unknown"}`;
  const origin = BUILD.target
    ? `${BUILD.target} binary built ${BUILD.builtAt ?? "at an unknown time"}`
    : `from source ${TOOL_ROOT.replace(/\/$/, "")}`;
  return `${tool} ${VERSION} (${commit}, ${origin})`;
}

/**
 * The commit `HEAD` points to in the git repository containing `dir`, read from the files in
 * `.git` (loose ref, packed-refs, detached HEAD; worktrees too); null when there is none.
 */
export async function readGitHead(dir: string): Promise<string | null> {
  const gitDir = await findGitDir(resolve(dir));
  if (gitDir === null) return null;
  const head = (await readText(join(gitDir, "HEAD")))?.trim();
  if (!head) return null;
  if (/^[0-9a-f]{40,64}$/.test(head)) return head;
  const ref = /^ref: (\S+)$/.exec(head)?.[1];
  if (!ref) return null;
  // A linked worktree keeps HEAD in its own git dir and the refs in the common one.
  const common = (await readText(join(gitDir, "commondir")))?.trim();
  const commonDir = common ? resolve(gitDir, common) : gitDir;
  for (const d of [gitDir, commonDir]) {
    const loose = (await readText(join(d, ref)))?.trim();
    if (loose && /^[0-9a-f]{40,64}$/.test(loose)) return loose;
  }
  const packed = await readText(join(commonDir, "packed-refs"));
  for (const line of packed?.split("\n") ?? []) {
    const [sha, name] = line.trim().split(" ");
    if (name === ref && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  }
  return null;
}

/** The `.git` directory for `dir` or its nearest ancestor (a `.git` file points elsewhere). */
async function findGitDir(dir: string): Promise<string | null> {
  for (let d = dir;; d = dirname(d)) {
    const dotGit = join(d, ".git");
    const info = await Deno.stat(dotGit).catch(() => null);
    if (info?.isDirectory) return dotGit;
    if (info?.isFile) {
      const target = /^gitdir: (.+)$/m.exec((await readText(dotGit)) ?? "")?.[1]?.trim();
      if (target) return isAbsolute(target) ? target : resolve(d, target);
    }
    if (dirname(d) === d) return null;
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}
