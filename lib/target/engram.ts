/**
 * The Engram target: find the checkout, `cargo build --release`, start
 * `target/release/engram start --port N` with a fresh `ENGRAM_DATA_DIR`, wait for `/health`, and
 * always stop it again. Fixes the old script's defects: a taken port is refused (the old script
 * measured whatever answered there), every run starts from an empty store, build and server
 * output go to a log file, and the server is stopped on every path out.
 * @module
 */
import { profileBinary, profileBuildEnv } from "./engram_profile.ts";
import { basename, dirname, join, resolve } from "node:path";
import { parse } from "smol-toml";
import { match } from "ts-pattern";
import { messageOf, RunError, UsageError } from "../shared/errors.ts";
import { INPUT_LIMITS, readInputTextOrNull } from "../shared/input_file.ts";
import { describeStatus, ServerProcess } from "./process.ts";
import { describeListeners, isAlive, portHolder, portListeners, processGroupOf } from "./system.ts";
import { notEngramMessage, sleep, waitHealthy } from "./health.ts";
import { copyTree } from "./snapshot.ts";
import { makeEngramRunDirs } from "./engram_dirs.ts";
import type { EngramTarget } from "./target.ts";
import { binaryDetails, type EngramBinary } from "./builds.ts";
import { PLATFORM } from "../shared/platform.ts";

/** Engram's default HTTP port (also the old script's). */
export const DEFAULT_ENGRAM_PORT = 7432;

/** Lines of build output quoted in a build failure. */
const BUILD_TAIL_LINES = 10;

/**
 * The Engram checkout to build and measure, found like git finds its repository: the nearest of
 * `engramDir` (when given) or `cwd` and their parents that is a checkout. A checkout is a
 * directory whose Cargo.toml is a workspace with an `engram-cli` member (`"engram-cli"`,
 * `"crates/engram-cli"` or a glob such as `"crates/*"` that contains it). `--engram-dir` outside
 * any checkout is a UsageError; so is a `cwd` below a checkout's root (results, scenarios and the
 * shims all live at the root: the old scripts failed there, and the reference server must not
 * be measured in its place). Null outside any checkout.
 *
 * @example
 * ```ts
 * import { rejects, strictEqual } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * strictEqual(await findEngramCheckout(dir), null); // not a checkout
 * await Deno.writeTextFile(`${dir}/Cargo.toml`, '[workspace]\nmembers = ["crates/engram-cli"]\n');
 * strictEqual(await findEngramCheckout(dir), dir);
 * await Deno.mkdir(`${dir}/crates`);
 * strictEqual(await findEngramCheckout("/", `${dir}/crates`), dir); // --engram-dir walks up
 * await rejects(findEngramCheckout(`${dir}/crates`), /run from its root/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function findEngramCheckout(
  cwd: string,
  engramDir?: string,
): Promise<string | null> {
  if (engramDir !== undefined) {
    const root = await findCheckoutRoot(engramDir);
    if (root !== null) return root;
    throw new UsageError(
      `--engram-dir ${engramDir}: not an Engram checkout (no Cargo.toml [workspace] with an engram-cli member there or above)`,
    );
  }
  const dir = resolve(cwd);
  const root = await findCheckoutRoot(dir);
  if (root === null || root === dir) return root;
  throw new UsageError(
    `started in ${dir}, inside the Engram checkout ${root}: run from its root (cd ${root}) or pass --engram-dir ${root}; --reference measures the built-in reference server instead`,
  );
}

/** Directories walked up at most (a bound, as git has none that matters in practice). */
const MAX_WALK_UP = 64;

/**
 * The nearest of `start` and its parents that is an Engram checkout, or null.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(await findCheckoutRoot(await Deno.makeTempDir()), null);
 * ```
 */
export async function findCheckoutRoot(start: string): Promise<string | null> {
  let dir = resolve(start);
  for (let i = 0; i < MAX_WALK_UP; i++) {
    if (await isCheckout(dir)) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  return null;
}

async function isCheckout(dir: string): Promise<boolean> {
  // A Cargo.toml that is a FIFO, directory, device or broken symlink is refused in one line.
  const text = await readInputTextOrNull(join(dir, "Cargo.toml"), {
    label: "Cargo.toml",
    maxBytes: INPUT_LIMITS.tomlBytes,
  });
  if (text === null) return false;
  let manifest: Record<string, unknown>;
  try {
    manifest = parse(text);
  } catch {
    return false; // not TOML: not a checkout
  }
  const workspace = manifest.workspace as { members?: unknown } | undefined;
  const members = Array.isArray(workspace?.members) ? workspace.members : [];
  for (const member of members) {
    if (typeof member !== "string") continue;
    const path = member.replace(/\/+$/, "");
    if (basename(path) === "engram-cli") return true;
    // A glob member such as "crates/*" includes crates/engram-cli when that crate exists.
    if (
      path.endsWith("/*") && await isFile(join(dir, path.slice(0, -1), "engram-cli", "Cargo.toml"))
    ) {
      return true;
    }
  }
  return false;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The first executable named `name` on PATH, or null. */
async function findOnPath(name: string): Promise<string | null> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(PLATFORM.pathListSeparator)) {
    if (!dir) continue;
    try {
      const st = await Deno.stat(join(dir, name));
      if (st.isFile && (st.mode === null || (st.mode & 0o111) !== 0)) return join(dir, name);
    } catch { /* not here */ }
  }
  return null;
}

/** Indented quote of a process's last output lines, for an error message. */
function quoteTail(lines: string[], logPath: string): string {
  const shown = lines.filter((l) => l.trim() !== "");
  if (shown.length === 0) return `\n  (no output; log: ${logPath})`;
  return `\n  last output (full log: ${logPath}):\n${shown.map((l) => `    ${l}`).join("\n")}`;
}

/**
 * Runs `cargo build --release` in `dir`, its output appended to `logPath` (not the terminal).
 * A failed build is a RunError quoting the last lines of cargo's output; aborting `signal` kills
 * cargo's whole process group and is a RunError too.
 */
export async function buildEngram(
  dir: string,
  logPath: string,
  signal: AbortSignal,
  profile = false,
): Promise<void> {
  // Resolved first: a missing cargo gets its own message.
  const cargo = await findOnPath("cargo");
  if (cargo === null) {
    throw new RunError(
      "cargo not found on PATH: install Rust (https://rustup.rs), or pass --no-build to use the existing target/release/engram",
    );
  }
  if (signal.aborted) throw new RunError("interrupted before the build");
  await Deno.writeTextFile(logPath, `m17: ${cargo} build --release (in ${dir})\n`, {
    append: true,
  });
  const proc = new ServerProcess("cargo build", cargo, ["build", "--release"], {
    cwd: dir,
    env: { CARGO_TERM_COLOR: "never", ...(profile ? profileBuildEnv(dir) : {}) },
    logPath,
  });
  let stopping: Promise<unknown> | null = null;
  const abort = () => stopping = proc.stop(2000);
  signal.addEventListener("abort", abort, { once: true });
  try {
    const status = await proc.exited;
    await stopping;
    if (signal.aborted) throw new RunError("interrupted during cargo build --release");
    if (!status.success) {
      throw new RunError(
        `cargo build --release failed (${describeStatus(status)})${
          quoteTail(proc.tail().slice(-BUILD_TAIL_LINES), logPath)
        }`,
      );
    }
  } finally {
    signal.removeEventListener("abort", abort);
  }
}

/** Options of `startEngram`. */
export interface EngramStartOptions {
  /** The checkout (from `findEngramCheckout`). */
  dir: string;
  port: number;
  /** Results directory: the fresh data dir goes here. */
  outDir: string;
  /** The run's file stem: it names the data dir and TMPDIR (lib/target/engram_dirs.ts). */
  stem: string;
  /** The server's output (the run's `_server.log`). */
  logPath: string;
  /** Keep the data dir after the run (removed by default). */
  keepData: boolean;
  /** Deadline for `/health` to answer 200, from the start of the process. */
  startupTimeoutMs: number;
  /** Aborting stops the server and fails the start. */
  signal?: AbortSignal;
  /** SIGTERM → SIGKILL grace when stopping (default 5000 ms). */
  stopGraceMs?: number;
  /** Run the `--profile` build (lib/target/engram_profile.ts). */
  profile?: boolean;
  /** Start the server on these CPUs (`taskset -c`, `--server-cpus`); null: anywhere. */
  cpus?: string | null;
  /** Copy this directory's contents (a preload snapshot) into the fresh data dir first. */
  seedFrom?: string | null;
  /**
   * The binary to run (lib/target/engram_binary.ts: the kept copy of the build, or a kept build
   * `confirm` runs again), with its provenance; absent: the checkout's own, unkept.
   */
  binary?: EngramBinary;
}

/** The Engram binary a start runs: `target/release/engram`, or the `--profile` build's. */
export function engramBinary(dir: string, profile: boolean): string {
  return profile ? profileBinary(dir) : join(dir, "target", "release", "engram");
}

/** How long a graceful stop may take (Engram flushes its write-ahead log) before SIGKILL. */
export const GRACEFUL_STOP_MS = 60_000;

/**
 * Starts the built Engram server on `port` with an empty data dir and waits until `/health`
 * answers 200. Refuses (RunError) when the port is already taken, naming the holder; fails with
 * the exit status and the output tail when the server dies or stays unhealthy. The returned
 * target's `stop()` stops the server's process group and removes the data dir (unless kept).
 */
export async function startEngram(opts: EngramStartOptions): Promise<EngramTarget> {
  // Absolute: the server starts in the checkout, and a kept binary's path is under the out dir.
  const binary = resolve(opts.binary?.path ?? engramBinary(opts.dir, opts.profile ?? false));
  if (!await isFile(binary)) {
    throw new RunError(
      `${binary} not found: build Engram (cargo build --release), or drop --no-build`,
    );
  }
  await refuseTakenPort(opts.port);

  const dirs = await makeEngramRunDirs(resolve(opts.outDir), opts.stem, opts.keepData);
  const [dataDir, removeData] = [dirs.data, dirs.remove];
  if (opts.seedFrom) {
    try {
      await copyTree(opts.seedFrom, dataDir);
    } catch (e) {
      await removeData();
      throw new RunError(`data dir ${dataDir}: cannot copy ${opts.seedFrom} (${messageOf(e)})`);
    }
  }

  const args = ["start", "--port", String(opts.port)];
  // Its own TMPDIR: Engram's pid file (`temp_dir()/engram.pid`) is then this run's alone.
  const env = { ENGRAM_DATA_DIR: dataDir, TMPDIR: dirs.tmp };
  const envWords = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(", ");
  let proc: ServerProcess;
  try {
    await Deno.writeTextFile(
      opts.logPath,
      `m17: ${binary} ${args.join(" ")} (in ${opts.dir}, ${envWords})\n`,
      { append: true },
    );
    proc = new ServerProcess("engram", binary, args, {
      cwd: opts.dir,
      env,
      logPath: opts.logPath,
      cpus: opts.cpus,
      // Engram logs ~3 lines per store: straight to the file, never through this process.
      output: "file",
    });
  } catch (e) {
    await removeData();
    throw new RunError(`cannot start ${binary}: ${messageOf(e)}`);
  }

  const url = `http://127.0.0.1:${opts.port}`;
  const graceMs = opts.stopGraceMs ?? 5000;
  let version: string | null;
  let git: { commit: string | null; dirty: boolean | null };
  try {
    version = await waitEngramHealthy(proc, url, opts.startupTimeoutMs, opts.logPath, opts.signal);
    await ensureOwnsPort(proc, opts.port);
    git = opts.binary
      ? { commit: opts.binary.origin.git_commit, dirty: opts.binary.origin.git_dirty }
      : await gitState(opts.dir);
  } catch (e) {
    await proc.stop(graceMs);
    await removeData();
    throw e;
  }

  let stopping: Promise<void> | null = null;
  return {
    kind: "engram",
    url,
    version,
    details: {
      pid: proc.pid,
      port: opts.port,
      data_dir: dataDir,
      checkout: opts.binary?.origin.checkout ?? opts.dir,
      git_commit: git.commit,
      git_dirty: git.dirty,
      git_dirty_ignores: INSTALLED_BY_M17,
      ...(opts.binary ? binaryDetails(opts.binary) : {}),
    },
    process: proc,
    deathReason: () => proc.status ? `engram exited (${describeStatus(proc.status)})` : null,
    stopGracefully: async () => {
      const status = await proc.stop(GRACEFUL_STOP_MS);
      return status.success ? null : describeStatus(status);
    },
    stop: () =>
      stopping ??= (async () => {
        await proc.stop(graceMs);
        await removeData();
      })(),
  };
}

/** RunError when something listens on `port` (either bound on loopback or answering there). */
async function refuseTakenPort(port: number): Promise<void> {
  let taken = false;
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    taken = true;
  } catch { /* nobody answers */ }
  if (!taken) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) {
        throw new RunError(`port ${port}: cannot bind on 127.0.0.1 (${messageOf(e)})`);
      }
      taken = true;
    }
  }
  if (!taken) return;
  const holder = await portHolder(port);
  throw new RunError(
    `port ${port} is already in use by ${holder ?? "another process (not identified)"}: ` +
      `refusing to start Engram, which would measure a server we did not start; stop it ` +
      `(m17_check diag --port ${port} --kill-leaked for leaked engram servers) or pass --port N`,
  );
}

/**
 * Engram moves to another port when its port is taken at bind time; if something took ours
 * between our check and its start, whoever answers is not our server. Skipped when the OS
 * does not say who listens.
 */
async function ensureOwnsPort(proc: ServerProcess, port: number): Promise<void> {
  const listeners = (await portListeners(port)).filter((l) => l.pid !== null);
  if (listeners.length === 0) return;
  for (const l of listeners) {
    if (l.pid === proc.pid || await processGroupOf(l.pid!) === proc.pid) return;
  }
  throw new RunError(
    `port ${port} is answered by ${describeListeners(listeners)}, not by the engram we started ` +
      `(pid ${proc.pid}): refusing to measure it`,
  );
}

/**
 * Waits until `/health` answers 200 and returns the `version` it reports. Fails at once when the
 * process exits (with its exit status), at the deadline, or when `signal` aborts; failures
 * quote the server's last output lines.
 */
async function waitEngramHealthy(
  proc: ServerProcess,
  url: string,
  timeoutMs: number,
  logPath: string,
  signal?: AbortSignal,
): Promise<string | null> {
  const wait = await waitHealthy(url, { timeoutMs, exited: proc.exited, signal });
  return match(wait)
    .with({ kind: "healthy" }, (w) => w.version)
    .with({ kind: "timed_out" }, (w) => {
      throw new RunError(
        `engram at ${url} is not healthy after ${
          (timeoutMs / 1000).toFixed(1)
        } s (last: ${w.last}; raise --startup-timeout-s if it is just slow)${
          quoteTail(proc.tail(), logPath)
        }`,
      );
    })
    .with({ kind: "not_engram" }, (w) => {
      throw new RunError(notEngramMessage(url, w.answer));
    })
    .with({ kind: "exited" }, () => {
      throw new RunError(
        `engram exited during startup (${describeStatus(proc.status!)})${
          quoteTail(proc.tail(), logPath)
        }`,
      );
    })
    .with({ kind: "interrupted" }, () => {
      throw new RunError("interrupted while waiting for engram to become healthy");
    })
    .exhaustive();
}

/**
 * Files `m17_check install-scripts` writes into a checkout: a team commits them, and a change to
 * them is not a change to Engram, so the dirty flag ignores them (the report lists them).
 */
export const INSTALLED_BY_M17: readonly string[] = [
  "scripts/m17_performance_check.sh",
  "scripts/compare_m17_performance.sh",
  "deno.json",
];

/**
 * The checkout's git commit and whether tracked files other than `INSTALLED_BY_M17` have
 * changes; nulls outside git.
 */
export async function gitState(
  dir: string,
): Promise<{ commit: string | null; dirty: boolean | null }> {
  const git = async (...args: string[]) => {
    try {
      const out = await new Deno.Command("git", {
        args: ["-C", dir, ...args],
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.success ? new TextDecoder().decode(out.stdout) : null;
    } catch {
      return null; // no git
    }
  };
  const commit = (await git("rev-parse", "HEAD"))?.trim() || null;
  if (commit === null) return { commit: null, dirty: null };
  // Untracked files are left out: run outputs and scratch files would make every tree dirty.
  const status = await git("status", "--porcelain", "--untracked-files=no");
  if (status === null) return { commit, dirty: null };
  // Porcelain v1: two status letters, a space, the path ("old -> new" for renames).
  const changed = status.split("\n").filter((l) => l.trim() !== "").map((l) => l.slice(3));
  return { commit, dirty: changed.some((path) => !INSTALLED_BY_M17.includes(path)) };
}

/**
 * Sends SIGTERM to each pid, then SIGKILL to those still alive after `graceMs`. Returns the
 * pids that were still alive at the end (normally none).
 */
export async function terminateProcesses(pids: number[], graceMs = 3000): Promise<number[]> {
  const send = (pid: number, sig: Deno.Signal) => {
    try {
      Deno.kill(pid, sig);
    } catch { /* already gone */ }
  };
  const alive = async () => {
    const live: number[] = [];
    for (const pid of pids) if (await isAlive(pid)) live.push(pid);
    return live;
  };
  const waitUntil = async (deadline: number) => {
    let live = await alive();
    while (live.length > 0 && performance.now() < deadline) {
      await sleep(50);
      live = await alive();
    }
    return live;
  };
  for (const pid of pids) send(pid, "SIGTERM");
  for (const pid of await waitUntil(performance.now() + graceMs)) send(pid, "SIGKILL");
  return await waitUntil(performance.now() + 1000);
}
