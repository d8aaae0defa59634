/**
 * Engram's error responses: `{"error":{"code":…,"message":…}}` with the status that goes with the
 * code. Handlers throw `ApiError`; only the HTTP layer turns it into a response.
 * @module
 */

/** Engram's error codes and the status each is sent with. */
export const ERROR_STATUS = {
  INVALID_MEMORY_INPUT: 400,
  MEMORY_NOT_FOUND: 404,
  MEMORY_VALIDATION_ERROR: 422,
  MEMORY_SYSTEM_ERROR: 500,
  MEMORY_CLUSTER_UNAVAILABLE: 503,
} as const;

/** One of Engram's error codes. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** A request Engram would refuse, with the code and message Engram would send. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly code: ErrorCode;
  readonly status: number;

  /** `status` defaults to the code's usual status (e.g. 405 for a wrong method is explicit). */
  constructor(code: ErrorCode, message: string, status: number = ERROR_STATUS[code]) {
    super(message);
    this.code = code;
    this.status = status;
  }

  /** The JSON body Engram sends for this error. */
  body(): string {
    return JSON.stringify({ error: { code: this.code, message: this.message } });
  }
}

/** Shorthand for the most common refusal: 400 INVALID_MEMORY_INPUT. */
export function invalid(message: string): ApiError {
  return new ApiError("INVALID_MEMORY_INPUT", message);
}
