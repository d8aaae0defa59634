import assert from "node:assert/strict";
import { join } from "node:path";
import { closedPort } from "../fixtures/reliability.ts";
import { fileURLToPath } from "node:url";
import {
  buildEngram,
  type EngramStartOptions,
  findCheckoutRoot,
  findEngramCheckout,
  gitState,
  INSTALLED_BY_M17,
  startEngram,
  terminateProcesses,
} from "../../lib/target/engram.ts";
import { RunError, UsageError } from "../../lib/shared/errors.ts";
import { runDiag } from "../../lib/target/diag.ts";
import { engramProcesses, isAlive, parsePsTime, SystemSampler } from "../../lib/target/system.ts";

const FAKE_SERVER = fileURLToPath(new URL("../fixtures/fake_engram/server.ts", import.meta.url));
const STEM = "t_before_20250101_000000";

type Mode = "ok" | "never_healthy" | "exit_early" | "ignore_sigterm" | "no_listen";

/** A temporary directory that looks like an Engram checkout with a built `engram`. */
async function fakeCheckout(
  opts: { members?: string[]; mode?: Mode; binary?: boolean } = {},
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "m17_engram_test_" });
  const members = opts.members ?? ["engram-core", "engram-storage", "engram-cli"];
  await Deno.writeTextFile(
    join(dir, "Cargo.toml"),
    `[workspace]\nresolver = "2"\nmembers = [${
      members.map((m) => JSON.stringify(m)).join(", ")
    }]\n\n[profile.release]\nlto = true\n`,
  );
  if (opts.binary !== false) {
    await Deno.mkdir(join(dir, "target", "release"), { recursive: true });
    await script(
      join(dir, "target", "release", "engram"),
      `FAKE_ENGRAM_MODE=${opts.mode ?? "ok"} exec "${Deno.execPath()}" run --no-config --no-lock ` +
        `--allow-net --allow-env --allow-read --allow-write "${FAKE_SERVER}" "$@"`,
    );
  }
  return dir;
}

async function script(path: string, body: string): Promise<void> {
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
}

function startOptions(dir: string, extra: Partial<EngramStartOptions> = {}): EngramStartOptions {
  const outDir = join(dir, "out");
  return {
    dir,
    port: closedPort(),
    outDir,
    stem: join(outDir, STEM),
    logPath: join(dir, `${STEM}_server.log`),
    keepData: false,
    startupTimeoutMs: 15_000,
    stopGraceMs: 2000,
    ...extra,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Live (not zombie) members of a process group; zombies may wait on an init that never reaps. */
async function liveGroupMembers(pgid: number): Promise<number[]> {
  const out = await new Deno.Command("ps", { args: ["-axo", "pid=,pgid=,stat="], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, group, state]) => Number(group) === pgid && pid && !state?.startsWith("Z"))
    .map(([pid]) => Number(pid));
}

/** Neither the process nor anything in its process group is left. */
async function assertGone(pid: number): Promise<void> {
  assert.ok(!await isAlive(pid), `pid ${pid} is still alive`);
  assert.deepEqual(await liveGroupMembers(pid), [], `process group ${pid} still has live members`);
}

async function rejectsWith(
  p: Promise<unknown>,
  type: typeof RunError | typeof UsageError,
): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
    return e;
  }
  assert.fail(`expected ${type.name}, but it succeeded`);
}

// ---- detection ----

Deno.test("findEngramCheckout() recognises a workspace with an engram-cli member", async () => {
  for (
    const members of [["engram-core", "engram-cli"], ["crates/engram-core", "crates/engram-cli/"]]
  ) {
    const dir = await fakeCheckout({ members, binary: false });
    try {
      assert.equal(await findEngramCheckout(dir), dir, JSON.stringify(members));
      assert.equal(await findEngramCheckout("/", dir), dir, "--engram-dir wins over cwd");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("findEngramCheckout() follows a glob member that contains engram-cli", async () => {
  const dir = await fakeCheckout({ members: ["crates/*"], binary: false });
  try {
    assert.equal(await findEngramCheckout(dir), null, "crates/engram-cli does not exist yet");
    await Deno.mkdir(join(dir, "crates", "engram-cli"), { recursive: true });
    await Deno.writeTextFile(
      join(dir, "crates", "engram-cli", "Cargo.toml"),
      '[package]\nname = "engram-cli"\n',
    );
    assert.equal(await findEngramCheckout(dir), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findEngramCheckout() rejects directories that are not Engram workspaces", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_engram_test_" });
  try {
    assert.equal(await findEngramCheckout(dir), null, "no Cargo.toml");
    const cases = [
      '[package]\nname = "engram-cli"\n', // a crate, not the workspace
      '[workspace]\nmembers = ["engram-core", "not-engram-cli"]\n',
      '# members = ["engram-cli"]\n[workspace]\nmembers = ["core"]\n', // only in a comment
      '[workspace]\nmembers = ["engram-cli"\n', // not TOML
    ];
    for (const text of cases) {
      await Deno.writeTextFile(join(dir, "Cargo.toml"), text);
      assert.equal(await findEngramCheckout(dir), null, text);
    }
    const e = await rejectsWith(findEngramCheckout(Deno.cwd(), dir), UsageError);
    assert.match(e.message, /^--engram-dir .*: not an Engram checkout/);
    assert.ok(!e.message.includes("\n"), "one line");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- build ----

/** Runs `fn` with a directory holding a fake `cargo` first on PATH. */
async function withFakeCargo(body: string, fn: (checkout: string) => Promise<void>): Promise<void> {
  const checkout = await fakeCheckout({ binary: false });
  const bin = join(checkout, "bin");
  await Deno.mkdir(bin);
  await script(join(bin, "cargo"), body);
  const path = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", `${bin}:${path}`);
  try {
    await fn(checkout);
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(checkout, { recursive: true });
  }
}

const CARGO_LINES =
  'echo "cargo $*"; i=1; while [ $i -le 15 ]; do echo "line $i"; i=$((i+1)); done';

Deno.test("buildEngram() runs cargo build --release in the checkout, output to the log only", async () => {
  await withFakeCargo(`${CARGO_LINES}; pwd; exit 0`, async (dir) => {
    const log = join(dir, "build.log");
    await buildEngram(dir, log, new AbortController().signal);
    const text = await Deno.readTextFile(log);
    assert.match(text, /^cargo build --release$/m);
    assert.match(text, /^line 15$/m);
    assert.ok(text.includes(`\n${await Deno.realPath(dir)}\n`), "cwd is the checkout");
  });
});

Deno.test("buildEngram() failure is a RunError quoting the last lines of the build", async () => {
  await withFakeCargo(
    `${CARGO_LINES}; echo "error[E0308]: mismatched types" >&2; exit 101`,
    async (dir) => {
      const log = join(dir, "build.log");
      const e = await rejectsWith(buildEngram(dir, log, new AbortController().signal), RunError);
      assert.match(e.message, /^cargo build --release failed \(exit code 101\)/);
      assert.ok(e.message.includes("error[E0308]: mismatched types"));
      assert.ok(e.message.includes("line 15") && !e.message.includes("line 6\n"), e.message);
      assert.ok(e.message.includes(log), "names the full log");
      assert.ok((await Deno.readTextFile(log)).includes("line 1\n"), "everything is in the log");
    },
  );
});

Deno.test("buildEngram() is cancelled by the signal: cargo's whole process group is killed", async () => {
  await withFakeCargo(`echo $$ > cargo.pid; echo compiling; sleep 30; echo done`, async (dir) => {
    const ac = new AbortController();
    const started = performance.now();
    const build = buildEngram(dir, join(dir, "build.log"), ac.signal);
    while (!await exists(join(dir, "cargo.pid"))) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    const e = await rejectsWith(build, RunError);
    assert.match(e.message, /interrupted/);
    assert.ok(performance.now() - started < 5000);
    await assertGone(Number((await Deno.readTextFile(join(dir, "cargo.pid"))).trim()));
  });
});

Deno.test("buildEngram() without cargo on PATH says so", async () => {
  const dir = await fakeCheckout({ binary: false });
  const path = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", dir);
  try {
    const e = await rejectsWith(
      buildEngram(dir, join(dir, "b.log"), new AbortController().signal),
      RunError,
    );
    assert.match(e.message, /cargo not found on PATH.*--no-build/);
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- start, health, stop ----

Deno.test("startEngram() measures the server it started, with a fresh data dir removed at stop", async () => {
  const dir = await fakeCheckout();
  try {
    const o = startOptions(dir);
    const target = await startEngram(o);
    let pid = -1;
    try {
      pid = target.process!.pid;
      assert.equal(target.kind, "engram");
      assert.equal(target.url, `http://127.0.0.1:${o.port}`);
      assert.equal(target.version, "fake");
      const dataDir = join(o.outDir, `${STEM}_data`);
      assert.deepEqual(target.details, {
        pid,
        port: o.port,
        data_dir: dataDir,
        checkout: dir,
        git_commit: null,
        git_dirty: null,
        git_dirty_ignores: INSTALLED_BY_M17,
      });
      assert.equal(target.deathReason(), null);
      const health = await fetch(`${target.url}/health`);
      assert.equal((await health.json()).version, "fake");
      const seen = JSON.parse(await Deno.readTextFile(join(dataDir, "fake_engram_seen.json")));
      assert.equal(seen.data_dir, dataDir, "the server got ENGRAM_DATA_DIR");
      assert.deepEqual(seen.entries_at_start, [], "and it was empty");
      assert.equal(seen.pid, pid, "the process we started is the server");
    } finally {
      await target.stop();
    }
    await assertGone(pid);
    assert.equal(target.process!.status?.code, 0, "stopped gracefully by SIGTERM");
    assert.match(target.deathReason() ?? "", /engram exited \(exit code 0\)/);
    assert.ok(!await exists(join(o.outDir, `${STEM}_data`)), "data dir removed");
    const log = await Deno.readTextFile(o.logPath);
    assert.match(log, /^m17: .*engram start --port \d+ .*ENGRAM_DATA_DIR=/m);
    assert.match(log, /fake engram: SIGTERM, shutting down/);
    await target.stop(); // idempotent
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startEngram() without a built binary says how to get one", async () => {
  const dir = await fakeCheckout({ binary: false });
  try {
    const e = await rejectsWith(startEngram(startOptions(dir)), RunError);
    assert.match(
      e.message,
      /target\/release\/engram not found: .*cargo build --release.*--no-build/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startEngram() keeps the data dir with keepData; the sampler measures the server", async () => {
  const dir = await fakeCheckout();
  try {
    const o = startOptions(dir, { keepData: true });
    const target = await startEngram(o);
    // The _sys.txt sampler sees the server process.
    const sampler = new SystemSampler(target.process!.pid);
    sampler.start();
    await new Promise((r) => setTimeout(r, 1150));
    await sampler.stop();
    await target.stop();
    await assertGone(target.process!.pid);
    assert.ok(await exists(join(o.outDir, `${STEM}_data`, "fake_engram_seen.json")));
    const [sample] = sampler.samples;
    assert.ok(sample, "one sample after a second");
    assert.ok(
      (sample.procRssMb ?? 0) > 1 && (sample.procThreads ?? 0) >= 1,
      JSON.stringify(sample),
    );
    if (Deno.build.os === "linux") {
      assert.notEqual(sample.procCpuPct, null, "CPU% from the first sample");
    }
    assert.match(sampler.text(["h"]), /proc_rss_mb +[\d.]+ \/ [\d.]+ \/ [\d.]+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startEngram() refuses a port that is already taken, naming the holder", async () => {
  const dir = await fakeCheckout();
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const o = startOptions(dir, { port: holder.addr.port });
    const e = await rejectsWith(startEngram(o), RunError);
    assert.match(e.message, new RegExp(`^port ${o.port} is already in use by `));
    assert.match(e.message, /--port N/);
    if (Deno.build.os === "linux") assert.ok(e.message.includes(`(pid ${Deno.pid})`), e.message);
    assert.ok(!await exists(o.logPath), "nothing was started");
    assert.ok(!await exists(join(o.outDir, `${STEM}_data`)), "no data dir");
  } finally {
    holder.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startEngram() gives up at the deadline when the server never becomes healthy", async () => {
  const dir = await fakeCheckout({ mode: "never_healthy" });
  try {
    const o = startOptions(dir, { startupTimeoutMs: 2500 });
    const started = performance.now();
    const e = await rejectsWith(startEngram(o), RunError);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 2400 && elapsed < 2500 + 3000, `took ${elapsed} ms`);
    assert.match(
      e.message,
      /^engram at http:\/\/127\.0\.0\.1:\d+ is not healthy after 2\.5 s \(last: HTTP 503/,
    );
    assert.ok(e.message.includes("fake engram: listening on"), "quotes the output tail");
    assert.ok(!await exists(join(o.outDir, `${STEM}_data`)), "data dir removed");
    await assertNoServerLeft(o.logPath);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startEngram() reports a server that dies during startup with its status and output", async () => {
  const dir = await fakeCheckout({ mode: "exit_early" });
  try {
    const o = startOptions(dir);
    const started = performance.now();
    const e = await rejectsWith(startEngram(o), RunError);
    assert.ok(performance.now() - started < 10_000, "fails as soon as it exits");
    assert.match(e.message, /^engram exited during startup \(exit code 2\)/);
    assert.ok(e.message.includes("fake engram: error: cannot open the memory store"), e.message);
    assert.ok(e.message.includes(o.logPath));
    assert.ok(!await exists(join(o.outDir, `${STEM}_data`)), "data dir removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startEngram(): an engram that forks and exits during startup leaves no child behind (issue 25)", async () => {
  const dir = await fakeCheckout({ binary: false });
  try {
    await Deno.mkdir(join(dir, "target", "release"), { recursive: true });
    // The leader starts the real server in its process group, detached from its output, and exits.
    await script(
      join(dir, "target", "release", "engram"),
      `FAKE_ENGRAM_MODE=ok "${Deno.execPath()}" run --no-config --no-lock --allow-net ` +
        `--allow-env --allow-read --allow-write "${FAKE_SERVER}" "$@" >/dev/null 2>&1 </dev/null &\n` +
        `echo "forked child $!"\nexit 1`,
    );
    const o = startOptions(dir);
    const e = await rejectsWith(startEngram(o), RunError);
    assert.match(e.message, /^engram exited during startup \(exit code 1\)/);
    const child = Number(e.message.match(/forked child (\d+)/)?.[1]);
    assert.ok(child > 0, e.message);
    await assertGone(child);
    // Nothing took the port after the start failed.
    await new Promise((r) => setTimeout(r, 1500));
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: o.port }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startEngram() is interrupted by its signal while waiting for health", async () => {
  const dir = await fakeCheckout({ mode: "never_healthy" });
  try {
    const ac = new AbortController();
    const o = startOptions(dir, { signal: ac.signal });
    const start = startEngram(o);
    while (!(await Deno.readTextFile(o.logPath).catch(() => "")).includes("listening on")) {
      await new Promise((r) => setTimeout(r, 20));
    }
    ac.abort();
    const e = await rejectsWith(start, RunError);
    assert.match(e.message, /interrupted/);
    await assertNoServerLeft(o.logPath);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startEngram() refuses to measure a server that took the port after the check", async () => {
  const dir = await fakeCheckout({ mode: "no_listen" });
  let impostor: Deno.HttpServer | null = null;
  try {
    const o = startOptions(dir);
    const start = startEngram(o);
    // Engram would move to another port; someone else answers on ours.
    while (
      !(await Deno.readTextFile(o.logPath).catch(() => "")).includes("fake engram: starting")
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    impostor = Deno.serve(
      { hostname: "127.0.0.1", port: o.port, onListen() {} },
      () => Response.json({ status: "healthy", version: "impostor" }),
    );
    const e = await rejectsWith(start, RunError);
    assert.match(
      e.message,
      new RegExp(`^port ${o.port} is answered by .*not by the engram we started`),
    );
    if (Deno.build.os === "linux") {
      assert.ok(e.message.includes(`deno (pid ${Deno.pid})`), e.message);
    }
    await assertNoServerLeft(o.logPath);
    assert.ok(!await exists(join(o.outDir, `${STEM}_data`)), "data dir removed");
  } finally {
    await impostor?.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a server that ignores SIGTERM is SIGKILLed after the grace period", async () => {
  const dir = await fakeCheckout({ mode: "ignore_sigterm" });
  try {
    const target = await startEngram(startOptions(dir, { stopGraceMs: 500 }));
    const started = performance.now();
    await target.stop();
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 450 && elapsed < 3000, `stop took ${elapsed} ms`);
    assert.equal(target.process!.status?.signal, "SIGKILL");
    await assertGone(target.process!.pid);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** After a failed start: the server that was started (its pid is in the log) is gone. */
async function assertNoServerLeft(logPath: string): Promise<void> {
  const pid = (await Deno.readTextFile(logPath)).match(/fake engram: starting .*pid (\d+)/)?.[1];
  assert.ok(pid, "the server was started");
  await assertGone(Number(pid));
}

Deno.test("gitState() reads the checkout's commit and whether tracked files changed", async () => {
  const dir = await fakeCheckout({ binary: false });
  try {
    assert.deepEqual(await gitState(dir), { commit: null, dirty: null });
    const git = (...args: string[]) =>
      new Deno.Command("git", {
        args: ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
        stdout: "null",
        stderr: "null",
      }).output();
    await git("init", "-q");
    await git("add", "Cargo.toml");
    await git("commit", "-q", "-m", "init");
    const state = await gitState(dir);
    assert.match(state.commit ?? "", /^[0-9a-f]{40}$/);
    assert.equal(state.dirty, false);
    await Deno.writeTextFile(join(dir, "notes.txt"), "untracked\n");
    assert.equal((await gitState(dir)).dirty, false, "untracked files do not count");
    await Deno.writeTextFile(join(dir, "Cargo.toml"), "\n", { append: true });
    assert.equal((await gitState(dir)).dirty, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gitState() ignores the committed m17 shims and deno.json (INSTALLED_BY_M17)", async () => {
  const dir = await fakeCheckout({ binary: false });
  try {
    const git = (...args: string[]) =>
      new Deno.Command("git", {
        args: ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
        stdout: "null",
        stderr: "null",
      }).output();
    await Deno.mkdir(join(dir, "scripts"));
    for (const path of INSTALLED_BY_M17) await Deno.writeTextFile(join(dir, path), "old\n");
    await git("init", "-q");
    await git("add", "-A");
    await git("commit", "-q", "-m", "init");
    // Installing (or regenerating) the shims changes tracked files: not Engram's code.
    for (const path of INSTALLED_BY_M17) await Deno.writeTextFile(join(dir, path), "new\n");
    assert.equal((await gitState(dir)).dirty, false);
    await Deno.writeTextFile(join(dir, "Cargo.toml"), "\n", { append: true });
    assert.equal((await gitState(dir)).dirty, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findEngramCheckout() walks up like git: --engram-dir below the root, refusal in a subdirectory", async () => {
  const dir = await fakeCheckout({ binary: false });
  try {
    await Deno.writeTextFile(
      join(dir, "Cargo.toml"),
      '[workspace]\nmembers = ["engram-cli", "engram-core"]\n',
    );
    const sub = join(dir, "engram-core", "src");
    await Deno.mkdir(sub, { recursive: true });
    assert.equal(await findEngramCheckout("/", sub), dir);
    assert.equal(await findCheckoutRoot(sub), dir);
    assert.equal(await findEngramCheckout(dir), dir);
    await assert.rejects(
      findEngramCheckout(sub),
      (e: Error) =>
        e instanceof UsageError && e.message.includes(`inside the Engram checkout ${dir}`) &&
        !e.message.includes("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- diag ----

/** Runs `fn` with console.log/error captured. */
async function captured(
  fn: () => Promise<number>,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await fn();
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** A process named `engram` that ignores SIGTERM, for diag and terminateProcesses. */
async function stubbornEngram(dir: string): Promise<Deno.ChildProcess> {
  const path = join(dir, "engram");
  await script(path, "trap '' TERM\nwhile :; do sleep 0.1; done");
  const child = new Deno.Command(path, { stdin: "null", stdout: "null", stderr: "null" }).spawn();
  const deadline = performance.now() + 3000;
  while (
    !(await engramProcesses()).some((p) => p.pid === child.pid) && performance.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

Deno.test("diag prints engram processes, the port, load and memory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_engram_test_" });
  const child = await stubbornEngram(dir);
  try {
    const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const r = await captured(() =>
      runDiag({ port: holder.addr.port, killLeaked: false, yes: false })
    );
    holder.close();
    assert.equal(r.code, 0);
    assert.match(r.out, /^engram processes: \d+$/m);
    assert.ok(r.out.includes(`pid ${child.pid} `), r.out);
    if (Deno.build.os === "linux") {
      assert.ok(r.out.includes(`port ${holder.addr.port}: deno (pid ${Deno.pid})`), r.out);
    }
    assert.match(r.out, /^load average: [\d.]+ [\d.]+ [\d.]+ \(\d+ cpus\)$/m);
    assert.match(r.out, /^memory: \d+ MB available of \d+ MB$/m);
    assert.ok(!r.out.includes("\x1b["), "no ANSI codes");

    if (!Deno.stdin.isTerminal()) {
      const k = await captured(() => runDiag({ port: 7432, killLeaked: true, yes: false }));
      assert.equal(k.code, 3);
      assert.match(k.err, /without a terminal.*--yes/);
      assert.ok(await isAlive(child.pid), "nothing killed without confirmation");
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("terminateProcesses() sends SIGTERM, then SIGKILL after the grace period", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_engram_test_" });
  const stubborn = await stubbornEngram(dir);
  const polite = new Deno.Command("sleep", {
    args: ["30"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const started = performance.now();
    const left = await terminateProcesses([stubborn.pid, polite.pid], 400);
    const elapsed = performance.now() - started;
    assert.deepEqual(left, []);
    assert.ok(elapsed >= 380 && elapsed < 2500, `took ${elapsed} ms`);
    assert.equal((await polite.status).signal, "SIGTERM");
    assert.equal((await stubborn.status).signal, "SIGKILL");
  } finally {
    for (const c of [stubborn, polite]) {
      try {
        c.kill("SIGKILL");
      } catch { /* exited */ }
      await c.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parsePsTime() reads procps and BSD ps CPU times", () => {
  assert.equal(parsePsTime("00:00:07"), 7);
  assert.equal(parsePsTime("01:02:03"), 3723);
  assert.equal(parsePsTime("2-00:00:01"), 172801);
  assert.equal(parsePsTime("0:01.25"), 1.25); // macOS: minutes:seconds.hundredths
  assert.equal(parsePsTime("125:00.50"), 7500.5);
  assert.equal(parsePsTime(""), null);
  assert.equal(parsePsTime("-"), null);
});
