/**
 * `m17_check diag [--port N] [--kill-leaked [--yes]]`: its flags and help; the work is
 * `runDiag` (lib/target/diag.ts).
 * @module
 */
import { EXIT, messageOf, UsageError } from "../shared/errors.ts";
import { DEFAULT_ENGRAM_PORT } from "../target/engram.ts";
import { type DiagOptions, runDiag } from "../target/diag.ts";
import { parseFlags, port } from "./flags.ts";

/** `m17_check diag --help`. */
export const DIAG_USAGE = `Usage: m17_check diag [--port N] [--kill-leaked [--yes]]

Prints the diagnostics report (engram processes, who holds the port, load average, memory).
  --port N        the port to report on (default ${DEFAULT_ENGRAM_PORT})
  --kill-leaked   stop every process named engram (SIGTERM, SIGKILL after 3 s); asks first
  --yes           do not ask (required to kill when there is no terminal to ask on)`;

const DIAG_FLAGS = {
  port: { type: "string" },
  "kill-leaked": { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  help: { type: "boolean", short: "h" },
} as const;

/** `diag`'s command line: help, or the options (throws UsageError). */
export function parseDiagArgs(argv: string[]): { kind: "help" } | {
  kind: "diag";
  options: DiagOptions;
} {
  const { values, positionals } = parseFlags(argv, DIAG_FLAGS);
  if (values.help) return { kind: "help" };
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  }
  return {
    kind: "diag",
    options: {
      port: port("port", values.port) ?? DEFAULT_ENGRAM_PORT,
      killLeaked: values["kill-leaked"] ?? false,
      yes: values.yes ?? false,
    },
  };
}

/**
 * The `diag` verb: parses `argv` and runs it. Returns the exit code: 0, or 3 for usage errors
 * (printed with the usage text).
 */
export async function diagCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseDiagArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`m17_check diag: ${messageOf(e)}\n${DIAG_USAGE}`);
    return EXIT.usage;
  }
  if (parsed.kind === "help") {
    console.log(DIAG_USAGE);
    return EXIT.ok;
  }
  return await runDiag(parsed.options);
}
