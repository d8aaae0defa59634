/**
 * The preload: stores the scenario's memories before the clock starts, closed-loop with bounded
 * concurrency. Not measured.
 * @module
 */
import type { OpStream } from "../workload/ops.ts";
import { Sender } from "./sender.ts";

/** Options of `runPreload`. */
export interface PreloadOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Aborts the preload: in-flight requests are cancelled (or drained, see `drainOnAbort`). */
  signal?: AbortSignal;
  /**
   * On abort, stop issuing but let the requests in flight finish (each within `timeoutMs`), so
   * the memories stored are exactly the stream's first `issued` (a partial snapshot resumes there).
   */
  drainOnAbort?: boolean;
  /** Called about once per second with the number stored so far. */
  onPreloadProgress?: (done: number) => void;
}

/** What the preload did. */
export interface PreloadResult {
  /** Requests answered (stored or failed). */
  count: number;
  /** Requests sent: the stream's first `issued` memories (equal to `count` unless cancelled). */
  issued: number;
  errors: number;
  seconds: number;
  /** Error kind of the first failed request (`http_500`), null without errors. */
  firstError: string | null;
}

/**
 * Stores `count` memories before the clock starts, with bounded concurrency. Not measured;
 * progress is reported about once per second. Returns counts and the time it took.
 */
export async function runPreload(
  stream: OpStream,
  count: number,
  opts: PreloadOptions,
): Promise<PreloadResult> {
  const sender = new Sender({ ...opts, maxConnections: opts.concurrency });
  const onAbort = () => opts.drainOnAbort ? undefined : sender.abort.abort();
  opts.signal?.addEventListener("abort", onAbort);
  const t0 = performance.now();
  let issued = 0, done = 0, errors = 0;
  let firstError: string | null = null;
  let lastReport = t0;
  const worker = async () => {
    while (issued < count && !opts.signal?.aborted) {
      issued++;
      const { outcome } = await sender.send(stream.next());
      if (outcome.kind === "aborted") break; // cancelled by an interrupt: neither stored nor failed
      done++;
      if (outcome.kind === "error") {
        errors++;
        firstError ??= outcome.error;
      }
      const now = performance.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        opts.onPreloadProgress?.(done);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, count)) }, worker));
  opts.signal?.removeEventListener("abort", onAbort);
  sender.close();
  return { count: done, issued, errors, seconds: (performance.now() - t0) / 1000, firstError };
}
