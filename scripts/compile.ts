/**
 * `deno task compile [--target T]... [--only check|compare] [--out-dir D]`: builds the standalone
 * binaries `dist/m17_check-<target>` and `dist/m17_compare-<target>` with `deno compile`. The
 * shipped scenarios and the reference server are embedded, and the flags of lib/shared/permissions.ts
 * are baked in (no prompts at run time). It compiles a staged copy of the sources whose
 * lib/shared/build_info.ts records the git commit, target and build time, so the working tree is never
 * touched, not even when the build is interrupted.
 *
 * `deno compile` downloads the Deno runtime (denort) for each target from dl.deno.land; without
 * internet that fails, and this script says so in one line.
 *
 * Exit codes: 0 built; 1 `deno compile` failed (one line says why); 3 usage error.
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILD_LINE, type BuildInfo, buildLine } from "../lib/shared/build_info.ts";
import { PERMISSIONS, type ToolName } from "../lib/shared/permissions.ts";

/** Targets built by default: Linux and macOS, x86-64 and ARM64. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

/** The files a binary is compiled from, relative to the repository root. */
export const SOURCES: readonly string[] = [
  "deno.json",
  "deno.lock",
  "m17_check.ts",
  "m17_compare.ts",
  "lib",
  "scenarios",
];

/** The m17 repository root (this script lives in scripts/). */
export const REPO_ROOT: string = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

/**
 * The `deno compile` arguments for one binary, run in the (staged) source root. The reference
 * server is reached through `m17_check serve`'s dynamic import, which deno compile follows;
 * including it explicitly keeps that true even if the import stops being analyzable.
 */
export function compileArgs(tool: ToolName, target: string, output: string): string[] {
  return [
    "compile",
    "--target",
    target,
    "--output",
    output,
    "--include",
    "scenarios/",
    // The load workers (`--workers N`) are started from their module URL, not imported.
    ...(tool === "m17_check"
      ? ["--include", "lib/reference/main.ts", "--include", "lib/run/load_worker.ts"]
      : []),
    ...PERMISSIONS[tool],
    `${tool}.ts`,
  ];
}

/** Strips ANSI colour codes. */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * The one line describing a failed `deno compile`: an unreachable runtime download gets its own
 * wording (no internet?), anything else its most specific cause.
 */
export function compileFailureLine(target: string, stderr: string): string {
  const lines = plain(stderr).split("\n").map((l) => l.trim()).filter((l) => l !== "");
  // deno prints `error: <context>`, then `Caused by:` and numbered causes, the first generic.
  const cause = lines.find((l) => /^\d+: /.test(l) && !/Setting up base binary/i.test(l)) ??
    lines.find((l) => /^error/i.test(l)) ?? lines[0] ?? "no output";
  const why = cause.replace(/^(\d+|error): /, "");
  if (
    /dl\.deno\.land/.test(stderr) &&
    /error sending request|dns error|timed out|connect/i.test(stderr)
  ) {
    return `compile: cannot download the Deno runtime for ${target} (no internet? DENORT_BIN=<path to denort> uses a local one): ${why}`;
  }
  if (/denort|Setting up base binary/i.test(stderr)) {
    return `compile: cannot set up the Deno runtime (denort) for ${target}: ${why}`;
  }
  return `compile: deno compile failed for ${target}: ${why}`;
}

async function git(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", {
      args: ["-C", REPO_ROOT, ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** The commit the sources are at, and whether the compiled files differ from it. */
export async function sourceCommit(): Promise<{ commit: string | null; dirty: boolean }> {
  const commit = await git(["rev-parse", "HEAD"]);
  const status = await git(["status", "--porcelain", "--", ...SOURCES]);
  return { commit, dirty: commit !== null && status !== null && status !== "" };
}

async function copyTree(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (info.isFile) {
    await Deno.copyFile(from, to);
    return;
  }
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    await copyTree(join(from, entry.name), join(to, entry.name));
  }
}

/** Copies the sources into `stage` (a fresh directory). */
export async function stageSources(stage: string): Promise<void> {
  for (const rel of SOURCES) await copyTree(join(REPO_ROOT, rel), join(stage, rel));
}

/** Records `info` in the staged lib/shared/build_info.ts. */
export async function writeBuildInfo(stage: string, info: BuildInfo): Promise<void> {
  const path = join(stage, "lib", "shared", "build_info.ts");
  const text = await Deno.readTextFile(path);
  if (!BUILD_LINE.test(text)) throw new Error(`${path}: the BUILD line is missing`);
  await Deno.writeTextFile(path, text.replace(BUILD_LINE, buildLine(info)));
}

const USAGE = `Usage: deno task compile [--target T]... [--only check|compare] [--out-dir D]

Builds <out-dir>/m17_check-<target> and <out-dir>/m17_compare-<target> (default out-dir: dist/).
Targets (default: all): ${TARGETS.join(", ")}.`;

/** Runs the compile task; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        target: { type: "string", multiple: true },
        only: { type: "string" },
        "out-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    console.error(`compile: ${(e as Error).message}`);
    return 3;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const targets = values.target ?? [...TARGETS];
  const unknown = targets.find((t) => !TARGETS.includes(t));
  if (unknown) {
    console.error(`compile: unknown --target ${unknown}; known: ${TARGETS.join(", ")}`);
    return 3;
  }
  if (values.only !== undefined && values.only !== "check" && values.only !== "compare") {
    console.error(`compile: --only ${values.only}: expected check or compare`);
    return 3;
  }
  const tools: ToolName[] = values.only === undefined
    ? ["m17_check", "m17_compare"]
    : [values.only === "check" ? "m17_check" : "m17_compare"];
  // The task runs in the repository root; a relative --out-dir means the caller's directory.
  const outDir = resolve(
    Deno.env.get("INIT_CWD") ?? Deno.cwd(),
    values["out-dir"] ?? REPO_ROOT + "/dist",
  );
  await Deno.mkdir(outDir, { recursive: true });

  const { commit, dirty } = await sourceCommit();
  const stage = await Deno.makeTempDir({ prefix: "m17-compile-" });
  try {
    await stageSources(stage);
    for (const target of targets) {
      await writeBuildInfo(stage, { commit, dirty, target, builtAt: new Date().toISOString() });
      for (const tool of tools) {
        const output = join(outDir, `${tool}-${target}`);
        const out = await new Deno.Command(Deno.execPath(), {
          args: compileArgs(tool, target, output),
          cwd: stage,
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).output();
        if (!out.success) {
          console.error(compileFailureLine(target, new TextDecoder().decode(out.stderr)));
          return 1;
        }
        const size = (await Deno.stat(output)).size / 1e6;
        console.log(`compile: ${output} (${size.toFixed(1)} MB)`);
      }
    }
  } finally {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
  }
  console.log(
    `compile: commit ${commit?.slice(0, 12) ?? "unknown"}${
      dirty ? " with uncommitted changes" : ""
    }`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
