/**
 * Where a preload is: count, rate, and an ETA that follows the measured cost curve. The preload
 * is cut into windows of at least `WINDOW_MS`; each gives the seconds one memory cost at its mean
 * count, and a least-squares line (weighted by the memories in the window) fits that cost
 * against the count. On Engram 5d54816 every store is compared with every memory held, so the
 * cost grows linearly with the count and the total time is quadratic; the ETA integrates the
 * fitted line from here to the end, and the status says so when the cost keeps growing.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * const p = new PreloadProgress(1000, 0, 0);
 * // 10 ms per memory plus 0.1 ms per memory held (a minute in all, 5-s windows): the rate
 * // falls as the count grows.
 * let t = 0;
 * for (let n = 0; n <= 1000; n += 20) {
 *   p.sample(n, t);
 *   t += 20 * (10 + 0.1 * n);
 * }
 * ok(p.falling());
 * ok(!new PreloadProgress(1000, 0, 0).falling()); // nothing measured yet
 * ```
 * @module
 */

/** Shortest window the cost curve is measured over. */
export const WINDOW_MS = 5000;

/** The cost per memory must have grown this much since the first window to call it falling. */
const FALLING_GROWTH = 1.25;

/** Windows needed before the fit is used for the ETA. */
const MIN_WINDOWS = 3;

/** A duration for people: `45 s`, `12 min 5 s`, `2 h 20 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The preload's progress and its cost curve (times in ms, counts absolute: a resumed preload starts above 0). */
export class PreloadProgress {
  #winStartDone: number;
  #winStartMs: number;
  /** Weighted sums of the fit: weight w = memories in the window, x = mean count, y = s/memory. */
  #sw = 0;
  #sx = 0;
  #sy = 0;
  #sxx = 0;
  #sxy = 0;
  #windows = 0;
  #firstCost: { x: number; y: number } | null = null;
  #lastCost: number | null = null;
  #lastRate: number | null = null;
  /** Windows in a row whose rate was below the one before. */
  #fallingRun = 0;

  constructor(readonly total: number, readonly startDone: number, startMs: number) {
    this.#winStartDone = startDone;
    this.#winStartMs = startMs;
  }

  /** Memories stored so far (`done`, absolute) at `nowMs`; closes a window every `WINDOW_MS`. */
  sample(done: number, nowMs: number): void {
    const ms = nowMs - this.#winStartMs;
    const items = done - this.#winStartDone;
    if (ms < WINDOW_MS || items <= 0) return;
    const x = (done + this.#winStartDone) / 2;
    const y = ms / 1000 / items;
    this.#sw += items;
    this.#sx += items * x;
    this.#sy += items * y;
    this.#sxx += items * x * x;
    this.#sxy += items * x * y;
    this.#windows++;
    this.#firstCost ??= { x, y };
    const rate = 1 / y;
    this.#fallingRun = this.#lastRate !== null && rate < this.#lastRate ? this.#fallingRun + 1 : 0;
    this.#lastRate = rate;
    this.#lastCost = y;
    this.#winStartDone = done;
    this.#winStartMs = nowMs;
  }

  /** Memories per second over the last window, null before the first. */
  rate(): number | null {
    return this.#lastRate;
  }

  /** The fitted cost line `seconds per memory = a + b × count`, null with too few windows. */
  fit(): { a: number; b: number } | null {
    if (this.#windows < MIN_WINDOWS) return null;
    const w = this.#sw;
    const den = w * this.#sxx - this.#sx * this.#sx;
    if (!(den > 0)) return null;
    const b = (w * this.#sxy - this.#sx * this.#sy) / den;
    return { a: (this.#sy - b * this.#sx) / w, b };
  }

  /** The fitted cost per memory at `done`, or the last window's when the fit says nothing better. */
  #costAt(done: number): number | null {
    const f = this.fit();
    const fitted = f ? f.a + f.b * done : null;
    return fitted !== null && fitted > 0 ? fitted : this.#lastCost;
  }

  /**
   * Seconds left: the fitted cost line integrated from `done` to the total (a falling cost
   * line is held flat), or the mean rate so far before there is a fit. Null before any window.
   */
  etaSeconds(done: number, elapsedMs: number): number | null {
    const left = this.total - done;
    if (left <= 0) return 0;
    const cost = this.#costAt(done);
    if (cost === null) {
      const stored = done - this.startDone;
      return stored > 0 && elapsedMs > 0 ? left * elapsedMs / 1000 / stored : null;
    }
    const slope = Math.max(0, this.fit()?.b ?? 0);
    return cost * left + slope * left * left / 2;
  }

  /**
   * The rate keeps falling: the last windows each slower than the one before, and the cost per
   * memory grown by `FALLING_GROWTH` or more since the first window.
   */
  falling(): boolean {
    const first = this.#firstCost;
    const now = this.#lastCost;
    return first !== null && now !== null && this.#fallingRun >= 2 &&
      now >= FALLING_GROWTH * first.y;
  }

  /** How many times the cost per memory has grown since the first window (1 before two). */
  growth(): number {
    const first = this.#firstCost;
    return first !== null && this.#lastCost !== null ? this.#lastCost / first.y : 1;
  }

  /**
   * The status line: `preload 12,000/100,000 (12%)  85/s  Engram held 11,200 of 11,300 stored
   * ETA 1 h 5 min`; `engram` is Engram's last count and how many were stored when it was asked.
   */
  text(
    done: number,
    elapsedMs: number,
    engram: { count: number; stored: number } | null,
  ): string {
    const n = (v: number) => v.toLocaleString("en-US");
    const rate = this.rate() ?? (elapsedMs > 0 ? (done - this.startDone) * 1000 / elapsedMs : 0);
    const eta = this.etaSeconds(done, elapsedMs);
    const parts = [
      `preload ${n(done)}/${n(this.total)} (${(100 * done / this.total).toFixed(0)}%)`,
      `${rate.toFixed(rate < 10 ? 1 : 0)}/s`,
      ...(engram !== null ? [`Engram held ${n(engram.count)} of ${n(engram.stored)} stored`] : []),
      `ETA ${eta === null ? "?" : formatDuration(eta)}`,
    ];
    if (this.falling()) {
      parts.push(
        `rate falling: cost per memory ×${
          this.growth().toFixed(1)
        } since the start (grows with the count; ETA follows the fitted line, total time quadratic)`,
      );
    }
    return parts.join("  ");
  }
}
