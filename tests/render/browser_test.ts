/**
 * The HTML reports in a real browser: headless Chromium loads each page from a file: URL and,
 * over the DevTools protocol (loopback WebSocket), we check that the page made no request but
 * the file itself, logged no console error or exception (a Content-Security-Policy violation
 * would be one), drew every plot with the expected series and points, and renders to a
 * non-trivial screenshot.
 *
 * The profile section of a compare page (written by the compare CLI from profiled fixture runs,
 * with `--html` in another directory than the differential flame graph) is checked the same
 * way, and its link followed: the linked standalone graph must zoom, show hover details and
 * search (through its own prompt) under real mouse events.
 *
 * Needs `chromium` on PATH (Debian: `apt-get install chromium`) or `M17_CHROMIUM=/path`;
 * without it the test is reported as ignored, never silently passed. Set
 * `M17_BROWSER_SCREENSHOT=dir` to keep the screenshots.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { renderCompareHtml } from "../../lib/render/html.ts";
import { renderRunHtml } from "../../lib/render/html_run.ts";
import { SPECTRUM_POINTS } from "../../lib/render/html_plots.ts";
import { compareCli, comparePair, OUT, run } from "../fixtures/pair.ts";
import { HOSTILE_SHOWN, writeProfiledPair } from "../fixtures/profiled_pair.ts";

/** The Chromium binary: M17_CHROMIUM, else `chromium` or `chromium-browser` on PATH. */
function findChromium(): string | null {
  const given = Deno.env.get("M17_CHROMIUM");
  if (given) return given;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    for (const name of ["chromium", "chromium-browser"]) {
      try {
        if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
      } catch {
        // not in this directory
      }
    }
  }
  return null;
}

const CHROMIUM = findChromium();
if (!CHROMIUM) {
  console.log("browser test skipped: chromium not installed (apt-get install chromium)");
}

/** Rejects after `ms` with `what` timed out; the timer is always cleared. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Json = Record<string, unknown>;

/** A minimal Chrome DevTools Protocol client over one WebSocket (flat sessions). */
class Cdp {
  #ws: WebSocket;
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  #listeners: ((method: string, params: Json, sessionId?: string) => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data as string);
      if (typeof msg.id === "number") {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p?.resolve(msg.result ?? {});
      } else {
        for (const l of this.#listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    };
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await within(
      10_000,
      "DevTools WebSocket",
      new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = (e) => reject(new Error(`DevTools WebSocket: ${(e as ErrorEvent).message}`));
      }),
    );
    return new Cdp(ws);
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = this.#nextId++;
    const done = new Promise<Json>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return within(15_000, method, done);
  }

  on(listener: (method: string, params: Json, sessionId?: string) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.#ws.onclose = () => resolve());
    this.#ws.close();
    await within(5_000, "closing the DevTools WebSocket", closed).catch(() => {});
  }
}

/** Headless Chromium with remote debugging on a free loopback port. */
async function launch(binary: string, profile: string) {
  const child = new Deno.Command(binary, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "--window-size=1280,2000",
      "--hide-scrollbars",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Keep reading stderr until it closes (a full pipe would block Chromium).
  let stderr = "";
  let announce: (url: string) => void = () => {};
  const announced = new Promise<string>((resolve) => announce = resolve);
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      const m = /DevTools listening on (ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(stderr);
      if (m) announce(m[1]);
    }
  })();
  const exited = child.status.then((s) => {
    announce("");
    return s;
  });
  const url = await within(30_000, "Chromium start-up", announced);
  if (!url) throw new Error(`Chromium exited before DevTools listened:\n${stderr.slice(-2000)}`);
  return {
    url,
    stderr: () => stderr,
    async stop(cdp: Cdp | null) {
      await cdp?.send("Browser.close").catch(() => {});
      await cdp?.close();
      try {
        await within(10_000, "Chromium exit", exited);
      } catch {
        child.kill("SIGKILL");
        await exited;
      }
      await drained;
    },
  };
}

/** What the browser saw of one page. */
interface PageCheck {
  requests: string[];
  errors: string[];
  plots: {
    plot: string;
    width: number;
    series: { id: string; declared: number; drawn: number }[];
  }[];
  title: string;
  verdict: string;
  png: Uint8Array;
}

const COUNT_PLOTS = `JSON.stringify([...document.querySelectorAll("svg[data-plot]")].map((svg) => ({
  plot: svg.dataset.plot,
  width: svg.getBoundingClientRect().width,
  series: [...svg.querySelectorAll("[data-series]")].map((s) => ({
    id: s.dataset.series,
    declared: Number(s.dataset.points),
    drawn: s.tagName === "polyline" ? s.points.numberOfItems : s.querySelectorAll("[data-point]").length,
  })),
})))`;

/** A page opened in its own target: what it requested and logged, and a way to run code in it. */
interface OpenPage {
  requests: string[];
  errors: string[];
  /** JavaScript dialogs (prompts) it opened; each is answered with `promptAnswer`. */
  dialogs: string[];
  evaluate(expression: string): Promise<string>;
  /** A real mouse event at a point of the viewport. */
  mouse(type: "mouseMoved" | "mousePressed" | "mouseReleased", x: number, y: number): Promise<Json>;
  screenshot(): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function openPage(cdp: Cdp, fileUrl: string, promptAnswer = ""): Promise<OpenPage> {
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true }) as {
    sessionId: string;
  };
  const requests: string[] = [];
  const errors: string[] = [];
  const dialogs: string[] = [];
  let loaded: () => void = () => {};
  const load = new Promise<void>((resolve) => loaded = resolve);
  cdp.on((method, params, from) => {
    if (from !== sessionId) return;
    if (method === "Network.requestWillBeSent") {
      requests.push((params.request as { url: string }).url);
    } else if (method === "Runtime.consoleAPICalled" && params.type === "error") {
      errors.push(`console.error: ${JSON.stringify(params.args)}`);
    } else if (method === "Runtime.exceptionThrown") {
      errors.push(`exception: ${JSON.stringify(params.exceptionDetails)}`);
    } else if (method === "Log.entryAdded") {
      const entry = params.entry as { level: string; text: string; url?: string };
      if (entry.level === "error") errors.push(`log: ${entry.text} ${entry.url ?? ""}`);
    } else if (method === "Page.javascriptDialogOpening") {
      dialogs.push(`${params.type}: ${params.message}`);
      cdp.send("Page.handleJavaScriptDialog", { accept: true, promptText: promptAnswer }, sessionId)
        .catch((e) => errors.push(`dialog: ${e}`));
    } else if (method === "Page.loadEventFired") {
      loaded();
    }
  });
  for (const domain of ["Page", "Runtime", "Log", "Network"]) {
    await cdp.send(`${domain}.enable`, {}, sessionId);
  }
  await cdp.send("Page.navigate", { url: fileUrl }, sessionId);
  await within(15_000, `loading ${fileUrl}`, load);
  return {
    requests,
    errors,
    dialogs,
    evaluate: async (expression: string) =>
      ((await cdp.send("Runtime.evaluate", { expression, returnByValue: true }, sessionId))
        .result as { value: string }).value,
    mouse: (type, x, y) =>
      cdp.send(
        "Input.dispatchMouseEvent",
        { type, x, y, button: type === "mouseMoved" ? "none" : "left", clickCount: 1 },
        sessionId,
      ),
    screenshot: async () => {
      const shot = await cdp.send("Page.captureScreenshot", { format: "png" }, sessionId);
      return Uint8Array.from(atob(shot.data as string), (c) => c.charCodeAt(0));
    },
    close: async () => {
      await cdp.send("Target.closeTarget", { targetId });
    },
  };
}

async function checkPage(cdp: Cdp, fileUrl: string): Promise<PageCheck> {
  const page = await openPage(cdp, fileUrl);
  const plots = JSON.parse(await page.evaluate(COUNT_PLOTS));
  const title = await page.evaluate("document.title");
  const verdict = await page.evaluate(`document.querySelector(".verdict")?.innerText ?? ""`);
  const png = await page.screenshot();
  await page.close();
  return { requests: page.requests, errors: page.errors, plots, title, verdict, png };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function assertScreenshot(png: Uint8Array, what: string): void {
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE, `${what}: a PNG`);
  // A blank 1280×2000 page compresses to a few kB; a drawn report is far larger.
  assert.ok(png.length > 40_000, `${what}: screenshot only ${png.length} bytes`);
}

Deno.test({
  name: "browser: reports load with no network request, no console error, all plots drawn",
  ignore: CHROMIUM === null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "m17_browser_test_" });
    let browser: Awaited<ReturnType<typeof launch>> | null = null;
    let cdp: Cdp | null = null;
    try {
      const { before, after, comparison, verdict } = comparePair(run(1), run(1.1));
      comparison.metrics.p99.ci = [6.5, 13.2];
      const comparePath = join(dir, "001_compare.html");
      await Deno.writeTextFile(
        comparePath,
        renderCompareHtml({ comparison, verdict, before, after }),
      );
      const runPath = join(dir, "001_after.html");
      await Deno.writeTextFile(
        runPath,
        renderRunHtml(
          (after as { report: Parameters<typeof renderRunHtml>[0] }).report,
          after.path,
        ),
      );

      browser = await launch(CHROMIUM!, join(dir, "profile"));
      cdp = await Cdp.connect(browser.url);
      const keep = Deno.env.get("M17_BROWSER_SCREENSHOT");

      const pages = [
        { path: comparePath, series: ["before", "after"], verdict: /REGRESSION/ },
        { path: runPath, series: ["run"], verdict: /VALID RUN/ },
      ];
      for (const page of pages) {
        const url = pathToFileURL(page.path).href;
        const seen = await checkPage(cdp, url);
        assert.deepEqual(seen.requests, [url], "the page requests nothing but itself");
        assert.deepEqual(seen.errors, [], "no console errors");
        assert.match(seen.verdict, page.verdict);
        assert.deepEqual(seen.plots.map((p) => p.plot), [
          "spectrum",
          "p99-per-second",
          "throughput-per-second",
          "operations",
        ]);
        const expected: Record<string, number> = {
          "spectrum": SPECTRUM_POINTS,
          "p99-per-second": 60,
          "throughput-per-second": 60,
          "operations": 2,
        };
        for (const p of seen.plots) {
          assert.ok(p.width > 600, `${p.plot} is laid out (${p.width}px wide)`);
          assert.deepEqual(p.series.map((s) => s.id), page.series, p.plot);
          for (const s of p.series) {
            assert.equal(s.declared, expected[p.plot], `${p.plot}/${s.id}`);
            assert.equal(s.drawn, s.declared, `${p.plot}/${s.id} drawn`);
          }
        }
        assertScreenshot(seen.png, page.path);
        if (keep) {
          await Deno.mkdir(keep, { recursive: true });
          await Deno.writeFile(join(keep, page.path.split("/").at(-1)! + ".png"), seen.png);
        }
      }
    } finally {
      await browser?.stop(cdp);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** The centre of the element `selector` finds (scrolled into view), in viewport pixels. */
const CENTRE = (selector: string) =>
  `(() => { const el = ${selector}; el.scrollIntoView({ block: "center" });
    const r = el.getBoundingClientRect();
    return JSON.stringify({ x: r.left + r.width / 2, y: r.top + r.height / 2 }); })()`;

/** The frame group named `name` in the first flame graph of the document. */
const FRAME = (name: string) =>
  `[...document.querySelectorAll("svg.m17-flame g.f")].find((g) =>
    g.querySelector("title").textContent.split("\\n")[0] === ${JSON.stringify(name)})`;

Deno.test({
  name:
    "browser: compare's profile section under the page's CSP — diff graph drawn with tooltips and hover outline; the linked graph zooms, hovers and searches",
  ignore: CHROMIUM === null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "m17_browser_profile_" });
    let browser: Awaited<ReturnType<typeof launch>> | null = null;
    let cdp: Cdp | null = null;
    try {
      await writeProfiledPair(dir);
      // The page in another directory than the graph: its link must still reach it.
      const pagePath = join(dir, "pages", "001 compare.html");
      await Deno.mkdir(join(dir, "pages"));
      const r = await compareCli(dir, ["001", "--html", pagePath]);
      assert.equal(r.code, 1, r.stderr);
      const svgPath = join(dir, OUT, "001_profile_diff.svg");

      browser = await launch(CHROMIUM!, join(dir, "profile"));
      cdp = await Cdp.connect(browser.url);
      const url = pathToFileURL(pagePath).href;
      const page = await openPage(cdp, url);
      const seen = JSON.parse(
        await page.evaluate(`JSON.stringify({
          csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content ?? "",
          scripts: document.scripts.length,
          graphs: document.querySelectorAll("#profile svg.m17-flame").length,
          width: document.querySelector("#profile svg.m17-flame").getBoundingClientRect().width,
          room: document.querySelector("#profile").clientWidth,
          frames: document.querySelectorAll("#profile svg.m17-flame g.f").length,
          grown: ${FRAME(HOSTILE_SHOWN)}.querySelector("rect").getAttribute("fill"),
          grownTip: ${FRAME(HOSTILE_SHOWN)}.querySelector("title").textContent,
          shrunk: ${FRAME("store")}.querySelector("rect").getAttribute("fill"),
          rows: [...document.querySelectorAll("#profile tbody tr td:first-child")].map((td) => td.textContent),
          href: document.querySelector("#profile-diff-link").href,
          stroke: getComputedStyle(${FRAME("handle")}.querySelector("rect")).stroke,
        })`),
      );
      assert.match(seen.csp, /default-src 'none'/);
      assert.equal(seen.scripts, 0, "the page runs no script: the inline graph is static");
      assert.equal(seen.graphs, 1);
      // Laid out, and scaled to its section (it used to overflow the card at its 1200-px width).
      assert.ok(seen.width >= 600, `the graph is laid out (${seen.width}px)`);
      assert.ok(
        seen.width <= seen.room,
        `the graph fits its section (${seen.width} > ${seen.room})`,
      );
      assert.equal(seen.frames, 7, "all, srv, main, handle and its three children");
      assert.match(seen.grown, /^rgb\(255,\d+,\d+\)$/, "the new function is red");
      assert.match(seen.shrunk, /^rgb\(\d+,\d+,255\)$/, "store shrank: blue");
      assert.equal(
        seen.grownTip,
        `${HOSTILE_SHOWN}\ntotal 0.0% → 41.7% (+41.7 pp), self 0.0% → 41.7% (+41.7 pp), new after`,
      );
      assert.equal(seen.rows[0], HOSTILE_SHOWN);
      assert.equal(seen.href, pathToFileURL(svgPath).href, "the link reaches the graph");
      // Hovering a frame outlines it (the page's CSS; its native tooltip is the <title>).
      const at = JSON.parse(
        await page.evaluate(CENTRE(`${FRAME("handle")}.querySelector("rect")`)),
      );
      await page.mouse("mouseMoved", at.x, at.y);
      const hovered = await page.evaluate(
        `getComputedStyle(${FRAME("handle")}.querySelector("rect")).stroke`,
      );
      assert.notEqual(hovered, seen.stroke, "the hovered frame's outline changes");
      assert.equal(hovered, "rgb(0, 0, 0)");
      assert.deepEqual(page.requests, [url], "the page requests nothing but itself");
      assert.deepEqual(page.errors, [], "no console error: no CSP violation");
      assertScreenshot(await page.screenshot(), pagePath);
      await page.close();

      // The linked graph, interactive: real clicks and hovers, the search through its prompt.
      const graph = await openPage(cdp, seen.href, "burn$");
      const details = () => graph.evaluate(`document.querySelector("#details").textContent`);
      const widthOf = (name: string) =>
        graph.evaluate(`${FRAME(name)}.querySelector("rect").getAttribute("width")`);
      const click = async (selector: string) => {
        const p = JSON.parse(await graph.evaluate(CENTRE(selector)));
        await graph.mouse("mouseMoved", p.x, p.y);
        await graph.mouse("mousePressed", p.x, p.y);
        await graph.mouse("mouseReleased", p.x, p.y);
      };
      const handle = JSON.parse(
        await graph.evaluate(CENTRE(`${FRAME("handle")}.querySelector("rect")`)),
      );
      await graph.mouse("mouseMoved", handle.x, handle.y);
      assert.match(await details(), /^handle — total 80\.0% → 83\.3% \(\+3\.3 pp\)/);
      assert.notEqual(await widthOf("handle"), "1179.50");
      await click(`${FRAME("handle")}.querySelector("rect")`);
      assert.equal(await widthOf("handle"), "1179.50", "zoomed: handle spans the graph");
      assert.equal(
        await graph.evaluate(`document.querySelector("#reset").getAttribute("visibility")`),
        "visible",
      );
      await click(`document.querySelector("#reset")`);
      assert.notEqual(await widthOf("handle"), "1179.50", "reset");
      await click(`document.querySelector("#search")`);
      assert.deepEqual(graph.dialogs, ["prompt: Search frames (regular expression)"]);
      assert.equal(
        await graph.evaluate(`document.querySelector("#matched").textContent`),
        "Matched: 41.7%",
      );
      assert.equal(
        await graph.evaluate(`${FRAME(HOSTILE_SHOWN)}.querySelector("rect").getAttribute("fill")`),
        "rgb(230,0,230)",
        "the match is highlighted",
      );
      assert.deepEqual(graph.requests, [seen.href], "the graph requests nothing but itself");
      assert.deepEqual(graph.errors, []);
      await graph.close();
    } finally {
      await browser?.stop(cdp);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
