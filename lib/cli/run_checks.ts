/**
 * The runs of one `m17_check` invocation (`--runs N`) under SIGINT, SIGTERM and SIGHUP (a dropped
 * SSH session): the first signal stops the run in progress, which still writes what it measured;
 * a second one kills the target, removes the claims and data dirs, and leaves at once.
 * @module
 */
import { type CheckOptions, runCheck } from "../run/check.ts";
import { RunLog } from "../run/run_log.ts";
import { renderFlameGraph } from "../render/flamegraph.ts";
import { renderRunHtml } from "../render/html_run.ts";
import { EXIT } from "../shared/errors.ts";
import { removeEngramRunDirsSync } from "../target/engram_dirs.ts";
import { stopAll } from "../target/process.ts";
import { releaseOpenClaimsSync } from "../report/files.ts";

type Signal = "SIGINT" | "SIGTERM" | "SIGHUP";

const SIGNALS: readonly Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** 128 + the signal's number, as a shell reports a process the signal killed. */
const SIGNAL_EXIT: Record<Signal, number> = {
  SIGINT: EXIT.sigint,
  SIGTERM: EXIT.sigterm,
  SIGHUP: EXIT.sighup,
};

/** A message to stderr that never throws (after SIGHUP the terminal may be gone). */
function say(text: string): void {
  try {
    console.error(text);
  } catch { /* no terminal */ }
}

/** What a body run under `withSignals` sees of the signals. */
export interface SignalWatch {
  /** Aborted by the first signal; its reason is the signal's name (recorded in the report). */
  signal: AbortSignal;
  /** The first signal received, or null. */
  received(): Signal | null;
}

/**
 * Runs `body` under SIGINT, SIGTERM and SIGHUP: the first signal aborts `watch.signal` (the run
 * in progress stops and writes what it measured) and the result is the signal's exit code; a
 * second one kills the servers, removes the claims and data dirs, and leaves at once.
 */
export async function withSignals(body: (watch: SignalWatch) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  let received: Signal | null = null;
  const onSignal = (sig: Signal) => () => {
    if (received) {
      // Second signal: kill the servers now (SIGKILL after 0.5 s), remove what the run holds
      // and leave without waiting for the run to wind up.
      say(`\nm17_check: second ${sig}: killing the target and leaving`);
      const code = SIGNAL_EXIT[received];
      stopAll(500).finally(() => {
        removeEngramRunDirsSync();
        releaseOpenClaimsSync();
        Deno.exit(code);
      });
      return;
    }
    received = sig;
    say(`\nm17_check: ${sig} received: stopping the run, the target and writing what was measured`);
    controller.abort(sig); // the reason names the signal in the report
  };
  const handlers = SIGNALS.map((sig) => [sig, onSignal(sig)] as const);
  for (const [sig, handler] of handlers) Deno.addSignalListener(sig, handler);
  try {
    const code = await body({ signal: controller.signal, received: () => received });
    return received ? SIGNAL_EXIT[received] : code;
  } catch (e) {
    await stopAll(2000);
    if (received) {
      say(`m17_check: interrupted (${received})`);
      return SIGNAL_EXIT[received];
    }
    throw e;
  } finally {
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
  }
}

/** The renderers a run uses (lib/run may not import lib/render). */
export const CHECK_RENDERERS = {
  runHtml: renderRunHtml,
  flameGraph: (profile: Parameters<typeof renderFlameGraph>[0], title: string) =>
    renderFlameGraph(profile, { title }),
};

/** Runs `o.runCount` checks one after the other; returns the exit code. */
export async function runChecks(o: CheckOptions): Promise<number> {
  return await withSignals(async ({ signal, received }) => {
    let exitCode: number = EXIT.ok;
    for (let i = 1; i <= o.runCount && !received(); i++) {
      const outcome = await runCheck(
        { ...o, runIndex: i },
        new RunLog(o.quiet),
        signal,
        CHECK_RENDERERS,
      );
      if (outcome.exitCode !== EXIT.ok) exitCode = outcome.exitCode;
    }
    return exitCode;
  });
}
