/**
 * Flame graphs as one self-contained SVG: frames root at the bottom, width = share of samples,
 * a native tooltip per frame (`<title>`: name, samples, share). The interactive form adds an
 * inline script (no external resources): hover shows the frame under the pointer in the footer,
 * click zooms to a frame (its ancestors stay as full-width context), "Search" highlights frames
 * whose name matches a regular expression and states the share they cover, "Reset zoom" undoes.
 * The non-interactive form (for pages whose Content-Security-Policy allows no scripts) keeps
 * the tooltips. The differential graph (flamegraph_diff.ts) reuses the same drawing.
 * @module
 */
import { type FoldedProfile, type FrameNode, frameTree } from "../report/profile.ts";

/** How one frame is drawn: its fill and the tooltip/footer text. */
export interface FrameStyle {
  fill(node: FrameNode, path: readonly string[]): string;
  describe(node: FrameNode, path: readonly string[], total: number): string;
}

/** Drawing options. */
export interface FlameOptions {
  readonly title: string;
  /** One line under the title (e.g. frequency, samples, legend). */
  readonly subtitle?: string;
  /** Inline script for zoom, search and hover details (default true). */
  readonly interactive?: boolean;
  /** Image width in px (default 1200). */
  readonly widthPx?: number;
  /** Frames narrower than this share of all samples are left out (default 0.0005 = 0.05%). */
  readonly minShare?: number;
}

const FRAME_H = 16;
const PAD = 10;
const HEAD = 48;
const FOOT = 28;
const FONT = 12;
const CHAR_W = FONT * 0.6;
/** Bounds the drawing (and the file) however many distinct stacks a profile has. */
const MAX_FRAMES = 30_000;

/** A frame placed in the graph: depth 0 = the root "all", x and width in samples. */
interface Placed {
  readonly node: FrameNode;
  readonly path: readonly string[];
  readonly depth: number;
  readonly x: number;
}

/** Frames in drawing order (parents before children, left to right), the narrow ones left out. */
function place(root: FrameNode, minSamples: number): Placed[] {
  const out: Placed[] = [];
  const queue: Placed[] = [{ node: root, path: [], depth: 0, x: 0 }];
  for (let i = 0; i < queue.length && out.length < MAX_FRAMES; i++) {
    const p = queue[i];
    out.push(p);
    let x = p.x;
    const children = [...p.node.children.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const child of children) {
      if (child.total >= minSamples) {
        queue.push({ node: child, path: [...p.path, child.name], depth: p.depth + 1, x });
      }
      x += child.total;
    }
  }
  return out;
}

// Characters XML 1.0 does not allow at all (C0 controls but tab, LF and CR; lone surrogates;
// U+FFFE, U+FFFF): one of them makes a standalone SVG a parse error, so each becomes U+FFFD.
const NOT_XML =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * XML text escaping for element content and attribute values: markup characters as entities,
 * characters XML cannot carry as U+FFFD.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { escapeXml } from "./flamegraph.ts";
 * strictEqual(escapeXml("<T as Tr>::f\x1b[31m"), "&lt;T as Tr&gt;::f\ufffd[31m");
 * ```
 */
export function escapeXml(s: string): string {
  return s.replace(NOT_XML, "\ufffd").replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

/** A label that fits `px`: the name, or its start with "..", or nothing. */
function fitLabel(name: string, px: number): string {
  const chars = Math.floor((px - 6) / CHAR_W);
  if (chars < 3) return "";
  return name.length <= chars ? name : `${name.slice(0, chars - 2)}..`;
}

/** A stable warm colour from the name (FlameGraph's "hot" palette); grey for `[binary]` frames. */
export function hotColour(name: string): string {
  if (name.startsWith("[") || name === "all") return "rgb(190,190,190)";
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  const v1 = (h & 0xff) / 255;
  const v2 = ((h >>> 8) & 0xff) / 255;
  const v3 = ((h >>> 16) & 0xff) / 255;
  return `rgb(${Math.round(205 + 50 * v3)},${Math.round(230 * v1)},${Math.round(55 * v2)})`;
}

/** "12.3%" of `total`. */
export function pct(n: number, total: number): string {
  return `${total > 0 ? (100 * n / total).toFixed(total >= 10_000 ? 2 : 1) : "0.0"}%`;
}

const PLAIN_STYLE: FrameStyle = {
  fill: (node) => hotColour(node.name),
  describe: (node, _path, total) =>
    `${node.total} samples, ${pct(node.total, total)} (self ${pct(node.self, total)})`,
};

/**
 * The flame graph of a profile as a standalone SVG document (also valid inline in HTML).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { renderFlameGraph } from "./flamegraph.ts";
 * import { parseFolded } from "../report/profile.ts";
 * const p = parseFolded("srv;main;spread 3\nsrv;main;store 1\n");
 * if (typeof p === "string") throw new Error(p);
 * const svg = renderFlameGraph(p, { title: "CPU" });
 * ok(svg.includes("<title>spread\n3 samples, 75.0% (self 75.0%)</title>"));
 * ```
 */
export function renderFlameGraph(profile: FoldedProfile, opts: FlameOptions): string {
  return renderFrames(frameTree(profile), PLAIN_STYLE, opts);
}

/** Draws a frame tree with a given style (shared by the plain and the differential graph). */
export function renderFrames(root: FrameNode, style: FrameStyle, opts: FlameOptions): string {
  const width = opts.widthPx ?? 1200;
  const total = root.total;
  const plotW = width - 2 * PAD;
  const frames = total > 0 ? place(root, Math.max(1e-9, (opts.minShare ?? 0.0005) * total)) : [];
  const maxDepth = frames.reduce((m, f) => Math.max(m, f.depth), 0);
  const height = HEAD + (maxDepth + 1) * FRAME_H + FOOT;
  const interactive = opts.interactive ?? true;
  const body: string[] = [];
  for (const f of frames) {
    const w = total > 0 ? f.node.total / total : 0;
    const xPx = PAD + (f.x / total) * plotW;
    const wPx = w * plotW;
    const y = height - FOOT - (f.depth + 1) * FRAME_H;
    const tip = `${f.node.name}\n${style.describe(f.node, f.path, total)}`;
    body.push(
      `<g class="f" data-x="${(f.x / total).toFixed(7)}" data-w="${
        w.toFixed(7)
      }" data-d="${f.depth}">` +
        `<title>${escapeXml(tip)}</title>` +
        `<rect x="${xPx.toFixed(2)}" y="${y}" width="${Math.max(0, wPx - 0.5).toFixed(2)}" ` +
        `height="${FRAME_H - 1}" rx="2" fill="${style.fill(f.node, f.path)}"/>` +
        `<text x="${(xPx + 3).toFixed(2)}" y="${y + FRAME_H - 4}">${
          escapeXml(fitLabel(f.node.name, wPx))
        }</text></g>`,
    );
  }
  const empty = total === 0
    ? `<text x="${width / 2}" y="${HEAD + 20}" text-anchor="middle">no samples</text>`
    : "";
  const controls = interactive
    ? `<text class="ctl" id="reset" x="${PAD}" y="${
      HEAD - 14
    }" visibility="hidden">Reset zoom</text>` +
      `<text class="ctl" id="search" x="${width - PAD}" y="${
        HEAD - 14
      }" text-anchor="end">Search</text>` +
      `<text id="matched" x="${width - PAD}" y="${height - 9}" text-anchor="end"></text>`
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" class="m17-flame" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="${FONT}">\n` +
    `<style>.f text{pointer-events:none;fill:#000}.f rect{stroke:#d8d8d8;stroke-width:.4}` +
    `.f:hover rect{stroke:#000;stroke-width:.6}` +
    `.ctl{cursor:pointer;fill:#36c}.title{font-size:16px;font-family:sans-serif}` +
    `.sub{fill:#555;font-family:sans-serif}</style>\n` +
    `<rect width="100%" height="100%" fill="#fafafa"/>\n` +
    `<text class="title" x="${width / 2}" y="20" text-anchor="middle">${
      escapeXml(opts.title)
    }</text>\n` +
    (opts.subtitle
      ? `<text class="sub" x="${width / 2}" y="${HEAD - 14}" text-anchor="middle">${
        escapeXml(opts.subtitle)
      }</text>\n`
      : "") +
    (interactive ? `${controls}<text id="details" x="${PAD}" y="${height - 9}"> </text>\n` : "") +
    `<g class="frames">\n${body.join("\n")}\n</g>${empty}\n` +
    (interactive ? `<script><![CDATA[${SCRIPT.replace("%W%", String(plotW))}]]></script>\n` : "") +
    `</svg>\n`;
}

/**
 * The interactive part, run in the SVG itself: zoom (click), hover details, regex search. It
 * finds its own `<svg>` through `document.currentScript`, so several graphs can share a page.
 */
const SCRIPT = `(function () {
  var svg = (document.currentScript && document.currentScript.closest("svg")) || document.documentElement;
  var W = %W%, PAD = ${PAD}, CW = ${CHAR_W};
  var frames = Array.prototype.slice.call(svg.querySelectorAll("g.f"));
  var details = svg.querySelector("#details"), reset = svg.querySelector("#reset");
  var matched = svg.querySelector("#matched"), search = svg.querySelector("#search");
  function nameOf(g) { return g.querySelector("title").textContent.split("\\n")[0]; }
  function num(g, k) { return parseFloat(g.getAttribute("data-" + k)); }
  function label(g, px) { var n = nameOf(g), c = Math.floor((px - 6) / CW); return c < 3 ? "" : n.length <= c ? n : n.slice(0, c - 2) + ".."; }
  function draw(g, x, w) {
    var r = g.querySelector("rect"), t = g.querySelector("text");
    r.setAttribute("x", (PAD + x * W).toFixed(2)); r.setAttribute("width", Math.max(0, w * W - 0.5).toFixed(2));
    t.setAttribute("x", (PAD + x * W + 3).toFixed(2)); t.textContent = label(g, w * W);
    g.style.display = "";
  }
  function zoom(g) {
    var x0 = num(g, "x"), w0 = num(g, "w"), d0 = num(g, "d"), eps = 1e-9;
    frames.forEach(function (f) {
      var x = num(f, "x"), w = num(f, "w"), d = num(f, "d");
      if (d < d0 && x <= x0 + eps && x + w >= x0 + w0 - eps) draw(f, 0, 1);
      else if (d >= d0 && x >= x0 - eps && x + w <= x0 + w0 + eps) draw(f, (x - x0) / w0, w / w0);
      else f.style.display = "none";
    });
    reset.setAttribute("visibility", num(g, "d") > 0 ? "visible" : "hidden");
  }
  function unzoom() { if (frames.length) zoom(frames[0]); }
  function find(re) {
    var hits = [];
    frames.forEach(function (f) {
      var r = f.querySelector("rect");
      if (!r.hasAttribute("data-fill")) r.setAttribute("data-fill", r.getAttribute("fill"));
      var hit = re !== null && re.test(nameOf(f));
      r.setAttribute("fill", hit ? "rgb(230,0,230)" : r.getAttribute("data-fill"));
      if (hit) hits.push([num(f, "x"), num(f, "x") + num(f, "w")]);
    });
    hits.sort(function (a, b) { return a[0] - b[0]; });
    var share = 0, end = 0;
    hits.forEach(function (h) { if (h[1] > end) { share += h[1] - Math.max(h[0], end); end = h[1]; } });
    matched.textContent = re === null ? "" : "Matched: " + (100 * share).toFixed(1) + "%";
    search.textContent = re === null ? "Search" : "Reset search";
    return share;
  }
  svg.addEventListener("click", function (e) {
    var g = e.target.closest && e.target.closest("g.f");
    if (g) zoom(g);
    else if (e.target === reset) unzoom();
    else if (e.target === search) {
      if (search.textContent !== "Search") { find(null); return; }
      var s = window.prompt("Search frames (regular expression)", "");
      if (s) { try { find(new RegExp(s)); } catch (err) { matched.textContent = "bad expression"; } }
    }
  });
  svg.addEventListener("mouseover", function (e) {
    var g = e.target.closest && e.target.closest("g.f");
    details.textContent = g ? g.querySelector("title").textContent.replace("\\n", " — ") : " ";
  });
  svg.m17Flame = { zoom: function (i) { zoom(frames[i]); }, unzoom: unzoom,
    search: function (s) { return find(s === null ? null : new RegExp(s)); } };
})();`;
