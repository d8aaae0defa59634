/**
 * The old Rust generator's client model, for comparison: one request in flight, paced at
 * 1/rate (a late request goes out as soon as the previous reply is in, like a tokio interval
 * catching up), latency timed from the actual send. Also the old tool's view: samples over
 * 60 ms dropped.
 * @module
 */
import { setImmediate } from "node:timers";
import { LatencyHistogram } from "../lib/report/histogram.ts";
import type { OpStream } from "../lib/workload/ops.ts";

/** Runs for `seconds` (bounded by rate × seconds requests); returns both histograms. */
export async function closedLoop(url: string, ops: OpStream, rate: number, seconds: number) {
  const all = new LatencyHistogram(), old = new LatencyHistogram();
  const t0 = performance.now(), end = t0 + seconds * 1000;
  let errors = 0, i = 0;
  for (; i < rate * seconds && performance.now() < end; i++) {
    const due = t0 + (i * 1000) / rate;
    while (performance.now() < due) {
      await new Promise((r) =>
        due - performance.now() > 4 ? setTimeout(r, due - performance.now() - 3) : setImmediate(r)
      );
    }
    const op = ops.next();
    const sent = performance.now();
    try {
      const res = await fetch(url + op.path, {
        method: op.method,
        body: op.body,
        headers: op.body === null ? undefined : { "content-type": "application/json" },
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (!res.ok) errors++;
    } catch {
      errors++;
    }
    const ms = performance.now() - sent;
    all.recordMs(ms);
    if (ms <= 60) old.recordMs(ms); // the old tool's histogram bound
  }
  return { all, old, sent: i, errors };
}
