#!/usr/bin/env -S deno run --allow-read --allow-write --allow-env
/**
 * m17_compare: compares a task's newest `before` and `after` runs and says whether the change
 * regressed. Replaces `scripts/compare_m17_performance.sh`, with the same exit codes:
 * 0 no regression, 1 regression, 2 competitive regression, 3 bad input.
 *
 * args → find runs → load reports → statistics → verdict → render → exit code.
 * @module
 */
import { parseArgs } from "node:util";
import { defaultBaselinesPath, loadBaseline } from "./lib/baselines.ts";
import {
  comparability,
  compareRuns,
  decideVerdict,
  defaultThresholds,
  exitCodeOf,
  refuseInvalid,
  type Thresholds,
} from "./lib/compare.ts";
import { locateRuns, type Mode, readReport, validateTaskId } from "./lib/discovery.ts";
import { EXIT, messageOf, suggest, UsageError } from "./lib/errors.ts";
import { updatePerformanceLog } from "./lib/perflog.ts";
import { ANSI, PLAIN, renderJson, renderMarkdown, renderTerminal, useColor } from "./lib/render.ts";
import { VERSION } from "./lib/version.ts";

/** `--help` text. */
export const HELP = `m17_compare ${VERSION}: compare a task's before and after performance runs

Usage: m17_compare <task> [--competitive] [options]
       deno task compare 001 [--competitive]

Finds the newest [competitive_]<task>_before_*.json and <task>_after_*.json reports in the
results directory, prints a before/after table and a PERFORMANCE_LOG.md summary, and exits
0 (no regression), 1 (regression), 2 (competitive regression) or 3 (bad input).

Options:
  --competitive               compare the competitive runs, thresholds 10%, and position the
                              after run against a competitor baseline (exit 2 on regression)
  --before FILE               use this before report instead of the newest one
  --after FILE                use this after report instead of the newest one
  --dir D                     results directory (default tmp/m17_performance)
  --threshold-p99 PCT         max P99 latency increase in % (default 5, competitive 10)
  --threshold-throughput PCT  max throughput decrease in % (default 5, competitive 10)
  --baseline NAME             competitor row in baselines.toml (default neo4j)
  --baselines FILE            baselines file (default scenarios/competitive/baselines.toml
                              next to this tool)
  --json                      print the comparison as JSON
  --markdown                  print a Markdown table (for a pull request)
  --log PATH                  create or update the task's section in PERFORMANCE_LOG.md
  --task-name NAME            section name for --log (default: the existing one)
  --force                     compare runs of different workloads, scenarios or targets
  --no-color                  no ANSI colour (also when NO_COLOR is set or not a terminal)
  -h, --help                  show this help
  -V, --version               show the version

Regression: P99 latency change above +threshold, throughput change below -threshold, or more
errors than before; in competitive mode also an after P99 slower than the baseline's P99.
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
  };
}

function writeOut(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

/** Runs the comparison; returns the exit code. Bad input throws `UsageError`. */
export async function main(args: string[]): Promise<number> {
  const cli = parseCli(args);
  if (cli === "help" || cli === "version") {
    writeOut(Deno.stdout, cli === "help" ? HELP : `m17_compare ${VERSION}\n`);
    return EXIT.ok;
  }
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
  for (const w of warnings) writeOut(Deno.stderr, `m17_compare: warning: ${w}\n`);

  const comparison = compareRuns({ task: cli.task, mode: cli.mode, before, after, baseline });
  const verdict = decideVerdict(comparison, cli.thresholds);

  let logNote = "";
  if (cli.log !== undefined) {
    const done = await updatePerformanceLog(cli.log, comparison, verdict, cli.taskName);
    logNote = `${done.created ? "Added" : "Updated"} '${done.heading}' in ${cli.log}\n`;
  }
  const color = useColor({
    noColorFlag: cli.noColor,
    noColorEnv: Deno.env.get("NO_COLOR"),
    isTty: Deno.stdout.isTerminal(),
  });
  const text = cli.output === "json"
    ? renderJson(comparison, verdict, warnings)
    : cli.output === "markdown"
    ? renderMarkdown(comparison, verdict)
    : renderTerminal(comparison, verdict, color ? ANSI : PLAIN);
  writeOut(Deno.stdout, text);
  // The log note follows the report on a terminal; it must not corrupt JSON or Markdown output.
  if (logNote && cli.output === "terminal") writeOut(Deno.stdout, `\n${logNote}`);
  else if (logNote) writeOut(Deno.stderr, logNote);
  return exitCodeOf(verdict);
}

if (import.meta.main) {
  // `deno task` runs in the directory of deno.json; relative paths mean the caller's directory.
  const initCwd = Deno.env.get("INIT_CWD");
  if (initCwd) Deno.chdir(initCwd);
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    writeOut(Deno.stderr, `m17_compare: ${messageOf(e)}\n`);
    Deno.exit(EXIT.usage);
  }
}
