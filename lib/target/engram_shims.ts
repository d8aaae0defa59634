/**
 * `m17_check install-scripts <engram-dir> [--force]` and `uninstall-scripts <engram-dir>`: the
 * drop-in install into an Engram checkout, and the way back. Install writes
 * `scripts/m17_performance_check.sh` and `scripts/compare_m17_performance.sh` as thin bash shims
 * (lib/target/shim_text.ts), adds `check` and `compare` tasks to the checkout's `deno.json`
 * (creating it when missing) so `deno task check 001 after` works there too, and copies the
 * shipped scenarios the old scripts used, never overwriting one. A script or task that is not
 * ours is only replaced with `--force`, and every file replaced is kept first under
 * `scripts/.m17_originals/` with a manifest of what was added; uninstall puts back exactly those
 * bytes and removes what install created. Installing twice changes nothing.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { installScripts, uninstallScripts } from "./engram_shims.ts";
 * const engramDir = await Deno.makeTempDir();
 * const result = await installScripts({ engramDir, force: false });
 * strictEqual(result.isEngramCheckout, false); // no Cargo.toml: installed anyway
 * strictEqual(result.actions.some((a) => a.action === "wrote"), true);
 * await uninstallScripts(engramDir);
 * strictEqual([...Deno.readDirSync(engramDir)].length, 0); // back to empty
 * await Deno.remove(engramDir);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join, relative, resolve } from "node:path";
import { writeFileAtomic, writeNewFile } from "../shared/atomic.ts";
import { TOOL_ROOT } from "../paths.ts";
import { findCheckoutRoot } from "./engram.ts";
import { messageOf, UsageError } from "../shared/errors.ts";
import { regularOrMissing } from "../shared/input_file.ts";
import { PINNED_DENO_VERSION, SHIM_MARKER_LINE, SHIMS, shimText } from "./shim_text.ts";

export { SHIM_MARKER, SHIMS } from "./shim_text.ts";

/** Scenarios copied into the checkout when missing (paths relative to both roots). */
export const SHIPPED_SCENARIOS: readonly string[] = [
  "scenarios/m17_baseline.toml",
  "scenarios/competitive/hybrid_production_100k.toml",
  "scenarios/competitive/baselines.toml",
];

/** Where replaced files are kept, and the manifest of the install (relative to the checkout). */
export const ORIGINALS_DIR = "scripts/.m17_originals";
const MANIFEST = `${ORIGINALS_DIR}/manifest.json`;

/** The two tasks added to the checkout's deno.json; `M17_INVOCATION` makes hints say `deno task`. */
export const DENO_TASKS: Readonly<Record<"check" | "compare", string>> = {
  check: "M17_INVOCATION=deno-task bash scripts/m17_performance_check.sh",
  compare: "M17_INVOCATION=deno-task bash scripts/compare_m17_performance.sh",
};

/** Where the tool that installs lives: an m17 checkout, or the directory of this binary. */
export function currentToolHome(): string {
  return Deno.build.standalone ? dirname(Deno.execPath()) : TOOL_ROOT.replace(/\/$/, "");
}

/** What `installScripts` or `uninstallScripts` did with one file. */
export interface InstallAction {
  /** Path relative to the Engram checkout. */
  path: string;
  action:
    | "wrote"
    | "replaced"
    | "merged"
    | "unchanged"
    | "copied"
    | "kept"
    | "restored"
    | "removed"
    | "left";
}

/** The outcome of `installScripts`. */
export interface InstallResult {
  engramDir: string;
  /** False when the directory does not look like an Engram checkout (installed anyway). */
  isEngramCheckout: boolean;
  actions: InstallAction[];
  /** The m17 checkout or binaries' directory, relative to the Engram checkout ("" if none). */
  relativeHome: string;
}

/** One file install added or replaced: the sha-256 of what it wrote, and the original's mode. */
interface ManifestEntry {
  installed_sha256: string;
  /** The replaced file's mode, or null when install created the file. */
  original_mode: number | null;
}

/** `scripts/.m17_originals/manifest.json`: what install-scripts added, and what it replaced. */
interface Manifest {
  m17_install: 1;
  files: Record<string, ManifestEntry>;
  /** Directories install created (removed again when empty). */
  created_dirs: string[];
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const encode = (text: string) => new TextEncoder().encode(text);

async function readOrNull(path: string): Promise<Uint8Array | null> {
  // A FIFO or device in the checkout is refused in one line, never opened.
  if (await regularOrMissing(path, "install-scripts:") === "missing") return null;
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new UsageError(`cannot read ${path}: ${messageOf(e)}`);
  }
}

/** Runs a file operation on `path`; a file system error becomes a one-line `UsageError`. */
async function onFile(verb: string, path: string, op: () => Promise<void>): Promise<void> {
  try {
    await op();
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(`${verb}: ${path}: ${messageOf(e)}`);
  }
}

async function readManifest(engramDir: string): Promise<Manifest | null> {
  const bytes = await readOrNull(join(engramDir, MANIFEST));
  if (bytes === null) return null;
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
    if (m.m17_install !== 1 || typeof m.files !== "object") throw new Error("unknown format");
    return { ...m, created_dirs: m.created_dirs ?? [] };
  } catch (e) {
    throw new UsageError(
      `${join(engramDir, MANIFEST)}: not an m17 install manifest (${messageOf(e)})`,
    );
  }
}

/** A file install wants to have, decided before anything is written. */
interface Planned {
  path: string;
  bytes: Uint8Array;
  existing: Uint8Array | null;
  action: InstallAction["action"];
}

/** The deno.json install wants: the existing one with our two tasks, or a new one. */
function plannedDenoJson(existing: Uint8Array | null, force: boolean): Planned {
  const path = "deno.json";
  if (existing === null) {
    const text = JSON.stringify({ tasks: DENO_TASKS }, null, 2) + "\n";
    return { path, bytes: encode(text), existing, action: "wrote" };
  }
  let config: { tasks?: Record<string, unknown> };
  try {
    config = JSON.parse(new TextDecoder().decode(existing));
    if (typeof config !== "object" || config === null || Array.isArray(config)) throw 0;
  } catch {
    throw new UsageError(
      `install-scripts: deno.json is not plain JSON (comments?); nothing written; add the tasks by hand: ${
        JSON.stringify(DENO_TASKS)
      }`,
    );
  }
  const tasks = config.tasks ?? {};
  const theirs = (Object.keys(DENO_TASKS) as (keyof typeof DENO_TASKS)[])
    .filter((t) => tasks[t] !== undefined && tasks[t] !== DENO_TASKS[t]);
  if (theirs.length > 0 && !force) {
    throw new UsageError(
      `install-scripts: deno.json already has ${
        theirs.map((t) => `a '${t}' task`).join(" and ")
      } that is not m17's; nothing written; rerun with --force to replace (the original is kept under ${ORIGINALS_DIR}/)`,
    );
  }
  if (tasks.check === DENO_TASKS.check && tasks.compare === DENO_TASKS.compare) {
    return { path, bytes: existing, existing, action: "unchanged" };
  }
  const text = JSON.stringify({ ...config, tasks: { ...tasks, ...DENO_TASKS } }, null, 2) + "\n";
  return { path, bytes: encode(text), existing, action: "merged" };
}

/**
 * Writes the shims and the deno.json tasks and copies missing scenarios into `engramDir`,
 * keeping every replaced file under `scripts/.m17_originals/`. Throws `UsageError` (and writes
 * nothing) when `engramDir` is not a directory, or a script or task that is not ours is in the
 * way without `force`.
 */
export async function installScripts(
  opts: { engramDir: string; force: boolean; toolHome?: string },
): Promise<InstallResult> {
  const engramDir = resolve(opts.engramDir);
  const info = await Deno.stat(engramDir).catch(() => null);
  if (!info?.isDirectory) {
    throw new UsageError(`install-scripts: ${opts.engramDir} is not a directory`);
  }
  const relativeHome = relative(engramDir, opts.toolHome ?? currentToolHome());
  const isEngramCheckout = (await findCheckoutRoot(engramDir)) === engramDir;
  const manifest: Manifest = (await readManifest(engramDir)) ??
    { m17_install: 1, files: {}, created_dirs: [] };

  // Decide everything before writing anything.
  const planned: Planned[] = [];
  const foreign: string[] = [];
  for (const { script, tool } of SHIMS) {
    const existing = await readOrNull(join(engramDir, script));
    const bytes = encode(shimText(tool, relativeHome));
    const ours = existing !== null && SHIM_MARKER_LINE.test(new TextDecoder().decode(existing));
    if (existing !== null && !ours && !opts.force) foreign.push(script);
    const action = existing === null || ours ? "wrote" : "replaced";
    planned.push({ path: script, bytes, existing, action });
  }
  if (foreign.length > 0) {
    throw new UsageError(
      `install-scripts: ${foreign.join(" and ")} ${
        foreign.length === 1 ? "exists and is not an m17 shim" : "exist and are not m17 shims"
      } (the old scripts?); nothing written; rerun with --force to replace them (kept under ${ORIGINALS_DIR}/, uninstall-scripts puts them back)`,
    );
  }
  planned.push(plannedDenoJson(await readOrNull(join(engramDir, "deno.json")), opts.force));
  for (const rel of SHIPPED_SCENARIOS) {
    const existing = await readOrNull(join(engramDir, rel));
    const bytes = existing ?? await Deno.readFile(join(TOOL_ROOT, rel));
    planned.push({ path: rel, bytes, existing, action: existing === null ? "copied" : "kept" });
  }

  const actions: InstallAction[] = [];
  for (const p of planned) {
    const path = join(engramDir, p.path);
    const same = p.existing !== null && sha256(p.existing) === sha256(p.bytes);
    const action = same && p.action !== "kept" ? "unchanged" : p.action;
    actions.push({ path: p.path, action });
    if (same) continue;
    await onFile("install-scripts", path, async () => {
      const known = manifest.files[p.path];
      // The mode of the file install first replaced (a later install keeps the first one).
      const originalMode = known !== undefined
        ? known.original_mode
        : p.existing === null
        ? null
        : (await Deno.stat(path)).mode ?? 0o644;
      if (p.existing !== null && known === undefined) {
        const kept = join(engramDir, ORIGINALS_DIR, p.path);
        await Deno.mkdir(dirname(kept), { recursive: true });
        await writeFileAtomic(kept, p.existing);
      }
      await makeDirs(engramDir, dirname(p.path), manifest);
      if (p.existing === null) await writeNewFile(path, p.bytes);
      else await writeFileAtomic(path, p.bytes);
      if (p.path.endsWith(".sh")) await Deno.chmod(path, 0o755);
      manifest.files[p.path] = { installed_sha256: sha256(p.bytes), original_mode: originalMode };
    });
  }
  if (actions.some((a) => a.action !== "unchanged" && a.action !== "kept")) {
    await onFile("install-scripts", MANIFEST, async () => {
      await Deno.mkdir(join(engramDir, ORIGINALS_DIR), { recursive: true });
      await writeFileAtomic(join(engramDir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
    });
  }
  return { engramDir, isEngramCheckout, actions, relativeHome };
}

/** Creates `rel` (and missing parents) under `root`, recording the ones it created. */
async function makeDirs(root: string, rel: string, manifest: Manifest): Promise<void> {
  if (rel === "." || rel === "") return;
  await makeDirs(root, dirname(rel), manifest);
  try {
    await Deno.mkdir(join(root, rel));
    if (!manifest.created_dirs.includes(rel)) manifest.created_dirs.push(rel);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}

/**
 * Undoes `installScripts`: every file it replaced gets its original bytes and mode back, every
 * file it created is removed, unless the file changed since (then it is left, and so is its
 * original). A UsageError when `engramDir` has no install manifest.
 */
export async function uninstallScripts(engramDirArg: string): Promise<InstallAction[]> {
  const engramDir = resolve(engramDirArg);
  const manifest = await readManifest(engramDir);
  if (manifest === null) {
    throw new UsageError(
      `uninstall-scripts: ${engramDirArg} has no m17 install (no ${MANIFEST}); nothing changed`,
    );
  }
  const actions: InstallAction[] = [];
  for (const [rel, entry] of Object.entries(manifest.files)) {
    const path = join(engramDir, rel);
    const kept = join(engramDir, ORIGINALS_DIR, rel);
    const current = await readOrNull(path);
    if (current !== null && sha256(current) !== entry.installed_sha256) {
      actions.push({ path: rel, action: "left" });
      continue;
    }
    await onFile("uninstall-scripts", path, async () => {
      if (entry.original_mode === null) {
        if (current !== null) await Deno.remove(path);
        actions.push({ path: rel, action: "removed" });
      } else {
        await writeFileAtomic(path, await Deno.readFile(kept));
        await Deno.chmod(path, entry.original_mode! & 0o7777);
        await Deno.remove(kept);
        actions.push({ path: rel, action: "restored" });
      }
    });
    delete manifest.files[rel];
  }
  await onFile("uninstall-scripts", MANIFEST, async () => {
    if (Object.keys(manifest.files).length > 0) {
      await writeFileAtomic(join(engramDir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
      return;
    }
    await Deno.remove(join(engramDir, ORIGINALS_DIR), { recursive: true });
    // Deepest first; a directory that holds anything else stays.
    for (const dir of [...manifest.created_dirs].sort((a, b) => b.length - a.length)) {
      await Deno.remove(join(engramDir, dir)).catch(() => {});
    }
  });
  return actions;
}

const NOTES: Record<InstallAction["action"], string> = {
  wrote: "",
  replaced: `  (not an m17 shim: --force; the original is kept under ${ORIGINALS_DIR}/)`,
  merged: `  (added the check and compare tasks; the original is kept under ${ORIGINALS_DIR}/)`,
  unchanged: "  (already installed)",
  copied: "",
  kept: "  (exists; scenarios are never overwritten)",
  restored: "  (the original, byte for byte)",
  removed: "  (added by install-scripts)",
  left: `  (changed since install-scripts: left as is; any original stays under ${ORIGINALS_DIR}/)`,
};

/** The lines `install-scripts` or `uninstall-scripts` prints for its actions. */
export function actionLines(verb: string, engramDir: string, actions: InstallAction[]): string[] {
  return [
    `${verb}: ${engramDir}`,
    ...actions.map((a) => `  ${a.action.padEnd(9)} ${a.path}${NOTES[a.action]}`),
  ];
}

/** The lines `install-scripts` prints for `result`. */
export function installReport(result: InstallResult): string {
  return [
    ...actionLines("install-scripts", result.engramDir, result.actions),
    `The shims run the tools, first found: m17_check/m17_compare on PATH; $M17_HOME (an m17 checkout or its binaries' directory); ${
      result.relativeHome || "(none)"
    } relative to the checkout${
      Deno.build.standalone ? "" : `; without deno, npx -y deno@${PINNED_DENO_VERSION}`
    }. They hold no absolute path: commit them if the team wants them.`,
    "From the Engram root (or any directory below it): scripts/m17_performance_check.sh 001 before … " +
    "scripts/compare_m17_performance.sh 001, or deno task check 001 before … deno task compare 001",
    `Undo: m17_check uninstall-scripts ${result.engramDir}`,
  ].join("\n");
}
