/**
 * Sends one op over the lean HTTP/1.1 client (lib/run/http1.ts) and says how it ended, with the
 * recall fallback: a server that rejects spreading/hybrid recall (HTTP 400 naming the mode) gets
 * similarity recall from then on. Used by the measured run and the preload; `fetch` is used only
 * off the hot path (health checks).
 *
 * Response validation: a 2xx must carry the JSON document an Engram endpoint returns (every
 * endpoint the workload calls answers one); any other body (an HTML page from a proxy, a wrong
 * server answering every path, an empty body, a `204 No Content`) is `bad_response`.
 * A 3xx is `http_3xx` like any other status outside 2xx: redirects are never followed.
 * @module
 */
import type { Op } from "../workload/ops.ts";
import type { OpKind } from "../workload/scenario.ts";
import { LatencyHistogram } from "../report/histogram.ts";
import { Http1Client, type HttpOutcome } from "./http1.ts";
import type { SocketOpener } from "./socket.ts";
import { httpError, type RequestOutcome } from "./outcome.ts";

/** How a request ended, whether it used the recall fallback, and the server's own time. */
export interface SendResult {
  outcome: RequestOutcome;
  fallback: boolean;
  /** `Server-Timing` total (ms) of the answer, when the server sent one. */
  serverTimingMs: number | null;
  /** When it ended (`performance.now()`): the last byte parsed, or the failure decided. */
  endMs: number;
}

/** What the sender needs to know. */
export interface SenderOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Connections at most (the in-flight cap). */
  maxConnections: number;
  /** How connections are opened (default Deno's sockets). */
  sockets?: SocketOpener;
}

/** The outcome of one HTTP exchange, validated. */
export function classify(o: HttpOutcome): RequestOutcome {
  if (o.kind === "failure") {
    return o.failure === "aborted" ? { kind: "aborted" } : { kind: "error", error: o.failure };
  }
  if (o.status < 200 || o.status > 299) return { kind: "error", error: httpError(o.status) };
  if (!o.jsonBody) return { kind: "error", error: "bad_response" };
  return { kind: "ok" };
}

const REJECTED_MODE = /spreading|hybrid|mode/i;

/** Executes requests over a keep-alive pool, with one timeout and one abort for the run. */
export class Sender {
  /** Op kinds whose mode the server rejected: they go to their fallback path. */
  readonly rejectedKinds = new Set<OpKind>();
  /** Aborting cancels every request in flight and any sent later. */
  readonly abort = new AbortController();
  readonly client: Http1Client;
  /** Connect times of the connections opened (µs), apart from the requests' own times. */
  readonly connect = new LatencyHistogram();

  constructor(readonly opts: SenderOptions) {
    this.client = new Http1Client(opts.baseUrl, {
      maxConnections: opts.maxConnections,
      sockets: opts.sockets,
    });
    this.abort.signal.addEventListener("abort", () => this.client.abortAll());
  }

  /**
   * Sends `op` (or its fallback) and reads the whole response. Never throws. The one timeout
   * rule: the response must arrive within `timeoutMs` of the request's due instant `dueMs`
   * (a `performance.now()` value; default now, for unscheduled requests such as the preload),
   * however late it was sent.
   */
  send(op: Op, dueMs: number = performance.now()): Promise<SendResult> {
    return new Promise<SendResult>((resolve) => this.sendThen(op, dueMs, resolve));
  }

  /**
   * `send` with a callback instead of a promise (the measured run's path: no promise per
   * request); `done` is called exactly once, possibly before this returns.
   */
  sendThen(op: Op, dueMs: number, done: (r: SendResult) => void): void {
    if (this.abort.signal.aborted) {
      done({
        outcome: { kind: "aborted" },
        fallback: false,
        serverTimingMs: null,
        endMs: performance.now(),
      });
      return;
    }
    const deadlineMs = dueMs + this.opts.timeoutMs;
    const fallback = op.fallbackPath !== undefined && this.rejectedKinds.has(op.kind);
    const finish = (res: HttpOutcome, fallback: boolean) => {
      if (res.connectMs !== null) this.connect.recordMs(res.connectMs);
      const outcome = this.abort.signal.aborted && res.kind === "failure"
        ? { kind: "aborted" as const }
        : classify(res);
      done({
        outcome,
        fallback,
        serverTimingMs: res.kind === "response" ? res.serverTimingMs : null,
        endMs: res.endMs,
      });
    };
    this.client.requestThen(
      op.method,
      fallback ? op.fallbackPath! : op.path,
      op.body,
      deadlineMs,
      (res) => {
        if (
          res.kind === "response" && res.status === 400 && op.fallbackPath && !fallback &&
          REJECTED_MODE.test(res.bodyHead ?? "")
        ) {
          this.rejectedKinds.add(op.kind);
          this.client.requestThen(
            op.method,
            op.fallbackPath,
            op.body,
            deadlineMs,
            (again) => finish(again, true),
          );
        } else finish(res, fallback);
      },
    );
  }

  /** Closes every connection (call when no request is left in flight). */
  close(): void {
    this.client.close();
  }
}
