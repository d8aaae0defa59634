/**
 * Inline SVG charts as markup strings: line charts (linear or log axes) and horizontal grouped
 * bars. No scripts, no external resources. Every series carries `data-series` and its point
 * count (`data-points`), every bar `data-point`, so tests and browsers can count what is drawn.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { escapeHtml, logTicks } from "./plot.ts";
 * strictEqual(escapeHtml("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
 * strictEqual(logTicks(0.3, 4).map((t) => t.label).join(" "), "0.2 0.5 1 2 5");
 * ```
 * @module
 */

/** Escapes text for HTML and SVG element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/** A labelled position on an axis. */
export interface Tick {
  value: number;
  label: string;
}

/** One axis: its domain (in data units), whether it is logarithmic, and its ticks. */
export interface Axis {
  title: string;
  min: number;
  max: number;
  log?: boolean;
  ticks: Tick[];
}

/** One line of a line chart. `id` goes into `data-series`. */
export interface LineSeries {
  id: string;
  label: string;
  color: string;
  points: [x: number, y: number][];
}

/** One colour of a bar chart: a value per category, null where the category has none. */
export interface BarSeries {
  id: string;
  label: string;
  color: string;
  values: (number | null)[];
}

/** A number with at most 3 significant digits and no needless zeros (`0.25`, `120`, `1.5k`). */
export function tickLabel(v: number): string {
  if (v === 0) return "0";
  const abs = Math.abs(v);
  if (abs >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** Round ticks covering [min, max] (both > 0) for a log axis: 1-2-5 per decade, coarser or finer by range. */
export function logTicks(min: number, max: number): Tick[] {
  const lo = Math.max(min, 1e-9);
  const hi = Math.max(max, lo);
  const steps = (mantissas: number[]): number[] => {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) {
      for (const m of mantissas) out.push(Number((m * 10 ** e).toPrecision(3)));
    }
    return out;
  };
  const cover = (candidates: number[]): number[] => {
    const below = candidates.filter((c) => c <= lo).at(-1) ?? candidates[0];
    const above = candidates.find((c) => c >= hi) ?? candidates.at(-1)!;
    return candidates.filter((c) => c >= below && c <= above);
  };
  // 1-2-5 per decade; only decades over a wide range; finer steps within a narrow one.
  let values = cover(steps([1, 2, 5]));
  if (values.length > 12) values = cover(steps([1]));
  if (values.length < 4) values = cover(steps([1, 1.5, 2, 3, 4, 5, 6, 8]));
  if (values.length < 4) {
    values = cover(steps([1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9]));
  }
  return values.map((value) => ({ value, label: tickLabel(value) }));
}

/** About `count` evenly spaced round ticks from 0 to at least `max` (whole steps if `integer`). */
export function linearTicks(max: number, count = 5, integer = false): Tick[] {
  const top = max > 0 ? max : 1;
  const raw = integer ? Math.max(1, top / count) : top / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude)
    .filter((s) => !integer || Number.isInteger(s)).find((s) => s >= raw)!;
  const ticks: Tick[] = [];
  for (let i = 0; i * step < top + step * 0.999 && i <= 2 * count + 2; i++) {
    const value = Number((i * step).toPrecision(6));
    ticks.push({ value, label: tickLabel(value) });
  }
  return ticks;
}

/** The axis for `ticks`: its domain is the first to the last tick. */
export function axisFromTicks(title: string, ticks: Tick[], log = false): Axis {
  return { title, min: ticks[0].value, max: ticks.at(-1)!.value, log, ticks };
}

const WIDTH = 880;
const MARGIN = { left: 70, right: 24, top: 14, bottom: 50 };

function scaler(axis: Axis, from: number, to: number): (v: number) => number {
  const f = axis.log ? (v: number) => Math.log10(Math.max(v, 1e-12)) : (v: number) => v;
  const lo = f(axis.min);
  const span = f(axis.max) - lo || 1;
  return (v) => from + (f(v) - lo) / span * (to - from);
}

const fmt = (n: number) => String(Math.round(n * 10) / 10);

function svgOpen(plot: string, title: string, height: number): string {
  return `<svg class="chart" data-plot="${escapeHtml(plot)}" viewBox="0 0 ${WIDTH} ${height}" ` +
    `role="img" aria-label="${escapeHtml(title)}" preserveAspectRatio="xMidYMid meet">` +
    `<title>${escapeHtml(title)}</title>`;
}

/**
 * A line chart with one `<polyline data-series=… data-points=N>` per series. Points outside
 * the axes are clamped to the frame; series without points are listed but not drawn.
 */
export function lineChart(o: {
  plot: string;
  title: string;
  x: Axis;
  y: Axis;
  series: LineSeries[];
  height?: number;
}): string {
  const height = o.height ?? 300;
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const sx = scaler(o.x, left, right);
  const sy = scaler(o.y, bottom, top);
  const clampX = (v: number) => Math.min(right, Math.max(left, sx(v)));
  const clampY = (v: number) => Math.min(bottom, Math.max(top, sy(v)));
  const out = [svgOpen(o.plot, o.title, height)];
  out.push(`<g class="grid">`);
  for (const t of o.y.ticks) {
    const y = fmt(sy(t.value));
    out.push(`<line x1="${left}" x2="${right}" y1="${y}" y2="${y}"/>`);
  }
  for (const t of o.x.ticks) {
    const x = fmt(sx(t.value));
    out.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}"/>`);
  }
  out.push(`</g><g class="axis">`);
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/>`);
  for (const t of o.y.ticks) {
    out.push(
      `<text x="${left - 6}" y="${fmt(sy(t.value) + 4)}" text-anchor="end">${
        escapeHtml(t.label)
      }</text>`,
    );
  }
  for (const t of o.x.ticks) {
    out.push(
      `<text x="${fmt(sx(t.value))}" y="${bottom + 18}" text-anchor="middle">${
        escapeHtml(t.label)
      }</text>`,
    );
  }
  out.push(
    `<text class="title" x="${(left + right) / 2}" y="${height - 8}" text-anchor="middle">${
      escapeHtml(o.x.title)
    }</text>`,
    `<text class="title" transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" ` +
      `text-anchor="middle">${escapeHtml(o.y.title)}</text>`,
    `</g>`,
  );
  for (const s of o.series) {
    const points = s.points.map(([x, y]) => `${fmt(clampX(x))},${fmt(clampY(y))}`).join(" ");
    out.push(
      `<polyline class="series" data-series="${
        escapeHtml(s.id)
      }" data-points="${s.points.length}" ` +
        `stroke="${escapeHtml(s.color)}" points="${points}"><title>${
          escapeHtml(s.label)
        }</title></polyline>`,
    );
  }
  out.push(`</svg>`);
  return out.join("");
}

/**
 * Horizontal grouped bars: one row per category, one bar per series, the value written at the
 * bar's end. Each series is a `<g data-series=… data-points=N>` of N `<rect data-point>`.
 */
export function barChart(o: {
  plot: string;
  title: string;
  categories: string[];
  series: BarSeries[];
  unit: string;
}): string {
  const barHeight = 16;
  const rowGap = 14;
  const labelWidth = 170;
  const rowHeight = barHeight * o.series.length + rowGap;
  const top = MARGIN.top;
  const height = top + rowHeight * o.categories.length + 40;
  const left = labelWidth;
  const right = WIDTH - 90;
  const max = Math.max(0, ...o.series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const ticks = linearTicks(max);
  const sx = scaler(axisFromTicks(o.unit, ticks), left, right);
  const bottom = top + rowHeight * o.categories.length;
  const out = [svgOpen(o.plot, o.title, height), `<g class="grid">`];
  for (const t of ticks) {
    out.push(
      `<line x1="${fmt(sx(t.value))}" x2="${fmt(sx(t.value))}" y1="${top}" y2="${bottom}"/>`,
    );
  }
  out.push(`</g><g class="axis">`);
  o.categories.forEach((c, i) => {
    const y = top + i * rowHeight + (barHeight * o.series.length) / 2 + 4;
    out.push(`<text x="${left - 8}" y="${fmt(y)}" text-anchor="end">${escapeHtml(c)}</text>`);
  });
  for (const t of ticks) {
    out.push(
      `<text x="${fmt(sx(t.value))}" y="${bottom + 16}" text-anchor="middle">${
        escapeHtml(t.label)
      }</text>`,
    );
  }
  out.push(
    `<text class="title" x="${(left + right) / 2}" y="${height - 6}" text-anchor="middle">${
      escapeHtml(o.unit)
    }</text>`,
    `</g>`,
  );
  o.series.forEach((s, si) => {
    const drawn = s.values.filter((v) => v !== null).length;
    out.push(
      `<g data-series="${escapeHtml(s.id)}" data-points="${drawn}" fill="${escapeHtml(s.color)}">`,
    );
    s.values.forEach((v, ci) => {
      if (v === null) return;
      const y = top + ci * rowHeight + si * barHeight;
      const w = Math.max(1, sx(v) - left);
      out.push(
        `<rect data-point x="${left}" y="${y}" width="${fmt(w)}" height="${barHeight - 3}">` +
          `<title>${
            escapeHtml(`${o.categories[ci]} ${s.label}: ${tickLabel(v)} ${o.unit}`)
          }</title>` +
          `</rect><text class="value" x="${fmt(left + w + 5)}" y="${y + barHeight - 5}">${
            escapeHtml(String(Number(v.toFixed(3))))
          }</text>`,
      );
    });
    out.push(`</g>`);
  });
  out.push(`</svg>`);
  return out.join("");
}
