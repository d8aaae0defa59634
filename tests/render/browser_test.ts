/**
 * The HTML reports in a real browser: headless Chromium loads each page from a file: URL and,
 * over the DevTools protocol (loopback WebSocket), we check that the page made no request but
 * the file itself, logged no console error or exception (a Content-Security-Policy violation
 * would be one), drew every plot with the expected series and points, and renders to a
 * non-trivial screenshot.
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
import { comparePair, run } from "../fixtures/pair.ts";

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

async function checkPage(cdp: Cdp, fileUrl: string): Promise<PageCheck> {
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true }) as {
    sessionId: string;
  };
  const requests: string[] = [];
  const errors: string[] = [];
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
    } else if (method === "Page.loadEventFired") {
      loaded();
    }
  });
  for (const domain of ["Page", "Runtime", "Log", "Network"]) {
    await cdp.send(`${domain}.enable`, {}, sessionId);
  }
  await cdp.send("Page.navigate", { url: fileUrl }, sessionId);
  await within(15_000, `loading ${fileUrl}`, load);
  const evaluate = async (expression: string) =>
    ((await cdp.send("Runtime.evaluate", { expression, returnByValue: true }, sessionId))
      .result as { value: string }).value;
  const plots = JSON.parse(await evaluate(COUNT_PLOTS));
  const title = await evaluate("document.title");
  const verdict = await evaluate(`document.querySelector(".verdict")?.innerText ?? ""`);
  const shot = await cdp.send("Page.captureScreenshot", { format: "png" }, sessionId);
  const png = Uint8Array.from(atob(shot.data as string), (c) => c.charCodeAt(0));
  await cdp.send("Target.closeTarget", { targetId });
  return { requests, errors, plots, title, verdict, png };
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
