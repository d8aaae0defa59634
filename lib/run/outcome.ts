/**
 * How one request ended. The error kinds are the strings the report's `errors_by_kind` uses.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(httpError(503), "http_503");
 * ```
 * @module
 */

/** Why a request failed: no answer in time, no connection, or an HTTP error status. */
export type ErrorKind = "timeout" | "connection" | `http_${number}`;

/**
 * A request's outcome: answered with success, failed with a kind, or cancelled by an interrupt
 * (not a server outcome: neither a latency nor an error).
 */
export type RequestOutcome =
  | { kind: "ok" }
  | { kind: "error"; error: ErrorKind }
  | { kind: "aborted" };

/** The error kind of an HTTP error status (`http_503`). */
export function httpError(status: number): ErrorKind {
  return `http_${status}`;
}
