#!/usr/bin/env -S deno run --allow-read --allow-write --allow-env
/**
 * m17_compare: compares a task's newest `before` and `after` runs and says whether the change
 * regressed. Replaces `scripts/compare_m17_performance.sh`, with the same exit codes:
 * 0 no regression, 1 regression, 2 competitive regression, 3 bad input; and 4 inconclusive
 * (`--significance` only); 70 is an internal error (a bug, printed with its stack).
 * `--calibrate` reports the noise floor of one phase's runs instead.
 *
 * args → find runs → load reports → statistics → verdict → render → exit code.
 * @module
 */
import { restoreCallerCwd } from "./lib/cli/cwd.ts";
import { COMPARE_HELP, type CompareOptions, parseCompareArgs } from "./lib/cli/compare_args.ts";
import { failure } from "./lib/cli/exit.ts";
import { compareRunProfiles } from "./lib/cli/compare_profile.ts";
import { loadBaseline } from "./lib/verdict/baselines.ts";
import { comparability, compareRuns, refuseInvalid } from "./lib/verdict/compare.ts";
import { decideVerdict, exitCodeOf } from "./lib/verdict/verdict.ts";
import { calibrationRuns, gatherRuns, locateRuns } from "./lib/verdict/discovery.ts";
import { calibrate, MIN_NOISE_RUNS } from "./lib/verdict/significance.ts";
import type { Phase } from "./lib/report/schema.ts";
import { checkCommand } from "./lib/report/files.ts";
import { startedFromEnv, toolCommands } from "./lib/cli/invocation.ts";
import { readReport } from "./lib/report/read.ts";
import { renderOutputFiles } from "./lib/render/export.ts";
import { checkOutputs, type PlannedOutput, writeOutputs } from "./lib/render/outputs.ts";
import { planPerformanceLog } from "./lib/render/perflog.ts";
import { compareSparklineLines, isUnicodeTerminal, terminalEnv } from "./lib/render/sparkline.ts";
import { ANSI, asciiGlyphs, PLAIN, type Style, useAscii, useColor } from "./lib/render/format.ts";
import { renderTerminal } from "./lib/render/terminal.ts";
import { renderCalibrationJson, renderJson } from "./lib/render/json.ts";
import { renderMarkdown } from "./lib/render/markdown.ts";
import { renderCalibration } from "./lib/render/calibration.ts";
import { noiseFloorWarnings } from "./lib/render/wording.ts";
import { versionLine } from "./lib/shared/build_info.ts";
import { EXIT, UsageError } from "./lib/shared/errors.ts";

/** Runs m17_compare with `argv`; returns the exit code. Bad input throws `UsageError`. */
export async function main(argv: string[]): Promise<number> {
  // ---- args ----
  const cmd = parseCompareArgs(argv);
  if (cmd.kind === "help") {
    writeOut(Deno.stdout, COMPARE_HELP);
    return EXIT.ok;
  }
  if (cmd.kind === "version") {
    writeOut(Deno.stdout, `${await versionLine("m17_compare")}\n`);
    return EXIT.ok;
  }
  const cli = cmd.options;
  if (cli.calibrate) return await runCalibration(cli, cli.calibrate);
  const baseline = cli.mode === "competitive"
    ? await loadBaseline(cli.baselinesPath, cli.baseline)
    : null;

  // ---- find runs, load reports ----
  const commands = toolCommands(startedFromEnv());
  const ascii = useAscii(cli.ascii, Deno.env.toObject());
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
  const runs = await gatherRuns(cli, { before, after });
  for (const [phase, list] of [["before", runs.before], ["after", runs.after]] as const) {
    for (const run of list) refuseInvalid(run, cli.task, phase, cli.mode, commands);
  }
  warnings.push(...runs.warnings);

  // ---- statistics, verdict ----
  const comparison = compareRuns({ task: cli.task, mode: cli.mode, before, after, runs, baseline });
  const verdict = decideVerdict(comparison, cli.thresholds, { significance: cli.significance });
  warnings.push(...noiseFloorWarnings(comparison, cli.thresholds, commands));
  for (const w of warnings) writeOut(Deno.stderr, `m17_compare: warning: ${w}\n`);
  const profiles = await compareRunProfiles(before, after, cli);

  // ---- render: every output checked before any is written or the verdict is shown ----
  const outputs: PlannedOutput[] = [
    ...(cli.log === undefined
      ? []
      : [await planPerformanceLog(cli.log, comparison, verdict, cli.taskName, ascii)]),
    ...renderOutputFiles({
      outputs: cli.outputs,
      dir: cli.dir,
      comparison,
      verdict,
      before,
      after,
      warnings,
      profileSection: profiles?.htmlSection,
    }),
    // The differential flame graph is one of compare's outputs like the others.
    ...(profiles?.files ?? []),
  ];
  await checkOutputs(outputs);
  const text = cli.output === "json"
    ? renderJson(comparison, verdict, warnings, profiles ? { profile: profiles.json } : {})
    : cli.output === "markdown"
    ? renderMarkdown(comparison, verdict) + (profiles ? `\n${profiles.markdown}` : "")
    : renderTerminal(comparison, verdict, styleFor(cli), {
      afterTable: compareSparklineLines(before, after, isUnicodeTerminal(terminalEnv())),
      commands,
      profile: profiles?.step,
    }) + (profiles && verdict.kind !== "pass" ? `\n${profiles.terminal}` : "");
  writeOut(Deno.stdout, ascii && cli.output !== "json" ? asciiGlyphs(text) : text);

  // ---- files, once the verdict is shown: a log entry never outlives an unshown verdict ----
  const done = await writeOutputs(outputs);
  const logNote = done.written.map((l) => `${l}\n`).join("");
  // The log note follows the report on a terminal; it must not corrupt JSON or Markdown output.
  if (logNote && cli.output === "terminal") writeOut(Deno.stdout, `\n${logNote}`);
  else if (logNote) writeOut(Deno.stderr, logNote);
  // An output that could not be written (a full disk) outranks the verdict: exit 3.
  for (const f of done.failures) writeOut(Deno.stderr, `m17_compare: ${f}\n`);
  if (done.failures.length > 0) return EXIT.usage;

  // ---- exit code ----
  return exitCodeOf(verdict);
}

/** `--calibrate`: the noise floor of one phase's runs; exit 0, or 3 with too few runs. */
async function runCalibration(cli: CompareOptions, phase: Phase): Promise<number> {
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
  writeOut(
    Deno.stdout,
    cli.output === "json"
      ? renderCalibrationJson(calibration)
      : useAscii(cli.ascii, Deno.env.toObject())
      ? asciiGlyphs(renderCalibration(calibration, styleFor(cli)))
      : renderCalibration(calibration, styleFor(cli)),
  );
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

function writeOut(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

if (import.meta.main) {
  restoreCallerCwd(new URL("./", import.meta.url));
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    // Bad input is exit 3; a crash keeps its stack and exits 70, never "bad input".
    const failed = failure("m17_compare", e, EXIT.usage);
    writeOut(Deno.stderr, `${failed.text}\n`);
    code = failed.code;
  }
  Deno.exit(code);
}
