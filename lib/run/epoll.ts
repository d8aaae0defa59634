/**
 * The measured run's sockets and clock on Linux, straight from the kernel: non-blocking TCP
 * sockets and one `epoll_pwait2` per wake-up, called through FFI (glibc), with the wait's
 * nanosecond timeout set to the pacer's next due time. This is wrk2's loop in TypeScript.
 *
 * Why: Deno's socket reads and writes are async ops, each a promise and an event-loop wake-up;
 * `perf` put ~60% of the pacing thread's CPU in that machinery and ~10% in the tool's own code.
 * Here a response costs one `epoll_pwait2` and a `recv`, a request one `send`, all synchronous;
 * the pacer's wake-up is the same `epoll_pwait2` (no ticker thread). Measured side by side in one
 * run (BENCHMARKS.md, "Load engine"), the generator's CPU per request roughly halves.
 *
 * How it fits Deno's event loop: while the pacer runs, it drives the sockets through this
 * reactor's waker (`until` blocks in `epoll_pwait2` at most `MAX_BLOCK_MS` and delivers socket
 * events synchronously; Deno's event loop turns at least every `TURN_EVERY_MS`, so timers,
 * signals, worker messages and `fetch` health checks still run). Before and after pacing (connects,
 * the drain) a pump does the same, turning the event loop after every wait. Responses are timed
 * when their last byte is parsed, not when a promise callback runs.
 *
 * Available on Linux x86-64 and aarch64 when FFI is allowed (`--allow-ffi`) and the target is
 * an IP literal or `localhost`; elsewhere `openReactor()` says why not and the run uses Deno's
 * sockets (lib/run/http1.ts) and the ticker-thread waker (lib/shared/waker.ts).
 * @module
 */
import { setImmediate } from "node:timers";
import type { RawSocket } from "./socket.ts";
import type { Waker } from "../shared/waker.ts";
import { epollEventStride, epollLayoutMissing } from "../shared/platform.ts";

/** Longest single block in `epoll_pwait2`: Deno's own event loop turns at least this often. */
export const MAX_BLOCK_MS = 10;
/**
 * The wait ends this long before a due time and the rest is spun. The thread's timer slack is set
 * to 1 µs (`PR_SET_TIMERSLACK`; Linux's default of 50 µs made every wake-up ~55 µs late).
 */
const EARLY_MS = 0;
/**
 * The pump's longest block (before and after pacing): Deno's own I/O (a server in the same
 * process, in tests) only moves when its event loop turns, so the pump blocks briefly.
 */
const PUMP_BLOCK_MS = 1;
/** While the pacer drives, Deno's event loop turns at least this often (timers, signals). */
const TURN_EVERY_MS = 2;
/** A wake-up never comes more than this early, so the synchronous spin is bounded. */
const MAX_SPIN_MS = 0.5;

const AF_INET = 2, AF_INET6 = 10;
const SOCK_STREAM = 1, SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
const IPPROTO_TCP = 6, TCP_NODELAY = 1, SOL_SOCKET = 1, SO_ERROR = 4;
const MSG_NOSIGNAL = 0x4000;
const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
const EPOLLIN = 0x1, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10;
const EAGAIN = 11, EINTR = 4, EINPROGRESS = 115;
const MAX_EVENTS = 256;
const PR_SET_TIMERSLACK = 29, PR_GET_TIMERSLACK = 30;

/** errno → the name and text a person recognizes (the common ones of a TCP client). */
const ERRNO: Record<number, string> = {
  9: "EBADF: socket closed",
  32: "EPIPE: broken pipe",
  101: "ENETUNREACH: network is unreachable",
  103: "ECONNABORTED: connection aborted",
  104: "ECONNRESET: connection reset by peer",
  110: "ETIMEDOUT: connection timed out",
  111: "ECONNREFUSED: connection refused",
  113: "EHOSTUNREACH: no route to host",
  24: "EMFILE: too many open files",
};
const errnoText = (e: number) => ERRNO[e] ?? `errno ${e}`;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_pwait2: { parameters: ["i32", "buffer", "i32", "buffer", "pointer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Why the reactor is not used (shown in the run log), or the reactor. */
export type ReactorChoice = { kind: "epoll"; reactor: Reactor } | { kind: "deno"; why: string };

/** Whether a run to `baseUrl` can use the reactor, or why not (checked without opening it). */
export function reactorPlan(baseUrl: string): { kind: "epoll" } | { kind: "deno"; why: string } {
  if (Deno.env.get("M17_IO") === "deno") return { kind: "deno", why: "M17_IO=deno" };
  const layout = epollLayoutMissing();
  if (layout !== null) return { kind: "deno", why: layout };
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return { kind: "deno", why: "FFI not allowed (--allow-ffi)" };
  }
  const host = new URL(baseUrl).hostname;
  if (numericAddress(host) === null) {
    return { kind: "deno", why: `${host} is not an IP address or localhost` };
  }
  return { kind: "epoll" };
}

/**
 * The sockets a run to `baseUrl` uses: the reactor where it can (`reactorPlan`), else Deno's and
 * why. `M17_IO=deno` forces Deno's sockets.
 */
export function reactorFor(baseUrl: string): ReactorChoice {
  const plan = reactorPlan(baseUrl);
  if (plan.kind === "deno") return plan;
  try {
    const lib = Deno.dlopen("libc.so.6", SYMBOLS);
    const epfd = lib.symbols.epoll_create1(0o2000000);
    if (epfd < 0) {
      lib.close();
      return { kind: "deno", why: "epoll_create1 failed" };
    }
    // epoll_pwait2 needs Linux 5.11; glibc ≥ 2.35 has the symbol on older kernels too, where
    // it fails with ENOSYS: one zero-timeout call tells.
    const probe = lib.symbols.epoll_pwait2(epfd, new Uint8Array(16), 1, new Uint8Array(16), null);
    if (probe < 0) {
      lib.symbols.close(epfd);
      lib.close();
      return { kind: "deno", why: "epoll_pwait2 unavailable (Linux < 5.11?)" };
    }
    return { kind: "epoll", reactor: new Reactor(lib, epfd) };
  } catch (e) {
    return { kind: "deno", why: `libc not loadable: ${e instanceof Error ? e.message : e}` };
  }
}

/** The numeric address of `hostname` the reactor can connect to, or null (use Deno's sockets). */
export function numericAddress(hostname: string): { family: 4 | 6; bytes: number[] } | null {
  const h = hostname.replace(/^\[|\]$/g, "");
  if (h === "localhost") return { family: 4, bytes: [127, 0, 0, 1] };
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? { family: 4, bytes: b } : null;
  }
  if (!h.includes(":") || !/^[0-9a-fA-F:.]+$/.test(h)) return null;
  // IPv6 literal (`::1`, `fe80::1`, …); URL() has already normalized it, without embedded v4.
  const [head, tail] = h.includes("::") ? h.split("::") : [h, null];
  const words = (s: string) => (s === "" ? [] : s.split(":").map((w) => parseInt(w, 16)));
  const a = words(head), b = tail === null ? [] : words(tail);
  const all = tail === null ? a : [...a, ...Array(8 - a.length - b.length).fill(0), ...b];
  if (all.length !== 8 || all.some((w) => !(w >= 0 && w <= 0xffff))) return null;
  return { family: 6, bytes: all.flatMap((w) => [w >> 8, w & 0xff]) };
}

interface Entry {
  /** The key in epoll's user data (an fd number can be reused at once after a close; ids never). */
  id: number;
  fd: number;
  socket: Socket | null;
  /** A connect in progress: settled when the socket becomes writable. */
  connecting: { resolve: (s: Socket) => void; reject: (e: Error) => void } | null;
}

/** Linux epoll over FFI: sockets, and a waker whose sleeps are the epoll waits. */
export class Reactor {
  readonly #c: Libc;
  readonly #entries = new Map<number, Entry>();
  readonly #events = new Uint8Array(16 * MAX_EVENTS);
  readonly #view = new DataView(this.#events.buffer);
  readonly #stride = epollEventStride;
  readonly #ev = new Uint8Array(16);
  readonly #evView = new DataView(this.#ev.buffer);
  readonly #timeout = new BigInt64Array(2);
  readonly #timeoutBytes = new Uint8Array(this.#timeout.buffer);
  readonly #readBuf = new Uint8Array(64 * 1024);
  readonly #errnoPtr: Deno.PointerValue;
  /** The pacer drives the sockets through the waker (the pump stays out). */
  #driven = false;
  #nextId = 1;
  #pumping = false;
  #closed = false;
  /** This thread's timer slack before the reactor set it (ns), restored by `close()`. */
  readonly #slackBefore: number;

  constructor(readonly lib: Deno.DynamicLibrary<typeof SYMBOLS>, readonly epfd: number) {
    this.#c = lib.symbols;
    this.#errnoPtr = this.#c.__errno_location();
    // This thread's timed waits end within 1 µs of their deadline instead of Linux's 50 µs,
    // while the reactor is open: `close()` gives the thread its own slack back.
    this.#slackBefore = this.#c.prctl(PR_GET_TIMERSLACK, 0n, 0n, 0n, 0n);
    this.#c.prctl(PR_SET_TIMERSLACK, 1000n, 0n, 0n, 0n);
  }

  #errno(): number {
    return this.#errnoPtr === null ? 0 : new Deno.UnsafePointerView(this.#errnoPtr).getInt32();
  }

  #ctl(op: number, e: Entry, events: number): boolean {
    this.#evView.setUint32(0, events, true);
    this.#evView.setBigUint64(this.#stride === 12 ? 4 : 8, BigInt(e.id), true);
    return this.#c.epoll_ctl(this.epfd, op, e.fd, this.#ev) === 0;
  }

  /** Opens a TCP connection (non-blocking connect, completed by the pump). */
  connect(hostname: string, port: number): Promise<RawSocket> {
    const addr = numericAddress(hostname);
    if (addr === null) return Promise.reject(new Error(`not a numeric address: ${hostname}`));
    if (this.#closed) return Promise.reject(new Error("reactor closed"));
    const family = addr.family === 4 ? AF_INET : AF_INET6;
    const fd = this.#c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Promise.reject(new Error(`socket: ${errnoText(this.#errno())}`));
    const sa = new Uint8Array(addr.family === 4 ? 16 : 28);
    const v = new DataView(sa.buffer);
    v.setUint16(0, family, true);
    v.setUint16(2, port, false);
    sa.set(addr.bytes, addr.family === 4 ? 4 : 8);
    this.#c.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, new Int32Array([1]), 4);
    const r = this.#c.connect(fd, sa, sa.length);
    const errno = r === 0 ? 0 : this.#errno();
    if (r !== 0 && errno !== EINPROGRESS) {
      this.#c.close(fd);
      return Promise.reject(new Error(`connect: ${errnoText(errno)}`));
    }
    const entry: Entry = { id: this.#nextId++, fd, socket: null, connecting: null };
    if (!this.#ctl(EPOLL_CTL_ADD, entry, EPOLLIN | EPOLLOUT)) {
      this.#c.close(fd);
      return Promise.reject(new Error(`epoll_ctl: ${errnoText(this.#errno())}`));
    }
    this.#entries.set(entry.id, entry);
    this.#startPump();
    return new Promise<RawSocket>((resolve, reject) => {
      entry.connecting = { resolve, reject };
    });
  }

  /**
   * A waker whose waits are this reactor's epoll waits. While the pacer uses it, the pacer drives
   * the sockets: `until` blocks in `epoll_pwait2` (at most `MAX_BLOCK_MS` a call) and delivers
   * socket events synchronously, and Deno's event loop turns once every `TURN_EVERY_MS` (else
   * the wait resolves as a microtask: no event-loop wake-up per request). `close()` hands the
   * sockets back to the pump (the drain after pacing).
   */
  waker(): Waker {
    let lastTurnMs = performance.now();
    const resume = (): Promise<void> => {
      const now = performance.now();
      if (now - lastTurnMs < TURN_EVERY_MS) return Promise.resolve();
      lastTurnMs = now;
      return new Promise<void>((r) => setImmediate(r));
    };
    return {
      kind: "sleep",
      ready: Promise.resolve(),
      turn: () => {
        this.#driven = true;
        if (!this.#closed) this.#poll(0);
        lastTurnMs = performance.now();
        return new Promise<void>((r) => setImmediate(r));
      },
      until: (atMs: number) => {
        this.#driven = true;
        if (!this.#closed) {
          const waitMs = Math.min(atMs - EARLY_MS - performance.now(), MAX_BLOCK_MS);
          this.#poll(Math.max(0, waitMs));
        }
        // A socket event may end the wait early: the caller then waits again.
        if (atMs - performance.now() <= EARLY_MS) spinUntil(atMs);
        return resume();
      },
      close: () => {
        this.#driven = false;
        this.#startPump();
      },
    };
  }

  /**
   * Closes every socket and the epoll instance and restores the thread's timer slack; a pending
   * wait resolves.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const e of [...this.#entries.values()]) {
      e.connecting?.reject(new Error("reactor closed"));
      this.#drop(e);
    }
    this.#c.close(this.epfd);
    if (this.#slackBefore > 0) {
      this.#c.prctl(PR_SET_TIMERSLACK, BigInt(this.#slackBefore), 0n, 0n, 0n);
    }
  }

  #drop(e: Entry): void {
    if (!this.#entries.delete(e.id)) return;
    this.#ctl(EPOLL_CTL_DEL, e, 0);
    this.#c.close(e.fd);
  }

  /** @internal Used by a socket. */
  sendSome(fd: number, bytes: Uint8Array): number {
    if (this.#closed) return -9; // EBADF: every socket was closed with the reactor
    for (;;) {
      const n = Number(this.#c.send(fd, bytes, BigInt(bytes.length), MSG_NOSIGNAL));
      if (n >= 0) return n;
      const e = this.#errno();
      if (e === EINTR) continue;
      return e === EAGAIN ? 0 : -e;
    }
  }

  /** @internal A socket waits for writability (or stops waiting). */
  wantWrite(id: number, on: boolean): void {
    const e = this.#closed ? undefined : this.#entries.get(id);
    if (e) this.#ctl(EPOLL_CTL_MOD, e, on ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }

  /** @internal */
  closeSocket(id: number): void {
    const e = this.#entries.get(id);
    if (e) this.#drop(e);
  }

  #startPump(): void {
    if (this.#pumping || this.#closed || this.#driven) return;
    this.#pumping = true;
    void this.#pump();
  }

  /** Waits in epoll and delivers events while sockets are open and the pacer is not driving. */
  async #pump(): Promise<void> {
    try {
      // Bounded: every pass blocks at most PUMP_BLOCK_MS, and the loop ends with the last socket
      // (the driver closes its sockets when its run ends) or when the pacer drives.
      while (!this.#closed && !this.#driven && this.#entries.size > 0) {
        this.#poll(PUMP_BLOCK_MS);
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** One `epoll_pwait2` of at most `waitMs`, its events delivered. */
  #poll(waitMs: number): void {
    this.#timeout[0] = 0n;
    this.#timeout[1] = BigInt(Math.floor(waitMs * 1e6));
    const n = this.#c.epoll_pwait2(this.epfd, this.#events, MAX_EVENTS, this.#timeoutBytes, null);
    for (let i = 0; i < n; i++) {
      const at = i * this.#stride;
      const events = this.#view.getUint32(at, true);
      const id = Number(this.#view.getBigUint64(at + (this.#stride === 12 ? 4 : 8), true));
      const e = this.#entries.get(id);
      if (e !== undefined) this.#handle(e, events);
    }
  }

  #handle(e: Entry, events: number): void {
    if (e.connecting !== null) {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) === 0) return;
      const c = e.connecting;
      e.connecting = null;
      const err = new Int32Array(1), len = new Uint32Array([4]);
      this.#c.getsockopt(e.fd, SOL_SOCKET, SO_ERROR, err, len);
      if (err[0] !== 0) {
        this.#drop(e);
        c.reject(new Error(`connect: ${errnoText(err[0])}`));
        return;
      }
      this.wantWrite(e.id, false);
      e.socket = new Socket(this, e.id, e.fd);
      c.resolve(e.socket);
      return;
    }
    const s = e.socket;
    if (s === null) return;
    if ((events & EPOLLOUT) !== 0) s.writable();
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) === 0) return;
    const buf = this.#readBuf;
    // Bounded: each pass consumes bytes, and ends on EAGAIN, EOF, an error or a short read.
    while (this.#entries.get(e.id) === e) {
      const r = Number(this.#c.recv(e.fd, buf, BigInt(buf.length), 0));
      if (r > 0) {
        s.onData(buf, r);
        if (r < buf.length) return;
        continue;
      }
      if (r === 0) {
        s.onEof();
        return;
      }
      const errno = this.#errno();
      if (errno === EINTR) continue;
      if (errno !== EAGAIN) s.onError(`recv: ${errnoText(errno)}`);
      return;
    }
  }
}

/** One socket of the reactor; writes go out at once, or when the socket is writable again. */
class Socket implements RawSocket {
  onData: (buf: Uint8Array, n: number) => void = () => {};
  onEof: () => void = () => {};
  onError: (message: string) => void = () => {};
  #blocked: { bytes: Uint8Array; resolve: (n: number) => void; reject: (e: Error) => void } | null =
    null;
  #open = true;

  constructor(readonly reactor: Reactor, readonly id: number, readonly fd: number) {}

  write(bytes: Uint8Array): number | Promise<number> {
    if (!this.#open) throw new Error("socket closed");
    const n = this.reactor.sendSome(this.fd, bytes);
    if (n > 0) return n;
    if (n < 0) throw new Error(`send: ${errnoText(-n)}`);
    this.reactor.wantWrite(this.id, true);
    return new Promise<number>((resolve, reject) => (this.#blocked = { bytes, resolve, reject }));
  }

  /** @internal The socket can take bytes again. */
  writable(): void {
    const b = this.#blocked;
    if (b === null) return;
    const n = this.reactor.sendSome(this.fd, b.bytes);
    if (n === 0) return;
    this.#blocked = null;
    this.reactor.wantWrite(this.id, false);
    if (n > 0) b.resolve(n);
    else b.reject(new Error(`send: ${errnoText(-n)}`));
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#blocked?.reject(new Error("socket closed"));
    this.#blocked = null;
    this.reactor.closeSocket(this.id);
  }
}

function spinUntil(atMs: number): void {
  const limit = performance.now() + MAX_SPIN_MS;
  // Bounded by MAX_SPIN_MS.
  while (performance.now() < atMs && performance.now() < limit) { /* spin */ }
}
