/**
 * The runs of one `m17_check` invocation (`--runs N`) under SIGINT/SIGTERM: the first signal
 * stops the run in progress, which still writes what it measured; a second one kills the
 * target and leaves.
 * @module
 */
import { type CheckOptions, runCheck } from "../run/check.ts";
import { RunLog } from "../run/run_log.ts";
import { renderRunHtml } from "../render/html_run.ts";
import { EXIT } from "../shared/errors.ts";
import { stopAll } from "../target/process.ts";
import { releaseOpenClaimsSync } from "../report/files.ts";

type Signal = "SIGINT" | "SIGTERM";

const SIGNAL_EXIT: Record<Signal, number> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm };

/** Runs `o.runCount` checks one after the other; returns the exit code. */
export async function runChecks(o: CheckOptions): Promise<number> {
  const controller = new AbortController();
  let received: Signal | null = null;
  const onSignal = (sig: Signal) => () => {
    if (received) {
      // Second signal: kill the servers now (SIGKILL after 0.5 s); the run then winds up at
      // once, and if it does not within a second, leave without it.
      console.error(`\nm17_check: second ${sig}: killing the target and leaving`);
      const code = SIGNAL_EXIT[received];
      stopAll(500).finally(() =>
        setTimeout(() => {
          releaseOpenClaimsSync();
          Deno.exit(code);
        }, 1000)
      );
      return;
    }
    received = sig;
    console.error(
      `\nm17_check: ${sig} received: stopping the run, the target and writing what was measured`,
    );
    controller.abort(sig); // the reason names the signal in the report
  };
  const handlers = { SIGINT: onSignal("SIGINT"), SIGTERM: onSignal("SIGTERM") };
  Deno.addSignalListener("SIGINT", handlers.SIGINT);
  Deno.addSignalListener("SIGTERM", handlers.SIGTERM);
  try {
    let exitCode: number = EXIT.ok;
    for (let i = 1; i <= o.runCount && !received; i++) {
      const outcome = await runCheck(
        { ...o, runIndex: i },
        new RunLog(o.quiet),
        controller.signal,
        { runHtml: renderRunHtml },
      );
      if (outcome.exitCode !== EXIT.ok) exitCode = outcome.exitCode;
    }
    return received ? SIGNAL_EXIT[received] : exitCode;
  } catch (e) {
    await stopAll(2000);
    if (received) {
      console.error(`m17_check: interrupted (${received})`);
      return SIGNAL_EXIT[received];
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", handlers.SIGINT);
    Deno.removeSignalListener("SIGTERM", handlers.SIGTERM);
  }
}
