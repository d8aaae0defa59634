/**
 * m17_check: runs the deterministic open-loop load test of a task's before/after phase and
 * writes the report and its sibling files to tmp/m17_performance/.
 *
 *   m17_check <task> [before|after] [--competitive] [options]
 *   m17_check <task> confirm [options]     (lib/cli/confirm.ts)
 *   m17_check milestone confirm [options]  (lib/cli/milestone_confirm.ts)
 *   m17_check builds [list|prune]          (lib/cli/builds.ts)
 *
 * Drop-in for the old `scripts/m17_performance_check.sh`. Each run (lib/run/check.ts `runCheck`):
 * scenario → target up → preload → warm-up → measured run → artifacts → target down.
 * Exit codes: 0 a valid report was written; 1 the run failed or is invalid; 3 usage or
 * configuration error; 70 internal error (a bug); 129/130/143 interrupted (SIGHUP/INT/TERM).
 * @module
 */
import { restoreCallerCwd } from "./lib/cli/cwd.ts";
import { CHECK_USAGE, checkVerb, parseCheckArgs } from "./lib/cli/check_args.ts";
import { buildsCommand } from "./lib/cli/builds.ts";
import { confirmCommand } from "./lib/cli/confirm.ts";
import { milestoneConfirmCommand } from "./lib/cli/milestone_confirm.ts";
import { MILESTONE_TASK } from "./lib/report/files.ts";
import { diagCommand } from "./lib/cli/diag_args.ts";
import { installCommand, uninstallCommand } from "./lib/cli/install_args.ts";
import { runChecks } from "./lib/cli/run_checks.ts";
import { snapshotsCommand } from "./lib/cli/snapshots_args.ts";
import { checkoutToMeasure } from "./lib/run/steps.ts";
import { checkCpuLists } from "./lib/run/pin_step.ts";
import { failure } from "./lib/cli/exit.ts";
import { dryRunText } from "./lib/workload/dry_run.ts";
import { prepareScenario } from "./lib/workload/prepare.ts";
import { versionLine } from "./lib/shared/build_info.ts";
import { EXIT } from "./lib/shared/errors.ts";

/** Runs `m17_check` with `argv`; returns the exit code. Bad input throws `UsageError`. */
async function main(argv: string[]): Promise<number> {
  const verb = checkVerb(argv);
  switch (verb.verb) {
    case "diag":
      return await diagCommand(verb.argv);
    case "install-scripts":
      return await installCommand(verb.argv);
    case "uninstall-scripts":
      return await uninstallCommand(verb.argv);
    case "snapshots":
      return await snapshotsCommand(verb.argv);
    case "builds":
      return await buildsCommand(verb.argv);
    case "confirm":
      return verb.argv[0] === MILESTONE_TASK
        ? await milestoneConfirmCommand(verb.argv)
        : await confirmCommand(verb.argv);
    case "serve": {
      const { main: serve } = await import("./lib/reference/main.ts");
      return await serve(verb.argv);
    }
    case "run":
      break;
  }
  const cmd = parseCheckArgs(verb.argv);
  switch (cmd.kind) {
    case "help":
      console.log(CHECK_USAGE);
      return EXIT.ok;
    case "version":
      console.log(await versionLine("m17_check"));
      return EXIT.ok;
    case "dry-run": {
      const engramDir = await checkoutToMeasure(cmd.options);
      await checkCpuLists(cmd.options); // a CPU list the host lacks is bad input here too
      const { scenario, path, sha256 } = await prepareScenario({
        ...cmd.options,
        scenarioDir: engramDir ?? undefined,
      });
      console.log(dryRunText(scenario, path, sha256));
      return EXIT.ok;
    }
    case "run":
      return await runChecks(cmd.options);
  }
}

if (import.meta.main) {
  restoreCallerCwd(new URL("./", import.meta.url));
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    const failed = failure("m17_check", e);
    console.error(failed.text);
    code = failed.code;
  }
  Deno.exit(code);
}
