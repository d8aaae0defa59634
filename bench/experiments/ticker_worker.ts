/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Experiment (BENCHMARKS.md, finding 1): a worker that sleeps precisely with `Atomics.wait`
 * (a futex with a sub-millisecond timeout) and posts a tick at each due time.
 * @module
 */
self.onmessage = (e: MessageEvent<{ startMs: number; rate: number; n: number }>) => {
  const { startMs, rate, n } = e.data;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < n; i++) {
    const due = startMs - performance.timeOrigin + (i * 1000) / rate; // startMs is epoch-based
    const left = due - performance.now() - 0.05;
    if (left > 0) Atomics.wait(cell, 0, 0, left);
    self.postMessage(i);
  }
};
