#!/usr/bin/env -S deno run --allow-read --allow-write --allow-env
/**
 * m17_compare: compares a task's newest `before` and `after` runs and says whether the change
 * regressed. Replaces `scripts/compare_m17_performance.sh`, with the same exit codes:
 * 0 no regression, 1 regression, 2 competitive regression, 3 bad input; and 4 inconclusive
 * (`--significance` only). `--calibrate` reports the noise floor of one phase's runs instead.
 *
 * args → find runs → load reports → statistics → verdict → render → exit code.
 * @module
 */
import { restoreCallerCwd } from "./lib/cli/cwd.ts";
import { parseArgs } from "node:util";
import { defaultBaselinesPath, loadBaseline } from "./lib/verdict/baselines.ts";
import {
  comparability,
  compareRuns,
  decideVerdict,
  defaultThresholds,
  exitCodeOf,
  refuseInvalid,
  type Thresholds,
} from "./lib/verdict/compare.ts";
import {
  calibrationRuns,
  checkCommand,
  gatherRuns,
  locateRuns,
  type Mode,
  type Phase,
  readReport,
  validateTaskId,
} from "./lib/verdict/discovery.ts";
import { EXIT, messageOf, suggest, UsageError } from "./lib/shared/errors.ts";
import { takeOutputArgs, writeOutputFiles } from "./lib/render/export.ts";
import { updatePerformanceLog } from "./lib/render/perflog.ts";
import { compareSparklineLines, isUnicodeTerminal, terminalEnv } from "./lib/render/sparkline.ts";
import {
  ANSI,
  noiseFloorWarnings,
  PLAIN,
  renderCalibration,
  renderCalibrationJson,
  renderJson,
  renderMarkdown,
  renderTerminal,
  type Style,
  useColor,
} from "./lib/render/terminal.ts";
import { calibrate, MIN_NOISE_RUNS } from "./lib/verdict/significance.ts";
import { VERSION } from "./lib/shared/version.ts";
import { versionLine } from "./lib/shared/build_info.ts";

/** `--help` text. */
export const HELP = `m17_compare ${VERSION}: compare a task's before and after performance runs

Usage: m17_compare <task> [--competitive] [--significance] [options]
       m17_compare <task> --calibrate [--phase before|after] [--competitive]
       deno task compare 001 [--competitive]

Finds the newest [competitive_]<task>_before_*.json and <task>_after_*.json reports in the
results directory (with all runs of their check --runs group), prints a before/after table
with 95% intervals or per-run tests and a PERFORMANCE_LOG.md summary, and exits 0 (no
regression), 1 (regression), 2 (competitive regression), 3 (bad input) or 4 (inconclusive:
over the threshold but not significant; --significance only).

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
  --significance              a change over the threshold is a regression only when it is
                              significant (95% interval excludes 0 with one run per side;
                              one-sided Mann-Whitney p <= 0.05 with repeated runs); otherwise
                              the verdict is INCONCLUSIVE, exit 4
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
  -h, --help                  show this help
  -V, --version               show the version

Regression: P99 latency change above +threshold, throughput change below -threshold, or more
errors than before; in competitive mode also an after P99 slower than the baseline's P99.
With several runs per side (check --runs N) each side's values are per-run medians.
`;

/** Parsed command line. */
interface Options {
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
  significance: boolean;
  /** The phase to calibrate on (`--calibrate`), else undefined. */
  calibrate?: Phase;
}

const OPTION_SPEC = {
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
  significance: { type: "boolean" },
  calibrate: { type: "boolean" },
  phase: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

function parsePercent(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?%?$/.test(value.trim())) {
    throw new UsageError(`--${flag} needs a non-negative number of percent, got '${value}'`);
  }
  return Number(value.trim().replace(/%$/, ""));
}

function parseCli(args: string[]): Options | "help" | "version" {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTION_SPEC, allowPositionals: true, strict: true });
  } catch (e) {
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(messageOf(e));
    if (unknown) {
      const hint = suggest(unknown[1].replace(/^-+/, ""), Object.keys(OPTION_SPEC));
      throw new UsageError(
        `unknown option ${unknown[1]}${hint ? ` (did you mean --${hint}?)` : ""}; see --help`,
      );
    }
    throw new UsageError(`${messageOf(e)}; see --help`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return "help";
  if (v.version) return "version";
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
  const defaults = defaultThresholds(mode);
  return {
    task: validateTaskId(positionals[0]),
    mode,
    before: v.before,
    after: v.after,
    dir: v.dir ?? "tmp/m17_performance",
    thresholds: {
      p99Pct: parsePercent("threshold-p99", v["threshold-p99"], defaults.p99Pct),
      throughputPct: parsePercent(
        "threshold-throughput",
        v["threshold-throughput"],
        defaults.throughputPct,
      ),
    },
    baseline: v.baseline ?? "neo4j",
    baselinesPath: v.baselines ?? defaultBaselinesPath(),
    output: v.json ? "json" : v.markdown ? "markdown" : "terminal",
    log: v.log,
    taskName: v["task-name"],
    force: v.force ?? false,
    noColor: v["no-color"] ?? false,
    significance: v.significance ?? false,
    calibrate: v.calibrate ? (v.phase as Phase | undefined) ?? "before" : undefined,
  };
}

/** ANSI colour only on a terminal, without NO_COLOR or --no-color. */
function styleFor(cli: Options): Style {
  const color = useColor({
    noColorFlag: cli.noColor,
    noColorEnv: Deno.env.get("NO_COLOR"),
    isTty: Deno.stdout.isTerminal(),
  });
  return color ? ANSI : PLAIN;
}

function writeOut(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

/** Runs the comparison; returns the exit code. Bad input throws `UsageError`. */
export async function main(args: string[]): Promise<number> {
  const outputs = takeOutputArgs(args);
  const cli = parseCli(outputs.args);
  if (cli === "help" || cli === "version") {
    writeOut(Deno.stdout, cli === "help" ? HELP : `${await versionLine("m17_compare")}\n`);
    return EXIT.ok;
  }
  if (cli.calibrate && (outputs.html !== null || outputs.exports.length > 0)) {
    throw new UsageError(
      "--html and --export write a comparison; they do not apply to --calibrate",
    );
  }
  if (cli.calibrate) return await runCalibration(cli, cli.calibrate);
  const baseline = cli.mode === "competitive"
    ? await loadBaseline(cli.baselinesPath, cli.baseline)
    : null;

  const paths = await locateRuns(cli);
  const before = await readReport(paths.before);
  const after = await readReport(paths.after);
  refuseInvalid(before, cli.task, "before", cli.mode);
  refuseInvalid(after, cli.task, "after", cli.mode);
  const { problems, warnings } = comparability(before, after, cli.mode);
  if (problems.length > 0 && !cli.force) {
    throw new UsageError(
      `${problems.join("; ")}; refusing to compare (use --force to compare anyway)`,
    );
  }
  warnings.push(...problems.map((p) => `${p} (compared anyway because of --force)`));
  const runs = await gatherRuns(cli, { before, after });
  for (const [phase, list] of [["before", runs.before], ["after", runs.after]] as const) {
    for (const run of list) refuseInvalid(run, cli.task, phase, cli.mode);
  }
  warnings.push(...runs.warnings);

  const comparison = compareRuns({ task: cli.task, mode: cli.mode, before, after, runs, baseline });
  const verdict = decideVerdict(comparison, cli.thresholds, { significance: cli.significance });
  warnings.push(...noiseFloorWarnings(comparison, cli.thresholds));
  for (const w of warnings) writeOut(Deno.stderr, `m17_compare: warning: ${w}\n`);

  let logNote = "";
  if (cli.log !== undefined) {
    const done = await updatePerformanceLog(cli.log, comparison, verdict, cli.taskName);
    logNote = `${done.created ? "Added" : "Updated"} '${done.heading}' in ${cli.log}\n`;
  }
  const written = await writeOutputFiles({
    outputs,
    dir: cli.dir,
    comparison,
    verdict,
    before,
    after,
    warnings,
  });
  for (const line of written) logNote += `${line}\n`;
  const style = styleFor(cli);
  const text = cli.output === "json"
    ? renderJson(comparison, verdict, warnings)
    : cli.output === "markdown"
    ? renderMarkdown(comparison, verdict)
    : renderTerminal(comparison, verdict, style, {
      afterTable: compareSparklineLines(before, after, isUnicodeTerminal(terminalEnv())),
    });
  writeOut(Deno.stdout, text);
  // The log note follows the report on a terminal; it must not corrupt JSON or Markdown output.
  if (logNote && cli.output === "terminal") writeOut(Deno.stdout, `\n${logNote}`);
  else if (logNote) writeOut(Deno.stderr, logNote);
  return exitCodeOf(verdict);
}

/** `--calibrate`: the noise floor of one phase's runs; exit 0, or 3 with too few runs. */
async function runCalibration(cli: Options, phase: Phase): Promise<number> {
  const { runs, source } = await calibrationRuns(
    cli.dir,
    cli.task,
    phase,
    cli.mode,
    MIN_NOISE_RUNS,
  );
  const calibration = calibrate({
    task: cli.task,
    phase,
    source,
    runs,
    thresholds: cli.thresholds,
  });
  if (calibration === null) {
    throw new UsageError(
      `calibration needs at least ${MIN_NOISE_RUNS} valid runs of one build with non-zero ` +
        `values; found ${runs.length} comparable '${phase}' run${runs.length === 1 ? "" : "s"} ` +
        `in ${cli.dir}; run: ${checkCommand(cli.task, phase, cli.mode)} --runs 5`,
    );
  }
  const style = styleFor(cli);
  writeOut(
    Deno.stdout,
    cli.output === "json"
      ? renderCalibrationJson(calibration)
      : renderCalibration(calibration, style),
  );
  return EXIT.ok;
}

if (import.meta.main) {
  restoreCallerCwd(new URL("./", import.meta.url));
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    writeOut(Deno.stderr, `m17_compare: ${messageOf(e)}\n`);
    Deno.exit(EXIT.usage);
  }
}
