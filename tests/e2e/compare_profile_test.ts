/**
 * compare's profile step through the CLI, without perf (profiled report fixtures with folded
 * files): the differential flame graph is one of compare's checked outputs (refused with the
 * others before anything is written; an earlier compare's graph replaced); frame names from the
 * profiled binary reach the terminal without escape sequences and the SVG/HTML escaped; the
 * HTML page links the graph relative to wherever `--html FILE` put it; the first next step after
 * a regression points at the graph, or gives the `--profile` commands that will make one.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { compareCli, OUT } from "../fixtures/pair.ts";
import { HOSTILE_SHOWN, writeProfiledPair } from "../fixtures/profiled_pair.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

const SVG = join(OUT, "001_profile_diff.svg");
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
// deno-lint-ignore no-control-regex
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

Deno.test("compare with both runs profiled: hostile frame names shown clean, the graph written after the verdict", async () => {
  await inTempDir("m17_compare_profile_", async (dir) => {
    await writeProfiledPair(dir);
    const r = await compareCli(dir, ["001"]);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stdout, CONTROL, "no escape sequence or control character printed");
    assert.match(r.stdout, /Server CPU by function \(perf, 99 Hz\): 500 samples before, 600 after/);
    assert.match(
      r.stdout,
      new RegExp(
        `\\n${HOSTILE_SHOWN} +0\\.0% → 41\\.7% \\+41\\.7 pp +0\\.0% → 41\\.7% \\+41\\.7 pp\\n`,
      ),
    );
    // Step 1 points at the graph; the graph is written once the verdict is shown.
    assert.match(
      r.stdout,
      /^ {2}1\. See where the server's CPU went: the profile table below and the differential\n {5}flame graph tmp\/m17_performance\/001_profile_diff\.svg \(red: self share grew\)$/m,
    );
    assert.doesNotMatch(r.stdout, /cargo flamegraph|--profile/);
    assert.match(
      r.stdout,
      /\nDifferential flame graph: tmp\/m17_performance\/001_profile_diff\.svg\n$/,
    );
    const svg = await Deno.readTextFile(join(dir, SVG));
    assert.doesNotMatch(svg, NOT_XML, "the SVG is well-formed XML: no C0 control characters");
    assert.ok(svg.includes(`<title>${HOSTILE_SHOWN}\n`), "the cleaned name is the frame's title");

    const md = await compareCli(dir, ["001", "--markdown"]);
    assert.doesNotMatch(md.stdout, CONTROL);
    assert.ok(md.stdout.includes(`\`${HOSTILE_SHOWN}\``), md.stdout);
    const json = JSON.parse((await compareCli(dir, ["001", "--json"])).stdout);
    assert.equal(json.profile.functions[0].name, HOSTILE_SHOWN);
  });
});

Deno.test("compare: a frame name with markup is escaped in the SVG and the HTML page", async () => {
  await inTempDir("m17_compare_profile_", async (dir) => {
    const after = "srv;main;<T as x::Y>::f&g\"' 400\nsrv;main 100\n";
    await writeProfiledPair(dir, undefined, { before: "srv;main 500\n", after });
    const r = await compareCli(dir, ["001", "--html"]);
    assert.equal(r.code, 1, r.stderr);
    const html = await Deno.readTextFile(join(dir, OUT, "001_compare.html"));
    const svg = await Deno.readTextFile(join(dir, SVG));
    const escaped = "&lt;T as x::Y&gt;::f&amp;g&quot;&#39;";
    for (const [name, text] of [["html", html], ["svg", svg]]) {
      assert.ok(text.includes(escaped), `${name} escapes the name`);
      assert.ok(!text.includes("<T as"), `${name} has no raw markup from the name`);
    }
  });
});

Deno.test("compare: the diff graph's target is checked with the other outputs (exit 3, nothing written)", async () => {
  await inTempDir("m17_compare_profile_", async (dir) => {
    const results = await writeProfiledPair(dir);
    const log = join(dir, "LOG.md");
    await Deno.writeTextFile(log, "# Log\n");
    const html = join(dir, "c.html");
    // A directory where the graph goes.
    await Deno.mkdir(join(dir, SVG));
    let r = await compareCli(dir, ["001", "--log", log, "--html", html]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "", "no verdict shown");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /Differential flame graph .*001_profile_diff\.svg: is a directory, not a file/,
    );
    assert.equal(await Deno.readTextFile(log), "# Log\n", "the log is untouched");
    assert.equal(await Deno.lstat(html).catch(() => null), null, "no HTML written");
    await Deno.remove(join(dir, SVG));
    // Another output aimed at the graph's file.
    r = await compareCli(dir, ["001", "--export", "bmf", join(results, "001_profile_diff.svg")]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /001_profile_diff\.svg: also the target of BMF export/);
    assert.equal(await Deno.lstat(join(dir, SVG)).catch(() => null), null, "nothing written");
    // An earlier compare's graph is replaced, as `<task>_compare.html` is.
    await Deno.writeTextFile(join(dir, SVG), "an earlier graph\n");
    r = await compareCli(dir, ["001"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(await Deno.readTextFile(join(dir, SVG)), /^<svg /);
    assert.deepEqual(
      [...Deno.readDirSync(results)].map((e) => e.name).filter((n) =>
        n.endsWith(".tmp") || n.includes(".m17_probe")
      ),
      [],
    );
  });
});

Deno.test("compare --html FILE in another directory: the link to the diff graph resolves to it", async () => {
  await inTempDir("m17_compare_profile_", async (dir) => {
    await writeProfiledPair(dir);
    for (const page of [join(dir, "pages", "deep er", "c.html"), join(dir, OUT, "c.html")]) {
      await Deno.mkdir(dirname(page), { recursive: true });
      const r = await compareCli(dir, ["001", "--html", page]);
      assert.equal(r.code, 1, r.stderr);
      const text = await Deno.readTextFile(page);
      const href = /<a id="profile-diff-link" href="([^"]+)">/.exec(text)?.[1];
      assert.ok(href, "the page links the graph");
      const target = resolve(dirname(page), decodeURIComponent(href));
      assert.equal(target, resolve(dir, SVG), `${href} from ${page}`);
      assert.ok((await Deno.stat(target)).isFile);
    }
  });
});

Deno.test("compare: one run not profiled — step 1 gives the runnable --profile command for it", async () => {
  await inTempDir("m17_compare_profile_", async (dir) => {
    await writeProfiledPair(dir, { before: true, after: false });
    let r = await compareCli(dir, ["001"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /^ {2}1\. Profile this build \(the before run is profiled\): deno task check 001 after --profile && deno task compare 001$/m,
    );
    assert.match(
      r.stdout,
      /profiles not compared: .*001_after_20250101_130000\.json was not profiled/,
    );
    assert.equal(await Deno.lstat(join(dir, SVG)).catch(() => null), null, "no graph without both");
    await Deno.remove(join(dir, OUT), { recursive: true });

    await writeProfiledPair(dir, { before: false, after: true });
    // Started by Engram's shim scripts: the suggestion is the shim's command.
    r = await compareCli(dir, ["001"], { NO_COLOR: "1", M17_INVOCATION: "shim" });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /^ {2}1\. Profile the before build too \(the after run is profiled\):$/m,
    );
    assert.match(
      r.stdout,
      /^ {5}on the before build: scripts\/m17_performance_check\.sh 001 before --profile, then scripts\/compare_m17_performance\.sh 001$/m,
    );
  });
});

Deno.test("compare: profiles with too few samples — step 1 asks to profile both again", async () => {
  await inTempDir("m17_compare_profile_", async (dir) => {
    await writeProfiledPair(dir, undefined, { before: "srv;main 20\n", after: "srv;main 30\n" });
    const r = await compareCli(dir, ["001"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /profiles not compared: 20 samples before/);
    assert.match(
      r.stdout,
      /^ {5}on this build: deno task check 001 after --profile && deno task compare 001$/m,
    );
    assert.equal(await Deno.lstat(join(dir, SVG)).catch(() => null), null);
  });
});
