/**
 * Experiment (not product code): how cheap can an open-loop HTTP/1.1 generator be inside Deno
 * when it bypasses Deno's async ops? Issue 17 left m17's engine at ~1.1× vegeta's CPU per
 * request at 1,000 ops/s and ~2× at 5,000 ops/s; `perf` puts ~60% of the pacing thread in the
 * Deno runtime (op dispatch, promises, event-loop wake-ups) and ~10% in our JavaScript.
 *
 * This client talks to the kernel directly through FFI (Linux, glibc): non-blocking sockets,
 * one `epoll_pwait2` per wake-up with a nanosecond timeout set to the next due time, `send`
 * and `recv` as synchronous calls. No Deno op, no promise, no timer on the hot path: the loop
 * is wrk2's, written in TypeScript. It sends `GET /` at a constant rate over keep-alive
 * connections (one outstanding request each) and prints one JSON line: CPU seconds of the
 * process, schedule lag and response time percentiles (response = due → last byte, as m17's).
 *
 *   deno run --allow-ffi --allow-sys bench/experiments/ffi_epoll_client.ts PORT RATE SECONDS
 *
 * Bounded: SECONDS ≤ 120, at most 64 connections, the loop ends at the window's end plus 2 s.
 * @module
 */
import process from "node:process";

const [portS, rateS, secondsS] = Deno.args;
const port = Number(portS), rate = Number(rateS), seconds = Number(secondsS);
if (
  !(port > 0 && port < 65536) || !(rate > 0 && rate <= 100_000) || !(seconds > 0 && seconds <= 120)
) {
  console.error("usage: ffi_epoll_client.ts PORT RATE(≤100000) SECONDS(≤120)");
  Deno.exit(3);
}

const libc = Deno.dlopen("libc.so.6", {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_pwait2: { parameters: ["i32", "buffer", "i32", "buffer", "pointer"], result: "i32" },
});
const C = libc.symbols;

const AF_INET = 2, SOCK_STREAM = 1, IPPROTO_TCP = 6, TCP_NODELAY = 1;
const F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 0o4000, MSG_NOSIGNAL = 0x4000;
const EPOLL_CTL_ADD = 1, EPOLLIN = 1;
const MAX_CONNS = 64;

const request = new TextEncoder().encode(`GET / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);

function open(): number {
  const fd = C.socket(AF_INET, SOCK_STREAM, 0);
  const addr = new Uint8Array(16);
  const v = new DataView(addr.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  addr.set([127, 0, 0, 1], 4);
  if (fd < 0 || C.connect(fd, addr, 16) !== 0) throw new Error("connect failed");
  C.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, new Int32Array([1]), 4);
  C.fcntl(fd, F_SETFL, C.fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  return fd;
}

const epfd = C.epoll_create1(0);
const fds: number[] = [];
const busyDue: number[] = []; // per connection: due time of its outstanding request, or -1
const idle: number[] = [];
const recvBuf = new Uint8Array(16 * 1024);
const got: number[] = []; // bytes received for the current response, per connection

function addConnection(): number {
  if (fds.length >= MAX_CONNS) return -1;
  const i = fds.length;
  const fd = open();
  const ev = new Uint8Array(12); // struct epoll_event is packed on x86-64: u32 events, u64 data
  const v = new DataView(ev.buffer);
  v.setUint32(0, EPOLLIN, true);
  v.setBigUint64(4, BigInt(i), true);
  if (C.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev) !== 0) throw new Error("epoll_ctl failed");
  fds.push(fd);
  busyDue.push(-1);
  got.push(0);
  return i;
}
for (let i = 0; i < 4; i++) idle.push(addConnection());

const total = Math.round(rate * seconds);
const lag = new Float64Array(total);
const response = new Float64Array(total);
const reqIndex: number[] = Array(MAX_CONNS).fill(-1);
let sent = 0, done = 0, queued = 0, errors = 0;
const queue: number[] = []; // request indexes due but with no free connection

const events = new Uint8Array(12 * 64);
const evView = new DataView(events.buffer);
const timeout = new BigInt64Array(2); // struct timespec { tv_sec, tv_nsec }

// Minimal response framing: the server answers with Content-Length; a response is complete when
// head + body bytes arrived. Parsed from the first chunk (the instant server's heads are small).
function responseLength(buf: Uint8Array, n: number): number {
  for (let i = 3; i < n; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) {
      const head = new TextDecoder().decode(buf.subarray(0, i));
      const m = /content-length:\s*(\d+)/i.exec(head);
      return i + 1 + (m ? Number(m[1]) : 0);
    }
  }
  return -1;
}
const expected: number[] = Array(MAX_CONNS).fill(-1);

function sendOn(c: number, k: number, dueMs: number) {
  const now = performance.now();
  lag[k] = now - dueMs;
  busyDue[c] = dueMs;
  reqIndex[c] = k;
  got[c] = 0;
  expected[c] = -1;
  const w = Number(C.send(fds[c], request, BigInt(request.length), MSG_NOSIGNAL));
  if (w !== request.length) errors++;
  sent++;
}

const cpu0 = process.cpuUsage();
const start = performance.now() + 20;
const interval = 1000 / rate;
const end = start + seconds * 1000 + 2000;
let next = 0; // index of the next request to send
while (done + errors < total && performance.now() < end) {
  let now = performance.now();
  while (next < total && start + next * interval <= now) {
    const c = idle.length > 0 ? idle.pop()! : addConnection();
    if (c < 0) {
      queue.push(next);
      queued++;
    } else sendOn(c, next, start + next * interval);
    next++;
  }
  now = performance.now();
  const waitMs = next < total ? Math.max(0, start + next * interval - now) : 50;
  timeout[0] = BigInt(Math.floor(waitMs / 1000));
  timeout[1] = BigInt(Math.floor((waitMs % 1000) * 1e6));
  const n = C.epoll_pwait2(epfd, events, 64, new Uint8Array(timeout.buffer), null);
  for (let e = 0; e < n; e++) {
    const c = Number(evView.getBigUint64(12 * e + 4, true));
    for (;;) {
      const r = Number(C.recv(fds[c], recvBuf, BigInt(recvBuf.length), 0));
      if (r <= 0) break; // EAGAIN (or closed): nothing more now
      if (expected[c] < 0) expected[c] = responseLength(recvBuf, r);
      got[c] += r;
      if (expected[c] >= 0 && got[c] >= expected[c]) {
        const k = reqIndex[c];
        response[k] = performance.now() - busyDue[c];
        done++;
        busyDue[c] = -1;
        if (queue.length > 0) {
          const q = queue.shift()!;
          sendOn(c, q, start + q * interval);
        } else idle.push(c);
        break;
      }
      if (r < recvBuf.length) break;
    }
  }
}
const cpu = process.cpuUsage(cpu0);
for (const fd of fds) C.close(fd);
libc.close();

const pct = (a: Float64Array, p: number) => {
  const s = a.slice(0, done).sort();
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] * 1000) / 1000;
};
console.log(JSON.stringify({
  sent,
  completed: done,
  errors,
  queued,
  connections: fds.length,
  lag: [pct(lag, 50), pct(lag, 99)],
  response: [pct(response, 50), pct(response, 99)],
  inRunCpuSeconds: Math.round((cpu.user + cpu.system) / 1000) / 1000,
  cpuUsPerRequest: Math.round((cpu.user + cpu.system) / Math.max(1, done) * 10) / 10,
}));
