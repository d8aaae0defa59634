/**
 * What the HTTP/1.1 client (lib/run/http1.ts) needs from a TCP connection, and the two ways to
 * get one: Deno's sockets (`Deno.connect`, every read and write an async op; works everywhere)
 * and Linux epoll over FFI (lib/run/epoll.ts: synchronous `send`/`recv`, the measured run's
 * default where available).
 * @module
 */

/** A connected TCP socket whose arriving bytes are delivered to callbacks. */
export interface RawSocket {
  /**
   * Writes `bytes`: how many were written (at least one), at once when the socket took them
   * synchronously, else a promise of it; throws or rejects on failure.
   */
  write(bytes: Uint8Array): number | Promise<number>;
  /** Bytes arrived: `buf[0..n)` is valid until the callback returns. */
  onData: (buf: Uint8Array, n: number) => void;
  /** The peer closed the connection. */
  onEof: () => void;
  /** Reading failed (reset, …). */
  onError: (message: string) => void;
  close(): void;
}

/** Opens TCP connections (rejects with an Error saying why it could not). */
export type SocketOpener = (hostname: string, port: number) => Promise<RawSocket>;

const READ_BUFFER_BYTES = 16 * 1024;

/** Deno's sockets: `Deno.connect`, Nagle off, a read loop per connection. */
export const denoSockets: SocketOpener = async (hostname, port) => {
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  return new DenoSocket(conn);
};

class DenoSocket implements RawSocket {
  onData: (buf: Uint8Array, n: number) => void = () => {};
  onEof: () => void = () => {};
  onError: (message: string) => void = () => {};
  #open = true;

  constructor(readonly conn: Deno.TcpConn) {
    // Started after the caller has set the callbacks (it does so before awaiting anything).
    queueMicrotask(() => void this.#readLoop());
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.conn.write(bytes);
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    // Ends with the connection: EOF, a read error, or close().
    while (this.#open) {
      let n: number | null;
      try {
        n = await this.conn.read(buf);
      } catch (e) {
        if (this.#open) this.onError(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
        return;
      }
      if (!this.#open) return;
      if (n === null) {
        this.onEof();
        return;
      }
      this.onData(buf, n);
    }
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}
