/**
 * The steps of one `m17_compare` (m17_compare.ts runs them in this order):
 *
 *   find and load the runs → refuse what cannot be compared → statistics and verdict
 *   → plan the output files (each checked before any is written) → show the verdict
 *   → write the files → exit code.
 *
 * `runCalibration` is `--calibrate`: the noise floor of one phase's runs instead of a verdict.
 * @module
 */
import { match } from "ts-pattern";
import type { CompareOptions } from "./compare_args.ts";
import { compareRunProfiles } from "./compare_profile.ts";
import { type Baseline, loadBaseline } from "../verdict/baselines.ts";
import { comparability, compareRuns, refuseInvalid } from "../verdict/compare.ts";
import { decideVerdict, exitCodeOf } from "../verdict/verdict.ts";
import { calibrationRuns, gatherRuns, locateRuns } from "../verdict/discovery.ts";
import { calibrate, MIN_NOISE_RUNS } from "../verdict/significance.ts";
import { hostSpread } from "../verdict/spread.ts";
import type { Comparison, HostSpread, Verdict } from "../verdict/types.ts";
import type { Phase } from "../report/schema.ts";
import { checkCommand } from "../report/files.ts";
import { type LoadedReport, readReport } from "../report/read.ts";
import { startedFromEnv, toolCommands } from "./invocation.ts";
import { renderOutputFiles } from "../render/export.ts";
import {
  checkOutputs,
  type OutputsWritten,
  type PlannedOutput,
  writeOutputs,
} from "../render/outputs.ts";
import { planPerformanceLog } from "../render/perflog.ts";
import { compareSparklineLines, isUnicodeTerminal, terminalEnv } from "../render/sparkline.ts";
import { ANSI, asciiGlyphs, PLAIN, type Style, useAscii, useColor } from "../render/format.ts";
import { renderTerminal } from "../render/terminal.ts";
import { renderCalibrationJson, renderJson } from "../render/json.ts";
import { renderMarkdown } from "../render/markdown.ts";
import { renderCalibration } from "../render/calibration.ts";
import { noiseFloorWarnings } from "../render/wording.ts";
import { EXIT, UsageError } from "../shared/errors.ts";

type Commands = ReturnType<typeof toolCommands>;
type Profiles = Awaited<ReturnType<typeof compareRunProfiles>>;

/** The runs to compare, loaded and checked, and the warnings found on the way. */
interface LoadedRuns {
  before: LoadedReport;
  after: LoadedReport;
  runs: Awaited<ReturnType<typeof gatherRuns>>;
  warnings: string[];
  /** One pair of runs: the measured spread of identical runs here, when earlier runs exist. */
  spread: HostSpread | null;
}

/** A whole compare (everything but `--calibrate`); returns the exit code. */
export async function runCompare(cli: CompareOptions): Promise<number> {
  const commands = toolCommands(startedFromEnv());
  const ascii = useAscii(cli.ascii, Deno.env.toObject());
  const baseline = cli.mode === "competitive"
    ? await loadBaseline(cli.baselinesPath, cli.baseline)
    : null;
  const loaded = await loadRuns(cli, commands);
  const { comparison, verdict, warnings } = judge(cli, loaded, baseline, commands);
  for (const w of warnings) writeOut(Deno.stderr, `m17_compare: warning: ${w}\n`);
  const profiles = await compareRunProfiles(loaded.before, loaded.after, cli);
  // Every output is checked before any is written or the verdict is shown.
  const outputs = await planOutputs(
    cli,
    { comparison, verdict, warnings, profiles, ascii },
    loaded,
  );
  await checkOutputs(outputs);
  const text = renderVerdict(cli, { comparison, verdict, warnings, profiles }, loaded, commands);
  writeOut(Deno.stdout, ascii && cli.output !== "json" ? asciiGlyphs(text) : text);
  // Files once the verdict is shown: a log entry never outlives an unshown verdict.
  return sayWritten(cli, await writeOutputs(outputs), exitCodeOf(verdict));
}

/** Finds the before and after runs (and the repeated runs of each side) and refuses bad ones. */
async function loadRuns(cli: CompareOptions, commands: Commands): Promise<LoadedRuns> {
  const paths = await locateRuns({ ...cli, commands });
  const before = await readReport(paths.before);
  const after = await readReport(paths.after);
  refuseInvalid(before, cli.task, "before", cli.mode, commands);
  refuseInvalid(after, cli.task, "after", cli.mode, commands);
  const { problems, warnings } = comparability(before, after, cli);
  if (problems.length > 0 && !cli.force) {
    throw new UsageError(
      `${problems.join("; ")}; refusing to compare (use --force to compare anyway)`,
    );
  }
  warnings.push(...problems.map((p) => `${p} (compared anyway because of --force)`));
  // Invalid confirm runs passed over to find the newest: named first, and only once.
  warnings.unshift(...paths.leftOut.map((l) => l.warning));
  const leftOut = paths.leftOut.map((l) => l.path);
  const runs = await gatherRuns({ ...cli, leftOut }, { before, after });
  for (const [phase, list] of [["before", runs.before], ["after", runs.after]] as const) {
    for (const run of list) refuseInvalid(run, cli.task, phase, cli.mode, commands);
  }
  warnings.push(...runs.warnings);
  const single = runs.before.length === 1 && runs.after.length === 1;
  const spread = single ? await hostSpread(cli.dir, cli.task, cli.mode, before) : null;
  return { before, after, runs, warnings, spread };
}

/** Statistics and verdict (against the competitive baseline in competitive mode). */
function judge(
  cli: CompareOptions,
  loaded: LoadedRuns,
  baseline: Baseline | null,
  commands: Commands,
) {
  const comparison = compareRuns({ task: cli.task, mode: cli.mode, ...loaded, baseline });
  const verdict = decideVerdict(comparison, cli.thresholds, { significance: cli.significance });
  const warnings = [
    ...loaded.warnings,
    ...noiseFloorWarnings(comparison, cli.thresholds, commands),
  ];
  return { comparison, verdict, warnings };
}

/** The files compare will write (`--log`, `--html`, `--export`, the profile diff), unwritten. */
async function planOutputs(
  cli: CompareOptions,
  o: {
    comparison: Comparison;
    verdict: Verdict;
    warnings: string[];
    profiles: Profiles;
    ascii: boolean;
  },
  loaded: LoadedRuns,
): Promise<PlannedOutput[]> {
  const log = cli.log === undefined
    ? []
    : [await planPerformanceLog(cli.log, o.comparison, o.verdict, cli.taskName, o.ascii)];
  return [
    ...log,
    ...renderOutputFiles({
      outputs: cli.outputs,
      dir: cli.dir,
      comparison: o.comparison,
      verdict: o.verdict,
      before: loaded.before,
      after: loaded.after,
      warnings: o.warnings,
      profileSection: o.profiles?.htmlSection,
    }),
    // The differential flame graph is one of compare's outputs like the others.
    ...(o.profiles?.files ?? []),
  ];
}

/** The verdict as `--json`, `--markdown` or terminal text. */
function renderVerdict(
  cli: CompareOptions,
  judged: { comparison: Comparison; verdict: Verdict; warnings: string[]; profiles: Profiles },
  loaded: LoadedRuns,
  commands: Commands,
): string {
  const { comparison, verdict, warnings, profiles } = judged;
  return match(cli.output)
    .with(
      "json",
      () => renderJson(comparison, verdict, warnings, profiles ? { profile: profiles.json } : {}),
    )
    .with(
      "markdown",
      () => renderMarkdown(comparison, verdict) + (profiles ? `\n${profiles.markdown}` : ""),
    )
    .with("terminal", () => {
      const table = renderTerminal(comparison, verdict, styleFor(cli), {
        afterTable: compareSparklineLines(
          loaded.before,
          loaded.after,
          isUnicodeTerminal(terminalEnv()),
        ),
        commands,
        profile: profiles?.step,
      });
      return table + (profiles && verdict.kind !== "pass" ? `\n${profiles.terminal}` : "");
    })
    .exhaustive();
}

/**
 * Says which files were written and which were not; the exit code. A file that could not be
 * written (a full disk) is exit 3 after a pass, but never hides a regression: a regression (or
 * an inconclusive result) keeps its own exit code.
 */
function sayWritten(cli: CompareOptions, done: OutputsWritten, verdictCode: number): number {
  const notes = done.written.map((l) => `${l}\n`).join("");
  // The notes follow the report on a terminal; they must not corrupt JSON or Markdown output.
  if (notes && cli.output === "terminal") writeOut(Deno.stdout, `\n${notes}`);
  else if (notes) writeOut(Deno.stderr, notes);
  for (const f of done.failures) writeOut(Deno.stderr, `m17_compare: ${f}\n`);
  if (done.failures.length === 0 || verdictCode !== EXIT.ok) return verdictCode;
  return EXIT.usage;
}

/** `--calibrate`: the noise floor of one phase's runs; exit 0, or 3 with too few runs. */
export async function runCalibration(cli: CompareOptions, phase: Phase): Promise<number> {
  const commands = toolCommands(startedFromEnv());
  const { runs, source } = await calibrationRuns(
    cli.dir,
    cli.task,
    phase,
    cli.mode,
    MIN_NOISE_RUNS,
    commands,
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
        `in ${cli.dir}; run: ${checkCommand(cli.task, phase, cli.mode, commands)} --runs 5`,
    );
  }
  if (cli.output === "json") {
    writeOut(Deno.stdout, renderCalibrationJson(calibration));
    return EXIT.ok;
  }
  const text = renderCalibration(calibration, styleFor(cli));
  writeOut(Deno.stdout, useAscii(cli.ascii, Deno.env.toObject()) ? asciiGlyphs(text) : text);
  return EXIT.ok;
}

/** ANSI colour only on a terminal, without NO_COLOR or --no-color. */
function styleFor(cli: CompareOptions): Style {
  const color = useColor({
    noColorFlag: cli.noColor,
    noColorEnv: Deno.env.get("NO_COLOR"),
    isTty: Deno.stdout.isTerminal(),
  });
  return color ? ANSI : PLAIN;
}

/** Writes all of `text` (a pipe may take it in pieces). */
export function writeOut(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}
