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

/**
 * Why a request failed: no answer in time, no TCP connection, the connection reset or closed
 * before the response was complete, bytes that are not an HTTP/1.1 response, an HTTP status
 * outside 2xx (a 3xx too: redirects are never followed), or a 2xx whose body is not JSON.
 */
export type ErrorKind =
  | "timeout"
  | "connect_failed"
  | "connection_closed"
  | "malformed_response"
  | "bad_response"
  | `http_${number}`;

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

/**
 * Whether an ending is a response the server gave (success, an HTTP error, or a 2xx with a bad
 * body): what throughput counts. A timeout, a failed or broken connection or an abort is not.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(isResponse({ kind: "error", error: "http_503" }), true);
 * strictEqual(isResponse({ kind: "error", error: "timeout" }), false);
 * ```
 */
export function isResponse(outcome: RequestOutcome): boolean {
  return outcome.kind === "ok" ||
    (outcome.kind === "error" &&
      (outcome.error === "bad_response" || outcome.error.startsWith("http_")));
}
