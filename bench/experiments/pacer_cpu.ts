/**
 * Experiment (BENCHMARKS.md, finding 1): lag and CPU of two ways to wait for the next due time
 * at a fixed rate, without network. "spin" is the driver's setImmediate loop; "worker" is a
 * Worker sleeping in Atomics.wait and posting ticks (ticker_worker.ts).
 *
 *   deno run -A bench/experiments/pacer_cpu.ts spin|worker RATE SECONDS
 * @module
 */
import process from "node:process";
import { setImmediate } from "node:timers";
const [mode, rateS, secondsS] = Deno.args;
const rate = Number(rateS), n = Math.round(rate * Number(secondsS));
const lags: number[] = [];
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const c0 = cpu();
const t0 = performance.now() + 50;
if (mode === "spin") {
  for (let i = 0; i < n;) {
    const now = performance.now();
    const due = t0 + (i * 1000) / rate;
    if (now >= due) {
      lags.push(now - due);
      i++;
      continue;
    }
    if (due - now > 4) await new Promise((r) => setTimeout(r, due - now - 3));
    else await new Promise((r) => setImmediate(r));
  }
} else {
  const w = new Worker(new URL("./ticker_worker.ts", import.meta.url), { type: "module" });
  await new Promise<void>((resolve) => {
    let i = 0;
    w.onmessage = () => {
      const now = performance.now();
      lags.push(now - (t0 + (i * 1000) / rate));
      if (++i === n) resolve();
    };
    // Epoch-based start: the worker has its own performance.timeOrigin.
    w.postMessage({ startMs: t0 + performance.timeOrigin, rate, n });
  });
  w.terminate();
}
const wall = (performance.now() - t0) / 1000, c = cpu() - c0;
lags.sort((a, b) => a - b);
const p = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))].toFixed(3);
console.log(
  `${mode} ${rate}/s: lag P50 ${p(0.5)} P99 ${p(0.99)} max ${lags.at(-1)!.toFixed(3)} ms; CPU ${
    (100 * c / wall).toFixed(1)
  }% of a core`,
);
