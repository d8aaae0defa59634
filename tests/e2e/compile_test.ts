/**
 * The standalone binaries: both entrypoints work under exactly the flags `deno task compile`
 * bakes in (no permission errors), the compile task embeds the commit and says in one line when
 * the Deno runtime cannot be downloaded, and, where `deno compile` can run (internet), the host
 * binaries answer --version, resolve shipped scenarios outside the repository and run against
 * their embedded reference server.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { versionLine } from "../../lib/shared/build_info.ts";
import {
  CHECK_PERMISSIONS,
  COMPARE_PERMISSIONS,
  type ToolName,
} from "../../lib/shared/permissions.ts";
import {
  REFERENCE_PERMISSIONS,
  REFERENCE_V8_FLAGS,
  referenceCommand,
} from "../../lib/target/reference.ts";
import {
  compileArgs,
  compileFailureLine,
  sourceCommit,
  stageSources,
  TARGETS,
  writeBuildInfo,
} from "../../scripts/compile.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DENO_JSON = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
const HOST = Deno.build.target;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's environment without INIT_CWD (set by deno task; the tools would move there). */
function childEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return { ...env, NO_COLOR: "1" };
}

async function run(argv: string[], cwd: string, timeoutMs = 120_000): Promise<Ran> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd,
    env: childEnv(),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** How a tool is started: from source with the baked-in flags, or as a binary. */
type Launch = (tool: ToolName) => string[];

const fromSource = (root: string): Launch => (tool) => [
  Deno.execPath(),
  "run",
  ...(tool === "m17_check" ? CHECK_PERMISSIONS : COMPARE_PERMISSIONS),
  join(root, `${tool}.ts`),
];

function assertNoPermissionError(r: Ran): void {
  assert.doesNotMatch(
    r.stdout + r.stderr,
    /NotCapable|PermissionDenied|Requires \w+ access|run again with the --allow/,
  );
}

/** A check run; a run the tool marks invalid because this shared host was busy is retried. */
async function checkRun(launch: Launch, args: string[], cwd: string): Promise<Ran> {
  let r: Ran = { code: -1, stdout: "", stderr: "" };
  for (let attempt = 1; attempt <= 3; attempt++) {
    r = await run([...launch("m17_check"), ...args], cwd);
    assertNoPermissionError(r);
    if (r.code !== 1 || !/RUN INVALID/.test(r.stdout + r.stderr)) return r;
    console.log(`  run ${args.join(" ")} invalid on this busy host; retrying (${attempt}/3)`);
  }
  return r;
}

/** --version, --dry-run by scenario name, a 1-second reference run per phase, and compare. */
async function exerciseTools(launch: Launch, cwd: string): Promise<void> {
  let r = await run([...launch("m17_check"), "--version"], cwd);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^m17_check \d+\.\d+\.\d+ \(commit [0-9a-f]{12}/);

  r = await run([...launch("m17_check"), "--dry-run", "--scenario", "m17_baseline"], cwd);
  assertNoPermissionError(r);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^scenario: +m17_baseline \(/m);

  const out = join(cwd, "out");
  const short = ["--reference", "--duration", "1", "--warmup", "1", "--rate", "200"];
  for (const phase of ["before", "after"]) {
    r = await checkRun(launch, ["perm", phase, ...short, "--out-dir", out], cwd);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /target: reference server/);
  }

  r = await run([...launch("m17_compare"), "--version"], cwd);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^m17_compare \d+\.\d+\.\d+/);
  const html = join(cwd, "perm.html");
  r = await run([
    ...launch("m17_compare"),
    "perm",
    "--dir",
    out,
    "--threshold-p99",
    "1000",
    "--threshold-throughput",
    "50",
    `--html=${html}`,
  ], cwd);
  assertNoPermissionError(r);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /=== Performance Comparison: Task perm ===/);
  assert.ok((await Deno.stat(html)).size > 0);
}

async function headCommit(): Promise<string> {
  const r = await run(["git", "-C", ROOT, "rev-parse", "HEAD"], ROOT);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

Deno.test("deno.json's check and compare tasks grant exactly what the binaries bake in", () => {
  const grants = (task: string) => task.split(/\s+/).filter((w) => w.startsWith("--allow-"));
  assert.deepEqual(
    grants(DENO_JSON.tasks.check),
    CHECK_PERMISSIONS.filter((f) => f !== "--no-prompt"),
  );
  assert.deepEqual(
    grants(DENO_JSON.tasks.compare),
    COMPARE_PERMISSIONS.filter((f) => f !== "--no-prompt"),
  );
});

Deno.test("deno task serve and check's reference server run with the same V8 flags and grants", () => {
  const words = (DENO_JSON.tasks.serve as string).split(/\s+/);
  assert.ok(words.includes(`--v8-flags=${REFERENCE_V8_FLAGS}`), DENO_JSON.tasks.serve);
  assert.deepEqual(words.filter((w) => w.startsWith("--allow-")), REFERENCE_PERMISSIONS);
  const { args } = referenceCommand(["--port", "0"]);
  assert.deepEqual(args.slice(0, 2 + REFERENCE_PERMISSIONS.length), [
    "run",
    `--v8-flags=${REFERENCE_V8_FLAGS}`,
    ...REFERENCE_PERMISSIONS,
  ]);
});

Deno.test("compileArgs embeds the scenarios and the reference server and bakes in the flags", () => {
  const check = compileArgs(
    "m17_check",
    "aarch64-apple-darwin",
    "/out/m17_check-aarch64-apple-darwin",
  );
  assert.deepEqual(check.slice(0, 11), [
    "compile",
    "--target",
    "aarch64-apple-darwin",
    "--output",
    "/out/m17_check-aarch64-apple-darwin",
    "--include",
    "scenarios/",
    "--include",
    "lib/reference/main.ts",
    "--include",
    "lib/run/load_worker.ts",
  ]);
  assert.deepEqual(check.slice(11), [...CHECK_PERMISSIONS, "m17_check.ts"]);
  const compare = compileArgs("m17_compare", TARGETS[0], "/out/x");
  assert.deepEqual(compare.slice(5), [
    "--include",
    "scenarios/",
    ...COMPARE_PERMISSIONS,
    "m17_compare.ts",
  ]);
});

Deno.test("compileFailureLine: an unreachable runtime download is one line naming the target and cause", () => {
  const stderr = [
    "\x1b[32mCompile\x1b[0m file:///src/m17_check.ts to dist/m17_check-x86_64-unknown-linux-gnu",
    "\x1b[32mDownload\x1b[0m https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip",
    "\x1b[1m\x1b[31merror\x1b[0m: Writing deno compile executable to temporary file 'x.tmp-1'",
    "",
    "Caused by:",
    "    0: Setting up base binary.",
    "    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known",
    "    2: client error (Connect)",
  ].join("\n");
  const line = compileFailureLine("x86_64-unknown-linux-gnu", stderr);
  assert.doesNotMatch(line, /\n/);
  assert.match(
    line,
    /^compile: cannot download the Deno runtime for x86_64-unknown-linux-gnu \(no internet\?.*\): error sending request for url \(https:\/\/dl\.deno\.land\/.*dns error/,
  );
  assert.equal(
    compileFailureLine("x86_64-apple-darwin", 'error: Module not found "file:///src/lib/x.ts".\n'),
    'compile: deno compile failed for x86_64-apple-darwin: Module not found "file:///src/lib/x.ts".',
  );
});

Deno.test("m17_check and m17_compare run from source under exactly the baked-in flags: no permission errors", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "m17-perm-" }); // outside the repository
  try {
    await exerciseTools(fromSource(ROOT), cwd);
    const version = await run([...fromSource(ROOT)("m17_check"), "--version"], cwd);
    assert.match(
      version.stdout,
      new RegExp(`commit ${(await headCommit()).slice(0, 12)}, from source`),
    );
    const diag = await run([...fromSource(ROOT)("m17_check"), "diag"], cwd);
    assertNoPermissionError(diag);
    assert.equal(diag.code, 0, diag.stderr);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("the staged copy deno compile builds from records the commit and finds shipped scenarios next to itself", async () => {
  const stage = await Deno.makeTempDir({ prefix: "m17-stage-" });
  const cwd = await Deno.makeTempDir({ prefix: "m17-cwd-" });
  try {
    await stageSources(stage);
    const { commit, dirty } = await sourceCommit();
    assert.equal(commit, await headCommit());
    await writeBuildInfo(stage, {
      commit,
      dirty,
      target: HOST,
      builtAt: "2030-01-02T03:04:05.000Z",
    });
    const launch = fromSource(stage);
    let r = await run([...launch("m17_check"), "--version"], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^m17_check \\S+ \\(commit ${commit!.slice(0, 12)}${
          dirty ? "-dirty" : ""
        }, ${HOST} binary built 2030-01-02T03:04:05\\.000Z\\)\\n$`,
      ),
    );
    r = await run([...launch("m17_check"), "--dry-run", "--scenario", "m17_baseline"], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`(${join(stage, "scenarios", "m17_baseline.toml")})`), r.stdout);
    // The working tree is untouched: its build info still says "from source".
    assert.match(await versionLine("m17_check"), /from source/);
  } finally {
    await Deno.remove(stage, { recursive: true });
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("deno task compile for the host target, and the binaries it builds", async (t) => {
  const out = await Deno.makeTempDir({ prefix: "m17-dist-" });
  const cwd = await Deno.makeTempDir({ prefix: "m17-bin-cwd-" });
  try {
    // Exactly the compile task's command line, with the host target and a temporary out dir.
    const task = (DENO_JSON.tasks.compile as string).split(/\s+/);
    assert.deepEqual(task.slice(0, 2), ["deno", "run"]);
    const compile = await run(
      [Deno.execPath(), ...task.slice(1), "--target", HOST, "--out-dir", out],
      ROOT,
    );
    const failure = compile.stderr.trim();
    let skipped: string | null = null;
    if (!TARGETS.includes(HOST)) skipped = `host target ${HOST} is not one m17 builds`;
    else if (compile.code !== 0 && /^compile: cannot download the Deno runtime/.test(failure)) {
      assert.equal(compile.code, 1);
      assert.equal(failure.split("\n").length, 1, failure);
      skipped = failure;
    } else assert.equal(compile.code, 0, compile.stdout + compile.stderr);
    if (skipped) console.log(`compile not run: ${skipped}`);

    const binary: Launch = (tool) => [join(out, `${tool}-${HOST}`)];
    await t.step({
      name: "binaries: --version, --dry-run --scenario m17_baseline outside the repository, " +
        "1-second runs against the embedded reference server, compare",
      ignore: skipped !== null,
      fn: async () => {
        const r = await run([...binary("m17_check"), "--version"], cwd);
        assert.match(r.stdout, new RegExp(`\\(commit ${(await headCommit()).slice(0, 12)}`));
        assert.match(r.stdout, new RegExp(`${HOST} binary built`));
        await exerciseTools(binary, cwd);
      },
    });
    await t.step({
      name: "install-scripts from a binary: the shims run the binaries next to it",
      ignore: skipped !== null,
      fn: async () => {
        const engram = join(cwd, "engram");
        await Deno.mkdir(engram);
        let r = await run([...binary("m17_check"), "install-scripts", engram], cwd);
        assert.equal(r.code, 0, r.stderr);
        for (const script of ["m17_performance_check.sh", "compare_m17_performance.sh"]) {
          r = await run([join(engram, "scripts", script), "--version"], engram);
          assert.equal(r.code, 0, r.stderr);
        }
        r = await run([join(engram, "scripts", "m17_performance_check.sh"), "--version"], engram);
        assert.match(r.stdout, /binary built/);
      },
    });
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(cwd, { recursive: true });
  }
});
