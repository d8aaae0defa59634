#!/usr/bin/env -S deno run --allow-read --allow-write --allow-env
/**
 * m17_compare: compares a task's newest `before` and `after` runs and says whether the change
 * regressed. Replaces `scripts/compare_m17_performance.sh`, with the same exit codes:
 * 0 no regression, 1 regression (unconfirmed on one pair of runs), 2 competitive regression,
 * 3 bad input; and 4 inconclusive (repeated runs not decided yet, or `--significance`); 70 is an
 * internal error (a bug, printed with its stack).
 * `--calibrate` reports the noise floor of one phase's runs instead.
 *
 * args → find runs → load reports → statistics → verdict → render → files → exit code
 * (lib/cli/compare_steps.ts).
 * @module
 */
import { restoreCallerCwd } from "./lib/cli/cwd.ts";
import { COMPARE_HELP, parseCompareArgs } from "./lib/cli/compare_args.ts";
import { runCalibration, runCompare, writeOut } from "./lib/cli/compare_steps.ts";
import { failure } from "./lib/cli/exit.ts";
import { runHistory } from "./lib/cli/history.ts";
import { versionLine } from "./lib/shared/build_info.ts";
import { EXIT } from "./lib/shared/errors.ts";

/** Runs m17_compare with `argv`; returns the exit code. Bad input throws `UsageError`. */
export async function main(argv: string[]): Promise<number> {
  const cmd = parseCompareArgs(argv);
  switch (cmd.kind) {
    case "help":
      writeOut(Deno.stdout, COMPARE_HELP);
      return EXIT.ok;
    case "version":
      writeOut(Deno.stdout, `${await versionLine("m17_compare")}\n`);
      return EXIT.ok;
    case "history":
      return await runHistory(cmd.options);
    case "compare":
      break;
  }
  const cli = cmd.options;
  if (cli.calibrate) return await runCalibration(cli, cli.calibrate);
  return await runCompare(cli);
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
