/**
 * Reliability, second battery (issue 19), classes 1, 4, 5 and 6: inputs that are not regular
 * files, numbers that cannot be meant, text from outside shown without control characters, and
 * `--url`s carrying more than an origin. Every refusal is one line naming what is wrong, exit 3,
 * quickly, and nothing written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeReport, shapedSamples, toLegacy, writeReport } from "../fixtures/make_report.ts";
import { COMPARE, lightScenario, listing, type Ran, run } from "../fixtures/reliability.ts";
import { runCli } from "./cli.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

/** A refusal: exit 3, one line matching `pattern`, and (when `ms` is given) in time. */
function assertRefused(r: Ran, pattern: RegExp, what: string): void {
  assert.equal(r.code, 3, `${what}: exit ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: one line expected, got:\n${r.stderr}`);
  assert.match(lines[0], pattern, what);
  // Deno's start-up is most of this; a FIFO that was opened would hang until the kill below.
  assert.ok(r.ms < 15_000, `${what}: took ${Math.round(r.ms)} ms`);
}

/** Runs a CLI, SIGKILLed after 20 s: a blocked read fails the case instead of the suite. */
function bounded(tool: "m17_check" | "m17_compare", args: string[], cwd: string): Promise<Ran> {
  return runCli(tool, args, { cwd, timeoutMs: 20_000 });
}

async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(r.code, 0, "mkfifo");
}

/** Paths that are not regular files, each with the words the refusal must use. */
async function hostilePaths(dir: string, stem: string): Promise<[string, RegExp][]> {
  const fifo = join(dir, `${stem}.fifo`);
  await mkfifo(fifo);
  const directory = join(dir, `${stem}.dir`);
  await Deno.mkdir(directory);
  const dangling = join(dir, `${stem}.dangling`);
  await Deno.symlink(join(dir, "nowhere"), dangling);
  const loopA = join(dir, `${stem}.loop_a`);
  const loopB = join(dir, `${stem}.loop_b`);
  await Deno.symlink(loopB, loopA);
  await Deno.symlink(loopA, loopB);
  return [
    [fifo, /is a FIFO \(named pipe\), not a regular file/],
    [directory, /is a directory, not a regular file/],
    ["/dev/zero", /\/dev\/zero: is a character device, not a regular file/],
    ["/dev/null", /\/dev\/null: is a character device, not a regular file/],
    [dangling, /is a dangling symlink, not a regular file/],
    [loopA, /is a symlink loop, not a regular file/],
  ];
}

Deno.test("class 1, check: a scenario or --ref-record that is a FIFO, directory, device or broken symlink is one line, exit 3, out dir never created", async () => {
  await inTempDir("m17_rel2_check_in_", async (dir) => {
    const out = join(dir, "out");
    const huge = join(dir, "huge.toml");
    await Deno.writeTextFile(huge, "# " + "x".repeat(2 * 1024 * 1024) + "\n");
    const cases: [string[], RegExp][] = [
      [["t1", "--scenario", huge], /scenario .*huge\.toml: is 2 MiB, more than the 1 MiB/],
    ];
    for (const [path, words] of await hostilePaths(dir, "scenario")) {
      // `.toml` so that /dev/zero-like names are taken as paths, not shipped scenario names.
      cases.push([
        ["t1", "--scenario", path],
        new RegExp(`^m17_check: scenario .*${words.source}`),
      ]);
    }
    for (const [path, words] of await hostilePaths(dir, "record")) {
      if (path.endsWith(".dir")) continue; // a directory is the first battery's case
      cases.push([
        ["t1", "--reference", "--ref-record", path],
        new RegExp(`^m17_check: --ref-record .*${words.source}`),
      ]);
    }
    for (const [args, pattern] of cases) {
      const r = await bounded("m17_check", [...args, "--out-dir", out], dir);
      assertRefused(r, pattern, JSON.stringify(args));
      assert.equal(listing(out), null, `${JSON.stringify(args)} created the out dir`);
    }
    // An out dir that is a FIFO or a device cannot be created: refused, nothing written into it.
    for (const outDir of [join(dir, "scenario.fifo"), "/dev/null"]) {
      const r = await bounded("m17_check", ["t1", "--out-dir", outDir], dir);
      assertRefused(r, /out dir .*: cannot create/, outDir);
    }
  });
});

Deno.test("class 1, check: a checkout whose Cargo.toml is a FIFO, directory or broken symlink is refused, not waited on", async () => {
  await inTempDir("m17_rel2_cargo_", async (dir) => {
    const kinds: [string, (p: string) => Promise<void>, RegExp][] = [
      ["fifo", mkfifo, /is a FIFO \(named pipe\)/],
      ["dir", (p) => Deno.mkdir(p), /is a directory/],
      ["dangling", (p) => Deno.symlink(join(dir, "nowhere"), p), /is a dangling symlink/],
    ];
    for (const [name, make, words] of kinds) {
      const checkout = join(dir, name);
      await Deno.mkdir(checkout);
      await make(join(checkout, "Cargo.toml"));
      const out = join(dir, `out_${name}`);
      // Found from the working directory, and named with --engram-dir.
      for (const [args, cwd] of [[[], checkout], [["--engram-dir", checkout], dir]] as const) {
        const r = await bounded("m17_check", ["t1", ...args, "--out-dir", out], cwd);
        assertRefused(r, new RegExp(`Cargo\\.toml .*${name}/Cargo\\.toml: ${words.source}`), name);
        assert.equal(listing(out), null, `${name}: out dir created`);
      }
    }
  });
});

Deno.test("class 1, compare: --before/--after/--baselines/--log and reports in --dir that are not regular files are one line, exit 3, nothing written", async () => {
  await inTempDir("m17_rel2_compare_in_", async (dir) => {
    const results = join(dir, "results");
    await Deno.mkdir(results);
    const good = await writeReport(dir, "good.json", makeReport({ phase: "before" }));
    const goodAfter = await writeReport(dir, "good_after.json", makeReport({ phase: "after" }));
    const huge = join(dir, "huge.json");
    const f = await Deno.create(huge);
    await f.truncate(65 * 1024 * 1024); // sparse: 65 MiB of zeros, over the 64 MiB cap
    f.close();
    const cases: [string[], RegExp][] = [
      [
        ["001", "--before", huge, "--after", goodAfter],
        /report .*huge\.json: is 65 MiB, more than/,
      ],
    ];
    for (const [path, words] of await hostilePaths(dir, "in")) {
      cases.push(
        [["001", "--before", path, "--after", goodAfter], new RegExp(`report .*${words.source}`)],
        [["001", "--before", good, "--after", path], new RegExp(`report .*${words.source}`)],
        [
          ["001", "--competitive", "--before", good, "--after", goodAfter, "--baselines", path],
          new RegExp(`baselines file .*${words.source}`),
        ],
      );
      if (!path.startsWith("/dev/")) {
        cases.push([
          ["001", "--before", good, "--after", goodAfter, "--log", path],
          new RegExp(`--log .*${words.source}`),
        ]);
      }
    }
    cases.push([["001", "--dir", join(dir, "in.fifo")], /in\.fifo is not a directory/]);
    const before = listing(dir);
    for (const [args, pattern] of cases) {
      assertRefused(await bounded("m17_compare", args, dir), pattern, JSON.stringify(args));
    }
    assert.deepEqual(listing(dir), before, "nothing written next to the inputs");

    // A report name in --dir on something that is not a regular file: refused, never opened.
    const name = "001_before_20250101_120000.json";
    await writeReport(results, "001_after_20250101_130000.json", makeReport({ phase: "after" }));
    const makers: [string, (p: string) => Promise<void>, RegExp][] = [
      ["fifo", mkfifo, /is a FIFO/],
      ["dir", (p) => Deno.mkdir(p), /is a directory/],
      ["dangling", (p) => Deno.symlink(join(dir, "nowhere"), p), /is a dangling symlink/],
      ["loop", (p) => Deno.symlink(p, p), /is a symlink loop/],
    ];
    for (const [kind, make, words] of makers) {
      await make(join(results, name));
      const r = await bounded("m17_compare", ["001", "--dir", results], dir);
      assertRefused(r, new RegExp(`report .*${name}: ${words.source}`), `--dir with a ${kind}`);
      await Deno.remove(join(results, name));
    }
    assert.deepEqual(listing(results), ["001_after_20250101_130000.json"]);
  });
});

Deno.test("class 4, check: a window under 1 s or under 200 planned requests is refused naming the smallest sensible value", async () => {
  await inTempDir("m17_rel2_numbers_", async (dir) => {
    const text = await Deno.readTextFile(await lightScenario(dir)); // 1000 ops/s for 60 s
    const scenario = async (name: string, edit: (t: string) => string) => {
      const path = join(dir, name);
      await Deno.writeTextFile(path, edit(text));
      return path;
    };
    const slow = await scenario("slow.toml", (t) => t.replace("rate = 1000", "rate = 2"));
    const short = await scenario(
      "short.toml",
      (t) => t.replace("total_seconds = 60", "total_seconds = 0.5"),
    );
    const burst = await scenario("burst.toml", (t) =>
      t.replace(
        'pattern = "constant"\nrate = 1000',
        'pattern = "periodic_burst"\nbase_rate = 1\nburst_rate = 3\nburst_duration_sec = 1\nburst_period_sec = 10',
      ));
    const out = join(dir, "out");
    const cases: [string[], RegExp][] = [
      [
        ["--rate", "1"],
        /--rate 1 ops\/s for 60 s plans 60 measured requests, fewer than the 200 .*rate ≥ 3\.34 ops\/s or a duration ≥ 200 s/,
      ],
      [["--duration", "0.5"], /--duration 0\.5 s makes no measurement: .*at least 1 s/],
      [
        ["--rate", "100", "--duration", "1"],
        /plans 100 measured requests.*rate ≥ 200 ops\/s or a duration ≥ 2 s/,
      ],
      [["--rate", "10", "--duration", "5"], /plans 50 measured requests/],
      [["--scenario", slow], /scenario .*slow\.toml: arrival rate 2 ops\/s for 60 s plans 120/],
      [
        ["--scenario", short],
        /scenario .*short\.toml: duration\.total_seconds 0\.5 s makes no measurement/,
      ],
      [["--scenario", burst], /burst\.toml: arrival rate 1\.2 ops\/s for 60 s plans 72/],
      [["--scenario", slow, "--duration", "30"], /arrival rate 2 ops\/s for 30 s plans 60/],
      [["--dry-run", "--rate", "3"], /--rate 3 ops\/s for 60 s plans 180/],
    ];
    for (const [args, pattern] of cases) {
      const r = await run(["t1", ...args, "--out-dir", out], { cwd: dir });
      assertRefused(r, pattern, JSON.stringify(args));
      assert.equal(listing(out), null, `${JSON.stringify(args)} created the out dir`);
    }
    // The floor itself is a measurement, and a file's slow rate is rescued by a flag.
    for (
      const args of [["--rate", "200", "--duration", "1"], ["--scenario", slow, "--rate", "4"]]
    ) {
      const r = await run(["t1", "--dry-run", ...args, "--out-dir", out], { cwd: dir });
      assert.equal(r.code, 0, `${JSON.stringify(args)}: ${r.stderr}`);
    }
    assert.equal(listing(out), null, "a dry run writes nothing");
  });
});

/** Report edits no measurement can produce, with the field the refusal must name. */
const IMPOSSIBLE: [string, (r: Record<string, unknown>) => void, RegExp][] = [
  ["negative P99", (r) => r.p99_latency_ms = -3, /field 'p99_latency_ms' is -3, below 0/],
  ["negative throughput", (r) => r.overall_throughput = -1, /'overall_throughput' is -1, below 0/],
  ["negative errors", (r) => r.total_errors = -5, /field 'total_errors' is -5, below 0/],
  [
    "errors > ops",
    (r) => r.total_errors = 1e9,
    /'total_errors' \(1000000000\) is more than 'total_operations'/,
  ],
  ["error rate > 1", (r) => r.overall_error_rate = 2, /'overall_error_rate' is 2, above 1/],
  [
    "P95 < P50",
    (r) => r.p95_latency_ms = (r.p50_latency_ms as number) / 2,
    /'p95_latency_ms' .* is below 'p(50|90)_latency_ms'.*out of order/,
  ],
  [
    "P99.9 > max",
    (r) => r.max_latency_ms = (r.p99_latency_ms as number) / 2,
    /'max_latency_ms' .* is below 'p9999?_latency_ms'/,
  ],
  [
    "per-op negative count",
    (r) => ((r.per_operation_stats as Record<string, Record<string, number>>).Store.count = -1),
    /'per_operation_stats\.Store\.count' is -1, below 0/,
  ],
  [
    "per-op P99 > P99.9",
    (r) => {
      const s = (r.per_operation_stats as Record<string, Record<string, number>>).Store;
      s.p99_latency_us = s.p999_latency_us * 2;
    },
    /'per_operation_stats\.Store\.p999_latency_us' .* is below 'per_operation_stats\.Store\.p99_latency_us'/,
  ],
  [
    "negative service time",
    (r) => ((r.service_time as Record<string, number>).mean_ms = -0.5),
    /'service_time\.mean_ms' is -0\.5, below 0/,
  ],
];

Deno.test("class 4, compare: reports with negative or impossible values are refused naming the field, exit 3", async () => {
  await inTempDir("m17_rel2_impossible_", async (dir) => {
    const samplesMs = { Store: shapedSamples({ p50: 2, p95: 4, p99: 8, p999: 16, max: 20 }) };
    const good = {
      before: makeReport({ phase: "before", samplesMs }),
      after: makeReport({ phase: "after", samplesMs }),
    };
    const files = async (legacy: boolean) => ({
      before: await writeReport(
        dir,
        `before_${legacy}.json`,
        legacy ? toLegacy(good.before) : good.before,
      ),
      after: await writeReport(
        dir,
        `after_${legacy}.json`,
        legacy ? toLegacy(good.after) : good.after,
      ),
    });
    for (const legacy of [false, true]) {
      const ok = await files(legacy);
      const control = await run(["001", "--before", ok.before, "--after", ok.after], {
        tool: COMPARE,
        cwd: dir,
      });
      assert.equal(control.code, 0, `the unedited reports compare: ${control.stderr}`);
      for (const [what, edit, pattern] of IMPOSSIBLE) {
        if (legacy && /service|P99\.9|max/.test(what)) continue; // not in the old schema
        for (const side of ["before", "after"] as const) {
          const report = structuredClone(legacy ? toLegacy(good[side]) : good[side]);
          edit(report as unknown as Record<string, unknown>);
          const name = `${what.replace(/\W+/g, "_")}_${side}_${legacy}.json`;
          const paths = { ...ok, [side]: await writeReport(dir, name, report) };
          const r = await run(["001", "--before", paths.before, "--after", paths.after], {
            tool: COMPARE,
            cwd: dir,
          });
          assertRefused(
            r,
            new RegExp(`report .*${pattern.source}`),
            `${what} ${side} (legacy: ${legacy})`,
          );
        }
      }
    }
    const goodPath = (await files(false)).after;
    // A throughput threshold of 100% or more can never flag a regression.
    for (const pct of ["100", "150%", "1e3"]) {
      const r = await run(["001", "--threshold-throughput", pct], { tool: COMPARE, cwd: dir });
      assertRefused(
        r,
        pct === "1e3"
          ? /--threshold-throughput "1e3"/
          : /a throughput cannot fall by 100% or more.*below 100/,
        pct,
      );
    }
    // An infinite value (1e999 in the JSON text) is no measurement either.
    const text = JSON.stringify(good.before).replace(
      /"p99_latency_ms":[0-9.e+-]+/,
      '"p99_latency_ms":1e999',
    );
    const inf = join(dir, "inf.json");
    await Deno.writeTextFile(inf, text);
    assertRefused(
      await run(["001", "--before", inf, "--after", goodPath], { tool: COMPARE, cwd: dir }),
      /'p99_latency_ms' is too large to be a measurement \(beyond 1\.8e308, read as infinity\)/,
      "1e999",
    );
  });
});

const ESC = "\x1b";
/** Text a hostile server or report carries: colour, screen clear, a title, a forged line. */
const HOSTILE = `x${ESC}[31mRED${ESC}[0m${ESC}[2J${ESC}]0;pwned\x07\r\nFORGED: verdict OK\u2028y`;

function assertClean(text: string, where: string): void {
  assert.ok(
    !text.includes(ESC),
    `${where}: an escape character got through:\n${JSON.stringify(text)}`,
  );
  assert.ok(
    !text.includes("\x07") && !text.includes("\r"),
    `${where}: a control character got through`,
  );
  assert.ok(!text.includes("\u2028"), `${where}: a line separator got through`);
  assert.doesNotMatch(text, /^FORGED/m, `${where}: a line was forged`);
}

Deno.test("class 5, compare: strings inside reports reach the terminal and --log without control characters", async () => {
  await inTempDir("m17_rel2_strings_", async (dir) => {
    const base = makeReport({ phase: "before", scenarioName: HOSTILE });
    const hostile = structuredClone(base) as unknown as Record<string, unknown>;
    hostile.config_name = HOSTILE;
    (hostile.target as Record<string, unknown>).version = HOSTILE;
    (hostile.scenario as Record<string, unknown>).path = HOSTILE;
    hostile.errors_by_kind = { [HOSTILE]: 1 };
    hostile.notes = [HOSTILE];
    const before = await writeReport(dir, "before.json", hostile);
    const after = await writeReport(dir, "after.json", { ...hostile, phase: "after" });
    const log = join(dir, "PERFORMANCE_LOG.md");
    for (const extra of [[], ["--markdown"], ["--json"], ["--log", log]]) {
      const r = await run(["001", "--before", before, "--after", after, ...extra], {
        tool: COMPARE,
        cwd: dir,
      });
      assert.notEqual(r.code, 70, r.stderr);
      assertClean(r.stdout + r.stderr, `compare ${extra.join(" ")}`);
    }
    assertClean(await Deno.readTextFile(log), "PERFORMANCE_LOG.md");

    // An invalid report's reasons are quoted in the refusal: still one clean line.
    const invalid = { ...hostile, valid: false, invalid_reasons: [HOSTILE, `a${ESC}[1Ab`] };
    const bad = await writeReport(dir, "invalid.json", invalid);
    const r = await run(["001", "--before", bad, "--after", after], { tool: COMPARE, cwd: dir });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assertClean(r.stdout + r.stderr, "invalid reasons");
    assert.match(r.stderr, /xRED.*FORGED: verdict OK y/, "the text is kept, only the controls go");
  });
});

Deno.test("class 5, check: a server's /health version with escapes and line breaks reaches neither the terminal nor the log raw", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_rel2_health_" });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/health") return Response.json({ status: "ok", version: HOSTILE });
    return Response.json({ memories: [], results: [], id: "m1" });
  });
  try {
    const out = join(dir, "out");
    const r = await run([
      "t1",
      "--url",
      `http://127.0.0.1:${server.addr.port}`,
      "--scenario",
      await lightScenario(dir),
      "--duration",
      "1",
      "--warmup",
      "0",
      "--rate",
      "200",
      "--out-dir",
      out,
    ], { cwd: dir });
    assert.notEqual(r.code, 3, r.stderr);
    assertClean(r.stdout + r.stderr, "check output");
    assert.match(r.stdout, /xRED/, "the version is shown, cleaned");
    for (const name of listing(out) ?? []) {
      if (name.endsWith(".log") || name.endsWith(".json")) {
        const text = await Deno.readTextFile(join(out, name));
        assertClean(name.endsWith(".json") ? JSON.parse(text).target?.version ?? "" : text, name);
      }
    }
    assert.ok((listing(out) ?? []).some((n) => n.endsWith("_loadtest.log")), "a log was written");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("class 6: --url with user info, a path, a query, a fragment, port 0 or an unspecified address is one line, exit 3, nothing written", async () => {
  await inTempDir("m17_rel2_url_", async (dir) => {
    const cases: [string, RegExp][] = [
      ["http://user:secret@127.0.0.1:7432", /user info \(user:password@\) is not supported/],
      ["http://user@127.0.0.1:7432", /user info/],
      ["http://127.0.0.1:7432/engram", /a path \(\/engram\) is not supported.*path prefix/],
      ["http://127.0.0.1:7432/api/v1/", /a path \(\/api\/v1\/\) is not supported/],
      ["http://127.0.0.1:7432/health", /a path \(\/health\) is not supported/],
      ["http://127.0.0.1:7432/?space=a", /a query string is not supported/],
      ["http://127.0.0.1:7432?", /a query string is not supported/],
      ["http://127.0.0.1:7432/#x", /a fragment is not supported/],
      ["http://127.0.0.1:0", /port 0 cannot be connected to/],
      ["http://127.0.0.1:00", /port 0 cannot be connected to/],
      ["http://0.0.0.0:7432", /0\.0\.0\.0 is the unspecified address/],
      ["http://0:7432", /0\.0\.0\.0 is the unspecified address/],
      ["http://[::]:7432", /\[::\] is the unspecified address/],
      ["http://[0:0:0:0:0:0:0:0]:7432", /\[::\] is the unspecified address/],
    ];
    const out = join(dir, "out");
    for (const [url, pattern] of cases) {
      const r = await run(["t1", "--url", url, "--out-dir", out], { cwd: dir });
      assertRefused(r, new RegExp(`^m17_check: --url .*: ${pattern.source}`), url);
      assert.match(r.stderr, /give the server's origin, e\.g\. http:\/\/127\.0\.0\.1:7432/, url);
      assert.equal(listing(out), null, `${url}: out dir created`);
    }
  });
});
