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
  | { kind: "http"; status: number }
  | { kind: "timeout" }
  | { kind: "refused" };

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
      return `HTTP ${f.status}`;
    case "timeout":
      return "timeout";
    case "refused":
      return "connection refused";
  }
}

/** One `GET <url>/health` answered within `timeoutMs`; a 200 with a JSON `version` names it. */
export async function probeHealth(url: string, timeoutMs: number): Promise<HealthProbe> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetch(`${url}/health`, { signal: ac.signal });
    const text = await res.text();
    if (res.status !== 200) {
      return { healthy: false, failure: { kind: "http", status: res.status } };
    }
    try {
      const v = JSON.parse(text)?.version;
      // The server's own text: shown and recorded, so no escape sequence or line break survives.
      return { healthy: true, version: typeof v === "string" ? oneLine(v, 200) : null };
    } catch {
      return { healthy: true, version: null };
    }
  } catch {
    return { healthy: false, failure: { kind: ac.signal.aborted ? "timeout" : "refused" } };
  } finally {
    clearTimeout(timer);
  }
}

/** How waiting for a server's health ended. */
export type HealthWait =
  | { kind: "healthy"; version: string | null }
  /** Not healthy by the deadline; `last` is the last probe's failure (`HTTP 503`). */
  | { kind: "timed_out"; last: string }
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
 * or `signal` aborts. Bounded by `timeoutMs` (each probe is cut at the deadline).
 */
export async function waitHealthy(url: string, o: WaitHealthyOptions): Promise<HealthWait> {
  const deadline = performance.now() + o.timeoutMs;
  let last = "no answer";
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
    last = describeFailure(outcome.failure);
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
    .with({ kind: "exited" }, () => {
      throw new RunError(`server at ${url} exited before it became healthy`);
    })
    .with({ kind: "interrupted" }, () => {
      throw new RunError(`interrupted while waiting for ${url}/health`);
    })
    .exhaustive();
}

/**
 * Why a server we did not start is gone after a run: null when `GET /health` still answers
 * 200 within `timeoutMs`, else what happened instead (a `--url` server has no exit status).
 */
export async function healthLost(url: string, timeoutMs = 2000): Promise<string | null> {
  const probe = await probeHealth(url, timeoutMs);
  if (probe.healthy) return null;
  const f = probe.failure;
  if (f.kind === "http") return `server at ${url} answers /health with HTTP ${f.status}`;
  return `server at ${url} no longer answers /health (${
    f.kind === "timeout" ? `no answer in ${timeoutMs} ms` : "connection refused"
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
