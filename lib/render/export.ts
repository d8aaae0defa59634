/**
 * Exports of a comparison's after run for continuous-benchmarking services, and the compare
 * command-line flags that write report files (`--html [FILE]`, `--export FORMAT FILE`), which
 * `node:util` parseArgs cannot express (an optional value; two values).
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
 * bound / 100), the after values consistent with that interval.
 *
 * @example
 * ```ts
 * import { takeOutputArgs } from "./export.ts";
 * const o = takeOutputArgs(["001", "--html", "--export", "bmf", "out.json"]);
 * console.assert(o.args.join(" ") === "001" && o.html === true);
 * console.assert(o.exports[0].format === "bmf" && o.exports[0].path === "out.json");
 * ```
 * @module
 */
import { dirname } from "node:path";
import { match } from "ts-pattern";
import { writeFileAtomic } from "../shared/atomic.ts";
import type { Comparison, MetricChange } from "../verdict/compare.ts";
import { messageOf, UsageError } from "../shared/errors.ts";
import { type CompareHtmlInput, defaultHtmlPath, renderCompareHtml } from "./html.ts";
import { formatChange } from "./terminal.ts";
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

/** The report-file flags taken out of the command line, and the rest for parseArgs. */
export interface OutputArgs {
  args: string[];
  /** `true` for `--html` alone (default path), a path for `--html FILE.html`, null without. */
  html: string | true | null;
  exports: ExportRequest[];
}

const HTML_FILE = /\.html?$/i;

/**
 * Removes `--html [FILE]` and `--export FORMAT FILE` from `args`. `--html` takes the next
 * argument as its file only when it ends in `.html`/`.htm` (`--html=FILE` always does), so
 * `--html 001` still reads 001 as the task. Everything after `--` is left alone.
 */
export function takeOutputArgs(args: string[]): OutputArgs {
  const rest: string[] = [];
  let html: string | true | null = null;
  const exports: ExportRequest[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (arg === "--html" || arg.startsWith("--html=")) {
      if (html !== null) throw new UsageError("--html given twice");
      if (arg.startsWith("--html=")) {
        html = arg.slice("--html=".length);
        if (html === "") throw new UsageError("--html= needs a file name");
      } else if (i + 1 < args.length && HTML_FILE.test(args[i + 1])) {
        html = args[++i];
      } else {
        html = true;
      }
      continue;
    }
    if (arg === "--export" || arg.startsWith("--export=")) {
      const inline = arg.startsWith("--export=") ? arg.slice("--export=".length) : null;
      const format = inline ?? args[++i];
      const path = args[++i];
      if (format === undefined || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(
          `--export needs a format and a file: --export bmf FILE or --export gab FILE` +
            (format === undefined ? "" : ` (got format '${format}')`),
        );
      }
      if (path === undefined || path === "" || path.startsWith("-")) {
        throw new UsageError(`--export ${format} needs a file name (--export ${format} FILE)`);
      }
      if (exports.some((e) => e.format === format)) {
        throw new UsageError(`--export ${format} given twice`);
      }
      if (exports.some((e) => e.path === path)) {
        throw new UsageError(`--export bmf and --export gab cannot write the same file ${path}`);
      }
      exports.push({ format: format as ExportFormat, path });
      continue;
    }
    rest.push(arg);
  }
  return { args: rest, html, exports };
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

/** The headline latencies exported, with their measure slugs. */
const LATENCY_SLUGS = [
  ["p50", "p50-latency"],
  ["p95", "p95-latency"],
  ["p99", "p99-latency"],
  ["p999", "p999-latency"],
] as const;

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
  for (const [id, slug] of LATENCY_SLUGS) {
    const m = afterWithBounds(c.metrics[id], NS_PER_MS);
    if (m) overall[slug] = m;
  }
  const throughput = afterWithBounds(c.metrics.throughput, 1);
  if (throughput) overall["throughput"] = throughput;
  const errorRate = c.metrics.error_rate.after;
  if (errorRate !== null) overall["error-rate"] = { value: errorRate * 100 };
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
    entry.range = `${lo} to ${hi} ${unit} (95% CI)`;
  }
  const before = m.before === null ? "n/a" : `${round(m.before * scale)} ${unit}`;
  entry.extra = `before: ${before}; change: ${formatChange(m.changePct)}` +
    (m.ci ? ` (95% CI ${formatChange(m.ci[0])} to ${formatChange(m.ci[1])})` : "") +
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
  const entries: (GabEntry | null)[] = LATENCY_SLUGS.map(([id, slug]) =>
    gabEntry(`${name}/${slug}`, "ms", c.metrics[id])
  );
  entries.push(gabEntry(`${name}/error-rate`, "%", c.metrics.error_rate, 100));
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

/** What `writeOutputFiles` needs: the flags, the results directory and the comparison. */
export interface OutputFilesInput extends CompareHtmlInput {
  outputs: OutputArgs;
  /** Results directory: where `--html` without a file name writes. */
  dir: string;
}

/**
 * Writes the requested HTML report and exports, each atomically, and returns one line per
 * file written (`HTML report: <path>`). A file that cannot be written is a `UsageError`.
 */
export async function writeOutputFiles(input: OutputFilesInput): Promise<string[]> {
  const c = input.comparison;
  const files: { path: string; text: () => string; what: string }[] = [];
  const { html, exports } = input.outputs;
  if (html !== null) {
    const path = html === true ? defaultHtmlPath(input.dir, c.task, c.mode) : html;
    files.push({ path, text: () => renderCompareHtml(input), what: "HTML report" });
  }
  for (const e of exports) {
    files.push({
      path: e.path,
      text: () => renderExport(e.format, c),
      what: EXPORT_NAMES[e.format],
    });
  }
  const lines: string[] = [];
  for (const f of files) {
    const text = f.text();
    try {
      const dir = dirname(f.path);
      if (dir !== "" && dir !== ".") await Deno.mkdir(dir, { recursive: true });
      await writeFileAtomic(f.path, text);
    } catch (e) {
      throw new UsageError(`cannot write ${f.what} to ${f.path}: ${messageOf(e)}`);
    }
    lines.push(`${f.what}: ${f.path}`);
  }
  return lines;
}
