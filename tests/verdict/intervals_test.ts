/**
 * lib/verdict/intervals.ts and dependence.ts: the Politis–White block length and correlation time on known
 * processes, the t quantile, refusals with their reasons, reproducibility, and coverage of a
 * known change in seeded simulations (bench/intervals.ts), the φ = 0.8, 60-s case included.
 */
import assert from "node:assert/strict";
import { Prng } from "../../lib/workload/prng.ts";
import { changeIntervals, MIN_INTERVAL_SECONDS } from "../../lib/verdict/intervals.ts";
import {
  automaticBlockLength,
  correlationSeconds,
  normalQuantile,
  studentQuantile,
} from "../../lib/verdict/dependence.ts";
import type { SecondSample } from "../../lib/verdict/stats.ts";
import { simulateCase, simulateRun } from "../../bench/intervals.ts";

const close = (actual: number, expected: number, tolerance: number, what = "") =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what} ${actual} is not within ${tolerance} of ${expected}`,
  );

function ar1(rng: Prng, n: number, phi: number): number[] {
  const out: number[] = [];
  let x = rng.nextGaussian();
  for (let t = 0; t < n; t++) {
    out.push(x);
    x = phi * x + Math.sqrt(1 - phi * phi) * rng.nextGaussian();
  }
  return out;
}

Deno.test("normalQuantile() and studentQuantile() match tables", () => {
  close(normalQuantile(0.975), 1.959964, 1e-6, "z 0.975");
  close(normalQuantile(0.5), 0, 1e-9, "z 0.5");
  close(normalQuantile(0.001), -3.090232, 1e-6, "z 0.001");
  close(studentQuantile(0.025, 2), 4.303, 0.05, "t 2 df");
  close(studentQuantile(0.025, 5), 2.571, 0.005, "t 5 df");
  close(studentQuantile(0.025, 10), 2.228, 0.002, "t 10 df");
  close(studentQuantile(0.025, 30), 2.042, 0.001, "t 30 df");
  close(studentQuantile(0.025, 1), 12.706, 0.001, "t 1 df");
});

Deno.test("automaticBlockLength(): 1 s for independent values, the AR(1) theory for φ = 0.8", () => {
  const rng = new Prng(5n);
  const iid = automaticBlockLength(ar1(rng, 2000, 0));
  assert.ok(iid.blockSeconds < 1.5, `block ${iid.blockSeconds}`);
  assert.ok(iid.correlationSeconds < 1.3, `τ ${iid.correlationSeconds}`);
  // AR(1) φ = 0.8: τ = (1 + φ)/(1 − φ) = 9; stationary-bootstrap block (G/g0)^(2/3) n^(1/3) ≈ 34.
  const dep = automaticBlockLength(ar1(rng, 2000, 0.8));
  close(dep.correlationSeconds, 9, 3, "τ");
  close(dep.blockSeconds, 34, 14, "block");
  assert.equal(automaticBlockLength([5, 5, 5, 5, 5, 5]).blockSeconds, 1);
});

Deno.test("correlationSeconds(): about 1 for independent seconds, cautious for correlated ones", () => {
  const rng = new Prng(9n);
  let iid = 0;
  for (let i = 0; i < 50; i++) {
    iid += correlationSeconds([[ar1(rng, 60, 0), ar1(rng, 60, 0)]]).seconds;
  }
  assert.ok(iid / 50 >= 1 && iid / 50 < 1.8, `mean τ independent ${iid / 50}`);
  // The pooled estimate plus one standard error is above the biased sample value on average.
  let sum = 0;
  for (let i = 0; i < 50; i++) {
    sum += correlationSeconds([[ar1(rng, 60, 0.8), ar1(rng, 60, 0.8)]]).seconds;
  }
  assert.ok(sum / 50 > 6, `mean τ for φ = 0.8 is ${sum / 50}`);
});

Deno.test("correlationSeconds(): a slow drift under per-second sampling noise widens the bound", () => {
  // Level: AR(1) φ = 0.95 with variance 4; each second adds sampling noise of variance 16 (a
  // fifth of the variance is level): the lag-1 autocorrelation is ~0.19, the true τ ≈ 8.6.
  const rng = new Prng(13n);
  const noisy = () => ar1(rng, 60, 0.95).map((x) => 2 * x + 4 * rng.nextGaussian());
  let plain = 0, denoised = 0;
  for (let i = 0; i < 50; i++) {
    const [b, a] = [noisy(), noisy()];
    const without = correlationSeconds([[b, a]]);
    const withNoise = correlationSeconds([[b, a, [16, 16]]]);
    assert.ok(without.bound >= without.seconds, `bound ${without.bound} < τ ${without.seconds}`);
    assert.equal(withNoise.seconds, without.seconds);
    plain += without.bound;
    denoised += Math.min(60, withNoise.bound);
  }
  assert.ok(plain / 50 < 6, `mean bound without the sampling variance ${plain / 50}`);
  assert.ok(denoised / 50 > 9, `mean bound with the sampling variance ${denoised / 50}`);
});

function constantRun(seconds: number, scale: number): SecondSample[] {
  return Array.from({ length: seconds }, () => ({
    valuesUs: [1000, 2000, 3000, 4000].map((v) => v * scale),
    counts: [40, 30, 20, 10],
    completed: 100,
  }));
}

Deno.test("changeIntervals(): refuses runs shorter than the minimum and says so", () => {
  const short = constantRun(MIN_INTERVAL_SECONDS - 1, 1);
  const ci = changeIntervals(short, constantRun(30, 1.1), [99]);
  for (const x of [ci.latency[0], ci.throughput]) {
    assert.equal(x.kind, "refused");
    if (x.kind === "refused") {
      assert.match(x.reason, /runs of 19 s; an interval needs at least 20 s a side/);
    }
  }
});

Deno.test("changeIntervals(): refuses strongly correlated runs with how long they would need to be", () => {
  const rng = new Prng(21n);
  const c = { dependence: { kind: "ar1", phi: 0.95 } as const, seconds: 30 };
  const ci = changeIntervals(simulateRun(rng, c, 200, 1, 1), simulateRun(rng, c, 200, 1.1, 1), [
    99,
  ], { resamples: 200 });
  const p99 = ci.latency[0];
  assert.equal(p99.kind, "refused");
  if (p99.kind === "refused") {
    assert.match(
      p99.reason,
      /correlated over ~[\d.]+ s, so 30 s hold ~[\d.]+ independent seconds; an interval needs 8 \(runs of ≥ \d+ s\)/,
    );
  }
});

Deno.test("changeIntervals(): exact +10% without noise gives a narrow interval at +10%", () => {
  const ci = changeIntervals(constantRun(30, 1), constantRun(30, 1.1), [50, 99], {
    resamples: 200,
  });
  for (const x of ci.latency) {
    assert.equal(x.kind, "ok");
    if (x.kind !== "ok") continue;
    close(x.ci[0], 10, 0.3, "lo");
    close(x.ci[1], 10, 0.3, "hi");
  }
  assert.equal(ci.throughput.kind, "ok");
  if (ci.throughput.kind === "ok") close(ci.throughput.ci[1], 0, 1e-9, "throughput");
});

Deno.test("changeIntervals(): the same seed gives the same intervals", () => {
  const rng = new Prng(3n);
  const c = { dependence: { kind: "independent" } as const, seconds: 30 };
  const b = simulateRun(rng, c, 100, 1, 1), a = simulateRun(rng, c, 100, 1.1, 1);
  const x = changeIntervals(b, a, [50, 99], { resamples: 300 });
  assert.deepEqual(changeIntervals(b, a, [50, 99], { resamples: 300 }), x);
  assert.notDeepEqual(changeIntervals(b, a, [50, 99], { resamples: 300, seed: 8n }), x);
});

// The seeded, reduced version of `deno task bench intervals`.
const SIM = { rate: 200, resamples: 300, seed: 0x1_6_2026n, aa: false };

Deno.test("coverage: AR(1) φ = 0.8, 60-s runs: printed intervals cover the true +10% P99 ≥ 90%", () => {
  const r = simulateCase({ dependence: { kind: "ar1", phi: 0.8 }, seconds: 60 }, {
    ...SIM,
    reps: 200,
  });
  assert.ok(r.printed >= 0.05, `printed in only ${r.printed * 100}% of runs`);
  assert.ok(r.coverageP99 >= 0.9, `P99 coverage ${r.coverageP99 * 100}%`);
  assert.ok(r.coverageThroughput >= 0.9, `throughput coverage ${r.coverageThroughput * 100}%`);
});

Deno.test("coverage: independent seconds and φ = 0.5, 60-s runs: intervals printed and covering", () => {
  for (const dependence of [{ kind: "independent" }, { kind: "ar1", phi: 0.5 }] as const) {
    const r = simulateCase({ dependence, seconds: 60 }, { ...SIM, reps: 40 });
    assert.ok(r.printed >= 0.9, `${r.name}: printed in ${r.printed * 100}% of runs`);
    assert.ok(r.coverageP99 >= 0.9, `${r.name}: P99 coverage ${r.coverageP99 * 100}%`);
  }
});

// ---- ported from the moving-block bootstrap's tests (same promises, the new method) --------

/**
 * 60 seconds of lognormal latencies around 800 µs × `scale`, with an independent per-second
 * load level (`levelNoise`) and `perSecond` samples a second, from seed `seed`.
 */
function syntheticRun(
  seed: bigint,
  o: { scale?: number; levelNoise?: number; perSecond?: number; seconds?: number } = {},
): SecondSample[] {
  const rng = new Prng(seed);
  const scale = o.scale ?? 1;
  return Array.from({ length: o.seconds ?? 60 }, () => {
    const level = Math.exp((o.levelNoise ?? 0.05) * rng.nextGaussian());
    const counts = new Map<number, number>();
    for (let i = 0; i < (o.perSecond ?? 500); i++) {
      const us = Math.round(800 * scale * level * Math.exp(0.4 * rng.nextGaussian()));
      counts.set(us, (counts.get(us) ?? 0) + 1);
    }
    const n = o.perSecond ?? 500;
    return { valuesUs: [...counts.keys()], counts: [...counts.values()], completed: n };
  });
}

/** Every second the same: the values 1..1000 µs scaled by `scale`. */
function noiselessRun(scale: number): SecondSample[] {
  const values = Array.from({ length: 1000 }, (_, i) => Math.round((1000 + i * 10) * scale));
  return Array.from({ length: 60 }, () => ({
    valuesUs: values,
    counts: values.map(() => 1),
    completed: 1000,
  }));
}

const cis = (set: ReturnType<typeof changeIntervals>) =>
  set.latency.map((x) => {
    assert.equal(x.kind, "ok", x.kind === "refused" ? x.reason : "");
    return x.kind === "ok" ? x.ci : [NaN, NaN];
  });

Deno.test("changeIntervals(): another seed gives similar intervals", () => {
  const before = syntheticRun(1n);
  const after = syntheticRun(2n, { scale: 1.1 });
  const a = cis(changeIntervals(before, after, [50, 95, 99]));
  const c = cis(changeIntervals(before, after, [50, 95, 99], { seed: 99n }));
  assert.notDeepEqual(a, c);
  a.forEach((ci, k) => {
    close(ci[0], c[k][0], 1.5, "lower bound, other seed");
    close(ci[1], c[k][1], 1.5, "upper bound, other seed");
  });
});

Deno.test("changeIntervals(): the interval contains the true +10% for after = before × 1.10 with noise", () => {
  const result = changeIntervals(syntheticRun(3n), syntheticRun(4n, { scale: 1.1 }), [50, 95, 99]);
  for (const ci of cis(result)) {
    assert.ok(ci[0] < 10 && 10 < ci[1], `[${ci}] misses +10%`);
    assert.ok(ci[0] > 0, `[${ci}] does not exclude 0`);
  }
  // Same responses per second on both sides: no throughput change, no width.
  assert.equal(result.throughput.kind, "ok");
  if (result.throughput.kind === "ok") assert.deepEqual(result.throughput.ci, [0, 0]);
});

Deno.test("changeIntervals(): without noise the interval is narrow around the change", () => {
  for (const ci of cis(changeIntervals(noiselessRun(1), noiselessRun(1.1), [50, 95, 99]))) {
    assert.ok(ci[1] - ci[0] < 0.5, `[${ci}] is not narrow`);
    close((ci[0] + ci[1]) / 2, 10, 0.3, "centre");
  }
});

Deno.test("changeIntervals(): throughput intervals come from per-second responses", () => {
  const before = noiselessRun(1).map((s, i) => ({ ...s, completed: 1000 + (i % 7) * 20 }));
  const after = noiselessRun(1).map((s, i) => ({ ...s, completed: 900 + (i % 5) * 20 }));
  const tp = changeIntervals(before, after, [99]).throughput;
  assert.equal(tp.kind, "ok");
  // Means 1058.3 vs 939.3: about -11%.
  if (tp.kind === "ok") assert.ok(tp.ci[0] < -11 && -11 < tp.ci[1] && tp.ci[1] < 0, `[${tp.ci}]`);
});

Deno.test("changeIntervals(): 2,000 resamples of two 60-second runs take well under 0.5 s", () => {
  const before = syntheticRun(5n, { perSecond: 2000 });
  const after = syntheticRun(6n, { perSecond: 2000, scale: 1.05 });
  changeIntervals(before, after, [50, 95, 99]); // warm up the JIT
  const start = performance.now();
  changeIntervals(before, after, [50, 95, 99]);
  const ms = performance.now() - start;
  assert.ok(ms < 250, `took ${ms.toFixed(0)} ms`);
});
