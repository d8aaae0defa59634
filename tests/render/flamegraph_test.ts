/**
 * Flame graphs, the differential graph and the profile table: what each frame says, how wide it
 * is, what colour the change gives it, that nothing external is referenced, and that the
 * function that grew is ranked first with its change in percentage points.
 */
import assert from "node:assert/strict";
import { type FoldedProfile, foldPerfScript, parseFolded } from "../../lib/report/profile.ts";
import { renderFlameGraph } from "../../lib/render/flamegraph.ts";
import { diffColour, renderFlameGraphDiff } from "../../lib/render/flamegraph_diff.ts";
import {
  profileComparisonJson,
  profileHtmlSection,
  relativeHref,
  renderProfileMarkdown,
  renderProfileTable,
  shortName,
} from "../../lib/render/profile_table.ts";
import { compareProfiles, MIN_PROFILE_SAMPLES } from "../../lib/verdict/profile_diff.ts";

function folded(text: string): FoldedProfile {
  const p = parseFolded(text);
  if (typeof p === "string") throw new Error(p);
  return p;
}

/** Each frame group: its tooltip title and its rect's x and width. */
function frames(svg: string): Array<{ title: string; x: number; w: number; fill: string }> {
  const re =
    /<g class="f"[^>]*><title>([^<]*)<\/title><rect x="([\d.]+)" y="\d+" width="([\d.]+)" height="\d+" rx="2" fill="([^"]+)"\/>/g;
  return [...svg.matchAll(re)].map((m) => ({
    title: m[1],
    x: Number(m[2]),
    w: Number(m[3]),
    fill: m[4],
  }));
}

const BEFORE = folded("srv;main;handle;store 300\nsrv;main;handle;recall 100\nsrv;main 100\n");
const AFTER = folded(
  "srv;main;handle;store 150\nsrv;main;handle;recall 100\nsrv;main;handle;burn 250\nsrv;main 100\n",
);

Deno.test("renderFlameGraph(): one frame per stack prefix, width by share, tooltip with share", () => {
  const svg = renderFlameGraph(BEFORE, { title: "CPU <before>", widthPx: 1020 });
  const f = frames(svg);
  assert.deepEqual(f.map((x) => x.title.split("\n")[0]), [
    "all",
    "srv",
    "main",
    "handle",
    "recall",
    "store",
  ]);
  const store = f.find((x) => x.title.startsWith("store\n"))!;
  assert.equal(store.title, "store\n300 samples, 60.0% (self 60.0%)");
  assert.ok(Math.abs(store.w - (0.6 * 1000 - 0.5)) < 0.02, `width ${store.w}`);
  const recall = f.find((x) => x.title.startsWith("recall\n"))!;
  assert.ok(recall.x < store.x, "children sorted by name, left to right");
  assert.match(svg, /CPU &lt;before&gt;/, "the title is escaped");
});

Deno.test("renderFlameGraph(): self-contained; interactive adds only an inline script", () => {
  const interactive = renderFlameGraph(BEFORE, { title: "t" });
  const still = renderFlameGraph(BEFORE, { title: "t", interactive: false });
  for (const svg of [interactive, still]) {
    assert.doesNotMatch(svg, /\b(?:href|src)=/, "no external reference");
    assert.equal(
      svg.match(/https?:\/\/[^"\s]*/g)?.join(),
      "http://www.w3.org/2000/svg",
      "only xmlns",
    );
  }
  assert.equal(interactive.match(/<script>/g)?.length, 1);
  assert.doesNotMatch(still, /<script|Search|Reset zoom/);
  assert.match(interactive, /window\.prompt/);
  assert.match(interactive, /m17Flame/);
});

Deno.test("renderFlameGraph(): names are escaped, tiny frames left out, empty profile says so", () => {
  const p = folded("t;a<b>&c 9990\nt;tiny 5\n");
  const svg = renderFlameGraph(p, { title: "x", minShare: 0.001 });
  assert.match(svg, /<title>a&lt;b&gt;&amp;c\n/);
  assert.doesNotMatch(svg, /<title>tiny/);
  const empty = renderFlameGraph(folded(""), { title: "x" });
  assert.match(empty, />no samples</);
  assert.equal(frames(empty).length, 0);
});

Deno.test("frame names with escape sequences: cleaned where profiles are built, escaped in SVG, clean in every table", () => {
  // A folded file (or a binary's symbols) naming a frame with ANSI escapes, a BEL and a tab.
  const hostile = folded("t;main;spread\x1b[31m\x1b[2J!\x07\tx 300\nt;main 100\n");
  assert.deepEqual([...hostile.stacks.keys()], ["t;main;spread! x", "t;main"]);
  // A line that is not folded is refused, and the message quoting it is clean too.
  assert.equal(
    parseFolded("t;a\x1b[2J\rb 3\n"),
    'line 1 is not "frame;frame count": t;a b 3',
  );
  const svg = renderFlameGraph(hostile, { title: "t\x1b[1m\x00" });
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(svg, /[\x00-\x08\x0b\x0c\x0e-\x1f]/, "well-formed XML");
  assert.match(svg, /<title>spread! x\n300 samples/);
  // A profile built without profileOf (any FoldedProfile) is still printed clean.
  const raw = { stacks: new Map([["t;main;evil\x1b[31mred", 300], ["t;main", 100]]), samples: 400 };
  const c = compareProfiles(folded("t;main 400\n"), raw, { minSamples: 100, top: 2 });
  for (
    const text of [
      renderProfileTable(c, { frequencyHz: 99 }),
      renderProfileMarkdown(c, { frequencyHz: 99 }),
    ]
  ) {
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, "no control but the line breaks");
    assert.ok(text.includes("evilred"), text);
  }
  const html = profileHtmlSection(c, { frequencyHz: 99 }, null);
  assert.ok(html.includes("<code>evilred</code>"), html);
});

Deno.test("renderFlameGraphDiff(): after's shape; grown red, shrunk blue, new frames marked", () => {
  const svg = renderFlameGraphDiff(BEFORE, AFTER, { title: "diff" });
  const f = frames(svg);
  const byName = (n: string) => f.find((x) => x.title.startsWith(`${n}\n`))!;
  assert.equal(byName("burn").fill, diffColour(1), "largest growth: full red");
  assert.match(byName("burn").title, /self 0\.0% → 41\.7% \(\+41\.7 pp\), new after/);
  assert.match(byName("store").title, /self 60\.0% → 25\.0% \(−35\.0 pp\)$/);
  assert.match(byName("store").fill, /^rgb\(\d+,\d+,255\)$/, "shrunk: blue");
  assert.equal(diffColour(0), "rgb(255,255,255)");
  assert.match(svg, /red: self share grew, blue: shrank \(strongest = 41\.7 pp\)/);
});

Deno.test("compareProfiles(): the function that burns the new time is first, in points", () => {
  const c = compareProfiles(BEFORE, AFTER, { minSamples: 100 });
  assert.equal(c.kind, "compared");
  if (c.kind !== "compared") return;
  assert.equal(c.rows[0].name, "burn");
  assert.ok(Math.abs(c.rows[0].selfChangePp - 250 / 6) < 1e-9);
  assert.equal(c.rows[0].selfBeforePct, 0);
  assert.equal(c.rows[1].name, "store");
  assert.ok(c.rows[1].selfChangePp < 0);
  const handle = c.rows.find((r) => r.name === "handle")!;
  assert.equal(handle.selfChangePp, 0);
  assert.ok(Math.abs(handle.totalChangePp - (500 / 600 - 400 / 500) * 100) < 1e-9);
  assert.ok(c.rows[0].selfNoisePp > 0 && c.rows[0].selfNoisePp < 10);
});

Deno.test("compareProfiles(): below the minimum on either side there is no table, only the reason", () => {
  const small = folded("t;a 10\n");
  const c = compareProfiles(small, AFTER);
  assert.deepEqual(c, {
    kind: "too_few_samples",
    beforeSamples: 10,
    afterSamples: 600,
    minimum: MIN_PROFILE_SAMPLES,
  });
  assert.equal(
    renderProfileTable(c, { frequencyHz: 99 }),
    "profiles not compared: 10 samples before, 600 after; at least 200 on each side are needed " +
      "(a longer --duration or more load)\n",
  );
  assert.equal(profileComparisonJson(c, { frequencyHz: 99 }).compared, false);
});

Deno.test("profile table: terminal, Markdown, JSON and HTML say the same rows", () => {
  const c = compareProfiles(BEFORE, AFTER, { minSamples: 100, top: 3 });
  const text = renderProfileTable(c, { frequencyHz: 99 });
  const lines = text.split("\n");
  assert.match(lines[0], /^Server CPU by function \(perf, 99 Hz\): 500 samples before, 600 after/);
  assert.match(lines[2], /^burn +0\.0% → 41\.7% \+41\.7 pp +0\.0% → 41\.7% \+41\.7 pp$/);
  assert.match(lines[3], /^store +60\.0% → 25\.0% −35\.0 pp/);
  const md = renderProfileMarkdown(c, { frequencyHz: 99 });
  assert.match(md, /\| `burn` \| 0\.0% → 41\.7% \+41\.7 pp \| 0\.0% → 41\.7% \+41\.7 pp \|/);
  const json = profileComparisonJson(c, { frequencyHz: 99 });
  assert.ok(json.compared);
  if (json.compared) assert.equal(json.functions[0].self_change_pp, 41.67);
  const html = profileHtmlSection(c, { frequencyHz: 99 }, {
    inline: renderFlameGraphDiff(BEFORE, AFTER, { title: "d", interactive: false }),
    href: relativeHref("/r/pages/c.html", "/r/tmp/m17 #1/t1_profile_diff.svg"),
  });
  assert.match(html, /<code>burn<\/code><\/td><td class="num">0\.0% → 41\.7% \+41\.7 pp/);
  assert.match(
    html,
    /<a id="profile-diff-link" href="\.\.\/tmp\/m17%20%231\/t1_profile_diff\.svg">\.\.\/tmp\/m17 #1\/t1_profile_diff\.svg<\/a>/,
  );
  assert.doesNotMatch(html, /<script/, "the page's policy allows no scripts");
});

Deno.test("shortName() keeps both ends of a long Rust path", () => {
  const long = "engram_core::activation::parallel::ParallelSpreadingEngine::spread_from_seeds";
  const s = shortName(long, 50);
  assert.equal(s.length, 50);
  assert.ok(s.startsWith("engram_core::activation") && s.endsWith("spread_from_seeds"));
});

Deno.test("a real recording renders: Rust frames demangled in the graph", () => {
  const text = Deno.readTextFileSync(
    new URL("../fixtures/perf/rust_v0_fp.perf_script.txt", import.meta.url),
  );
  const svg = renderFlameGraph(foldPerfScript(text), { title: "burn" });
  assert.match(svg, /<title>&lt;burn::activation::Graph&gt;::spread\n/);
  assert.doesNotMatch(svg, /_RNv/);
});
