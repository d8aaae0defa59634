/**
 * `--url`: an already running server. Nothing is started or stopped; its health is checked
 * before the run (lib/target/health.ts) and again after it (`healthLost`).
 * @module
 */
import { UsageError } from "../shared/errors.ts";
import { healthyVersion, waitHealthy } from "./health.ts";
import type { UrlTarget } from "./target.ts";

/** How long a `--url` server has to answer `/health` with 200. */
const URL_HEALTH_TIMEOUT_MS = 5_000;

/**
 * The origin of a `--url` argument; a UsageError for anything but an http(s) URL. Checked while
 * parsing the command line, before any file is written.
 *
 * @example
 * ```ts
 * import { strictEqual, throws } from "node:assert/strict";
 * strictEqual(parseTargetUrl("http://127.0.0.1:7432/health"), "http://127.0.0.1:7432");
 * throws(() => parseTargetUrl("ftp://127.0.0.1"), /only http:\/\/ and https:\/\//);
 * ```
 */
export function parseTargetUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url ${raw}: not a valid URL (expected e.g. http://127.0.0.1:7432)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new UsageError(`--url ${raw}: only http:// and https:// are supported`);
  }
  return u.origin;
}

/** Uses an already running server once its `/health` answers 200; nothing is started or stopped. */
export async function connectUrl(raw: string, signal?: AbortSignal): Promise<UrlTarget> {
  const url = parseTargetUrl(raw);
  const wait = await waitHealthy(url, { timeoutMs: URL_HEALTH_TIMEOUT_MS, signal });
  const version = healthyVersion(url, wait, URL_HEALTH_TIMEOUT_MS);
  return {
    kind: "url",
    url,
    version,
    details: {},
    process: null,
    deathReason: () => null,
    stop: () => Promise.resolve(),
  };
}
