/**
 * Command-line flags of `deno task serve`: parsed with `node:util` `parseArgs` into
 * `ReferenceOptions`. Any bad flag is a `UsageError` with one line naming the flag. The knobs are
 * validated by `validateKnobs` (knobs.ts), the same function that checks `m17_check --ref-*`.
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../shared/errors.ts";
import { parseSeed } from "../workload/prng.ts";
import { parseCpuBurn } from "./cpu_burn.ts";
import { validateKnobs } from "./knobs.ts";
import type { ReferenceOptions } from "./server.ts";

/** `--help` text. */
export const USAGE = `Usage: deno task serve [options]

Engram-compatible reference server (in memory) on 127.0.0.1.
Prints "listening on http://127.0.0.1:PORT" as its first stdout line; SIGTERM/SIGINT stop it.

Options:
  --port N            TCP port (default 7432; 0 picks a free port)
  --dim N             embedding dimension (default 768)
  --latency-ms X      added latency per API request, ms (default 0)
  --jitter-ms Y       extra uniform delay in [0, Y) per API request, ms (default 0)
  --error-rate P      fraction of API requests answered 500 MEMORY_SYSTEM_ERROR (default 0)
  --stall-every-s S   stall period in seconds (needs --stall-ms)
  --stall-ms M        requests arriving in the last M ms of each period wait until it ends
  --no-spreading      refuse recall modes spreading and hybrid with 400
  --cpu-burn OP:MS    every OP request (store, recall, search, complete) burns MS ms of CPU in
                      the function referenceCpuBurn (a named regression for profiles)
  --seed N            seed (decimal or 0x hex) of the knobs and the index (default 0)
  --record FILE       append every API request as "METHOD PATH\\nBODY\\n" (needs --allow-write)
  --exit-with-parent  exit when standard input closes (used when m17_check starts the server,
                      so the server cannot outlive a killed parent)
  --help              show this help`;

/** Parsed command line. */
export interface ServeArgs {
  help: boolean;
  /** Exit when stdin reaches end of file (the parent that started us is gone). */
  exitWithParent: boolean;
  options: ReferenceOptions;
}

/** Parses `argv` (without the program name). Throws `UsageError` on any bad flag. */
export function parseServeArgs(argv: string[]): ServeArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        dim: { type: "string" },
        "latency-ms": { type: "string" },
        "jitter-ms": { type: "string" },
        "error-rate": { type: "string" },
        "stall-every-s": { type: "string" },
        "stall-ms": { type: "string" },
        "no-spreading": { type: "boolean" },
        "cpu-burn": { type: "string" },
        seed: { type: "string" },
        record: { type: "string" },
        "exit-with-parent": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  if (values.help) return { help: true, exitWithParent: false, options: {} };

  const checked = validateKnobs({
    latencyMs: values["latency-ms"],
    jitterMs: values["jitter-ms"],
    errorRate: values["error-rate"],
    stallEverySeconds: values["stall-every-s"],
    stallMs: values["stall-ms"],
  });
  if (!checked.ok) throw new UsageError(checked.problem);
  const burn = values["cpu-burn"] === undefined ? null : parseCpuBurn(values["cpu-burn"]);
  if (burn !== null && !burn.ok) throw new UsageError(burn.problem);
  let seed = 0n;
  if (values.seed !== undefined) {
    const parsed = parseSeed(values.seed);
    if (parsed === undefined) {
      throw new UsageError(
        `--seed must be a decimal or 0x-hex unsigned 64-bit integer, got '${values.seed}'`,
      );
    }
    seed = parsed;
  }
  return {
    help: false,
    exitWithParent: values["exit-with-parent"] ?? false,
    options: {
      port: number(values.port, "--port", 7432, 0, 65535, true),
      dim: number(values.dim, "--dim", 768, 1, 65536, true),
      spreading: !values["no-spreading"],
      seed,
      knobs: checked.knobs,
      cpuBurn: burn?.ok ? burn.burn : null,
      recordPath: values.record,
    },
  };
}

function number(
  text: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  if (text === undefined) return fallback;
  const x = text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
    throw new UsageError(
      `${flag} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], got '${text}'`,
    );
  }
  return x;
}
