import assert from "node:assert/strict";
import { formatDuration, PreloadProgress, WINDOW_MS } from "../../lib/run/preload_progress.ts";

/** Feeds `p` one sample per second of a preload whose memory n costs `costMs(n)`; returns the time. */
function simulate(p: PreloadProgress, upTo: number, costMs: (n: number) => number): number {
  let t = 0, n = p.startDone, nextSample = 1000;
  while (n < upTo) {
    t += costMs(n);
    n++;
    if (t >= nextSample) {
      p.sample(n, t);
      nextSample += 1000;
    }
  }
  p.sample(n, t);
  return t;
}

/** Milliseconds the memories from..to cost in total. */
function totalMs(from: number, to: number, costMs: (n: number) => number): number {
  let t = 0;
  for (let n = from; n < to; n++) t += costMs(n);
  return t;
}

Deno.test("PreloadProgress: the ETA follows a cost that grows with the count (quadratic total)", () => {
  const cost = (n: number) => 2 + 0.004 * n; // ms per memory: 2 ms empty, 42 ms at 10,000
  const p = new PreloadProgress(10_000, 0, 0);
  const t = simulate(p, 3000, cost);
  const truth = totalMs(3000, 10_000, cost) / 1000;
  const eta = p.etaSeconds(3000, t)!;
  assert.ok(Math.abs(eta - truth) / truth < 0.05, `ETA ${eta} s vs ${truth} s`);
  // The mean rate so far would promise far less.
  const naive = (10_000 - 3000) * t / 1000 / 3000;
  assert.ok(naive < 0.5 * truth, `naive ${naive} s`);
  assert.ok(p.falling());
  assert.match(
    p.text(3000, t, { count: 2990, stored: 3000 }),
    /preload 3,000\/10,000 \(30%\) {2}.*Engram held 2,990 of 3,000 stored {2}ETA .*rate falling/,
  );
});

Deno.test("PreloadProgress: a steady rate is not falling and its ETA is linear", () => {
  const p = new PreloadProgress(10_000, 0, 0);
  const t = simulate(p, 4000, () => 5);
  assert.ok(!p.falling());
  const eta = p.etaSeconds(4000, t)!;
  assert.ok(Math.abs(eta - 30) < 1.5, `ETA ${eta} s`);
  assert.doesNotMatch(p.text(4000, t, null), /falling|Engram held/);
});

Deno.test("PreloadProgress: a resumed preload counts from where it resumed; no window yet uses the mean", () => {
  const p = new PreloadProgress(1000, 600, 0);
  assert.equal(p.etaSeconds(600, 0), null, "nothing measured yet");
  p.sample(700, WINDOW_MS - 1); // not a whole window
  assert.equal(p.rate(), null);
  assert.ok(
    Math.abs(p.etaSeconds(700, WINDOW_MS - 1)! - 300 * (WINDOW_MS - 1) / 100 / 1000) < 1e-9,
  );
  assert.match(p.text(700, 1000, null), /preload 700\/1,000 \(70%\) {2}100\/s {2}ETA 3 s/);
});

Deno.test("formatDuration() says seconds, minutes or hours", () => {
  assert.equal(formatDuration(44.6), "45 s");
  assert.equal(formatDuration(725), "12 min 5 s");
  assert.equal(formatDuration(8400), "2 h 20 min");
});
