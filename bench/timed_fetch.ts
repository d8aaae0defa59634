/**
 * Per-request timing pairs from inside the real driver: while installed, a wrapper around
 * `globalThis.fetch` notes when each request is handed to `fetch` and when its body has been read
 * (`arrayBuffer()`, as lib/run/sender.ts's Sender does), and parses the server's
 * `Server-Timing: app;dur=X, inject;dur=Y` header. `runLoad` itself is unchanged: its Sender
 * calls the global `fetch`, so the pairs describe exactly the code path `check` uses.
 *
 * Costs two `performance.now()` calls and one header read per request. Samples are kept in
 * arrays: a benchmark's run length bounds them.
 * @module
 */

/** One completed request. */
export interface FetchPair {
  /** "GET" or "POST" plus the path without its query, e.g. `GET /api/v1/memories/recall`. */
  route: string;
  /** fetch() call → body read, ms. */
  clientMs: number;
  /** Server-Timing app + inject, ms (NaN without the header). */
  serverMs: number;
  /** Server-Timing app, ms. */
  appMs: number;
}

/** Collects call times and timing pairs while installed. */
export class FetchProbe {
  readonly callTimes: number[] = [];
  readonly pairs: FetchPair[] = [];
  #original: typeof fetch | null = null;

  /** Replaces `globalThis.fetch` with the timing wrapper. */
  install(): void {
    if (this.#original) return;
    const original = globalThis.fetch;
    this.#original = original;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const t0 = performance.now();
      this.callTimes.push(t0);
      const res = await original(input, init);
      const read = res.arrayBuffer.bind(res);
      res.arrayBuffer = async () => {
        const body = await read();
        const t1 = performance.now();
        this.#record(String(input), init?.method ?? "GET", res.headers, t1 - t0);
        return body;
      };
      return res;
    }) as typeof fetch;
  }

  /** Restores the original `fetch`. */
  uninstall(): void {
    if (this.#original) globalThis.fetch = this.#original;
    this.#original = null;
  }

  /** Forgets everything collected so far. */
  clear(): void {
    this.callTimes.length = 0;
    this.pairs.length = 0;
  }

  /** Number of fetch calls at or after `fromMs` and before `toMs`. */
  callsBetween(fromMs: number, toMs: number): number {
    let n = 0;
    for (const t of this.callTimes) if (t >= fromMs && t < toMs) n++;
    return n;
  }

  #record(url: string, method: string, headers: Headers, clientMs: number) {
    const st = headers.get("server-timing") ?? "";
    const app = Number(st.match(/app;dur=([\d.]+)/)?.[1] ?? NaN);
    const inject = Number(st.match(/inject;dur=([\d.]+)/)?.[1] ?? NaN);
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", pathStart);
    const path = q < 0 ? url.slice(pathStart) : url.slice(pathStart, q);
    this.pairs.push({ route: `${method} ${path}`, clientMs, serverMs: app + inject, appMs: app });
  }
}

/** Nearest-rank percentile of `xs` (sorted copy); NaN when empty. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}
