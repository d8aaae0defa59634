/**
 * A lean HTTP/1.1 client for the measured hot path, over `Deno.connect` (TCP, keep-alive).
 *
 * A pool of persistent connections with one outstanding request each (no pipelining): a request
 * takes an idle connection, or opens a new one when all are busy (up to `maxConnections`, then
 * it waits for one). Request bytes are written from buffers reused per connection; responses are
 * parsed incrementally as they arrive (lib/run/http1_parser.ts). A new connection's connect time
 * is reported with the request that opened it, separately from the request's own time.
 *
 * Failures are attributed precisely: the connection could not be opened, it was reset or closed
 * before the response was complete, the response was malformed, the deadline passed (the
 * connection is then closed: HTTP/1.1 cannot cancel a request otherwise), or the run was aborted.
 * Redirects are never followed: a 3xx is a response like any other and the caller calls it an
 * error. It costs about a third of `fetch`'s CPU per request (BENCHMARKS.md, load engine).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { Http1Client } from "./http1.ts";
 * const server = Deno.serve({ port: 0, onListen() {} }, () => Response.json({ ok: true }));
 * const client = new Http1Client(`http://127.0.0.1:${server.addr.port}`, { maxConnections: 4 });
 * const r = await client.request("GET", "/health", null, performance.now() + 5000);
 * strictEqual(r.kind, "response");
 * if (r.kind === "response") strictEqual(r.status, 200);
 * client.close();
 * await server.shutdown();
 * ```
 * @module
 */
import { type ParsedResponse, ResponseParser } from "./http1_parser.ts";
import { denoSockets, type RawSocket, type SocketOpener } from "./socket.ts";

/** Why a request got no complete response. */
export type HttpFailure =
  /** The TCP connection could not be opened (refused, unreachable). */
  | "connect_failed"
  /** The connection was reset or closed before the response was complete. */
  | "connection_closed"
  /** The bytes received are not a valid HTTP/1.1 response. */
  | "malformed_response"
  /** No complete response by the deadline. */
  | "timeout"
  /** Cancelled by `abortAll()` or `close()`. */
  | "aborted";

/** How one request ended, before the instant is stamped. */
type HttpEnding =
  | ({ kind: "response"; connectMs: number | null } & ParsedResponse)
  | { kind: "failure"; failure: HttpFailure; detail: string; connectMs: number | null };

/**
 * How one request ended, and when (`endMs`, `performance.now()` when the last byte was parsed or
 * the failure was decided: a caller that runs later still times the request exactly).
 */
export type HttpOutcome = HttpEnding & { endMs: number };

/** Pool settings. */
export interface Http1Options {
  /** At most this many connections at once (the in-flight cap). */
  maxConnections: number;
  /** Extra request headers, e.g. `{ "x-run": "a" }` (written on every request). */
  headers?: Record<string, string>;
  /** How connections are opened; default Deno's sockets. */
  sockets?: SocketOpener;
}

/** Counters of the pool's life, for reports and tests. */
export interface PoolStats {
  connectionsOpened: number;
  connectFailures: number;
  connectionsClosedByServer: number;
}

type Resolve = (o: HttpOutcome) => void;

/** A request waiting for a connection or in flight on one. */
interface Request {
  method: string;
  path: string;
  body: string | null;
  deadlineMs: number;
  resolve: Resolve;
  connectMs: number | null;
  settled: boolean;
}

const SWEEP_MS = 10;
const encoder = new TextEncoder();

/** One keep-alive connection; one request at a time. */
class Connection {
  readonly parser = new ResponseParser();
  #out = new Uint8Array(4096);
  #bodyBuf = new Uint8Array(4096);
  current: Request | null = null;
  open = true;

  constructor(readonly conn: RawSocket, readonly pool: Http1Client) {
    conn.onData = (buf, n) => this.#onData(buf, n);
    conn.onEof = () => this.#onEof();
    conn.onError = (message) => {
      if (this.open) this.fail("connection_closed", `read failed: ${message}`);
    };
  }

  /** Writes one request; the socket's data callback resolves it. */
  send(req: Request, headPrefix: string, headSuffix: string): void {
    this.current = req;
    this.parser.begin(req.method === "HEAD");
    let bodyLen = 0;
    if (req.body !== null) {
      bodyLen = encodeInto(req.body, this, "body");
    }
    const head = req.body === null
      ? `${req.method} ${req.path}${headPrefix}${headSuffix}\r\n`
      : `${req.method} ${req.path}${headPrefix}content-type: application/json\r\ncontent-length: ${bodyLen}\r\n${headSuffix}\r\n`;
    const headLen = encodeInto(head, this, "out", bodyLen);
    if (bodyLen > 0) this.#out.set(this.#bodyBuf.subarray(0, bodyLen), headLen);
    this.#write(req, 0, headLen + bodyLen);
  }

  /**
   * Writes `#out[off..total)`: synchronously while the socket takes the bytes at once (the epoll
   * sockets), else continuing when a pending write settles. Each write sends at least one byte
   * or fails: bounded by the request's length.
   */
  #write(req: Request, off: number, total: number): void {
    const failed = (e: unknown) => {
      if (this.current === req) this.fail("connection_closed", `write failed: ${errText(e)}`);
    };
    try {
      while (off < total) {
        const r = this.conn.write(this.#out.subarray(off, total));
        if (typeof r !== "number") {
          r.then((n) => this.#write(req, off + n, total), failed);
          return;
        }
        off += r;
      }
    } catch (e) {
      failed(e);
    }
  }

  /** Grows a buffer to hold at least `n` bytes plus `reserve` (contents are not kept). */
  buffer(which: "out" | "body", n: number, reserve: number): Uint8Array {
    if (which === "body") {
      if (this.#bodyBuf.length < n) this.#bodyBuf = new Uint8Array(grow(n));
      return this.#bodyBuf;
    }
    if (this.#out.length < n + reserve) this.#out = new Uint8Array(grow(n + reserve));
    return this.#out;
  }

  /** Bytes of a response arrived. */
  #onData(buf: Uint8Array, n: number): void {
    if (!this.open) return;
    const req = this.current;
    if (req === null) {
      this.pool.drop(this);
      return; // bytes nobody asked for: the connection's framing cannot be trusted
    }
    const r = this.parser.feed(buf, 0, n);
    if (r.kind === "malformed") {
      this.fail("malformed_response", r.reason);
      return;
    }
    if (r.kind === "done") {
      const res = this.parser.response();
      const endMs = performance.now();
      this.current = null;
      // The connection is free before the caller hears of the response: a callback that sends
      // again (the recall fallback, a queued request) reuses it instead of opening another.
      if (!res.close && r.used === n) this.pool.release(this);
      else this.pool.drop(this);
      this.pool.settle(req, { kind: "response", connectMs: req.connectMs, ...res }, endMs);
    }
  }

  #onEof(): void {
    const req = this.current;
    if (req === null) {
      this.pool.drop(this, true);
      return;
    }
    const r = this.parser.end();
    if (r.kind === "done") {
      const endMs = performance.now();
      this.current = null;
      this.pool.drop(this);
      this.pool.settle(req, {
        kind: "response",
        connectMs: req.connectMs,
        ...this.parser.response(),
      }, endMs);
      return;
    }
    this.fail(
      "connection_closed",
      this.parser.idle ? "closed before the response" : "closed mid-response",
    );
  }

  /** Ends the current request with a failure and closes the connection. */
  fail(failure: HttpFailure, detail: string): void {
    const req = this.current;
    const endMs = performance.now();
    this.current = null;
    this.pool.drop(this);
    if (req !== null) {
      this.pool.settle(req, { kind: "failure", failure, detail, connectMs: req.connectMs }, endMs);
    }
  }
}

/** A pool of keep-alive HTTP/1.1 connections to one origin (`http://host:port`). */
export class Http1Client {
  readonly stats: PoolStats = {
    connectionsOpened: 0,
    connectFailures: 0,
    connectionsClosedByServer: 0,
  };
  readonly #hostname: string;
  readonly #port: number;
  readonly #headPrefix: string;
  readonly #headSuffix: string;
  readonly #max: number;
  readonly #open: SocketOpener;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  #connecting = 0;
  readonly #waiting: Request[] = [];
  #waitingHead = 0;
  readonly #pendingConnects = new Set<Request>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(baseUrl: string, opts: Http1Options) {
    const u = new URL(baseUrl);
    if (u.protocol !== "http:") {
      throw new Error(`the HTTP/1.1 client speaks http:, not ${u.protocol}`);
    }
    this.#hostname = u.hostname.replace(/^\[|\]$/g, "");
    this.#port = Number(u.port || 80);
    this.#max = Math.max(1, opts.maxConnections);
    this.#open = opts.sockets ?? denoSockets;
    this.#headPrefix = ` HTTP/1.1\r\nhost: ${u.host}\r\n`;
    this.#headSuffix = Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join(
      "",
    );
  }

  /** Connections open now (idle and busy). */
  get connections(): number {
    return this.#all.size;
  }

  /**
   * Sends one request; resolves (never rejects) with its outcome. `body` is sent as
   * `application/json`; `deadlineMs` is a `performance.now()` instant.
   */
  request(
    method: string,
    path: string,
    body: string | null,
    deadlineMs: number,
  ): Promise<HttpOutcome> {
    return new Promise<HttpOutcome>((resolve) =>
      this.requestThen(method, path, body, deadlineMs, resolve)
    );
  }

  /**
   * `request` with a callback instead of a promise (the measured run's path: no promise per
   * request); `done` is called exactly once, possibly before this returns.
   */
  requestThen(
    method: string,
    path: string,
    body: string | null,
    deadlineMs: number,
    done: (o: HttpOutcome) => void,
  ): void {
    const req: Request = {
      method,
      path,
      body,
      deadlineMs,
      resolve: done,
      connectMs: null,
      settled: false,
    };
    if (this.#closed) {
      this.settle(req, {
        kind: "failure",
        failure: "aborted",
        detail: "client closed",
        connectMs: null,
      });
      return;
    }
    this.#ensureSweeper();
    const c = this.#idle.pop();
    if (c !== undefined) c.send(req, this.#headPrefix, this.#headSuffix);
    else if (this.#all.size + this.#connecting < this.#max) void this.#connect(req);
    else this.#waiting.push(req);
  }

  /** Ends every waiting and in-flight request as "aborted" (their connections are closed). */
  abortAll(): void {
    for (let i = this.#waitingHead; i < this.#waiting.length; i++) this.#abort(this.#waiting[i]);
    this.#waiting.length = 0;
    this.#waitingHead = 0;
    for (const r of this.#pendingConnects) this.#abort(r);
    for (const c of [...this.#all]) if (c.current !== null) c.fail("aborted", "run aborted");
  }

  /** Aborts everything and closes every connection; later requests fail as "aborted". */
  close(): void {
    this.#closed = true;
    this.abortAll();
    for (const c of [...this.#all]) this.drop(c);
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** @internal Resolves a request once. */
  settle(req: Request, o: HttpEnding, endMs = performance.now()): void {
    if (req.settled) return;
    req.settled = true;
    req.resolve({ ...o, endMs });
  }

  /** @internal A connection finished a response and can take the next request. */
  release(c: Connection): void {
    const next = this.#nextWaiting();
    if (next !== undefined) c.send(next, this.#headPrefix, this.#headSuffix);
    else this.#idle.push(c);
  }

  /** @internal Closes a connection and forgets it; a waiting request gets a new one. */
  drop(c: Connection, byServer = false): void {
    if (!this.#all.delete(c)) return;
    if (byServer) this.stats.connectionsClosedByServer++;
    c.open = false;
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    try {
      c.conn.close();
    } catch { /* already closed */ }
    const next = this.#closed ? undefined : this.#nextWaiting();
    if (next !== undefined) void this.#connect(next);
  }

  #nextWaiting(): Request | undefined {
    // Bounded: each pass removes one waiting request.
    while (this.#waitingHead < this.#waiting.length) {
      const r = this.#waiting[this.#waitingHead];
      this.#waiting[this.#waitingHead++] = undefined as unknown as Request;
      if (this.#waitingHead === this.#waiting.length) {
        this.#waiting.length = 0;
        this.#waitingHead = 0;
      }
      if (!r.settled) return r;
    }
    return undefined;
  }

  async #connect(req: Request): Promise<void> {
    this.#connecting++;
    this.#pendingConnects.add(req);
    const t0 = performance.now();
    let conn: RawSocket;
    try {
      conn = await this.#open(this.#hostname, this.#port);
    } catch (e) {
      this.#connecting--;
      this.#pendingConnects.delete(req);
      this.stats.connectFailures++;
      this.settle(req, {
        kind: "failure",
        failure: "connect_failed",
        detail: errText(e),
        connectMs: performance.now() - t0,
      });
      return;
    }
    this.#connecting--;
    this.#pendingConnects.delete(req);
    this.stats.connectionsOpened++;
    const c = new Connection(conn, this);
    this.#all.add(c);
    if (req.settled || this.#closed) {
      // Timed out or aborted while connecting: the connection serves the next request.
      if (this.#closed) this.drop(c);
      else this.release(c);
      return;
    }
    req.connectMs = performance.now() - t0;
    c.send(req, this.#headPrefix, this.#headSuffix);
  }

  #abort(r: Request): void {
    this.settle(r, {
      kind: "failure",
      failure: "aborted",
      detail: "run aborted",
      connectMs: r.connectMs,
    });
  }

  #ensureSweeper(): void {
    this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS);
  }

  /** Fails requests past their deadline: waiting, connecting or in flight. */
  #sweep(): void {
    const now = performance.now();
    let busy = 0;
    for (const c of this.#all) {
      const r = c.current;
      if (r === null) continue;
      if (r.deadlineMs <= now) c.fail("timeout", "no complete response by the deadline");
      else busy++;
    }
    for (let i = this.#waitingHead; i < this.#waiting.length; i++) {
      const r = this.#waiting[i];
      if (r.settled) continue;
      if (r.deadlineMs <= now) {
        this.settle(r, {
          kind: "failure",
          failure: "timeout",
          detail: "no connection by the deadline",
          connectMs: null,
        });
      } else busy++;
    }
    for (const r of this.#pendingConnects) {
      if (r.deadlineMs <= now) {
        this.settle(r, {
          kind: "failure",
          failure: "timeout",
          detail: "connect did not finish by the deadline",
          connectMs: null,
        });
      } else busy++;
    }
    if (busy === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}

/** Encodes `s` at the start of the connection's buffer `which` (room for `reserve` more bytes after it); returns the byte count. */
function encodeInto(s: string, c: Connection, which: "out" | "body", reserve = 0): number {
  // UTF-8 needs at most 3 bytes per UTF-16 unit; ASCII (the usual case) needs one.
  let buf = c.buffer(which, s.length, reserve);
  let r = encoder.encodeInto(s, buf);
  if (r.read < s.length) {
    buf = c.buffer(which, s.length * 3, reserve);
    r = encoder.encodeInto(s, buf);
  }
  return r.written;
}

function grow(n: number): number {
  let size = 4096;
  while (size < n) size *= 2; // bounded: doubles up to n
  return size;
}

function errText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
