/**
 * Sends one op over HTTP and says how it ended, with the recall fallback: a server that rejects
 * spreading/hybrid recall (HTTP 400 naming the mode) gets similarity recall from then on.
 * @module
 */
import type { Op } from "../workload/ops.ts";
import type { OpKind } from "../workload/scenario.ts";
import { httpError, type RequestOutcome } from "./outcome.ts";
import { TimeoutSweeper } from "./timeouts.ts";

const JSON_HEADERS = { "content-type": "application/json" };

/** What `Sender` needs to know. */
export interface SenderOptions {
  baseUrl: string;
  timeoutMs: number;
}

/** How a request ended and whether it used the recall fallback. */
export interface SendResult {
  outcome: RequestOutcome;
  fallback: boolean;
}

const aborted = () => new DOMException("The run was aborted", "AbortError");

/** Executes requests with a shared timeout and one abort for the whole run. */
export class Sender {
  /** Op kinds whose mode the server rejected: they go to their fallback path. */
  readonly rejectedKinds = new Set<OpKind>();
  /** Aborting cancels every request in flight and any sent later. */
  readonly abort = new AbortController();
  readonly #timeouts: TimeoutSweeper;

  constructor(readonly opts: SenderOptions) {
    this.#timeouts = new TimeoutSweeper(opts.timeoutMs);
    this.abort.signal.addEventListener("abort", () => this.#timeouts.abortAll(aborted()));
  }

  /** Sends `op` (or its fallback) and reads the whole response. Never throws. */
  async send(op: Op): Promise<SendResult> {
    const ac = new AbortController();
    if (this.abort.signal.aborted) ac.abort(aborted());
    const live = this.#timeouts.start(ac);
    let fallback = false;
    try {
      let path = op.path;
      if (op.fallbackPath && this.rejectedKinds.has(op.kind)) {
        path = op.fallbackPath;
        fallback = true;
      }
      let res = await this.#fetch(op, path, ac.signal);
      if (res.status === 400 && op.fallbackPath && !fallback) {
        const text = await res.text();
        if (/spreading|hybrid|mode/i.test(text)) {
          this.rejectedKinds.add(op.kind);
          fallback = true;
          res = await this.#fetch(op, op.fallbackPath, ac.signal);
        } else return { outcome: { kind: "error", error: httpError(400) }, fallback };
      }
      await res.arrayBuffer();
      return {
        outcome: res.ok ? { kind: "ok" } : { kind: "error", error: httpError(res.status) },
        fallback,
      };
    } catch (e) {
      const name = (e as Error)?.name;
      if (name === "TimeoutError") {
        return { outcome: { kind: "error", error: "timeout" }, fallback };
      }
      if (name === "AbortError") return { outcome: { kind: "aborted" }, fallback };
      return { outcome: { kind: "error", error: "connection" }, fallback };
    } finally {
      live.done = true;
    }
  }

  #fetch(op: Op, path: string, signal: AbortSignal): Promise<Response> {
    return fetch(this.opts.baseUrl + path, {
      method: op.method,
      body: op.body,
      headers: op.body === null ? undefined : JSON_HEADERS,
      signal,
    });
  }

  /** Stops the timeout sweeper (call when no request is left in flight). */
  close(): void {
    this.#timeouts.close();
  }
}
