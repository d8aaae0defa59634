/**
 * `m17_compare`'s command line: its help, its options and the report-file flags
 * (`--html [FILE]`, `--export FORMAT FILE`), which `node:util` parseArgs cannot express (an
 * optional value; two values) and are taken out before it runs.
 * @module
 */
import { defaultBaselinesPath } from "../verdict/baselines.ts";
import { defaultThresholds } from "../verdict/verdict.ts";
import type { Thresholds } from "../verdict/types.ts";
import type { Mode, Phase } from "../report/schema.ts";
import { validateTaskId } from "../report/files.ts";
import { EXPORT_FORMATS, type ExportFormat, type OutputArgs } from "../render/export.ts";
import { UsageError } from "../shared/errors.ts";
import { oneLine } from "../shared/sanitize.ts";
import { VERSION } from "../shared/version.ts";
import { parseFlags, percent } from "./flags.ts";

/** The competitor baseline compare positions against unless `--baseline` says otherwise. */
export const DEFAULT_BASELINE = "neo4j";

/** `m17_compare --help`. */
export const COMPARE_HELP =
  `m17_compare ${VERSION}: compare a task's before and after performance runs

Usage: m17_compare <task> [--competitive] [--significance] [options]
       m17_compare <task> --calibrate [--phase before|after] [--competitive]
       deno task compare 001 [--competitive]

Finds the newest [competitive_]<task>_before_*.json and <task>_after_*.json reports in the
results directory (with all runs of their check --runs group or confirm session), prints a
before/after table with 95% intervals or per-run evidence and a PERFORMANCE_LOG.md summary, and
exits 0 (no regression), 1 (regression; on one pair of runs worded as unconfirmed),
2 (competitive regression), 3 (bad input, or a --log/--html/--export file that could not be
written) or 4 (inconclusive: repeated runs not decided yet, or --significance); 70 is an internal
error (a bug, printed with its stack), never a verdict. Every output file is checked before any
is written or the verdict shown.

Repeated runs (a confirm session, paired by pair; or check --runs groups) are judged by one
sequential rule, valid however often it is looked at: a regression when the change in medians is
past the threshold and the always-valid one-sided p <= 0.05; a pass when the always-valid 95%
bound rules out every change past the threshold; otherwise inconclusive. Every such verdict says
what the evidence rules out ("P99 regressions above +3.8% are ruled out (95%)").

       m17_compare --history [--budget-p99 PCT] [--budget-throughput PCT] [--log PATH]

Options:
  --competitive               compare the competitive runs, thresholds 10%, and position the
                              after run against a competitor baseline (exit 2 on regression)
  --before FILE               use this before report (one run) instead of the newest run(s)
  --after FILE                use this after report (one run) instead of the newest run(s)
  --dir D                     results directory (default tmp/m17_performance)
  --threshold-p99 PCT         max P99 latency increase in % (default 5, competitive 10)
  --threshold-throughput PCT  max throughput decrease in % (default 5, competitive 10)
  --baseline NAME             competitor row in baselines.toml (default neo4j)
  --baselines FILE            baselines file (default scenarios/competitive/baselines.toml
                              next to this tool)
  --json                      print the comparison as JSON
  --markdown                  print a Markdown table (for a pull request)
  --significance              one run per side: a change over the threshold is a regression
                              only when its whole within-run 95% interval is past the
                              threshold; otherwise INCONCLUSIVE, exit 4 (repeated runs always
                              use the sequential rule)
  --calibrate                 report the noise floor of >= 3 runs of one phase (one check
                              --runs group, else all its reports) and whether the thresholds
                              are above it; exit 0, or 3 with fewer than 3 runs
  --phase before|after        the phase --calibrate measures (default before)
  --html [FILE.html]          also write a self-contained HTML report (plots, definitions)
                              to FILE.html (or --html=FILE), default
                              <dir>/[competitive_]<task>_compare.html
  --export bmf|gab FILE       also write the after run for Bencher (bmf: Bencher Metric
                              Format, latencies in ns) or github-action-benchmark (gab:
                              customSmallerIsBetter, latencies in ms and error rate only);
                              may be given twice, once per format
  --log PATH                  create or update the task's section in PERFORMANCE_LOG.md
  --task-name NAME            section name for --log (default: the existing one)
  --force                     compare runs of different workloads, scenarios or targets
  --no-color                  no ANSI colour (also when NO_COLOR is set or not a terminal)
  --ascii                     [OK]/[WARN] instead of ✓/⚠ on screen and in --log (also when
                              the locale, LC_ALL/LC_CTYPE/LANG, is not UTF-8)
  --history                   the milestone's history instead of one task: every task's
                              before -> after step (reports in --dir; PERFORMANCE_LOG.md
                              figures where reports are gone), the cumulative change from the
                              first before run to the latest after run against the budget,
                              change points over all runs, runs that are not comparable
                              excluded; exit 1 past the budget (2: competitive series only)
  --budget-p99 PCT            milestone budget for the cumulative P99 increase (--history;
                              default 5, competitive series 10)
  --budget-throughput PCT     milestone budget for the cumulative throughput decrease
                              (--history; default 5, competitive series 10)
  -h, --help                  show this help
  -V, --version               show the version

Regression: P99 latency change above +threshold, throughput change below -threshold, or more
errors than before; in competitive mode also an after P99 slower than the baseline's P99.
With several runs per side (check --runs N) each side's values are per-run medians.
`;

/** A parsed comparison command line. */
export interface CompareOptions {
  task: string;
  mode: Mode;
  before?: string;
  after?: string;
  dir: string;
  thresholds: Thresholds;
  baseline: string;
  baselinesPath: string;
  output: "terminal" | "json" | "markdown";
  log?: string;
  taskName?: string;
  force: boolean;
  noColor: boolean;
  /** `--ascii`: [OK]/[WARN] glyphs (the entrypoint also applies them for a non-UTF-8 locale). */
  ascii: boolean;
  significance: boolean;
  /** The phase to calibrate on (`--calibrate`), else undefined. */
  calibrate?: Phase;
  /** The report files to write besides the output (`--html`, `--export`). */
  outputs: OutputArgs;
}

const COMPARE_FLAGS = {
  competitive: { type: "boolean" },
  before: { type: "string" },
  after: { type: "string" },
  dir: { type: "string" },
  "threshold-p99": { type: "string" },
  "threshold-throughput": { type: "string" },
  baseline: { type: "string" },
  baselines: { type: "string" },
  json: { type: "boolean" },
  markdown: { type: "boolean" },
  log: { type: "string" },
  "task-name": { type: "string" },
  force: { type: "boolean" },
  "no-color": { type: "boolean" },
  ascii: { type: "boolean" },
  significance: { type: "boolean" },
  calibrate: { type: "boolean" },
  phase: { type: "string" },
  // --history (lib/cli/history.ts)
  history: { type: "boolean" },
  "budget-p99": { type: "string" },
  "budget-throughput": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

/** A parsed compare command line. */
export type CompareCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "compare"; options: CompareOptions }
  | { kind: "history"; options: HistoryOptions };

/** Parses `m17_compare`'s command line (throws UsageError). */
export function parseCompareArgs(argv: string[]): CompareCommand {
  const { args, html, exports } = takeOutputArgs(argv);
  const { values: v, positionals } = parseFlags(args, COMPARE_FLAGS);
  if (v.help) return { kind: "help" };
  if (v.version) return { kind: "version" };
  if (v.history) return { kind: "history", options: historyOptions(v, positionals, html, exports) };
  for (const flag of ["budget-p99", "budget-throughput"] as const) {
    if (v[flag] !== undefined) throw new UsageError(`--${flag} only applies with --history`);
  }
  if (positionals.length === 0) {
    throw new UsageError("no task given; usage: m17_compare <task> [--competitive] (see --help)");
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `unexpected argument '${positionals[1]}'; usage: m17_compare <task> [--competitive]`,
    );
  }
  const mode: Mode = v.competitive ? "competitive" : "internal";
  if (mode === "internal" && (v.baseline !== undefined || v.baselines !== undefined)) {
    throw new UsageError("--baseline and --baselines only apply with --competitive");
  }
  if (v.json && v.markdown) throw new UsageError("--json and --markdown cannot be combined");
  if (v["task-name"] !== undefined && v.log === undefined) {
    throw new UsageError("--task-name only applies with --log PATH");
  }
  if (v.phase !== undefined && !v.calibrate) {
    throw new UsageError("--phase only applies with --calibrate");
  }
  if (v.phase !== undefined && v.phase !== "before" && v.phase !== "after") {
    throw new UsageError(`--phase needs before or after, got '${v.phase}'`);
  }
  const notWithCalibrate = ["before", "after", "log", "markdown", "significance"] as const;
  const clash = notWithCalibrate.find((flag) => v[flag] !== undefined);
  if (v.calibrate && clash) throw new UsageError(`--calibrate and --${clash} cannot be combined`);
  if (v.calibrate && (html !== null || exports.length > 0)) {
    throw new UsageError(
      "--html and --export write a comparison; they do not apply to --calibrate",
    );
  }
  const defaults = defaultThresholds(mode);
  return {
    kind: "compare",
    options: {
      task: validateTaskId(positionals[0]),
      mode,
      before: v.before,
      after: v.after,
      dir: v.dir ?? "tmp/m17_performance",
      thresholds: {
        p99Pct: percent("threshold-p99", v["threshold-p99"]) ?? defaults.p99Pct,
        throughputPct: throughputThreshold(v["threshold-throughput"]) ?? defaults.throughputPct,
      },
      baseline: v.baseline ?? DEFAULT_BASELINE,
      baselinesPath: v.baselines ?? defaultBaselinesPath(),
      output: v.json ? "json" : v.markdown ? "markdown" : "terminal",
      log: v.log,
      // A section heading is one line: a newline or escape sequence in the name must not forge one.
      taskName: v["task-name"] === undefined ? undefined : oneLine(v["task-name"], 200),
      force: v.force ?? false,
      noColor: v["no-color"] ?? false,
      ascii: v.ascii ?? false,
      significance: v.significance ?? false,
      calibrate: v.calibrate ? (v.phase as Phase | undefined) ?? "before" : undefined,
      outputs: { html, exports },
    },
  };
}

/** A parsed `--history` command line. */
export interface HistoryOptions {
  dir: string;
  /** PERFORMANCE_LOG.md to read for tasks whose reports are gone (`--log`), else the default. */
  log: string | undefined;
  /** Budget overrides; each series defaults to its compare thresholds (5%, competitive 10%). */
  budget: { p99Pct?: number; throughputPct?: number };
  output: "terminal" | "json" | "markdown";
  /** `--html [FILE]`: true for the default `<dir>/history.html`. */
  html: string | true | null;
  noColor: boolean;
  ascii: boolean;
}

/** The `--history` options; flags of one task's comparison are refused. */
function historyOptions(
  v: ReturnType<typeof parseFlags<typeof COMPARE_FLAGS>>["values"],
  positionals: string[],
  html: string | true | null,
  exports: OutputArgs["exports"],
): HistoryOptions {
  if (positionals.length > 0) {
    throw new UsageError(
      `--history reads every task in --dir; remove the task '${positionals[0]}'`,
    );
  }
  const oneTask = [
    "competitive",
    "before",
    "after",
    "threshold-p99",
    "threshold-throughput",
    "baseline",
    "baselines",
    "task-name",
    "force",
    "significance",
    "calibrate",
    "phase",
  ] as const;
  const clash = oneTask.find((flag) => v[flag] !== undefined);
  if (clash) throw new UsageError(`--history and --${clash} cannot be combined`);
  if (exports.length > 0) throw new UsageError("--history and --export cannot be combined");
  if (v.json && v.markdown) throw new UsageError("--json and --markdown cannot be combined");
  return {
    dir: v.dir ?? "tmp/m17_performance",
    log: v.log,
    budget: {
      p99Pct: percent("budget-p99", v["budget-p99"]),
      throughputPct: percent("budget-throughput", v["budget-throughput"]),
    },
    output: v.json ? "json" : v.markdown ? "markdown" : "terminal",
    html,
    noColor: v["no-color"] ?? false,
    ascii: v.ascii ?? false,
  };
}

/** The report-file flags taken out of a command line, and the rest for parseArgs. */
export interface TakenOutputArgs extends OutputArgs {
  args: string[];
}

const HTML_FILE = /\.html?$/i;

/**
 * Removes `--html [FILE]` and `--export FORMAT FILE` from `args`. `--html` takes the next
 * argument as its file only when it ends in `.html`/`.htm` (`--html=FILE` always does), so
 * `--html 001` still reads 001 as the task. Everything after `--` is left alone.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { takeOutputArgs } from "./compare_args.ts";
 *
 * deepStrictEqual(takeOutputArgs(["001", "--html", "--export", "bmf", "out.json"]), {
 *   args: ["001"],
 *   html: true,
 *   exports: [{ format: "bmf", path: "out.json" }],
 * });
 * ```
 */
export function takeOutputArgs(args: string[]): TakenOutputArgs {
  const rest: string[] = [];
  let html: string | true | null = null;
  const exports: OutputArgs["exports"] = [];
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
      if (format === undefined || !isExportFormat(format)) {
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
      exports.push({ format, path });
      continue;
    }
    rest.push(arg);
  }
  return { args: rest, html, exports };
}

function isExportFormat(text: string): text is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(text);
}

/**
 * `--threshold-throughput`: a percentage below 100. A throughput cannot fall by 100% or more,
 * so such a threshold could never flag a regression: a number that cannot be meant.
 */
function throughputThreshold(text: string | undefined): number | undefined {
  const pct = percent("threshold-throughput", text);
  if (pct !== undefined && pct >= 100) {
    throw new UsageError(
      `--threshold-throughput ${text}: a throughput cannot fall by 100% or more, so this never ` +
        `flags a regression; use a value below 100 (default 5, competitive 10)`,
    );
  }
  return pct;
}
