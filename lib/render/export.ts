/**
 * Exports of a comparison's after run for continuous-benchmarking services, and rendering the
 * report files asked for with compare's `--html [FILE]` and `--export FORMAT FILE` (parsed in
 * lib/cli/compare_args.ts).
 *
 * - `bmf`: Bencher Metric Format, `{ "<benchmark>": { "<measure slug>": { value, lower_value?,
 *   upper_value? } } }`. Benchmarks are `m17/<task>/<scenario>` and `m17/<task>/<scenario>/<Op>`;
 *   latencies are in **nanoseconds** (the unit of Bencher's built-in `latency` measure),
 *   throughput in operations per second (the built-in `throughput` measure), error rate in
 *   percent.
 * - `gab`: github-action-benchmark's `customSmallerIsBetter` input, an array of `{ name, unit,
 *   value, range?, extra? }`. Only smaller-is-better metrics belong there: the latencies (ms) and
 *   the error rate (%). Throughput is bigger-is-better and is exported to BMF only.
 *
 * The exported values are the after run's (the code as changed; the median of the after runs
 * when `check --runs N` repeated them). Lower/upper values (BMF) and `range` (gab) are given
 * only when the comparison carries a confidence interval of the change: before × (1 + CI
 * bound / 100), the after values consistent with that interval. Which metrics are exported, and
 * their measure slugs, come from the metric table (lib/verdict/metrics.ts).
 * @module
 */
import { match } from "ts-pattern";
import type { Comparison, MetricChange } from "../verdict/types.ts";
import { METRICS } from "../verdict/metrics.ts";
import { CONFIDENCE } from "../verdict/significance.ts";
import { type CompareHtmlInput, renderCompareHtml } from "./html.ts";
import type { PlannedOutput } from "./outputs.ts";
import { compareHtmlPath } from "../report/files.ts";
import { formatChange, formatMetricChange, markLowerBound } from "./format.ts";
import { VERSION } from "../shared/version.ts";

/** The export formats. */
export const EXPORT_FORMATS = ["bmf", "gab"] as const;
/** One export format: Bencher Metric Format or github-action-benchmark. */
export type ExportFormat = typeof EXPORT_FORMATS[number];

/** One `--export FORMAT FILE`. */
export interface ExportRequest {
  format: ExportFormat;
  path: string;
}

/** The report files asked for on the command line. */
export interface OutputArgs {
  /** `true` for `--html` alone (default path), a path for `--html FILE.html`, null without. */
  html: string | true | null;
  exports: ExportRequest[];
}

// ---------------------------------------------------------------------------------------------
// Bencher Metric Format

/** One BMF metric: a value with optional bounds. */
export interface BmfMetric {
  value: number;
  lower_value?: number;
  upper_value?: number;
}

/** A BMF document: benchmark name → measure slug → metric. */
export type Bmf = Record<string, Record<string, BmfMetric>>;

/** The exported headline metrics (those with a measure slug), in table order. */
const EXPORTED = METRICS.flatMap((m) => m.slug === null ? [] : [{ ...m, slug: m.slug }]);

/** The after value and, when the change has a CI, the after values that CI allows. */
function afterWithBounds(m: MetricChange, scale: number): BmfMetric | null {
  if (m.after === null || !Number.isFinite(m.after)) return null;
  // Nanoseconds from microsecond histograms are whole numbers; keep them so.
  const round = (v: number) => scale === NS_PER_MS ? Math.round(v) : v;
  const metric: BmfMetric = { value: round(m.after * scale) };
  if (m.ci && m.before !== null) {
    const [lo, hi] = m.ci.map((pct) => round(m.before! * (1 + pct / 100) * scale));
    metric.lower_value = Math.min(lo, hi);
    metric.upper_value = Math.max(lo, hi);
  }
  return metric;
}

const NS_PER_MS = 1e6;

/** The benchmark name of a comparison: `m17/<task>/<scenario>`. */
export function benchmarkName(c: Comparison): string {
  return `m17/${c.task}/${c.after.scenario}`;
}

/**
 * The after run in Bencher Metric Format. `latency` is the P99 response time (the number the
 * verdict judges), in nanoseconds; `p50-latency` … `p999-latency` the percentiles (ns);
 * `throughput` in ops/s; `error-rate` in percent. Each operation kind is its own benchmark
 * with `latency` and `p99-latency` (its P99, ns).
 */
export function toBmf(c: Comparison): Bmf {
  const name = benchmarkName(c);
  const overall: Record<string, BmfMetric> = {};
  const p99 = afterWithBounds(c.metrics.p99, NS_PER_MS);
  if (p99) overall["latency"] = p99;
  for (const spec of EXPORTED) {
    const m = c.metrics[spec.id];
    const metric = match(spec.unit)
      .with("ms", () => afterWithBounds(m, NS_PER_MS))
      .with("ops/s", () => afterWithBounds(m, 1))
      .with("ratio", () => m.after === null ? null : { value: m.after * 100 })
      .exhaustive();
    if (metric) overall[spec.slug] = metric;
  }
  const bmf: Bmf = { [name]: overall };
  for (const op of c.operations) {
    const m = afterWithBounds(op.p99Ms, NS_PER_MS);
    if (m) bmf[`${name}/${op.kind}`] = { "latency": m, "p99-latency": { ...m } };
  }
  return bmf;
}

// ---------------------------------------------------------------------------------------------
// github-action-benchmark (customSmallerIsBetter)

/** One entry of github-action-benchmark's custom JSON. */
export interface GabEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

function gabEntry(name: string, unit: string, m: MetricChange, scale = 1): GabEntry | null {
  if (m.after === null || !Number.isFinite(m.after)) return null;
  const round = (v: number) => Number(v.toFixed(6));
  const entry: GabEntry = { name, unit, value: round(m.after * scale) };
  if (m.ci && m.before !== null) {
    const [lo, hi] = m.ci.map((pct) => round(m.before! * (1 + pct / 100) * scale)).sort((a, b) =>
      a - b
    );
    entry.range = `${lo} to ${hi} ${unit} (${CONFIDENCE * 100}% CI)`;
  }
  // A percentile censored at the timeout: `before: ≥10000 ms`, `change: ≥+400.0%` or `censored`.
  const before = m.before === null
    ? "n/a"
    : `${markLowerBound(m, "before", String(round(m.before * scale)))} ${unit}`;
  const after = m.censored?.after ? `after: ≥${entry.value} ${unit} (a lower bound); ` : "";
  entry.extra = `before: ${before}; ${after}change: ${formatMetricChange(m)}` +
    (m.ci
      ? ` (${CONFIDENCE * 100}% CI ${formatChange(m.ci[0])} to ${formatChange(m.ci[1])})`
      : "") +
    `; m17_compare ${VERSION}`;
  return entry;
}

/**
 * The after run as github-action-benchmark `customSmallerIsBetter` entries: P50/P95/P99/P99.9
 * response time and each operation's P99 in ms, and the error rate in percent. Throughput is
 * left out (bigger is better).
 */
export function toGab(c: Comparison): GabEntry[] {
  const name = benchmarkName(c);
  // Only smaller-is-better metrics: latencies in ms, the error rate in percent.
  const entries = EXPORTED.filter((spec) => spec.worse === "higher").map((spec) =>
    match(spec.unit)
      .with("ms", () => gabEntry(`${name}/${spec.slug}`, "ms", c.metrics[spec.id]))
      .with("ratio", () => gabEntry(`${name}/${spec.slug}`, "%", c.metrics[spec.id], 100))
      .exhaustive()
  );
  for (const op of c.operations) {
    entries.push(gabEntry(`${name}/${op.kind}/p99-latency`, "ms", op.p99Ms));
  }
  return entries.filter((e): e is GabEntry => e !== null);
}

/** The file content of an export (pretty JSON). */
export function renderExport(format: ExportFormat, c: Comparison): string {
  const value = match(format)
    .with("bmf", () => toBmf(c) as unknown)
    .with("gab", () => toGab(c))
    .exhaustive();
  return JSON.stringify(value, null, 2) + "\n";
}

/** How each format is named in messages. */
export const EXPORT_NAMES: Record<ExportFormat, string> = {
  bmf: "BMF export",
  gab: "github-action-benchmark export",
};

// ---------------------------------------------------------------------------------------------
// Writing the files

/** What `renderOutputFiles` needs: the flags, the results directory and the comparison. */
export interface OutputFilesInput extends Omit<CompareHtmlInput, "profileSection"> {
  outputs: OutputArgs;
  /** Results directory: where `--html` without a file name writes. */
  dir: string;
  /**
   * The profile section of the HTML page written to `htmlPath` (its links are relative to the
   * page's directory), when the runs were profiled.
   */
  profileSection?: (htmlPath: string) => string;
}

/**
 * Renders the requested HTML report and exports; nothing is written here (lib/render/outputs.ts
 * checks every target first, then writes).
 */
export function renderOutputFiles(input: OutputFilesInput): PlannedOutput[] {
  const c = input.comparison;
  const files: PlannedOutput[] = [];
  const { html, exports } = input.outputs;
  if (html !== null) {
    const path = html === true ? compareHtmlPath(input.dir, c.task, c.mode) : html;
    const profileSection = input.profileSection?.(path);
    files.push({
      path,
      text: renderCompareHtml({ ...input, profileSection }),
      what: "HTML report",
    });
  }
  for (const e of exports) {
    files.push({ path: e.path, text: renderExport(e.format, c), what: EXPORT_NAMES[e.format] });
  }
  return files;
}
