/**
 * End-to-end tests of m17_check: the real CLI as a child process, against the reference server
 * on loopback. Every run is bounded (seconds, a few thousand requests).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { RunReport } from "../../lib/report/schema.ts";
import { type Ran, runCli } from "./cli.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs m17_check from source in `cwd` (the tool root unless given). */
function check(args: string[], cwd?: string): Promise<Ran> {
  return runCli("m17_check", args, { cwd: cwd ?? ROOT });
}

async function reports(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.endsWith(".json")) names.push(join(dir, e.name));
  }
  return names.sort();
}

async function readReport(path: string): Promise<RunReport> {
  return JSON.parse(await Deno.readTextFile(path));
}

/** Pids of live reference servers started from this checkout (for leak checks). */
async function referencePids(): Promise<number[]> {
  const out = await new Deno.Command("ps", { args: ["-axo", "pid=,args="], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.includes(join(ROOT, "lib/reference/main.ts")))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

Deno.test("--dry-run twice gives the same fingerprint; another seed gives another; nothing is written", async () => {
  const dir = await Deno.makeTempDir();
  const a = await check(["demo", "before", "--dry-run", "--out-dir", dir]);
  const b = await check(["demo", "before", "--dry-run", "--out-dir", dir]);
  const c = await check(["demo", "before", "--dry-run", "--seed", "0x1234", "--out-dir", dir]);
  assert.equal(a.code, 0, a.stderr);
  const fp = (r: Ran) => r.stdout.match(/fingerprint:\s+([0-9a-f]+)/)![1];
  assert.equal(fp(a), fp(b));
  assert.notEqual(fp(a), fp(c));
  assert.equal(a.stdout, b.stdout);
  assert.match(
    a.stdout,
    /op mix:\s+Store 40\.0%, Recall 40\.0%, SemanticRecall 10\.0%, BlendedRecall 10\.0%/,
  );
  assert.equal(
    a.stdout.match(/^\s+\d+ (Store|Recall|SemanticRecall|BlendedRecall) /gm)?.length,
    10,
  );
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("usage errors: one line, exit 3, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  const cases: [string[], RegExp][] = [
    [["001", "middle"], /Phase must be 'before' or 'after'/],
    [["../x", "before"], /task id '\.\.\/x' is not valid/],
    [["a/b"], /task id 'a\/b' is not valid/],
    [["x".repeat(200)], /is not valid/],
    [["001", "--bogus"], /unknown option --bogus/],
    [["001", "--rate=-5"], /--rate "-5": expected a number/],
    [["001", "--seed", "0xZZ"], /--seed "0xZZ"/],
    [["001", "--url", "http://127.0.0.1:1", "--reference"], /--url and --reference conflict/],
    [["001", "--scenario", "no/such.toml"], /scenario no\/such\.toml: not found/],
    [["001", "after", "extra"], /unexpected argument "extra"/],
  ];
  for (const [args, pattern] of cases) {
    const r = await check([...args, "--out-dir", dir]);
    assert.equal(r.code, 3, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a short run against the reference server writes all five files and a complete report", async () => {
  const dir = await Deno.makeTempDir();
  const r = await check([
    "demo",
    "before",
    "--duration",
    "3",
    "--warmup",
    "1",
    "--rate",
    "300",
    "--out-dir",
    dir,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /BUILT-IN REFERENCE SERVER/);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  const stem = files.find((f) => f.endsWith(".json"))!.replace(/\.json$/, "");
  assert.match(stem, /^demo_before_\d{8}_\d{6}$/);
  for (
    const suffix of [".json", "_loadtest.log", "_sys.txt", "_diag.txt", ".hlog", "_server.log"]
  ) {
    assert.ok(files.includes(stem + suffix), `${suffix} in ${files}`);
  }
  assert.ok(!files.some((f) => f.endsWith(".claim") || f.includes(".tmp")), `${files}`);
  const rep = await readReport(join(dir, stem + ".json"));
  assert.equal(rep.valid, true, rep.invalid_reasons.join("; "));
  assert.ok(Math.abs(rep.total_operations - 900) <= 900 * 0.005, `total ${rep.total_operations}`);
  assert.equal(rep.target.kind, "reference");
  assert.equal(rep.schema_version, 2);
  assert.equal(rep.scenario.seed, "0xDEADBEEF");
  assert.equal(rep.intervals.length, 3);
  assert.ok(rep.p99_latency_ms >= rep.p50_latency_ms);
  assert.ok(rep.response_time.p99_ms >= rep.service_time.p50_ms);
  const log = await Deno.readTextFile(join(dir, stem + "_loadtest.log"));
  assert.ok(!log.includes("\x1b["), "no ANSI codes in the log");
  assert.match(log, /Quick Summary/);
  const hlog = await Deno.readTextFile(join(dir, stem + ".hlog"));
  assert.equal(hlog.split("\n").filter((l) => /^\d+\.\d{3},/.test(l)).length, 3);
  // StartTime is the measured window's start (the offsets count from it): at least the 1-s
  // warm-up after the run started, and the 3-s window ends before the run did.
  const startS = Number(/^#\[StartTime: (\d+\.\d{3}) /m.exec(hlog)?.[1]);
  assert.ok(startS * 1000 >= Date.parse(rep.started_at) + 1000, `${startS} ${rep.started_at}`);
  assert.ok(startS * 1000 + 3000 <= Date.parse(rep.ended_at) + 1, `${startS} ${rep.ended_at}`);
  const sys = await Deno.readTextFile(join(dir, stem + "_sys.txt"));
  assert.match(sys, /summary \(min \/ mean \/ max\)/);
  const diag = await Deno.readTextFile(join(dir, stem + "_diag.txt"));
  assert.match(diag, /load average:/);
  assert.deepEqual(await referencePids(), [], "no reference server outlives the run");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--url measures a separately started server; two runs with one seed send identical bytes", async () => {
  const dir = await Deno.makeTempDir();
  const recordA = join(dir, "a.rec"), recordB = join(dir, "b.rec");
  const runOnce = async (record: string) => {
    const server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-write",
        join(ROOT, "lib/reference/main.ts"),
        "--port",
        "0",
        "--record",
        record,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let first = "";
    while (!first.includes("\n")) first += (await reader.read()).value ?? "";
    const url = first.match(/listening on (\S+)/)![1];
    try {
      const r = await check([
        "rec",
        "before",
        "--url",
        url,
        "--duration",
        "2",
        "--warmup",
        "0",
        "--rate",
        "200",
        "--out-dir",
        dir,
      ]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /running server at/);
    } finally {
      server.kill("SIGTERM");
      await reader.cancel();
      await server.status;
    }
  };
  await runOnce(recordA);
  await runOnce(recordB);
  // Requests run concurrently, so the server sees them in slightly different orders: compare
  // the recorded requests as a multiset ("METHOD PATH" line + body line each).
  const entries = async (path: string) => {
    const lines = (await Deno.readTextFile(path)).split("\n");
    const out: string[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) out.push(lines[i] + "\n" + lines[i + 1]);
    return out.sort();
  };
  const a = await entries(recordA), b = await entries(recordB);
  assert.equal(a.length, 400, "every measured request was recorded once");
  const digest = (xs: string[]) => createHash("sha256").update(xs.join("\n")).digest("hex");
  assert.equal(digest(a), digest(b), "the two runs sent identical request bytes");
  const reps = await Promise.all((await reports(dir)).map(readReport));
  assert.equal(reps.length, 2);
  assert.ok(reps.every((r) => r.target.kind === "url"));
  assert.equal(reps[0].workload_fingerprint, reps[1].workload_fingerprint);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "stalls are measured in full: 1 s stall every 10 s at 1000 ops/s gives P99 ≈ 900 ms",
  ignore: Deno.env.get("M17_SKIP_SLOW") === "1",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    // 8-dimension embeddings keep the server's own work negligible, so after each stall the
    // backlog clears at once and the analytic truth (every request arriving during a stall
    // waits for its end: P99 = 900 ms) applies. With 768 dimensions the reference server needs
    // tens of milliseconds to work off the backlog, which the measurement rightly includes.
    const scenario = join(dir, "light.toml");
    await Deno.writeTextFile(
      scenario,
      (await Deno.readTextFile(join(ROOT, "scenarios/m17_baseline.toml")))
        .replace("embedding_dim = 768", "embedding_dim = 8"),
    );
    const r = await check([
      "stall",
      "before",
      "--scenario",
      scenario,
      "--duration",
      "30",
      "--warmup",
      "0",
      "--ref-stall-every-s",
      "10",
      "--ref-stall-ms",
      "1000",
      "--out-dir",
      dir,
    ]);
    const rep = await readReport((await reports(dir))[0]);
    const p99 = rep.p99_latency_ms, serviceP99 = rep.service_time.p99_ms;
    console.log(
      `stall run: response P99 ${p99} ms, P99.9 ${rep.p999_latency_ms} ms; service P99 ${serviceP99} ms; exit ${r.code}`,
    );
    assert.ok(p99 >= 850 && p99 <= 950, `response time P99 ${p99} ms`);
    assert.ok(serviceP99 < p99 / 2, `service time P99 ${serviceP99} ms should be far lower`);
    assert.match(r.stdout, /response time: P50 .* P99 /);
    assert.match(r.stdout, /service time: /);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("two runs of the same task and phase in the same second get distinct complete reports", async () => {
  const dir = await Deno.makeTempDir();
  const args = [
    "same",
    "before",
    "--duration",
    "1",
    "--warmup",
    "1", // two tools and two servers start at once on a 2-core host: let them settle first
    "--rate",
    "200", // the smallest measurable run (200 requests, lib/workload/prepare.ts)
    "--out-dir",
    dir,
  ];
  const [a, b] = await Promise.all([check(args), check(args)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const names = await reports(dir);
  assert.equal(names.length, 2);
  for (const n of names) assert.equal((await readReport(n)).total_operations, 200);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "--client-cpus / --server-cpus pin the generator and the reference server, printed and recorded",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const r = await check([
        "pin",
        "--reference",
        "--client-cpus",
        "0",
        "--server-cpus",
        "0",
        "--duration",
        "1",
        "--warmup",
        "0",
        "--rate",
        "200",
        "--out-dir",
        dir,
      ]);
      // Valid or not (the shared host may make it lag), the report records the pinning.
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      assert.match(
        r.stdout,
        /CPU pinning \(as asked\): load generator on CPUs 0, server on CPUs 0/,
      );
      const [name] = await reports(dir);
      const g = (await readReport(name)).generator!;
      assert.equal(g.client_cpus, "0");
      assert.equal(g.server_cpus, "0");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("without taskset, --client-cpus says pinning is unavailable and the run continues unpinned", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env: Record<string, string> = { NO_COLOR: "1", PATH: "/nonexistent" };
    for (const k of ["HOME", "DENO_DIR"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    const r = await runCli("m17_check", [
      "nopin",
      "--reference",
      "--client-cpus",
      "0",
      "--duration",
      "1",
      "--warmup",
      "0",
      "--rate",
      "200",
      "--out-dir",
      dir,
    ], { env, clearEnv: true, timeoutMs: 120_000 });
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    assert.match(r.stdout, /^CPU pinning is unavailable: .*: running unpinned$/m);
    const [name] = await reports(dir);
    const g = (await readReport(name)).generator!;
    assert.equal(g.client_cpus, undefined);
    assert.equal(g.server_cpus, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
