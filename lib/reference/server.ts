/**
 * The Engram-compatible reference server: HTTP on 127.0.0.1 with `Deno.serve`, routing to the
 * endpoints of api.ts, fault/delay injection (knobs.ts), request recording (record.ts), per-route
 * counters, and a `Server-Timing` header on every response:
 * `app;dur=<ms>` is the server's own processing time (reading the body, validating, the store
 * work, serialising), `inject;dur=<ms>` the time the request was held by stalls and added
 * latency. Their sum is the server-side time; a client subtracts either.
 *
 * @example
 * ```ts
 * import { startReferenceServer } from "./server.ts";
 * import { strictEqual } from "node:assert/strict";
 * const server = await startReferenceServer({ port: 0, dim: 4 });
 * const res = await fetch(`${server.url}/health`);
 * strictEqual(res.status, 200);
 * await res.body?.cancel();
 * await server.close();
 * ```
 * @module
 */
import { messageOf, UsageError } from "../shared/errors.ts";
import { regularOrMissing } from "../shared/input_file.ts";
import { ApiError } from "./api_error.ts";
import { engramRoutes, REFERENCE_VERSION, type Reply, type Route } from "./api.ts";
import { burnCpu, burnMsFor, type CpuBurn } from "./cpu_burn.ts";
import { type Fate, Holds, Injector, type Knobs, NO_KNOBS } from "./knobs.ts";
import { FileRecorder, type RecordedRequest } from "./record.ts";
import { parseQueryString } from "./request.ts";
import { MemoryStore } from "./store.ts";

/** How to start a reference server; every field has a default. */
export interface ReferenceOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 7432 (Engram's). */
  port?: number;
  /** Embedding dimension every embedding must have. Default 768. */
  dim?: number;
  /** False refuses recall modes spreading and hybrid with 400. Default true. */
  spreading?: boolean;
  /** Seed of the index projections and of the knob draws. Default 0. */
  seed?: bigint;
  /** Fault and delay injection (seed comes from `seed`). Default none. */
  knobs?: Partial<Omit<Knobs, "seed">>;
  /** `--cpu-burn`: CPU burnt in `referenceCpuBurn` by each request of one kind. Default none. */
  cpuBurn?: CpuBurn | null;
  /**
   * Called with every request as received, before any processing. Monitoring requests
   * (`/health`, `/health/alive`, `/metrics`) are left out: their number depends on polling, not on
   * the workload, and would make recordings of identical runs differ.
   */
  onRequest?: (request: RecordedRequest) => void;
  /** Appends every request `onRequest` sees to this file (see record.ts); needs --allow-write. */
  recordPath?: string;
}

/** Counters of a running server, also served as `GET /metrics`. */
export interface ServerStats {
  service: "engram";
  version: string;
  uptime_seconds: number;
  dim: number;
  spreading_enabled: boolean;
  memories: { total: number; by_space: Record<string, number> };
  /** Responses by route (`METHOD /path`, or `unmatched`) and status code. */
  requests: Record<string, Record<string, number>>;
  requests_total: number;
  injected: { failures: number; delayed: number };
}

/** A running reference server. */
export interface ReferenceServer {
  /** The bound port (the real one when 0 was asked). */
  port: number;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `performance.now()` when the server started; stall periods count from here. */
  startedAt: number;
  /** Stops accepting, lets in-flight requests finish, closes the record file. Idempotent. */
  close(): Promise<void>;
  /** A snapshot of the counters. */
  stats(): ServerStats;
}

/** The port is taken: the caller should say so and exit 3, not pick another port silently. */
export class PortInUseError extends UsageError {
  override name = "PortInUseError";
  readonly port: number;

  /** `port` is the one that was asked for. */
  constructor(port: number) {
    super(`port ${port} is already in use on 127.0.0.1`);
    this.port = port;
  }
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/**
 * Starts a server and resolves once it is listening. Rejects with `PortInUseError` when the port
 * is taken and with a `UsageError` when the record file cannot be opened.
 */
export async function startReferenceServer(
  options: ReferenceOptions = {},
): Promise<ReferenceServer> {
  const dim = options.dim ?? 768;
  const seed = options.seed ?? 0n;
  const spreading = options.spreading ?? true;
  const injector = new Injector({ ...NO_KNOBS, ...options.knobs, seed });
  const store = new MemoryStore(dim, seed);
  const counts = new Map<string, Map<number, number>>();
  const injected = { failures: 0, delayed: 0 };
  let recorder: FileRecorder | null = null;
  if (options.recordPath) {
    // A FIFO would block the server before it listens, a device would swallow the record.
    await regularOrMissing(options.recordPath, "--record");
    try {
      recorder = new FileRecorder(options.recordPath);
    } catch (e) {
      throw new UsageError(`cannot record to ${options.recordPath}: ${messageOf(e)}`);
    }
  }
  const holds = new Holds();
  const k = injector.knobs;
  if (k.latencyMs > 0 || k.jitterMs > 0 || k.stallMs > 0) await holds.start();
  const startedAt = performance.now();

  const stats = (): ServerStats => {
    const requests: Record<string, Record<string, number>> = {};
    let total = 0;
    for (const [route, byStatus] of counts) {
      requests[route] = Object.fromEntries(byStatus);
      for (const n of byStatus.values()) total += n;
    }
    return {
      service: "engram",
      version: REFERENCE_VERSION,
      uptime_seconds: Math.round(performance.now() - startedAt) / 1000,
      dim,
      spreading_enabled: spreading,
      memories: { total: store.totalCount, by_space: store.counts() },
      requests,
      requests_total: total,
      injected: { ...injected },
    };
  };

  const routes = new Map<string, Map<string, Route>>();
  for (const r of engramRoutes({ store, dim, spreading, metrics: stats })) {
    if (!routes.has(r.path)) routes.set(r.path, new Map());
    routes.get(r.path)!.set(r.method, r);
  }

  const count = (label: string, status: number) => {
    let byStatus = counts.get(label);
    if (!byStatus) counts.set(label, byStatus = new Map());
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  };

  /** Holds a request for its stall and added latency; returns the ms actually held. */
  const hold = async (fate: Fate, arrivedAt: number): Promise<number> => {
    const stallEnd = arrivedAt + injector.stallWaitMs(arrivedAt - startedAt);
    const holdStart = performance.now();
    const deadline = Math.max(holdStart, stallEnd) + fate.delayMs;
    if (deadline <= holdStart) return 0;
    injected.delayed++;
    await holds.until(deadline);
    return performance.now() - holdStart;
  };

  /** Runs the endpoint (or refuses); every failure becomes Engram's error reply. */
  const dispatch = (
    req: Request,
    path: string,
    rawQuery: string,
    body: Uint8Array,
    route: Route | undefined,
    fate: Fate | null,
  ): Reply => {
    try {
      if (!route) throw noRoute(req.method, path, routes.get(path));
      if (fate?.fail) {
        injected.failures++;
        throw new ApiError(
          "MEMORY_SYSTEM_ERROR",
          "Injected failure (reference server --error-rate)",
        );
      }
      return route.handle({
        method: req.method,
        path,
        query: parseQueryString(rawQuery),
        headers: req.headers,
        body: body.length === 0 ? "" : decoder.decode(body),
      });
    } catch (e) {
      const err = e instanceof ApiError
        ? e
        : new ApiError("MEMORY_SYSTEM_ERROR", `Internal error: ${messageOf(e)}`);
      return { status: err.status, body: err.body() };
    }
  };

  const handler = async (req: Request): Promise<Response> => {
    const arrivedAt = performance.now();
    const url = req.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const queryStart = url.indexOf("?", pathStart);
    const path = queryStart < 0 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
    const byMethod = routes.get(path);
    const route = byMethod?.get(req.method);
    // Drawn before any await, so fates follow arrival order.
    const fate = route?.injectable ? injector.draw() : null;
    const bytes = req.body ? new Uint8Array(await req.arrayBuffer()) : EMPTY;
    if (route?.injectable !== false) {
      const recorded = { method: req.method, path: url.slice(pathStart), body: bytes };
      options.onRequest?.(recorded);
      recorder?.write(recorded);
    }
    let appMs = performance.now() - arrivedAt;
    const injectMs = fate ? await hold(fate, arrivedAt) : 0;

    const processStart = performance.now();
    const burnMs = fate && !fate.fail ? burnMsFor(options.cpuBurn ?? null, path) : 0;
    if (burnMs > 0) await burnCpu(burnMs);
    const rawQuery = queryStart < 0 ? "" : url.slice(queryStart + 1);
    const reply = dispatch(req, path, rawQuery, bytes, route, fate);
    appMs += performance.now() - processStart;
    count(route ? `${route.method} ${route.path}` : "unmatched", reply.status);

    const headers: Record<string, string> = {
      "server-timing": `app;dur=${appMs.toFixed(3)}, inject;dur=${injectMs.toFixed(3)}`,
    };
    if (reply.body !== null) headers["content-type"] = "application/json";
    if (reply.status === 405 && byMethod) headers["allow"] = [...byMethod.keys()].join(", ");
    return new Response(reply.body, { status: reply.status, headers });
  };

  const requestedPort = options.port ?? 7432;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: requestedPort,
      onListen: () => {},
      onError: (e) =>
        new Response(new ApiError("MEMORY_SYSTEM_ERROR", `Internal error: ${e}`).body(), {
          status: 500,
          headers: {
            "content-type": "application/json",
            "server-timing": "app;dur=0.000, inject;dur=0.000",
          },
        }),
    }, handler);
  } catch (e) {
    recorder?.close();
    holds.close();
    throw e instanceof Deno.errors.AddrInUse ? new PortInUseError(requestedPort) : e;
  }
  let closing: Promise<void> | null = null;
  const port = server.addr.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    startedAt,
    stats,
    close: () =>
      closing ??= server.shutdown().then(() => {
        holds.close();
        recorder?.close();
      }),
  };
}

function noRoute(method: string, path: string, byMethod: Map<string, Route> | undefined): ApiError {
  if (byMethod) {
    return new ApiError(
      "INVALID_MEMORY_INPUT",
      `Method ${method} is not allowed on ${path}; use ${[...byMethod.keys()].join(" or ")}`,
      405,
    );
  }
  return new ApiError("MEMORY_NOT_FOUND", `No endpoint ${method} ${path} on this server`);
}
