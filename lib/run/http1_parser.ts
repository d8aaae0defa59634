/**
 * An incremental HTTP/1.1 response parser: bytes go in as they arrive (any split, one byte at a
 * time included), one complete response comes out. It reads the status line, the headers it
 * needs (`Content-Length`, `Transfer-Encoding: chunked`, `Connection: close`, `Server-Timing`),
 * and the body by length, by chunks or until the connection closes. The body is not stored: it
 * keeps the first and last non-blank bytes (enough to tell a JSON document from an HTML page)
 * and, for statuses other than 2xx, its first bytes as text (for error attribution).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { ResponseParser } from "./http1_parser.ts";
 * const p = new ResponseParser();
 * const bytes = new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
 * const r = p.feed(bytes, 0, bytes.length);
 * strictEqual(r.kind, "done");
 * strictEqual(p.response().status, 200);
 * strictEqual(p.response().jsonBody, true);
 * ```
 * @module
 */

/** What the parser learned about one complete response. */
export interface ParsedResponse {
  status: number;
  /** The body's first and last non-blank bytes are `{…}` or `[…]` (cheap JSON test). */
  jsonBody: boolean;
  bodyBytes: number;
  /** The body's first bytes as text, kept only for statuses outside 2xx. */
  bodyHead: string | null;
  /** Sum of the `dur` values of `Server-Timing` (ms), or null without the header. */
  serverTimingMs: number | null;
  /** The server asked to close the connection after this response. */
  close: boolean;
}

/** The result of feeding bytes. */
export type FeedResult =
  /** More bytes are needed. */
  | { kind: "more" }
  /** One response is complete; `used` bytes of the input belonged to it. */
  | { kind: "done"; used: number }
  /** The bytes are not a valid HTTP/1.1 response. */
  | { kind: "malformed"; reason: string };

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 1024;
const BODY_HEAD_BYTES = 512;
const CR = 13, LF = 10;
const MORE: FeedResult = { kind: "more" };
const LATIN1 = new TextDecoder("latin1");

type State =
  | "head"
  | "length"
  | "chunk_size"
  | "chunk_data"
  | "chunk_crlf"
  | "trailers"
  | "until_close"
  | "done";

const isBlank = (b: number) => b === 32 || b === 9 || b === CR || b === LF;

/** Parses one response at a time; `reset()` (or `begin()`) before the next one. */
export class ResponseParser {
  #state: State = "head";
  #head = new Uint8Array(4096);
  #headLen = 0;
  #line = new Uint8Array(MAX_LINE_BYTES);
  #lineLen = 0;
  #remaining = 0;
  #status = 0;
  #close = false;
  #serverTimingMs: number | null = null;
  #first = -1;
  #last = -1;
  #bodyBytes = 0;
  #keepHead = false;
  #bodyHead: Uint8Array | null = null;
  #bodyHeadLen = 0;
  #noBody = false;

  /** Prepares for a new response; `noBody` for a HEAD request (no body whatever the headers). */
  begin(noBody = false): void {
    this.#state = "head";
    this.#headLen = 0;
    this.#lineLen = 0;
    this.#remaining = 0;
    this.#status = 0;
    this.#close = false;
    this.#serverTimingMs = null;
    this.#first = -1;
    this.#last = -1;
    this.#bodyBytes = 0;
    this.#keepHead = false;
    this.#bodyHeadLen = 0;
    this.#noBody = noBody;
  }

  /** True while nothing of the current response has arrived. */
  get idle(): boolean {
    return this.#state === "head" && this.#headLen === 0;
  }

  /** Feeds `buf[from, to)`. After "done", the rest of the input is not this response's. */
  feed(buf: Uint8Array, from: number, to: number): FeedResult {
    let i = from;
    // Each pass consumes at least one byte or finishes: bounded by the input length.
    while (i < to) {
      switch (this.#state) {
        case "head": {
          const r = this.#feedHead(buf, i, to);
          if (r.kind === "malformed") return r;
          i = r.at;
          if (this.#done()) return { kind: "done", used: i - from };
          break;
        }
        case "length": {
          const n = Math.min(this.#remaining, to - i);
          this.#body(buf, i, i + n);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            this.#state = "done";
            return { kind: "done", used: i - from };
          }
          break;
        }
        case "until_close": {
          this.#body(buf, i, to);
          i = to;
          break;
        }
        case "chunk_size":
        case "chunk_crlf":
        case "trailers": {
          const b = buf[i++];
          if (b !== LF) {
            if (this.#lineLen >= MAX_LINE_BYTES) {
              return { kind: "malformed", reason: "chunk line too long" };
            }
            this.#line[this.#lineLen++] = b;
            break;
          }
          const len = this.#lineLen > 0 && this.#line[this.#lineLen - 1] === CR
            ? this.#lineLen - 1
            : this.#lineLen;
          this.#lineLen = 0;
          const r = this.#chunkLine(len);
          if (r !== null) return r;
          if (this.#done()) return { kind: "done", used: i - from };
          break;
        }
        case "chunk_data": {
          const n = Math.min(this.#remaining, to - i);
          this.#body(buf, i, i + n);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = "chunk_crlf";
          break;
        }
        case "done":
          return { kind: "done", used: i - from };
      }
    }
    return this.#state === "done" ? { kind: "done", used: i - from } : MORE;
  }

  /**
   * The connection closed. A body delimited by the close is complete ("done"); a response cut
   * short is "malformed" only when some of it had arrived (the caller tells the two apart with
   * `idle`).
   */
  end(): FeedResult {
    if (this.#state === "until_close") {
      this.#state = "done";
      return { kind: "done", used: 0 };
    }
    if (this.#state === "done") return { kind: "done", used: 0 };
    return { kind: "malformed", reason: "connection closed mid-response" };
  }

  /** The complete response (valid after "done"). */
  response(): ParsedResponse {
    const f = this.#first, l = this.#last;
    const jsonBody = (f === 0x7b && l === 0x7d) || (f === 0x5b && l === 0x5d);
    return {
      status: this.#status,
      jsonBody,
      bodyBytes: this.#bodyBytes,
      bodyHead: this.#bodyHead && this.#keepHead
        ? LATIN1.decode(this.#bodyHead.subarray(0, this.#bodyHeadLen))
        : null,
      serverTimingMs: this.#serverTimingMs,
      close: this.#close,
    };
  }

  #done(): boolean {
    return this.#state === "done";
  }

  #body(buf: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.#bodyBytes += to - from;
    if (this.#first < 0) {
      for (let j = from; j < to; j++) {
        if (!isBlank(buf[j])) {
          this.#first = buf[j];
          break;
        }
      }
    }
    for (let j = to - 1; j >= from; j--) {
      if (!isBlank(buf[j])) {
        this.#last = buf[j];
        break;
      }
    }
    if (this.#keepHead && this.#bodyHeadLen < BODY_HEAD_BYTES) {
      this.#bodyHead ??= new Uint8Array(BODY_HEAD_BYTES);
      const n = Math.min(BODY_HEAD_BYTES - this.#bodyHeadLen, to - from);
      this.#bodyHead.set(buf.subarray(from, from + n), this.#bodyHeadLen);
      this.#bodyHeadLen += n;
    }
  }

  /** Copies head bytes until the blank line; returns where it stopped. */
  #feedHead(
    buf: Uint8Array,
    from: number,
    to: number,
  ): { kind: "ok"; at: number } | { kind: "malformed"; reason: string } {
    for (let i = from; i < to; i++) {
      if (this.#headLen === this.#head.length) {
        if (this.#headLen >= MAX_HEAD_BYTES) {
          return { kind: "malformed", reason: "response head over 64 KiB" };
        }
        const bigger = new Uint8Array(this.#head.length * 2);
        bigger.set(this.#head);
        this.#head = bigger;
      }
      const b = buf[i];
      this.#head[this.#headLen++] = b;
      if (b !== LF) continue;
      const h = this.#head, n = this.#headLen;
      const blank = (n >= 2 && h[n - 2] === LF) || (n >= 3 && h[n - 2] === CR && h[n - 3] === LF);
      if (!blank) continue;
      const r = this.#parseHead();
      if (r !== null) return r;
      return { kind: "ok", at: i + 1 };
    }
    return { kind: "ok", at: to };
  }

  /**
   * Interprets a complete head and chooses how the body is framed. It works on the bytes: only
   * the status line's digits and the values of the four headers it needs become strings (a
   * decode of the whole head was ~10% of the pacing thread's CPU at 5,000 ops/s).
   */
  #parseHead(): { kind: "malformed"; reason: string } | null {
    const h = this.#head, n = this.#headLen;
    // Lines end at LF; a CR before it is dropped.
    const lineEnd = (from: number) => {
      let i = from;
      while (i < n && h[i] !== LF) i++; // bounded by the head's length
      return i;
    };
    const trimCr = (from: number, to: number) => (to > from && h[to - 1] === CR ? to - 1 : to);
    const firstEnd = lineEnd(0);
    const first = trimCr(0, firstEnd);
    const status = statusOf(h, first);
    if (status < 0) {
      return {
        kind: "malformed",
        reason: `bad status line ${JSON.stringify(latin1(h, 0, first))}`,
      };
    }
    let length = -1, chunked = false, close = h[7] === 48; // HTTP/1.0 closes by default
    // Bounded by the head's length: each pass consumes one line.
    for (let at = firstEnd + 1; at < n;) {
      const end = lineEnd(at);
      const stop = trimCr(at, end);
      const from = at;
      at = end + 1;
      if (stop === from) continue;
      let colon = -1;
      for (let k = from; k < stop; k++) {
        if (h[k] === 58) {
          colon = k - from;
          break;
        }
      }
      if (colon <= 0) {
        return {
          kind: "malformed",
          reason: `bad header line ${JSON.stringify(latin1(h, from, stop))}`,
        };
      }
      // Only four names matter; their lengths skip every other header cheaply.
      const name = colon === 14 && nameIs(h, from, "content-length")
        ? "content-length"
        : colon === 17 && nameIs(h, from, "transfer-encoding")
        ? "transfer-encoding"
        : colon === 10 && nameIs(h, from, "connection")
        ? "connection"
        : colon === 13 && nameIs(h, from, "server-timing")
        ? "server-timing"
        : null;
      if (name === null) continue;
      const value = latin1(h, from + colon + 1, stop).trim();
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value) || (length >= 0 && Number(value) !== length)) {
          return { kind: "malformed", reason: `bad content-length ${JSON.stringify(value)}` };
        }
        length = Number(value);
      } else if (name === "transfer-encoding") {
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      } else if (name === "connection") {
        if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) close = true;
        else if (/(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(value)) close = false;
      } else {
        let sum = this.#serverTimingMs ?? 0;
        for (const d of value.matchAll(/;\s*dur=([0-9.]+)/gi)) sum += Number(d[1]);
        this.#serverTimingMs = sum;
      }
    }
    if (status < 200) {
      // An interim response (100 Continue): the real one follows.
      this.#headLen = 0;
      this.#serverTimingMs = null;
      return null;
    }
    this.#status = status;
    this.#close = close;
    this.#keepHead = status < 200 || status > 299;
    if (this.#noBody || status === 204 || status === 304) this.#state = "done";
    else if (chunked) this.#state = "chunk_size";
    else if (length >= 0) {
      this.#remaining = length;
      this.#state = length === 0 ? "done" : "length";
    } else {
      // Neither length nor chunks: the body ends when the server closes the connection.
      this.#close = true;
      this.#state = "until_close";
    }
    return null;
  }

  /** Handles one line of chunked framing (size line, the CRLF after data, or a trailer). */
  #chunkLine(len: number): FeedResult | null {
    if (this.#state === "chunk_crlf") {
      if (len !== 0) return { kind: "malformed", reason: "chunk data longer than its size" };
      this.#state = "chunk_size";
      return null;
    }
    if (this.#state === "trailers") {
      if (len === 0) this.#state = "done";
      return null;
    }
    let size = 0, digits = 0;
    for (let k = 0; k < len; k++) {
      const c = this.#line[k];
      const v = c >= 48 && c <= 57
        ? c - 48
        : c >= 97 && c <= 102
        ? c - 87
        : c >= 65 && c <= 70
        ? c - 55
        : -1;
      if (v < 0) {
        if (c === 59 || c === 32 || c === 9) break; // chunk extensions follow
        return { kind: "malformed", reason: "bad chunk size" };
      }
      if (++digits > 12) return { kind: "malformed", reason: "chunk size too large" };
      size = size * 16 + v;
    }
    if (digits === 0) return { kind: "malformed", reason: "bad chunk size" };
    if (size === 0) this.#state = "trailers";
    else {
      this.#remaining = size;
      this.#state = "chunk_data";
    }
    return null;
  }
}

/**
 * The status code of a status line `HTTP/1.x DDD[ reason]` in `h[0..end)`, or -1: the same
 * lines `/^HTTP\/1\.[01] (\d{3})(?: .*)?$/` accepts (a reason phrase without CR).
 */
function statusOf(h: Uint8Array, end: number): number {
  const prefix = "HTTP/1.";
  if (end < 12) return -1;
  for (let k = 0; k < prefix.length; k++) if (h[k] !== prefix.charCodeAt(k)) return -1;
  if ((h[7] !== 48 && h[7] !== 49) || h[8] !== 32) return -1;
  let status = 0;
  for (let k = 9; k < 12; k++) {
    if (h[k] < 48 || h[k] > 57) return -1;
    status = status * 10 + h[k] - 48;
  }
  if (end === 12) return status;
  if (h[12] !== 32) return -1;
  for (let k = 13; k < end; k++) if (h[k] === CR) return -1;
  return status;
}

/** The header name at `h[from..)` equals `lower` ignoring ASCII case. */
function nameIs(h: Uint8Array, from: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    const c = h[from + k];
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/** Bytes as Latin-1 text (short values without a TextDecoder call). */
function latin1(h: Uint8Array, from: number, to: number): string {
  if (to - from > 64) return LATIN1.decode(h.subarray(from, to));
  let s = "";
  for (let k = from; k < to; k++) s += String.fromCharCode(h[k]);
  return s;
}
