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

/** Addresses that name no host to connect to (a listen-on-all address, not a destination). */
const UNSPECIFIED_HOSTS = new Set(["0.0.0.0", "[::]", "[::ffff:0:0]"]);

/**
 * The origin of a `--url` argument (`http://host:port`). Everything else a URL can carry is
 * refused in one line rather than silently dropped: user info (m17 sends no credentials), a path
 * (requests go to Engram's own paths at the root: a path prefix behind a reverse proxy is not
 * supported), a query or a fragment; so are port 0 and an unspecified address (`0.0.0.0`,
 * `[::]`), which cannot be connected to. Checked while parsing the command line, before any
 * file is written.
 *
 * @example
 * ```ts
 * import { strictEqual, throws } from "node:assert/strict";
 * strictEqual(parseTargetUrl("http://127.0.0.1:7432/"), "http://127.0.0.1:7432");
 * throws(() => parseTargetUrl("ftp://127.0.0.1"), /only http:\/\/ and https:\/\//);
 * throws(() => parseTargetUrl("http://127.0.0.1:7432/engram"), /a path \(\/engram\) is not supported/);
 * throws(() => parseTargetUrl("http://0.0.0.0:7432"), /unspecified address/);
 * ```
 */
export function parseTargetUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url ${raw}: not a valid URL (expected e.g. http://127.0.0.1:7432)`);
  }
  const refuse = (why: string) =>
    new UsageError(`--url ${raw}: ${why}; give the server's origin, e.g. http://127.0.0.1:7432`);
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new UsageError(`--url ${raw}: only http:// and https:// are supported`);
  }
  if (u.username !== "" || u.password !== "") {
    throw refuse("user info (user:password@) is not supported: m17 sends no credentials");
  }
  if (u.pathname !== "/" && u.pathname !== "") {
    throw refuse(
      `a path (${u.pathname}) is not supported: requests go to Engram's paths at the root ` +
        `(a server behind a path prefix cannot be measured)`,
    );
  }
  if (u.search !== "" || raw.includes("?")) throw refuse("a query string is not supported");
  if (u.hash !== "" || raw.includes("#")) throw refuse("a fragment is not supported");
  if (u.port === "0") throw refuse("port 0 cannot be connected to");
  if (UNSPECIFIED_HOSTS.has(u.hostname)) {
    throw refuse(`${u.hostname} is the unspecified address, which cannot be connected to`);
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
