/**
 * The flame graph's script in a real browser: headless Chromium opens the standalone SVG and the
 * same SVG inline in an HTML page, each with a probe script appended that searches, clicks a
 * frame to zoom, hovers it and resets; `--dump-dom` returns what the probe saw. Ignored, with
 * the reason, without Chromium (`chromium` on PATH or `M17_CHROMIUM=/path`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { renderFlameGraph } from "../../lib/render/flamegraph.ts";
import { renderFlameGraphDiff } from "../../lib/render/flamegraph_diff.ts";
import { parseFolded } from "../../lib/report/profile.ts";

function findChromium(): string | null {
  const given = Deno.env.get("M17_CHROMIUM");
  if (given) return given;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    for (const name of ["chromium", "chromium-browser"]) {
      try {
        if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
      } catch { /* not here */ }
    }
  }
  return null;
}

const CHROMIUM = findChromium();
if (!CHROMIUM) console.log("flame graph browser test ignored: chromium not installed");

/** Runs after the graph's own script; writes what it observed into a <text id="probe">. */
const PROBE = `<script><![CDATA[
(function () {
  var s = document.querySelector("svg.m17-flame"), out = [];
  function frame(name) {
    return Array.prototype.slice.call(s.querySelectorAll("g.f")).filter(function (f) {
      return f.querySelector("title").textContent.split("\\n")[0] === name;
    })[0];
  }
  function click(el) { el.dispatchEvent(new MouseEvent("click", { bubbles: true })); }
  try {
    out.push("share=" + s.m17Flame.search("^(store|recall)$").toFixed(3));
    out.push("matched=" + s.querySelector("#matched").textContent);
    out.push("fill=" + frame("store").querySelector("rect").getAttribute("fill"));
    s.m17Flame.search(null);
    click(frame("store"));
    out.push("storeW=" + frame("store").querySelector("rect").getAttribute("width"));
    out.push("recallHidden=" + (frame("recall").style.display === "none"));
    out.push("mainW=" + frame("main").querySelector("rect").getAttribute("width"));
    frame("store").dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    out.push("details=" + s.querySelector("#details").textContent);
    click(s.querySelector("#reset"));
    out.push("recallBack=" + (frame("recall").style.display !== "none"));
  } catch (e) { out.push("error=" + e); }
  var t = document.createElementNS("http://www.w3.org/2000/svg", "text");
  t.setAttribute("id", "probe"); t.textContent = out.join("|"); s.appendChild(t);
})();
]]></script>`;

async function dumpDom(path: string): Promise<string> {
  const out = await new Deno.Command(CHROMIUM!, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      `--user-data-dir=${join(path, "..", "profile")}`,
      "--dump-dom",
      pathToFileURL(path).href,
    ],
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return new TextDecoder().decode(out.stdout);
}

const BEFORE = "srv;main;handle;store 300\nsrv;main;handle;recall 100\nsrv;main 100\n";
const AFTER = "srv;main;handle;store 100\nsrv;main;handle;recall 100\nsrv;main 300\n";

function folded(text: string) {
  const p = parseFolded(text);
  if (typeof p === "string") throw new Error(p);
  return p;
}

Deno.test({
  name: "flame graph script: search share, click-zoom, hover details and reset in Chromium",
  ignore: CHROMIUM === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "m17_flame_" });
    try {
      const plain = renderFlameGraph(folded(BEFORE), { title: "t" });
      const diff = renderFlameGraphDiff(folded(BEFORE), folded(AFTER), { title: "d" });
      const cases = [
        ["plain.svg", plain.replace("</svg>\n", `${PROBE}</svg>\n`)],
        [
          "page.html",
          `<!doctype html><html><body>${
            plain.replace("</svg>\n", `${PROBE}</svg>\n`)
          }</body></html>`,
        ],
        ["diff.svg", diff.replace("</svg>\n", `${PROBE}</svg>\n`)],
      ] as const;
      for (const [name, text] of cases) {
        await Deno.writeTextFile(join(dir, name), text);
        const dom = await dumpDom(join(dir, name));
        const seen = /id="probe">([^<]*)</.exec(dom)?.[1] ?? "(no probe output)";
        assert.doesNotMatch(seen, /error=/, `${name}: ${seen}`);
        const share = name === "diff.svg" ? "0.400" : "0.800";
        assert.match(
          seen,
          new RegExp(
            `^share=${share}\\|matched=Matched: ${
              Number(share) * 100
            }\\.0%\\|fill=rgb\\(230,0,230\\)\\|`,
          ),
          `${name}: ${seen}`,
        );
        assert.match(
          seen,
          /\|storeW=1179\.50\|recallHidden=true\|mainW=1179\.50\|/,
          `${name}: ${seen}`,
        );
        assert.match(seen, /\|details=store — \S.*\|recallBack=true$/, `${name}: ${seen}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
