/**
 * The repeated-run decision rule under simulation (issue 23, item 8): sessions of interleaved
 * before/after pairs whose run-level P99 and throughput come from per-second latency, with the
 * production decision (`decideVerdict` on a comparison whose statistics are made by the same
 * `evidenceOf` compare uses) applied after every pair, as the confirm runner does, up to a budget
 * of pairs. Reports the false-alarm rate at no change (REGRESSION at any look), how often the
 * rule decides PASS, and the power at true P99 changes.
 *
 * Model of one run of `seconds` s at `rate` requests/s: each second t has a level L_t (i.i.d.
 * N(0, 1), or AR(1) with φ); log latency of a request = ln(2 ms) + o + 0.2·L_t + 0.4·ε (ε i.i.d.
 * N(0, 1)) + ln(burst_t), where o is the run's offset (N(0, sd), sd 3–5%; plus a slow host drift
 * shared by neighbouring runs, a random walk of 0.5% per run), and burst_t multiplies the latency
 * of every second inside a burst of background work (bursts start with probability 1/300 per
 * second, last 5–20 s and multiply latency by 1.5–3). The run's P99 is the 99th percentile of the
 * mixture of its seconds' log-normal latencies plus the binomial sampling noise of an empirical
 * percentile of rate·seconds requests; throughput is rate·(1 + 0.3% run noise). The after run's
 * latencies are multiplied by (1 + true change).
 *
 * @module
 */
import { Prng } from "../lib/workload/prng.ts";
import { studentTCdf } from "../lib/verdict/sequential.ts";
import { metricChange } from "../lib/verdict/compare.ts";
import { evidenceOf } from "../lib/verdict/significance.ts";
import { median } from "../lib/verdict/stats.ts";
import { decideVerdict, defaultThresholds } from "../lib/verdict/verdict.ts";
import { METRIC_IDS, RUN_METRICS } from "../lib/verdict/metrics.ts";
import type { Comparison, RunDesign, RunTest, Thresholds, Verdict } from "../lib/verdict/types.ts";
import type { RunMetricId } from "../lib/verdict/metrics.ts";

/** How the per-second levels of a run behave. */
export type Seconds =
  | { kind: "independent" }
  | { kind: "ar1"; phi: number }
  | { kind: "bursts" };

/** One simulated host and workload. */
export interface NoiseModel {
  seconds: Seconds;
  /** Run length in seconds. */
  runSeconds: number;
  /** Requests per second. */
  rate: number;
  /** Standard deviation of a run's log offset (0.05 = 5%). */
  runOffsetSd: number;
  /** Step of the host's slow drift per run (log; default 0.005). */
  driftSd?: number;
}

/** The name of a model's seconds in tables (`AR(1) φ=0.8`). */
export function secondsName(s: Seconds): string {
  return s.kind === "ar1" ? `AR(1) φ=${s.phi}` : s.kind;
}

function gaussian(rng: Prng): number {
  // Box–Muller: full normal tails.
  const u = 1 - rng.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
}

/** Standard normal distribution function (Numerical Recipes' erfc, relative error < 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? 1 - r / 2 : r / 2;
}

const BASE_LOG_US = Math.log(2000);
const LEVEL_SD = 0.2;
const WITHIN_SD = 0.4;

/** One run's P99 (ms) and throughput (ops/s); `offset` is its log offset, `scale` the true change. */
export function simulateRun(
  rng: Prng,
  m: NoiseModel,
  offset: number,
  scale: number,
): { p99: number; throughput: number } {
  const phi = m.seconds.kind === "ar1" ? m.seconds.phi : 0;
  const centers = new Float64Array(m.runSeconds);
  let level = gaussian(rng);
  let burstLeft = 0, burstLog = 0;
  for (let t = 0; t < m.runSeconds; t++) {
    if (t > 0) level = phi * level + Math.sqrt(1 - phi * phi) * gaussian(rng);
    let inBurst = false;
    if (m.seconds.kind === "bursts") {
      if (burstLeft === 0 && rng.nextFloat() < 1 / 300) {
        burstLeft = 5 + rng.nextInt(16);
        burstLog = Math.log(1.5 + 1.5 * rng.nextFloat());
      }
      inBurst = burstLeft > 0;
      if (burstLeft > 0) burstLeft--;
    }
    centers[t] = BASE_LOG_US + offset + Math.log(scale) + LEVEL_SD * level +
      (inBurst ? burstLog : 0);
  }
  // The 99th percentile of the mixture of the seconds' log-normals, by bisection on ln(x).
  const cdf = (x: number) => {
    let s = 0;
    for (let t = 0; t < centers.length; t++) s += normalCdf((x - centers[t]) / WITHIN_SD);
    return s / centers.length;
  };
  let lo = Math.min(...centers) - 4 * WITHIN_SD, hi = Math.max(...centers) + 4 * WITHIN_SD;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < 0.99) lo = mid;
    else hi = mid;
  }
  const q = (lo + hi) / 2;
  // Sampling noise of an empirical percentile of n requests: sd √(p(1−p)/n) / density (log scale).
  let density = 0;
  for (let t = 0; t < centers.length; t++) {
    const z = (q - centers[t]) / WITHIN_SD;
    density += Math.exp(-z * z / 2) / (WITHIN_SD * Math.sqrt(2 * Math.PI));
  }
  density /= centers.length;
  const n = m.rate * m.runSeconds;
  const sampling = Math.sqrt(0.99 * 0.01 / n) / density;
  const p99Us = Math.exp(q + sampling * gaussian(rng));
  return { p99: p99Us / 1000, throughput: m.rate * (1 + 0.003 * gaussian(rng)) };
}

/** A rule applied after every pair: the production one (`productionRule`) or another. */
export type Rule = (
  b: { p99: number[]; throughput: number[] },
  a: { p99: number[]; throughput: number[] },
  t: Thresholds,
) => Verdict["kind"];

/**
 * The production rule: a comparison of paired runs with the statistics compare makes
 * (`evidenceOf` for P99 and throughput; side medians for the changes), judged by `decideVerdict`.
 */
export const productionRule: Rule = (b, a, t) => decideVerdict(syntheticComparison(b, a), t).kind;

/** The comparison compare would make of these paired per-run values (gated metrics only). */
export function syntheticComparison(
  b: { p99: number[]; throughput: number[] },
  a: { p99: number[]; throughput: number[] },
): Comparison {
  const design: RunDesign = { kind: "paired", pairs: b.p99.length };
  const values = (id: RunMetricId, side: typeof b) =>
    id === "p99" || id === "throughput" ? side[id] : [];
  const perRun = Object.fromEntries(RUN_METRICS.map((id) => {
    const test: RunTest = {
      before: values(id, b),
      after: values(id, a),
      evidence: id === "p99" || id === "throughput" ? evidenceOf(id, b[id], a[id], design) : null,
    };
    return [id, test];
  })) as Record<RunMetricId, RunTest>;
  const metrics = Object.fromEntries(METRIC_IDS.map((id) => {
    const m = id === "p99" || id === "throughput"
      ? metricChange(median(b[id]), median(a[id]))
      : id === "errors"
      ? metricChange(0, 0)
      : metricChange(null, null);
    return [id, m];
  })) as Comparison["metrics"];
  const info = (path: string) => ({
    path,
    legacy: false,
    schemaVersion: null,
    scenario: "sim",
    workloadFingerprint: null,
    targetKind: null,
    provenance: null,
    mode: "internal" as const,
    files: { diag: "", sys: "" },
    saturated: null,
  });
  const series = { group: "sim", paths: b.p99.map((_, i) => `run${i}`) };
  return {
    task: "sim",
    mode: "internal",
    before: info("before"),
    after: info("after"),
    differences: [],
    metrics,
    operations: [],
    serviceP99Ms: null,
    positioning: null,
    statistics: {
      method: "runs",
      design,
      perRun,
      runs: { before: series, after: series },
      noise: { before: null, after: null },
    },
  };
}

/** How one session ended: the verdict and the pairs it took. */
export interface SessionOutcome {
  kind: Verdict["kind"];
  pairs: number;
}

/**
 * One interleaved session: pairs of runs (before, after) with a shared slow drift, the rule
 * applied after every pair, stopping at the first decision or at `budget` pairs.
 */
export function simulateSession(
  rng: Prng,
  m: NoiseModel,
  trueChangePct: number,
  budget: number,
  rule: Rule = productionRule,
  thresholds: Thresholds = defaultThresholds("internal"),
): SessionOutcome {
  const b = { p99: [] as number[], throughput: [] as number[] };
  const a = { p99: [] as number[], throughput: [] as number[] };
  let drift = 0;
  const step = m.driftSd ?? 0.005;
  const offset = () => {
    drift += step * gaussian(rng);
    return drift + m.runOffsetSd * gaussian(rng);
  };
  for (let n = 1; n <= budget; n++) {
    const before = simulateRun(rng, m, offset(), 1);
    const after = simulateRun(rng, m, offset(), 1 + trueChangePct / 100);
    b.p99.push(before.p99), b.throughput.push(before.throughput);
    a.p99.push(after.p99), a.throughput.push(after.throughput);
    const kind = rule(b, a, thresholds);
    if (kind !== "inconclusive") return { kind, pairs: n };
  }
  return { kind: "inconclusive", pairs: budget };
}

/** Outcome rates of many sessions, and the cumulative decision rates by pairs. */
export interface CellResult {
  sessions: number;
  regression: number;
  pass: number;
  inconclusive: number;
  /** Fraction of sessions called REGRESSION within k pairs, for each k of `checkpoints`. */
  regressionBy: number[];
  /** Fraction of sessions called PASS within k pairs. */
  passBy: number[];
  meanPairs: number;
}

/** Runs `sessions` seeded sessions of one cell. */
export function simulateCell(options: {
  seed: bigint;
  model: NoiseModel;
  trueChangePct: number;
  sessions: number;
  budget: number;
  checkpoints: readonly number[];
  rule?: Rule;
}): CellResult {
  const rng = new Prng(options.seed);
  const outcomes: SessionOutcome[] = [];
  for (let i = 0; i < options.sessions; i++) {
    outcomes.push(
      simulateSession(rng, options.model, options.trueChangePct, options.budget, options.rule),
    );
  }
  const frac = (f: (o: SessionOutcome) => boolean) => outcomes.filter(f).length / outcomes.length;
  return {
    sessions: outcomes.length,
    regression: frac((o) => o.kind === "regression"),
    pass: frac((o) => o.kind === "pass"),
    inconclusive: frac((o) => o.kind === "inconclusive"),
    regressionBy: options.checkpoints.map((k) =>
      frac((o) => o.kind === "regression" && o.pairs <= k)
    ),
    passBy: options.checkpoints.map((k) => frac((o) => o.kind === "pass" && o.pairs <= k)),
    meanPairs: outcomes.reduce((s, o) => s + o.pairs, 0) / outcomes.length,
  };
}

/** The one-sided upper quantile of Student's t with ν degrees of freedom, by bisection. */
function tQuantile(p: number, nu: number): number {
  let lo = 0, hi = 1000;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, nu) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * For contrast only, the rule without correction for repeated looks: a classical one-sided
 * paired t-test (p ≤ 0.05 with the change in medians past the threshold: REGRESSION) and the
 * classical 95% upper bound (within the threshold: PASS), applied after every pair as if each
 * look were the only one.
 */
export const uncorrectedRule: Rule = (b, a, t) => {
  const n = b.p99.length;
  if (n < 2) return "inconclusive";
  const decide = (d: number[], changePct: number, limitPct: number) => {
    const mean = d.reduce((s, x) => s + x, 0) / n;
    const se = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) / n);
    const p = se > 0 ? 1 - studentTCdf(mean / se, n - 1) : mean > 0 ? 0 : 1;
    const upper = mean + tQuantile(0.95, n - 1) * se;
    const past = (pct: number) => Number(pct.toFixed(1)) > limitPct;
    if (past(changePct) && p <= 0.05) return "regression";
    return past((Math.exp(upper) - 1) * 100) ? "inconclusive" : "pass";
  };
  const p99 = decide(
    a.p99.map((v, i) => Math.log(v / b.p99[i])),
    (median(a.p99) / median(b.p99) - 1) * 100,
    t.p99Pct,
  );
  const thr = decide(
    a.throughput.map((v, i) => -Math.log(v / b.throughput[i])),
    (1 - median(a.throughput) / median(b.throughput)) * 100,
    t.throughputPct,
  );
  if (p99 === "regression" || thr === "regression") return "regression";
  return p99 === "pass" && thr === "pass" ? "pass" : "inconclusive";
};
