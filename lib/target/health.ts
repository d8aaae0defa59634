/**
 * The one health poller: `GET /health` once (`probeHealth`), until it answers 200
 * (`waitHealthy`, used by every target's start-up), and once more after a run (`healthLost`,
 * for a `--url` server, which has no exit status to watch).
 * @module
 */
import { match } from "ts-pattern";
import { RunError } from "../shared/errors.ts";
import { oneLine } from "../shared/sanitize.ts";

/** Why one `GET /health` did not answer 200. */
export type HealthFailure =
  /** Any status but 200; `location` of a redirect, which is never followed. */
  | { kind: "http"; status: number; location?: string }
  | { kind: "timeout" }
  | { kind: "refused" }
  /** The host name has no address (a DNS lookup failed): nothing was connected to. */
  | { kind: "unresolved" }
  /**
   * Connected, but the answer is not HTTP/1.1 (a bad status line, garbage, a body cut short, the
   * connection closed mid-answer): `detail` is the HTTP client's own words.
   */
  | { kind: "malformed"; detail: string }
  /** 200, but not Engram's health JSON (an object with a string `status` or `version`). */
  | { kind: "not_engram"; answer: string };

/** One `GET /health`: healthy with the `version` it reports, or why not. */
export type HealthProbe =
  | { healthy: true; version: string | null }
  | { healthy: false; failure: HealthFailure };

/**
 * `HTTP 503`, `timeout` or `connection refused`: the wording of start-up failures.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(describeFailure({ kind: "http", status: 503 }), "HTTP 503");
 * strictEqual(describeFailure({ kind: "refused" }), "connection refused");
 * ```
 */
export function describeFailure(f: HealthFailure): string {
  switch (f.kind) {
    case "http":
      return f.location === undefined
        ? `HTTP ${f.status}`
        : `HTTP ${f.status} to ${oneLine(f.location, 200)} (not followed)`;
    case "timeout":
      return "timeout";
    case "refused":
      return "connection refused";
    case "unresolved":
      return "the host name does not resolve (DNS lookup failed)";
    case "malformed":
      return `a malformed answer (${f.detail})`;
    case "not_engram":
      return `something other than Engram's health JSON: ${f.answer}`;
  }
}

/**
 * Whether a 200 `/health` body is Engram's health JSON: an object with a string `status` or
 * `version` (Engram and the reference server send `status`, `service`, `version`, `timestamp`).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(isEngramHealth('{"status":"healthy","version":"0.1.0"}'), true);
 * strictEqual(isEngramHealth("<!doctype html><html></html>"), false);
 * strictEqual(isEngramHealth("{}"), false);
 * ```
 */
export function isEngramHealth(body: string): boolean {
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    return typeof o.status === "string" || typeof o.version === "string";
  } catch {
    return false;
  }
}

/** `HTTP 200, text/html, "<!doctype html>…"`: what a non-Engram `/health` answered, one line. */
function describeAnswer(status: number, contentType: string | null, body: string): string {
  const head = oneLine(body.trim(), 60);
  const excerpt = head === "" ? "empty body" : JSON.stringify(head);
  return `HTTP ${status}, ${
    contentType ? oneLine(contentType, 60) : "no content type"
  }, ${excerpt}`;
}

/**
 * One `GET <url>/health` answered within `timeoutMs`; a 200 with Engram's health JSON is healthy
 * (its `version` names it), a 200 with anything else is `not_engram`.
 */
export async function probeHealth(url: string, timeoutMs: number): Promise<HealthProbe> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    // Like every request of the tool, never follows a redirect: a 3xx is the answer.
    const res = await fetch(`${url}/health`, { signal: ac.signal, redirect: "manual" });
    const text = await res.text();
    if (res.status !== 200) {
      const location = res.status >= 300 && res.status < 400
        ? res.headers.get("location") ?? undefined
        : undefined;
      const failure: HealthFailure = location === undefined
        ? { kind: "http", status: res.status }
        : { kind: "http", status: res.status, location };
      return { healthy: false, failure };
    }
    if (!isEngramHealth(text)) {
      const answer = describeAnswer(res.status, res.headers.get("content-type"), text);
      return { healthy: false, failure: { kind: "not_engram", answer } };
    }
    const v = JSON.parse(text).version;
    // The server's own text: shown and recorded, so no escape sequence or line break survives.
    return { healthy: true, version: typeof v === "string" ? oneLine(v, 200) : null };
  } catch (e) {
    if (ac.signal.aborted) return { healthy: false, failure: { kind: "timeout" } };
    const why = String((e as Error)?.cause ?? e);
    const unresolved = /dns error|failed to lookup address|nodename nor servname/i.test(why);
    if (unresolved) return { healthy: false, failure: { kind: "unresolved" } };
    // Connected, then the answer was wrong: named for what it is, never "connection refused".
    if (!/\(Connect\)|connect error|connection refused/i.test(why)) {
      const detail = oneLine(why.replace(/^.*\): /s, "").replace(/^(Type)?Error: /, ""), 120);
      return { healthy: false, failure: { kind: "malformed", detail } };
    }
    return { healthy: false, failure: { kind: "refused" } };
  } finally {
    clearTimeout(timer);
  }
}

/** How waiting for a server's health ended. */
export type HealthWait =
  | { kind: "healthy"; version: string | null }
  /** Not healthy by the deadline; `last` is the last probe's failure (`HTTP 503`). */
  | { kind: "timed_out"; last: string }
  /** It answered 200 with something other than Engram's health JSON: not waited on further. */
  | { kind: "not_engram"; answer: string }
  /** The server process exited first. */
  | { kind: "exited" }
  /** `signal` aborted first. */
  | { kind: "interrupted" };

/** Options of `waitHealthy`. */
export interface WaitHealthyOptions {
  /** Deadline from now. */
  timeoutMs: number;
  /** Settles when the server process exits (none for a server we did not start). */
  exited?: Promise<unknown>;
  /** Aborting ends the wait at once. */
  signal?: AbortSignal;
}

/** Pause between two probes. */
const POLL_INTERVAL_MS = 100;
/** Longest a single probe may take. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * Polls `GET /health` every 100 ms until it answers 200, the deadline passes, the process exits
 * or `signal` aborts; a 200 that is not Engram's health JSON ends the wait at once. Bounded by `timeoutMs` (each probe is cut at the deadline).
 */
export async function waitHealthy(url: string, o: WaitHealthyOptions): Promise<HealthWait> {
  const deadline = performance.now() + o.timeoutMs;
  let last = "no answer";
  let unresolved = false;
  const exited = o.exited?.then(() => "exited" as const);
  while (!o.signal?.aborted) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) return { kind: "timed_out", last };
    const probe = probeHealth(url, Math.min(PROBE_TIMEOUT_MS, remaining));
    const outcome = await (exited ? Promise.race([probe, exited]) : probe);
    if (outcome === "exited") {
      await probe; // settles within its own timeout; leaves nothing pending
      return { kind: "exited" };
    }
    if (outcome.healthy) return { kind: "healthy", version: outcome.version };
    if (outcome.failure.kind === "not_engram") {
      return { kind: "not_engram", answer: outcome.failure.answer };
    }
    // A name that did not resolve stays the reason: a later probe cut by its timeout (a slow
    // resolver on a loaded host) says less.
    if (!(outcome.failure.kind === "timeout" && unresolved)) {
      last = describeFailure(outcome.failure);
    }
    unresolved ||= outcome.failure.kind === "unresolved";
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - performance.now())), o.signal);
  }
  return { kind: "interrupted" };
}

/**
 * The `version` of a server that became healthy; otherwise a RunError worded for a server
 * started or named by `check` (`server at … is not healthy after 5000 ms (last: HTTP 503)`).
 */
export function healthyVersion(url: string, wait: HealthWait, timeoutMs: number): string | null {
  return match(wait)
    .with({ kind: "healthy" }, (w) => w.version)
    .with({ kind: "timed_out" }, (w) => {
      throw new RunError(`server at ${url} is not healthy after ${timeoutMs} ms (last: ${w.last})`);
    })
    .with({ kind: "not_engram" }, (w) => {
      throw new RunError(notEngramMessage(url, w.answer));
    })
    .with({ kind: "exited" }, () => {
      throw new RunError(`server at ${url} exited before it became healthy`);
    })
    .with({ kind: "interrupted" }, () => {
      throw new RunError(`interrupted while waiting for ${url}/health`);
    })
    .exhaustive();
}

/**
 * `server at … answers /health with HTTP 200, text/html, "<!doctype…", not Engram's health
 * JSON: is this an Engram server?`: the one start-up failure line for a non-Engram answer.
 */
export function notEngramMessage(url: string, answer: string): string {
  return `server at ${url} answers /health with ${answer}, not Engram's health JSON ` +
    `({"status": …, "version": …}): is it an Engram server?`;
}

/**
 * Why a server we did not start is gone after a run: null when `GET /health` still answers
 * 200 within `timeoutMs`, else what happened instead (a `--url` server has no exit status).
 */
export async function healthLost(url: string, timeoutMs = 2000): Promise<string | null> {
  const probe = await probeHealth(url, timeoutMs);
  if (probe.healthy) return null;
  const f = probe.failure;
  if (f.kind === "http") return `server at ${url} answers /health with ${describeFailure(f)}`;
  if (f.kind === "not_engram") return notEngramMessage(url, f.answer);
  if (f.kind === "malformed") return `server at ${url} answers /health with ${describeFailure(f)}`;
  return `server at ${url} no longer answers /health (${
    f.kind === "timeout" ? `no answer in ${timeoutMs} ms` : describeFailure(f)
  })`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * One `GET <url>` within `timeoutMs` (redirects not followed): the status and the body parsed as
 * JSON (undefined when it is not JSON), or why there is no answer (`no answer in 10000 ms`,
 * `connection refused`).
 */
export async function getJson(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; json: unknown } | { failure: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: ac.signal, redirect: "manual" });
    const text = await res.text();
    try {
      return { status: res.status, json: JSON.parse(text) };
    } catch {
      return { status: res.status, json: undefined };
    }
  } catch {
    return { failure: ac.signal.aborted ? `no answer in ${timeoutMs} ms` : "connection refused" };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Engram's memory count: `GET <url>/api/v1/system/health`, `spaces[].memories` summed (Engram
 * answers 503 with the same body when a check is unhealthy). A string says why there is none.
 */
export async function engramMemoryCount(
  url: string,
  timeoutMs = 10_000,
): Promise<{ count: number } | { failure: string }> {
  const res = await getJson(`${url}/api/v1/system/health`, timeoutMs);
  if ("failure" in res) return { failure: `/api/v1/system/health: ${res.failure}` };
  const spaces = (res.json as { spaces?: unknown } | null | undefined)?.spaces;
  if (!Array.isArray(spaces)) {
    return { failure: `/api/v1/system/health answered HTTP ${res.status} without spaces[]` };
  }
  let count = 0;
  for (const s of spaces) {
    const n = (s as { memories?: unknown })?.memories;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      return { failure: "/api/v1/system/health: a space without a memory count" };
    }
    count += n;
  }
  return { count };
}
