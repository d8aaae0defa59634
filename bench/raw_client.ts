/**
 * A minimal HTTP/1.1 client on one keep-alive `Deno.connect` socket: writes the request bytes,
 * reads the head and a `content-length` body. The bench's floor for client cost (no pooling, no
 * abort signals, no header objects), used as the peer of `fetch` in the overhead benchmark.
 * @module
 */

const enc = new TextEncoder();
const dec = new TextDecoder();
const CRLFCRLF = [13, 10, 13, 10];

/** One response: status, raw head text and the body length. */
export interface RawResponse {
  status: number;
  head: string;
  bodyLength: number;
}

/** One keep-alive connection; requests are strictly sequential. */
export class RawHttpClient {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(1 << 16);
  #len = 0;
  readonly #host: string;

  private constructor(conn: Deno.TcpConn, host: string) {
    this.#conn = conn;
    this.#host = host;
  }

  /** Connects to `baseUrl` (`http://host:port`). */
  static async connect(baseUrl: string): Promise<RawHttpClient> {
    const u = new URL(baseUrl);
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    conn.setNoDelay(true);
    return new RawHttpClient(conn, u.host);
  }

  /** Sends one request and reads the whole response. */
  async request(method: string, path: string, body: string | null): Promise<RawResponse> {
    const b = body === null ? null : enc.encode(body);
    const head = `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}\r\n` +
      (b ? `content-type: application/json\r\ncontent-length: ${b.length}\r\n` : "") + "\r\n";
    const h = enc.encode(head);
    const out = b ? new Uint8Array(h.length + b.length) : h;
    if (b) out.set(h), out.set(b, h.length);
    for (let off = 0; off < out.length;) off += await this.#conn.write(out.subarray(off));

    let headEnd = -1;
    for (let guard = 0; headEnd < 0; guard++) {
      headEnd = indexOf(this.#buf, this.#len, CRLFCRLF);
      if (headEnd < 0) await this.#fill(guard);
    }
    const headText = dec.decode(this.#buf.subarray(0, headEnd));
    const status = Number(headText.slice(9, 12));
    const cl = headText.match(/\r\ncontent-length:\s*(\d+)/i);
    if (!cl) throw new Error("raw client: response without content-length");
    const total = headEnd + 4 + Number(cl[1]);
    for (let guard = 0; this.#len < total; guard++) await this.#fill(guard);
    this.#buf.copyWithin(0, total, this.#len);
    this.#len -= total;
    return { status, head: headText, bodyLength: Number(cl[1]) };
  }

  async #fill(guard: number) {
    if (guard > 100_000) throw new Error("raw client: response too long");
    if (this.#len === this.#buf.length) {
      const bigger = new Uint8Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#len));
    if (n === null) throw new Error("raw client: connection closed");
    this.#len += n;
  }

  /** Closes the socket. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

function indexOf(buf: Uint8Array, len: number, pat: number[]): number {
  outer: for (let i = 0; i + pat.length <= len; i++) {
    for (let j = 0; j < pat.length; j++) if (buf[i + j] !== pat[j]) continue outer;
    return i;
  }
  return -1;
}
