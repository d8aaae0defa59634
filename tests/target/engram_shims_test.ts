/**
 * `m17_check install-scripts` / `uninstall-scripts`: the shims it writes into an Engram-like
 * checkout run the tools end to end (against the reference server on loopback) from the
 * checkout root, with the exit codes passed through; replaced files are kept and restored byte
 * for byte; the shims hold no absolute path; existing scenarios are left alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SHIM_MARKER, SHIMS, SHIPPED_SCENARIOS } from "../../lib/target/engram_shims.ts";
import { runCli } from "../e2e/cli.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = join(ROOT, "tests/fixtures/fake_engram/checkout");
const CHECK_SHIM = "scripts/m17_performance_check.sh";
const COMPARE_SHIM = "scripts/compare_m17_performance.sh";

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The test's environment without M17_HOME or M17_INVOCATION, plus `extra`. */
function shimEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.M17_HOME;
  delete env.M17_INVOCATION;
  return { ...env, NO_COLOR: "1", ...extra };
}

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? shimEnv(),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function install(dir: string, ...extra: string[]): Promise<Ran> {
  return runCli("m17_check", ["install-scripts", dir, ...extra], {
    env: shimEnv(),
    clearEnv: true,
  });
}

/** A temporary copy of the fake Engram checkout (Engram's scenario shapes, the old scripts). */
async function fakeCheckout(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "m17-fake-engram-" });
  const out = await new Deno.Command("cp", { args: ["-a", `${FIXTURE}/.`, dir] }).output();
  assert.ok(out.success);
  return dir;
}

/** Every file under `dir` (relative path → bytes and mode), to compare whole trees. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (path === ".git") continue;
      if (e.isDirectory) {
        files.set(path + "/", "dir");
        await walk(path);
      } else {
        const mode = (await Deno.stat(join(dir, path))).mode! & 0o777;
        files.set(path, `${mode.toString(8)} ${await Deno.readTextFile(join(dir, path))}`);
      }
    }
  };
  await walk("");
  return files;
}

/** A temporary directory that looks like an Engram checkout (workspace with engram-cli). */
async function engramLike(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "m17-engram-" });
  await Deno.mkdir(join(dir, "engram-cli"));
  await Deno.writeTextFile(join(dir, "Cargo.toml"), '[workspace]\nmembers = ["engram-cli"]\n');
  await Deno.writeTextFile(
    join(dir, "engram-cli", "Cargo.toml"),
    '[package]\nname = "engram-cli"\n',
  );
  return dir;
}

/**
 * Runs the check shim; a run the tool itself marks invalid because this shared host was too
 * busy (exit 1, `RUN INVALID`) is retried up to twice: that is the host, not the shim.
 */
async function checkShim(dir: string, args: string[], env: Record<string, string>): Promise<Ran> {
  let r: Ran = { code: -1, stdout: "", stderr: "" };
  for (let attempt = 1; attempt <= 3; attempt++) {
    r = await run(join(dir, CHECK_SHIM), args, { cwd: dir, env });
    if (r.code !== 1 || !/RUN INVALID/.test(r.stdout + r.stderr)) return r;
    console.log(`  run ${args.join(" ")} invalid on this busy host; retrying (${attempt}/3)`);
  }
  return r;
}

Deno.test("install-scripts writes executable marked shims and copies the scenarios; reinstalling is a no-op", async () => {
  const dir = await engramLike();
  try {
    const r = await install(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "", "an Engram checkout gets no warning");
    for (const { script } of SHIMS) {
      const text = await Deno.readTextFile(join(dir, script));
      assert.equal(text.split("\n")[1], SHIM_MARKER);
      assert.match(text, /^#!\/usr\/bin\/env bash\n/);
      assert.match(text, /^set -euo pipefail$/m);
      assert.equal((await Deno.stat(join(dir, script))).mode! & 0o777, 0o755);
      assert.match(r.stdout, new RegExp(`wrote +${script}`));
    }
    for (const rel of SHIPPED_SCENARIOS) {
      assert.deepEqual(await Deno.readFile(join(dir, rel)), await Deno.readFile(join(ROOT, rel)));
      assert.match(r.stdout, new RegExp(`copied +${rel}`));
    }
    assert.match(r.stdout, /wrote +deno\.json/);
    for (const { script } of SHIMS) {
      const text = await Deno.readTextFile(join(dir, script));
      // Nothing of the installing machine: the shims can be committed.
      assert.ok(!text.includes(dir), text);
      assert.match(text, /^relative_home='\.\.\/[^']*'$/m);
      assert.doesNotMatch(text, /^[a-z_]+='\//m);
    }
    const before = await snapshot(dir);
    const again = await install(dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged +scripts\/m17_performance_check\.sh/);
    assert.match(again.stdout, /unchanged +deno\.json/);
    assert.match(again.stdout, /kept +scenarios\/m17_baseline\.toml/);
    assert.deepEqual(await snapshot(dir), before, "installing twice changes nothing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the shims run check and compare in the Engram root and pass exit codes through (0, 1, 0, 3)", async () => {
  const dir = await engramLike();
  // deno task sets INIT_CWD; the shim must not let the tool move there.
  const elsewhere = await Deno.makeTempDir({ prefix: "m17-elsewhere-" });
  const env = shimEnv({ INIT_CWD: elsewhere });
  try {
    assert.equal((await install(dir)).code, 0);
    // One warm-up second: on a busy 2-core host the cold first second often lags past the
    // validity limit (the tool then exits 1 with RUN INVALID, correctly, but not what is tested).
    const short = ["--reference", "--duration", "2", "--warmup", "1", "--rate", "100"];

    // A certain regression: every after response waits 50 ms more.
    let r = await checkShim(dir, ["001", "before", ...short], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /report: +tmp\/m17_performance\/001_before_\d{8}_\d{6}(_\d+)?\.json/);
    r = await checkShim(dir, ["001", "after", ...short, "--ref-latency-ms", "50"], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    r = await run(join(dir, COMPARE_SHIM), ["001"], { cwd: dir, env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /=== Performance Comparison: Task 001 ===/);

    // Identical settings with thresholds no noise can cross: a certain pass.
    assert.equal((await checkShim(dir, ["002", "before", ...short], env)).code, 0);
    assert.equal((await checkShim(dir, ["002", "after", ...short], env)).code, 0);
    r = await run(
      join(dir, COMPARE_SHIM),
      ["002", "--threshold-p99", "1000", "--threshold-throughput", "50"],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);

    // Usage errors: exit 3 from the tool, unchanged.
    r = await run(join(dir, CHECK_SHIM), ["001", "middle"], { cwd: dir, env });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /Phase must be 'before' or 'after'/);
    r = await run(join(dir, COMPARE_SHIM), [], { cwd: dir, env });
    assert.equal(r.code, 3);

    // Results land in the Engram checkout, nowhere else.
    const names = [...Deno.readDirSync(join(dir, "tmp", "m17_performance"))].map((e) => e.name);
    for (const stem of ["001_before_", "001_after_", "002_before_", "002_after_"]) {
      assert.ok(names.some((n) => n.startsWith(stem) && n.endsWith(".json")), stem);
    }
    assert.deepEqual([...Deno.readDirSync(elsewhere)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("a script that is not an m17 shim is kept without --force (nothing written) and replaced with it", async () => {
  const dir = await engramLike();
  try {
    const old = "#!/bin/bash\n# the old compare script\nexit 0\n";
    await Deno.mkdir(join(dir, "scripts"));
    await Deno.writeTextFile(join(dir, COMPARE_SHIM), old);
    const refused = await install(dir);
    assert.equal(refused.code, 3);
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    assert.match(refused.stderr, /compare_m17_performance\.sh exists and is not an m17 shim/);
    assert.match(refused.stderr, /--force/);
    assert.equal(await Deno.readTextFile(join(dir, COMPARE_SHIM)), old);
    assert.deepEqual([...Deno.readDirSync(join(dir, "scripts"))].map((e) => e.name), [
      "compare_m17_performance.sh",
    ]);
    assert.equal(await Deno.stat(join(dir, "scenarios")).catch(() => null), null);

    const forced = await install(dir, "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /replaced +scripts\/compare_m17_performance\.sh/);
    assert.equal((await Deno.readTextFile(join(dir, COMPARE_SHIM))).split("\n")[1], SHIM_MARKER);
    assert.equal(
      await Deno.readTextFile(join(dir, "scripts/.m17_originals", COMPARE_SHIM)),
      old,
      "the replaced script is kept",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scenarios are copied when missing and never overwritten, not even with --force", async () => {
  const dir = await engramLike();
  try {
    const mine = 'name = "my_own_baseline"\n';
    await Deno.mkdir(join(dir, "scenarios"));
    await Deno.writeTextFile(join(dir, "scenarios", "m17_baseline.toml"), mine);
    for (const args of [[], ["--force"]]) {
      const r = await install(dir, ...args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /kept +scenarios\/m17_baseline\.toml/);
      assert.equal(await Deno.readTextFile(join(dir, "scenarios", "m17_baseline.toml")), mine);
    }
    for (const rel of SHIPPED_SCENARIOS.slice(1)) {
      assert.deepEqual(await Deno.readFile(join(dir, rel)), await Deno.readFile(join(ROOT, rel)));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install-scripts refuses a non-directory (exit 3, one line) and warns about a non-Engram directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17-plain-" });
  try {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "");
    for (const target of [file, join(dir, "missing")]) {
      const r = await install(target);
      assert.equal(r.code, 3);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /is not a directory/);
    }
    assert.equal((await install(dir, "--bogus")).code, 3);
    assert.equal((await install(dir, dir)).code, 3);
    const r = await install(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .* does not look like an Engram checkout/);
    assert.ok((await Deno.stat(join(dir, CHECK_SHIM))).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the tool is found on PATH, then in $M17_HOME, then relative to the checkout; arguments and exit codes pass through", async () => {
  const dir = await engramLike();
  const bin = await Deno.makeTempDir({ prefix: "m17-bin-" });
  try {
    assert.equal((await install(dir)).code, 0);
    const log = join(bin, "args.txt");
    // A stand-in binary: records its directory and arguments, exits 7.
    await Deno.writeTextFile(
      join(bin, "m17_check"),
      `#!/usr/bin/env bash\nprintf '%s\\n' "$PWD" "$@" > ${JSON.stringify(log)}\nexit 7\n`,
    );
    await Deno.chmod(join(bin, "m17_check"), 0o755);
    const args = ["001", "after with a space", "--competitive", "--ref-latency-ms", "5"];
    const expected = [dir, ...args].join("\n") + "\n";

    let r = await run(join(dir, CHECK_SHIM), args, {
      cwd: dir,
      env: shimEnv({ M17_HOME: bin }),
    });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(await Deno.readTextFile(log), expected);

    await Deno.remove(log);
    const path = `${bin}:${Deno.env.get("PATH") ?? ""}`;
    r = await run(join(dir, CHECK_SHIM), args, { cwd: dir, env: shimEnv({ PATH: path }) });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(await Deno.readTextFile(log), expected);

    // PATH wins over M17_HOME.
    const empty = await Deno.makeTempDir({ dir: bin });
    await Deno.remove(log);
    r = await run(join(dir, CHECK_SHIM), args, {
      cwd: dir,
      env: shimEnv({ PATH: path, M17_HOME: empty }),
    });
    assert.equal(r.code, 7, r.stderr);
    r = await run(join(dir, CHECK_SHIM), args, { cwd: dir, env: shimEnv({ M17_HOME: empty }) });
    assert.equal(r.code, 3);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /M17_HOME=.* holds no m17_check/);

    // Moved away from the tool (the relative path no longer leads to it): one clear line.
    const moved = await Deno.makeTempDir({ dir: bin });
    await Deno.mkdir(join(moved, "deep", "er"), { recursive: true });
    const far = join(moved, "deep", "er", "engram");
    await Deno.rename(dir, far);
    try {
      r = await run(join(far, CHECK_SHIM), args, { cwd: far });
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /cannot find m17_check: put m17_check on PATH or set M17_HOME/);
    } finally {
      await Deno.rename(far, dir);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(bin, { recursive: true });
  }
});

/** Where a command is on PATH (null when it is not). */
function which(name: string): string | null {
  const out = new Deno.Command("bash", { args: ["-c", `type -P ${name}`], stdout: "piped" })
    .outputSync();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
}

const NPX = which("npx");

Deno.test({
  name: "without deno on PATH the shims run the tool through npx -y deno@2.9.6",
  ignore: NPX === null,
  fn: async () => {
    const dir = await engramLike();
    const bin = await Deno.makeTempDir({ prefix: "m17-nodeno-" });
    try {
      assert.equal((await install(dir)).code, 0);
      // A PATH with bash, node and npx but no deno.
      for (const tool of ["bash", "sh", "env", "uname", "node", "npx"]) {
        const path = which(tool);
        if (path) await Deno.symlink(await Deno.realPath(path), join(bin, tool));
      }
      const env = shimEnv({ PATH: bin });
      let r = await run(join(dir, COMPARE_SHIM), ["--version"], { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^m17_compare /);
      r = await run(join(dir, COMPARE_SHIM), [], { cwd: dir, env });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /no task given/);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(bin, { recursive: true });
    }
  },
});

Deno.test("uninstall-scripts restores the replaced scripts byte for byte and removes what install added", async () => {
  const dir = await fakeCheckout();
  try {
    const original = await snapshot(dir);
    const forced = await install(dir, "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /replaced +scripts\/m17_performance_check\.sh/);
    assert.match(forced.stdout, /kept +scenarios\/competitive\/hybrid_production_100k\.toml/);
    assert.match(forced.stdout, /copied +scenarios\/competitive\/baselines\.toml/);
    assert.equal((await install(dir, "--force")).code, 0, "a second install keeps the originals");
    const r = await runCli("m17_check", ["uninstall-scripts", dir], { env: shimEnv() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restored +scripts\/m17_performance_check\.sh/);
    assert.match(r.stdout, /removed +deno\.json/);
    assert.deepEqual(await snapshot(dir), original);
    const again = await runCli("m17_check", ["uninstall-scripts", dir], { env: shimEnv() });
    assert.equal(again.code, 3);
    assert.match(again.stderr, /has no m17 install/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("uninstall-scripts leaves a file changed since the install (and its original)", async () => {
  const dir = await fakeCheckout();
  try {
    assert.equal((await install(dir, "--force")).code, 0);
    await Deno.writeTextFile(join(dir, CHECK_SHIM), "#!/bin/bash\n# edited by hand\n");
    const r = await runCli("m17_check", ["uninstall-scripts", dir], { env: shimEnv() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /left +scripts\/m17_performance_check\.sh +\(changed since/);
    assert.match(r.stdout, /restored +scripts\/compare_m17_performance\.sh/);
    assert.equal(await Deno.readTextFile(join(dir, CHECK_SHIM)), "#!/bin/bash\n# edited by hand\n");
    assert.match(
      await Deno.readTextFile(join(dir, "scripts/.m17_originals", CHECK_SHIM)),
      /a local edit: keep me/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install-scripts merges check and compare tasks into an existing deno.json; uninstall restores it", async () => {
  const dir = await fakeCheckout();
  try {
    const mine = '{\n  "tasks": { "docs": "mdbook build" },\n  "fmt": { "lineWidth": 80 }\n}\n';
    await Deno.writeTextFile(join(dir, "deno.json"), mine);
    const merged = await install(dir, "--force");
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, /merged +deno\.json/);
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    assert.equal(config.tasks.docs, "mdbook build");
    assert.equal(config.fmt.lineWidth, 80);
    assert.match(config.tasks.check, /scripts\/m17_performance_check\.sh$/);
    assert.match(config.tasks.compare, /scripts\/compare_m17_performance\.sh$/);
    assert.equal((await runCli("m17_check", ["uninstall-scripts", dir])).code, 0);
    assert.equal(await Deno.readTextFile(join(dir, "deno.json")), mine);

    // A check task of their own is replaced only with --force; nothing written without it.
    const theirs = '{ "tasks": { "check": "cargo check" } }\n';
    await Deno.remove(join(dir, "scripts"), { recursive: true }); // only deno.json in the way
    await Deno.writeTextFile(join(dir, "deno.json"), theirs);
    const before = await snapshot(dir);
    const plain = await install(dir);
    assert.equal(plain.code, 3);
    assert.equal(plain.stderr.trim().split("\n").length, 1, plain.stderr);
    assert.match(plain.stderr, /deno\.json already has a 'check' task that is not m17's/);
    assert.deepEqual(await snapshot(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in the fake Engram checkout: a shim started in a subdirectory works at the root with the mode's seed and num_nodes preload", async () => {
  const dir = await fakeCheckout();
  try {
    assert.equal((await install(dir, "--force")).code, 0);
    const sub = join(dir, "engram-core");
    let r = await run(join(dir, CHECK_SHIM), ["001", "before", "--competitive", "--dry-run"], {
      cwd: sub,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /working in the Engram checkout root .* \(started in .*engram-core\)/);
    assert.match(r.stdout, /^scenario: +Hybrid Production 100K Benchmark \(.*fake-engram.*\)$/m);
    assert.match(
      r.stdout,
      /^seed: +0xABCD1234 \(the competitive mode's seed: the scenario has none\)$/m,
    );
    assert.match(
      r.stdout,
      /^preload: +100,000 memories \(\[data\] num_nodes; the scenario has no preload\)$/m,
    );
    r = await run(join(dir, CHECK_SHIM), ["001", "before", "--dry-run"], { cwd: sub });
    assert.match(r.stdout, /^seed: +0xDEADBEEF \(the baseline mode's seed/m);
    assert.match(r.stdout, /^preload: +1,000 memories/m);
    // The shim maps `001 confirm` too; with no runs yet it says what to run, through the shim.
    r = await run(join(dir, CHECK_SHIM), ["001", "confirm", "--pairs", "2"], { cwd: sub });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /no 'before' run for task 001 in tmp\/m17_performance .*run: scripts\/m17_performance_check\.sh 001 before$/m,
    );

    // Without the shim, in the subdirectory: one line, exit 3, never the reference server.
    const direct = await runCli("m17_check", ["001", "before"], { cwd: sub, env: shimEnv() });
    assert.equal(direct.code, 3, direct.stdout + direct.stderr);
    assert.equal(direct.stderr.trim().split("\n").length, 1, direct.stderr);
    assert.match(direct.stderr, /inside the Engram checkout .*: run from its root/);
    assert.equal(await Deno.stat(join(sub, "tmp")).catch(() => null), null, "nothing written");
    // --engram-dir walks up too.
    const up = await runCli(
      "m17_check",
      ["001", "--competitive", "--dry-run", "--engram-dir", sub],
      { env: shimEnv() },
    );
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^seed: +0xABCD1234/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("suggested commands are the ones that work where the user is: shim, deno task, the tool's repo", async () => {
  const dir = await fakeCheckout();
  try {
    assert.equal((await install(dir, "--force")).code, 0);
    let r = await run(join(dir, COMPARE_SHIM), ["003"], { cwd: dir });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /run: scripts\/m17_performance_check\.sh 003 before$/m);
    r = await run(join(dir, COMPARE_SHIM), ["003", "--competitive"], {
      cwd: dir,
      env: shimEnv({ M17_INVOCATION: "deno-task" }),
    });
    assert.match(r.stderr, /run: deno task check 003 before --competitive$/m);
    // The checkout's own deno.json tasks (issue 18, item 2): deno task compare works there.
    r = await run(Deno.execPath(), ["task", "--quiet", "compare", "003"], { cwd: dir });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /run: deno task check 003 before$/m);
    r = await run(Deno.execPath(), ["task", "--quiet", "check", "003", "after", "--dry-run"], {
      cwd: join(dir, "engram-core"),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^seed: +0xDEADBEEF \(the baseline mode's seed/m);
    r = await runCli("m17_compare", ["003", "--dir", join(dir, "tmp")], { env: shimEnv() });
    assert.match(r.stderr, /run: deno task check 003 before$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
