/**
 * `deno task serve`: runs the reference server until SIGTERM or SIGINT.
 *
 * stdout's first line is exactly `listening on http://127.0.0.1:PORT` (a parent reads the port
 * from it); everything else goes to stderr. Exit codes: 0 after a graceful stop, 3 for bad flags
 * or a port already in use, 1 for anything else.
 * @module
 */
import { EXIT, messageOf, UsageError } from "../shared/errors.ts";
import { parseServeArgs, USAGE } from "./args.ts";
import { startReferenceServer } from "./server.ts";

/** Runs the reference server with `argv` (flags only) until a signal; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseServeArgs(argv);
  } catch (e) {
    console.error(`reference server: ${messageOf(e)}`);
    return EXIT.usage;
  }
  if (args.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  let server;
  try {
    server = await startReferenceServer(args.options);
  } catch (e) {
    // A port in use and an unwritable record file are UsageErrors: exit 3.
    console.error(`reference server: ${messageOf(e)}`);
    return e instanceof UsageError ? EXIT.usage : EXIT.runFailed;
  }
  console.log(`listening on ${server.url}`);
  console.error(describe(args.options));

  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  // SIGHUP: the terminal of a standalone `serve` went away; stop as cleanly as on SIGTERM.
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, stop);
  }
  if (args.exitWithParent) {
    // Our parent holds our stdin open; end of file means it is gone (even after SIGKILL).
    (async () => {
      try {
        for await (const _ of Deno.stdin.readable) { /* discard */ }
      } catch { /* closed */ }
      stop();
    })();
  }
  await stopped;
  await server.close();
  return EXIT.ok;
}

function describe(o: ReturnType<typeof parseServeArgs>["options"]): string {
  const k = o.knobs ?? {};
  const knobs = [
    k.latencyMs ? `latency ${k.latencyMs} ms` : "",
    k.jitterMs ? `jitter ${k.jitterMs} ms` : "",
    k.errorRate ? `error rate ${k.errorRate}` : "",
    k.stallMs ? `stall ${k.stallMs} ms every ${k.stallEverySeconds} s` : "",
  ].filter((s) => s).join(", ");
  return `reference server: dim ${o.dim}, spreading ${o.spreading ? "on" : "off"}, ` +
    `seed ${o.seed}, knobs: ${knobs || "none"}${
      o.recordPath ? `, recording to ${o.recordPath}` : ""
    }`;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
