/**
 * HdrHistogram wrapper: latencies recorded in microseconds with 3 significant digits,
 * auto-resizing (nothing is ever dropped), exact merging, portable base64 encoding.
 * Percentiles are HdrHistogram's nearest rank: the smallest value v with at least p% of
 * samples ≤ v, reported as the highest value equivalent to v's bucket (within ±0.1%).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { LatencyHistogram } from "./histogram.ts";
 * const h = new LatencyHistogram();
 * for (let us = 1; us <= 1000; us++) h.recordUs(us);
 * ok(Math.abs(h.percentileUs(99) - 990) <= 1);
 * ```
 * @module
 */
import * as hdr from "hdr-histogram-js";
import type { IntervalSummary, LatencySummaryMs } from "./schema.ts";

type Hdr = hdr.Histogram;

/** Significant decimal digits every latency histogram keeps (HdrHistogram's precision). */
export const SIGNIFICANT_DIGITS = 3;

/**
 * The relative resolution of a recorded latency in percent, from `SIGNIFICANT_DIGITS`: 3 digits
 * keep every value within ±0.1% (10^−3).
 */
export const RESOLUTION_PCT = 100 * 10 ** -SIGNIFICANT_DIGITS;

function build(): Hdr {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/** A latency histogram in microseconds. */
export class LatencyHistogram {
  readonly h: Hdr;

  constructor(h?: Hdr) {
    this.h = h ?? build();
  }

  /** Records one latency in microseconds (values below 1 µs are recorded as 1 µs). */
  recordUs(us: number): void {
    this.h.recordValue(us < 1 ? 1 : Math.round(us));
  }

  /** Records one latency given in milliseconds. */
  recordMs(ms: number): void {
    this.recordUs(ms * 1000);
  }

  /** Adds every sample of `other` (exact merge). */
  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  /** Number of samples. */
  get count(): number {
    return this.h.totalCount;
  }

  /** Nearest-rank percentile in µs (0 when empty). */
  percentileUs(p: number): number {
    if (this.count === 0) return 0;
    // A decoded histogram's max is its bucket's top; never report a percentile above the max.
    return Math.min(this.h.getValueAtPercentile(p), this.h.maxValue);
  }

  /** Largest sample in µs (0 when empty). */
  maxUs(): number {
    return this.count === 0 ? 0 : this.h.maxValue;
  }

  /** Mean in µs (0 when empty). */
  meanUs(): number {
    return this.count === 0 ? 0 : this.h.mean;
  }

  /**
   * Calls `fn` for every non-empty bucket, in increasing order, with the bucket's middle value
   * (µs, HdrHistogram's median-equivalent value) and its count.
   */
  forEachBucket(fn: (valueUs: number, count: number) => void): void {
    // The JS implementation's counts array; `Histogram`'s public interface does not expose it.
    const js = this.h as unknown as {
      countsArrayLength: number;
      getCountAtIndex(index: number): number;
      valueFromIndex(index: number): number;
      medianEquivalentValue(value: number): number;
    };
    for (let i = 0; i < js.countsArrayLength; i++) {
      const count = js.getCountAtIndex(i);
      if (count > 0) fn(js.medianEquivalentValue(js.valueFromIndex(i)), count);
    }
  }

  /** The standard summary in milliseconds, rounded to the microsecond. */
  summaryMs(): LatencySummaryMs {
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      p50_ms: ms(this.percentileUs(50)),
      p90_ms: ms(this.percentileUs(90)),
      p95_ms: ms(this.percentileUs(95)),
      p99_ms: ms(this.percentileUs(99)),
      p999_ms: ms(this.percentileUs(99.9)),
      p9999_ms: ms(this.percentileUs(99.99)),
      max_ms: ms(this.maxUs()),
      mean_ms: ms(this.meanUs()),
      count: this.count,
    };
  }

  /** Compressed base64 encoding (HdrHistogram V2), readable by every HdrHistogram port. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /** Decodes a compressed base64 histogram; throws on corrupt input. */
  static decode(base64: string): LatencyHistogram {
    const h = hdr.decodeFromCompressedBase64(base64, 64, false) as Hdr;
    h.autoResize = true;
    return new LatencyHistogram(h);
  }

  /** Forgets every sample (keeps the allocation). */
  reset(): void {
    this.h.reset();
  }

  /** Frees the histogram (no-op for the JS implementation; kept for symmetry). */
  destroy(): void {
    this.h.destroy();
  }

  /** Start/end timestamps (ms since epoch) for interval logs. */
  setTimes(startMs: number, endMs: number): void {
    this.h.startTimeStampMsec = startMs;
    this.h.endTimeStampMsec = endMs;
  }
}

/** Writes an HdrHistogram interval log (the `.hlog` format read by HistogramLogProcessor). */
export class IntervalLogWriter {
  #lines: string[] = [];
  readonly #startMs: number;

  constructor(startMs: number, comment: string) {
    this.#startMs = startMs;
    this.#lines.push(`#[${comment.replaceAll("\n", " ")}]`);
    this.#lines.push(
      `#[StartTime: ${(startMs / 1000).toFixed(3)} (seconds since epoch), ${
        new Date(startMs).toISOString()
      }]`,
    );
    this.#lines.push(`#[BaseTime: ${(startMs / 1000).toFixed(3)} (seconds since epoch)]`);
    this.#lines.push(`#[MaxValueDivisor: 1000.0]`);
    this.#lines.push(
      `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`,
    );
  }

  /**
   * Adds one interval: start offset and length in seconds, its max in ms and its histogram (µs)
   * already encoded with `LatencyHistogram.encode()`.
   */
  add(
    offsetSeconds: number,
    lengthSeconds: number,
    maxMs: number,
    encoded: string,
    tag?: string,
  ): void {
    const prefix = tag ? `Tag=${tag},` : "";
    this.#lines.push(
      `${prefix}${offsetSeconds.toFixed(3)},${lengthSeconds.toFixed(3)},${
        maxMs.toFixed(3)
      },${encoded}`,
    );
  }

  /** The whole log text. */
  text(): string {
    return this.#lines.join("\n") + "\n";
  }

  /** Start time given at construction. */
  get startMs(): number {
    return this.#startMs;
  }
}

/**
 * The `.hlog` text of a measured window: StartTime is the window's start (`windowStartEpochMs`),
 * the instant the interval offsets (`second`) count from, so a log processor places every
 * interval at its true wall-clock time; intervals in order of their second.
 *
 * @example
 * ```ts
 * import { equal, match } from "node:assert/strict";
 * import { intervalLogText } from "./histogram.ts";
 * const s = { count: 0, errors: 0, p50_ms: 0, p99_ms: 0, completed: 0, histogram: "" };
 * const text = intervalLogText(1_700_000_001_500, "demo", [
 *   { ...s, second: 1, max_ms: 2 },
 *   { ...s, second: 0, max_ms: 1 },
 * ]);
 * match(text, /^#\[StartTime: 1700000001\.500 /m);
 * equal(text.trimEnd().split("\n").slice(-2)[0], "0.000,1.000,1.000,");
 * ```
 */
export function intervalLogText(
  windowStartEpochMs: number,
  comment: string,
  intervals: readonly Pick<IntervalSummary, "second" | "max_ms" | "histogram">[],
): string {
  const w = new IntervalLogWriter(windowStartEpochMs, comment);
  for (const i of [...intervals].sort((a, b) => a.second - b.second)) {
    w.add(i.second, 1, i.max_ms, i.histogram);
  }
  return w.text();
}
