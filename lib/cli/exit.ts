/**
 * How the entrypoints turn a thrown value into an exit code and what they print: bad input
 * (`UsageError`) is one line and exit 3, a failed run (`RunError`) one line and exit 1, an error
 * from the operating system (`Deno.errors.*`) one line and the tool's own code for it, and
 * anything else is a crash: its stack and exit 70 (EX_SOFTWARE), never "bad input".
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { UsageError } from "../shared/errors.ts";
 * import { failure } from "./exit.ts";
 *
 * strictEqual(failure("m17_compare", new UsageError("no task given")).code, 3);
 * strictEqual(failure("m17_compare", new TypeError("x is undefined")).code, 70);
 * ```
 * @module
 */
import { EXIT, messageOf, RunError, UsageError } from "../shared/errors.ts";
import { cleanLines, oneLine } from "../shared/sanitize.ts";

/** What an entrypoint does with an error: exit with `code` after printing `text` to stderr. */
export interface Failure {
  code: number;
  text: string;
}

/**
 * The exit code and stderr text for `error` thrown out of `tool`'s main. `osErrorCode` is the
 * code for operating-system errors (a file that cannot be read or written): check's run failed
 * (1) by default; compare passes 3, since what it reads is its input.
 */
export function failure(
  tool: string,
  error: unknown,
  osErrorCode: number = EXIT.runFailed,
): Failure {
  // Messages quote paths, server output and report strings: no control character gets through.
  if (error instanceof UsageError) {
    return { code: EXIT.usage, text: `${tool}: ${oneLine(error.message, Infinity)}` };
  }
  if (error instanceof RunError) {
    return { code: EXIT.runFailed, text: `${tool}: run failed: ${cleanLines(error.message)}` };
  }
  if (isOsError(error)) {
    return { code: osErrorCode, text: `${tool}: ${oneLine(messageOf(error), Infinity)}` };
  }
  const what = error instanceof Error ? error.stack ?? `${error.name}: ${error.message}` : error;
  return {
    code: EXIT.internalError,
    text: `${tool}: internal error (a bug in ${tool}; please report it with this output):\n${
      String(what)
    }`,
  };
}

function isOsError(error: unknown): boolean {
  return Object.values(Deno.errors).some((kind) => error instanceof kind);
}
