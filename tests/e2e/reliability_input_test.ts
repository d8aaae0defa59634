/**
 * Reliability, bad input: every refusal is one line on stderr naming what is wrong and where,
 * exit 3, and nothing written — the out dir stays nonexistent (check) or unchanged (compare).
 * Complements the parser-level cases of scenario_test.ts and the refusals of check_test.ts and
 * compare_test.ts with what only the whole CLI can show.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeReport, writeReport } from "../fixtures/make_report.ts";
import {
  COMPARE,
  fakeCheckout,
  lightScenario,
  listing,
  type Ran,
  run,
} from "../fixtures/reliability.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

function assertRefused(r: Ran, pattern: RegExp, what: string): void {
  assert.equal(r.code, 3, `${what}: exit ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: one line expected, got:\n${r.stderr}`);
  assert.match(lines[0], pattern, what);
}

/** Scenario files with one defect each: [file name, TOML edit, expected message]. */
const BAD_SCENARIOS: [string, (t: string) => string, RegExp][] = [
  [
    "malformed.toml",
    (t) => t.replace("[arrival]", "[arrival"),
    /malformed\.toml:\d+(:\d+)?: invalid TOML/,
  ],
  [
    "unknown_key.toml",
    (t) => t.replace("total_seconds", "total_second"),
    /unknown key "duration\.total_second" \(did you mean "duration\.total_seconds"\?\)/,
  ],
  [
    "negative.toml",
    (t) => t.replace("store_weight = 0.4", "store_weight = -0.4"),
    /negative\.toml: operations\.store_weight = -0\.4 is out of range/,
  ],
  [
    "nan.toml",
    (t) => t.replace("recall_weight = 0.4", "recall_weight = nan"),
    /nan\.toml: operations\.recall_weight must be a finite number/,
  ],
  [
    "zero.toml",
    (t) => t.replace(/(_weight = )[0-9.]+/g, "$10.0"),
    /zero\.toml: .*weights are all zero/,
  ],
  ["rate0.toml", (t) => t.replace("rate = 1000", "rate = 0"), /arrival\.rate = 0 is out of range/],
  [
    "rate_absurd.toml",
    (t) => t.replace("rate = 1000", "rate = 1e12"),
    /arrival\.rate = 1000000000000 is out of range/,
  ],
  [
    "duration.toml",
    (t) => t.replace("total_seconds = 60", "total_seconds = -1"),
    /duration\.total_seconds = -1 is out of range/,
  ],
  [
    "dim.toml",
    (t) => t.replace("embedding_dim = 8", "embedding_dim = 100000"),
    /data\.embedding_dim = 100000 is out of range/,
  ],
  [
    "seed.toml",
    (t) => t.replace('"0xDEADBEEF"', '"0xNOPE"'),
    /seed "0xNOPE" is not an unsigned 64-bit/,
  ],
];

Deno.test("check: bad scenarios, flags, task ids and targets are refused in one line, exit 3, out dir never created", async () => {
  await inTempDir("m17_rel_input_", async (dir) => {
    const good = await lightScenario(dir);
    const text = await Deno.readTextFile(good);
    const cases: [string[], RegExp][] = [];
    for (const [name, edit, pattern] of BAD_SCENARIOS) {
      const path = join(dir, name);
      await Deno.writeTextFile(path, edit(text));
      cases.push([["t1", "before", "--scenario", path], pattern]);
    }
    const engramFile = join(dir, "not_a_checkout");
    cases.push(
      // Command-line overrides: non-positive, absurd, not a number.
      [["t1", "--rate", "0"], /--rate "0": expected a number/],
      [["t1", "--rate", "NaN"], /--rate "NaN": expected a number/],
      [["t1", "--rate", "1e12"], /--rate 1000000000000 is out of range/],
      [
        ["t1", "--duration", "-3"],
        /--duration: missing value \(a value starting with '-' is written --duration=-…\)/,
      ],
      [["t1", "--duration=-3"], /--duration "-3": expected a number/],
      [["t1", "--duration", "1e9"], /--duration 1000000000 is out of range/],
      [["t1", "--warmup", "abc"], /--warmup "abc"/],
      [["t1", "--timeout-ms", "0"], /--timeout-ms "0"/],
      [["t1", "--seed=-1"], /--seed "-1": expected an unsigned 64-bit integer/],
      [["t1", "--seed", "0x1ffffffffffffffff"], /--seed "0x1ffffffffffffffff"/],
      // Task ids and phases not covered by check_test.ts.
      [[""], /task id '' is not valid/],
      [[".."], /task id '\.\.' is not valid/],
      [["a b"], /task id 'a b' is not valid/],
      [["t1", "During"], /Phase must be 'before' or 'after'/],
      // Conflicting targets.
      [
        ["t1", "--url", "http://127.0.0.1:9", "--ref-latency-ms", "5"],
        /--ref-latency-ms only applies to the reference server/,
      ],
      [
        ["t1", "--url", "http://127.0.0.1:9", "--ref-no-spreading"],
        /--ref-no-spreading only applies/,
      ],
      [
        ["t1", "--url", "http://127.0.0.1:9", "--port", "7432"],
        /--port only applies to an Engram checkout, not to --url/,
      ],
      [
        ["t1", "--url", "http://127.0.0.1:9", "--no-build"],
        /--no-build only applies to an Engram checkout/,
      ],
      [
        ["t1", "--reference", "--engram-dir", dir],
        /--engram-dir only applies to an Engram checkout, not to --reference/,
      ],
      [["t1", "--ref-stall-ms", "100"], /--ref-stall-every-s and --ref-stall-ms go together/],
      // Bad targets: refused before the out dir is created.
      [["t1", "--url", "not a url"], /--url not a url: not a valid URL/],
      [["t1", "--url", "ftp://127.0.0.1:21"], /--url ftp:\/\/127\.0\.0\.1:21: only http/],
      [["t1", "--engram-dir", engramFile], /--engram-dir .*not_a_checkout: not an Engram checkout/],
      [
        ["t1", "--ref-record", join(dir, "no", "x.rec")],
        /--ref-record .*x\.rec: directory .*no does not exist/,
      ],
      [["t1", "--ref-record", dir], /--ref-record .*: is a directory, not a regular file/],
    );
    const out = join(dir, "out");
    for (const [args, pattern] of cases) {
      const r = await run([...args, "--out-dir", out]);
      assertRefused(r, pattern, JSON.stringify(args));
      assert.equal(listing(out), null, `${JSON.stringify(args)} created the out dir`);
    }
  });
});

Deno.test("check: an out dir that cannot be created (a regular file in the way) is exit 3, nothing written", async () => {
  await inTempDir("m17_rel_outdir_", async (dir) => {
    const file = join(dir, "a_file");
    await Deno.writeTextFile(file, "keep me\n");
    for (const out of [file, join(file, "results"), join(file, "deeper", "results")]) {
      const r = await run(["t1", "--duration", "1", "--warmup", "0", "--out-dir", out]);
      assertRefused(r, /out dir .*a_file.*: cannot create/, out);
      assert.doesNotMatch(r.stdout, /target:/, "no target was started");
    }
    assert.deepEqual(listing(dir), ["a_file"]);
    assert.equal(await Deno.readTextFile(file), "keep me\n");
  });
});

Deno.test("check: a taken Engram port is refused with exit 1 in one line, nothing measured", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_rel_port_" });
  const checkout = await fakeCheckout("ok");
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (holder.addr as Deno.NetAddr).port;
    const out = join(dir, "out");
    const r = await run([
      "t1",
      "--engram-dir",
      checkout,
      "--no-build",
      "--port",
      String(port),
      "--out-dir",
      out,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`port ${port} is already in use`));
    assert.ok(!(listing(out) ?? []).some((n) => n.endsWith(".json") || n.endsWith(".claim")));
    assert.match(
      await Deno.readTextFile(
        join(out, (listing(out) ?? []).find((n) => n.endsWith("_loadtest.log"))!),
      ),
      /run failed: port \d+ is already in use/,
      "the log says why the run failed",
    );
  } finally {
    holder.close();
    await Deno.remove(checkout, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compare: an empty or unusable results folder is exit 3 in one line; nothing is written", async () => {
  await inTempDir("m17_rel_compare_in_", async (dir) => {
    const results = join(dir, "results");
    await Deno.mkdir(results);
    const cases: [string[], RegExp][] = [
      [
        ["001", "--dir", results],
        /no 'before' run for task 001 in .*results \(looked for 001_before_\*\.json\)/,
      ],
      [["001", "--dir", join(dir, "a_file")], /a_file is not a directory/],
    ];
    await Deno.writeTextFile(join(dir, "a_file"), "x");
    for (const [args, pattern] of cases) {
      const r = await run(args, { tool: COMPARE, cwd: dir });
      assertRefused(r, pattern, JSON.stringify(args));
    }
    // An interrupted run's leftovers (a log, no report) are not a run.
    await Deno.writeTextFile(join(results, "001_before_20250101_120000_loadtest.log"), "partial\n");
    await writeReport(results, "001_after_20250101_130000.json", makeReport({ phase: "after" }));
    assertRefused(
      await run(["001", "--dir", results], { tool: COMPARE, cwd: dir }),
      /no 'before' run for task 001/,
      "log without report",
    );
    assert.deepEqual(listing(results), [
      "001_after_20250101_130000.json",
      "001_before_20250101_120000_loadtest.log",
    ]);
    assert.deepEqual(listing(dir), ["a_file", "results"]);
  });
});
