/**
 * `deno task bench intervals`: do compare's 95% intervals hold their level? Synthetic runs with
 * a known change (after = before × 1.10 for every latency, throughput × 0.95) are drawn for
 * independent seconds, AR(1)-correlated per-second latency levels (φ = 0.5, 0.8, 0.95) and random
 * stalls, each at 10, 20 and 60 s; for each case: how often an interval is printed, how often
 * the printed P99 and throughput intervals contain the true change (goal ≥ 93%), and, with no
 * change (A/A), how often `--significance` would call a P99 regression. The old fixed 5-s
 * moving-block bootstrap runs on the same draws for comparison.
 *
 * Model of one second t (both sides): `rate` requests; log latency (µs) =
 * ln(2,000) + 0.2·L_t + 0.4·ε, where L_t is the per-second level (unit variance: i.i.d. for
 * independent seconds, AR(1) with φ otherwise) and ε i.i.d. standard normal; responses of the
 * second = rate·exp(0.05·L_t). Stalls: independent levels, and each second with probability 5%
 * a stall of 50–250 ms at a random offset, during which due requests wait for its end.
 * @module
 */
import type { Benchmark, Row } from "./harness.ts";
import { Prng } from "../lib/workload/prng.ts";
import { bucketIndex, bucketValue, type SecondSample } from "../lib/verdict/stats.ts";
import { changeIntervals, SecondsTable } from "../lib/verdict/intervals.ts";

/** How per-second levels depend on each other. */
export type Dependence =
  | { kind: "independent" }
  | { kind: "ar1"; phi: number }
  | { kind: "stalls" };

/** One simulated case. */
export interface SimCase {
  dependence: Dependence;
  seconds: number;
}

/** The true changes in the simulation with a change. */
export const TRUE_LATENCY_CHANGE_PCT = 10;
/** The true throughput change. */
export const TRUE_THROUGHPUT_CHANGE_PCT = -5;
/** The P99 threshold for the A/A false-regression rate. */
export const THRESHOLD_PCT = 5;

/** The name of a case as in the table ("AR(1) φ=0.8, 60 s"). */
export function caseName(c: SimCase): string {
  const d = c.dependence;
  const kind = d.kind === "ar1"
    ? `AR(1) φ=${d.phi}`
    : d.kind === "stalls"
    ? "stalls"
    : "independent";
  return `${kind}, ${c.seconds} s`;
}

function gaussian(rng: Prng): number {
  // Box–Muller: full normal tails (the PRNG's Irwin–Hall gaussian stops at ±3.5σ).
  const u = 1 - rng.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
}

/**
 * The method compare used before issue 16, for comparison: a moving-block bootstrap with fixed
 * 5-s blocks and a percentile interval of the P99 change, printed for runs of 10 s or more.
 */
export function oldMovingBlockP99(
  before: readonly SecondSample[],
  after: readonly SecondSample[],
  resamples: number,
  seed: bigint,
): [number, number] | null {
  const block = 5;
  if (Math.min(before.length, after.length) < 10) return null;
  const all = [...before, ...after].flatMap((s) => s.valuesUs.map(bucketIndex));
  const lo = Math.min(...all), hi = Math.max(...all);
  const sides = [before, after].map((seconds, i) => ({
    table: new SecondsTable(seconds, lo, hi),
    rng: Prng.derive(seed, BigInt(i + 1)),
    n: seconds.length,
    starts: new Int32Array(Math.ceil(seconds.length / block)),
    ends: new Int32Array(Math.ceil(seconds.length / block)),
  }));
  const changes: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const [b, a] = sides.map((s) => {
      for (let i = 0; i < s.starts.length; i++) {
        s.starts[i] = s.rng.nextInt(s.n - block + 1);
        s.ends[i] = s.starts[i] + Math.min(block, s.n - i * block);
      }
      return bucketValue(s.table.percentile(s.starts, s.ends, s.starts.length, 99) + lo);
    });
    changes.push((a - b) / b * 100);
  }
  changes.sort((x, y) => x - y);
  const q = (f: number) => changes[Math.min(changes.length - 1, Math.floor(f * changes.length))];
  return [q(0.025), q(0.975)];
}

/** One synthetic run: `scale` multiplies every latency, `throughputScale` every second's responses. */
export function simulateRun(
  rng: Prng,
  c: SimCase,
  rate: number,
  scale: number,
  throughputScale: number,
): SecondSample[] {
  const d = c.dependence;
  const phi = d.kind === "ar1" ? d.phi : 0;
  let level = gaussian(rng);
  const out: SecondSample[] = [];
  for (let t = 0; t < c.seconds; t++) {
    if (t > 0) level = phi * level + Math.sqrt(1 - phi * phi) * gaussian(rng);
    const stall = d.kind === "stalls" && rng.nextFloat() < 0.05
      ? { at: rng.nextFloat() * 1e6, us: 50_000 + rng.nextFloat() * 200_000 }
      : null;
    const valuesUs: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < rate; i++) {
      let us = Math.exp(Math.log(2000) + 0.2 * level + 0.4 * gaussian(rng));
      if (stall) {
        const due = i / rate * 1e6;
        if (due >= stall.at && due < stall.at + stall.us) us += stall.at + stall.us - due;
      }
      valuesUs.push(us * scale);
      counts.push(1);
    }
    out.push({ valuesUs, counts, completed: rate * Math.exp(0.05 * level) * throughputScale });
  }
  return out;
}

/** Coverage and error rates of one case. */
export interface CaseResult {
  name: string;
  reps: number;
  /** Fraction of runs with a printed P99 interval. */
  printed: number;
  /** Of the printed P99 intervals: fraction containing the true change (NaN when none). */
  coverageP99: number;
  /** Of the printed throughput intervals: fraction containing the true change. */
  coverageThroughput: number;
  /** Fraction of all runs that printed a P99 interval missing the true change. */
  missedP99: number;
  /** Mean width (percentage points) of the printed P99 intervals. */
  widthP99: number;
  /** A/A: fraction of pairs whose P99 interval lies wholly above the threshold (a regression). */
  aaRegression: number;
  /** A/A: fraction of pairs whose P99 interval lies wholly above 0. */
  aaAboveZero: number;
  /** The old fixed 5-s moving-block bootstrap on the same draws: P99 coverage, A/A lo > 0. */
  old: { printed: number; coverageP99: number; aaAboveZero: number };
  /** The plain stationary bootstrap (Politis–White blocks, percentile interval), same draws. */
  stationary: { printed: number; coverageP99: number; aaAboveZero: number };
}

/** Runs `reps` pairs with the change and `reps` A/A pairs of one case. */
export function simulateCase(
  c: SimCase,
  options: {
    reps: number;
    rate: number;
    resamples: number;
    seed: bigint;
    /** Also run the old and the plain stationary bootstrap (default false). */
    old?: boolean;
    /** Also draw A/A pairs (default true). */
    aa?: boolean;
  },
): CaseResult {
  const rng = Prng.derive(options.seed, BigInt(c.seconds * 1000 + Math.round(phiOf(c) * 100)));
  const opts = { resamples: options.resamples };
  let printed = 0, coveredP99 = 0, printedTp = 0, coveredTp = 0, width = 0;
  let aaRegression = 0, aaAboveZero = 0;
  let oldPrinted = 0, oldCovered = 0, oldAboveZero = 0;
  let sbPrinted = 0, sbCovered = 0, sbAboveZero = 0;
  const contains = (lo: number, hi: number, x: number) => lo <= x && x <= hi;
  for (let r = 0; r < options.reps; r++) {
    const before = simulateRun(rng, c, options.rate, 1, 1);
    const after = simulateRun(rng, c, options.rate, 1 + TRUE_LATENCY_CHANGE_PCT / 100, 0.95);
    const ci = changeIntervals(before, after, [99], { ...opts, seed: BigInt(r) });
    const p99 = ci.latency[0].kind === "ok" ? ci.latency[0].ci : null;
    if (p99) {
      printed++;
      width += p99[1] - p99[0];
      if (contains(...p99, TRUE_LATENCY_CHANGE_PCT)) coveredP99++;
    }
    const tp = ci.throughput.kind === "ok" ? ci.throughput.ci : null;
    if (tp) {
      printedTp++;
      if (contains(...tp, TRUE_THROUGHPUT_CHANGE_PCT)) coveredTp++;
    }
    if (options.aa === false) continue;
    const aaAfter = simulateRun(rng, c, options.rate, 1, 1);
    const aaSet = changeIntervals(before, aaAfter, [99], { ...opts, seed: BigInt(r) });
    const aa = aaSet.latency[0].kind === "ok" ? aaSet.latency[0].ci : null;
    if (aa && aa[0] > THRESHOLD_PCT) aaRegression++;
    if (aa && aa[0] > 0) aaAboveZero++;
    if (options.old) {
      const old = oldMovingBlockP99(before, after, opts.resamples, BigInt(r));
      if (old) {
        oldPrinted++;
        if (contains(old[0], old[1], TRUE_LATENCY_CHANGE_PCT)) oldCovered++;
      }
      const oldAa = oldMovingBlockP99(before, aaAfter, opts.resamples, BigInt(r));
      if (oldAa && oldAa[0] > 0) oldAboveZero++;
      const sbOpts = { ...opts, seed: BigInt(r), method: "stationary" as const };
      const sbSet = changeIntervals(before, after, [99], sbOpts);
      const sb = sbSet.latency[0].kind === "ok" ? sbSet.latency[0].ci : null;
      if (sb) {
        sbPrinted++;
        if (contains(...sb, TRUE_LATENCY_CHANGE_PCT)) sbCovered++;
      }
      const sbAaSet = changeIntervals(before, aaAfter, [99], sbOpts);
      const sbAa = sbAaSet.latency[0].kind === "ok" ? sbAaSet.latency[0].ci : null;
      if (sbAa && sbAa[0] > 0) sbAboveZero++;
    }
  }
  const n = options.reps;
  return {
    name: caseName(c),
    reps: n,
    printed: printed / n,
    coverageP99: coveredP99 / printed,
    missedP99: (printed - coveredP99) / n,
    coverageThroughput: coveredTp / printedTp,
    widthP99: width / printed,
    aaRegression: aaRegression / n,
    aaAboveZero: aaAboveZero / n,
    old: {
      printed: oldPrinted / n,
      coverageP99: oldCovered / oldPrinted,
      aaAboveZero: oldAboveZero / n,
    },
    stationary: {
      printed: sbPrinted / n,
      coverageP99: sbCovered / sbPrinted,
      aaAboveZero: sbAboveZero / n,
    },
  };
}

function phiOf(c: SimCase): number {
  return c.dependence.kind === "ar1" ? c.dependence.phi : c.dependence.kind === "stalls" ? 7 : 0;
}

/** Every case of the benchmark, in table order. */
export const CASES: SimCase[] = [
  { kind: "independent" } as const,
  { kind: "ar1", phi: 0.5 } as const,
  { kind: "ar1", phi: 0.8 } as const,
  { kind: "ar1", phi: 0.95 } as const,
  { kind: "stalls" } as const,
].flatMap((dependence) => [10, 20, 60].map((seconds) => ({ dependence, seconds })));

/** What the real A/A runs gave: each consecutive pair compared with and without `--significance`. */
export interface RealAaResult {
  runs: number;
  invalid: number;
  pairs: number;
  /** Pairs compare judged (both runs valid). */
  compared: number;
  /** Exit 1 by the default point rule. */
  pointRegressions: number;
  /** Exit 1 with `--significance`. */
  significanceRegressions: number;
  /** Exit 4 with `--significance`. */
  inconclusive: number;
  /** Pairs whose P99 interval was printed. */
  withInterval: number;
  commands: string[];
}

const EMPTY_AA: RealAaResult = {
  runs: 0,
  invalid: 0,
  pairs: 0,
  compared: 0,
  pointRegressions: 0,
  significanceRegressions: 0,
  inconclusive: 0,
  withInterval: 0,
  commands: [],
};

/**
 * N runs of the same build against the reference server (the light baseline scenario), every
 * consecutive pair compared with and without `--significance` (`--force`: the pairs are runs of
 * one phase, on purpose).
 */
export async function realAa(
  ctx: { quick: boolean; workDir: string; log(text: string): void },
): Promise<RealAaResult> {
  // Loaded here, so the simulation (and its tests) do not need the process helpers.
  const { runCheckChild, taskCommand } = await import("./check_run.ts");
  const root = new URL("../", import.meta.url).pathname;
  const n = ctx.quick ? 3 : 8;
  const seconds = ctx.quick ? 30 : 60;
  // INTERVALS_AA_DIR=<dir>: reuse the reports of an earlier run of this benchmark.
  const reuse = Deno.env.get("INTERVALS_AA_DIR");
  const dir = reuse ?? `${ctx.workDir}/aa_${Date.now()}`;
  const args = [
    "bench-aa",
    "before",
    "--reference",
    "--scenario",
    "bench/scenarios/light_baseline.toml",
    "--duration",
    String(seconds),
    "--warmup",
    "3",
  ];
  const reports: { path: string; valid: boolean }[] = [];
  if (reuse) {
    const names = [...Deno.readDirSync(reuse)].map((e) => e.name)
      .filter((name) => /^bench-aa_before_.*\d\.json$/.test(name)).sort();
    for (const name of names) {
      const r = JSON.parse(Deno.readTextFileSync(`${reuse}/${name}`));
      reports.push({ path: `${reuse}/${name}`, valid: r.valid });
    }
  }
  for (let i = reports.length; i < n; i++) {
    const { report, code, stderr } = await runCheckChild(args, dir, (seconds + 120) * 1000);
    if (!report) throw new Error(`check exited ${code}: ${stderr.slice(-300)}`);
    ctx.log(`intervals: A/A run ${i + 1}/${n}: ${report.valid ? "valid" : "invalid"}`);
    reports.push({ path: report.files.report, valid: report.valid });
  }
  const compare = async (before: string, after: string, extra: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        `${root}m17_compare.ts`,
        "bench-aa",
        "--before",
        before,
        "--after",
        after,
        "--force",
        ...extra,
      ],
      cwd: root,
      stdout: "piped",
      stderr: "null",
      stdin: "null",
      env: { NO_COLOR: "1" },
    }).output();
    return { code: out.code, text: new TextDecoder().decode(out.stdout) };
  };
  const result: RealAaResult = {
    runs: reports.length,
    invalid: reports.filter((r) => !r.valid).length,
    pairs: reports.length - 1,
    compared: 0,
    pointRegressions: 0,
    significanceRegressions: 0,
    inconclusive: 0,
    withInterval: 0,
    commands: [taskCommand([...args, "--out-dir", dir])],
  };
  for (let i = 0; i + 1 < reports.length; i++) {
    if (!reports[i].valid || !reports[i + 1].valid) continue;
    result.compared++;
    const point = await compare(reports[i].path, reports[i + 1].path, []);
    if (point.code === 1) result.pointRegressions++;
    if (/P99 latency\s.*\[[-+]/.test(point.text)) result.withInterval++;
    const sig = await compare(reports[i].path, reports[i + 1].path, ["--significance"]);
    if (sig.code === 1) result.significanceRegressions++;
    if (sig.code === 4) result.inconclusive++;
  }
  return result;
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
const pct = (x: number) => Number.isFinite(x) ? `${round(x * 100, 1)}%` : "–";

/** The benchmark: every case, with the change and A/A. */
export const intervals: Benchmark = {
  name: "intervals",
  title: "Coverage of compare's 95% intervals (simulation)",
  goal:
    "≥ 93% coverage wherever an interval is printed; printed for 60-s runs with independent seconds and φ = 0.5",
  async run(ctx) {
    const reps = ctx.quick ? 100 : 400;
    const rate = 200;
    const resamples = ctx.quick ? 500 : 1000;
    const results: CaseResult[] = [];
    for (const c of CASES) {
      const t0 = performance.now();
      const r = simulateCase(c, { reps, rate, resamples, seed: 0x1_6_2026n, old: true });
      ctx.log(`intervals: ${r.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      results.push(r);
    }
    const rows: Row[] = results.map((r) => ({
      case: r.name,
      printed: pct(r.printed),
      "P99 coverage": pct(r.coverageP99),
      "P99 missed (of all runs)": pct(r.missedP99),
      "throughput coverage": pct(r.coverageThroughput),
      "P99 width (pp)": Number.isFinite(r.widthP99) ? round(r.widthP99, 1) : "–",
      "A/A regression": pct(r.aaRegression),
      "A/A lo>0": pct(r.aaAboveZero),
      "SB+PW coverage": pct(r.stationary.coverageP99),
      "SB+PW A/A lo>0": pct(r.stationary.aaAboveZero),
      "old MBB coverage": pct(r.old.coverageP99),
      "old MBB A/A lo>0": pct(r.old.aaAboveZero),
    }));
    // INTERVALS_SIMULATION_ONLY=1 skips the real runs (development of the method).
    const aa = Deno.env.get("INTERVALS_SIMULATION_ONLY") === "1"
      ? { ...EMPTY_AA }
      : await realAa(ctx);
    const aaRate = (k: number) => aa.compared > 0 ? pct(k / aa.compared) : "–";
    rows.push({
      case: `real A/A: ${aa.runs} runs, ${aa.compared} valid consecutive pairs`,
      printed: aa.compared > 0 ? pct(aa.withInterval / aa.compared) : "–",
      "A/A regression": `${aaRate(aa.significanceRegressions)} (--significance; ${
        aaRate(aa.inconclusive)
      } inconclusive)`,
      "A/A lo>0": `${aaRate(aa.pointRegressions)} (point rule)`,
    });
    const printedCases = results.filter((r) => r.printed > 0);
    const worst = Math.min(
      ...printedCases.flatMap((r) => [r.coverageP99, r.coverageThroughput]).filter(Number.isFinite),
    );
    const must = results.filter((r) =>
      r.name === "independent, 60 s" || r.name === "AR(1) φ=0.5, 60 s"
    );
    const rare = printedCases.filter((r) => r.coverageP99 < 0.93 || r.coverageThroughput < 0.93);
    const aaSignificance = aa.compared > 0 ? aa.significanceRegressions / aa.compared : NaN;
    const met = worst >= 0.93 && must.every((r) => r.printed >= 0.9) && !(aaSignificance > 0.05);
    return {
      verdict: met ? "met" : "not met",
      summary: `lowest coverage where printed ${pct(worst)} (goal ≥ 93%)${
        rare.length > 0
          ? ` in ${
            rare.map((r) =>
              `${r.name}: printed in ${pct(r.printed)}, missed ${pct(r.missedP99)} of runs`
            )
              .join("; ")
          }`
          : ""
      }; printed for ${
        must.map((r) => `${r.name} ${pct(r.printed)}`).join(", ")
      }; real A/A --significance false regressions ${aa.significanceRegressions} of ${aa.compared} pairs (goal ≤ 5%); ${reps} pairs a case, ${rate} requests/s, ${resamples} resamples`,
      rows,
      data: { reps, rate, resamples, results, realAa: aa },
    };
  },
};

if (import.meta.main) {
  // Quick look without the harness: deno run -A bench/intervals.ts [reps] [case filter] [old]
  const reps = Number(Deno.args[0] ?? 100);
  const f = (x: number) => pct(x).padStart(6);
  for (const c of CASES.filter((c) => caseName(c).includes(Deno.args[1] ?? ""))) {
    const r = simulateCase(c, {
      reps,
      rate: 200,
      resamples: 500,
      seed: 0x1_6_2026n,
      old: Deno.args[2] === "old",
    });
    console.log(
      `${r.name.padEnd(20)} printed ${f(r.printed)} cov ${f(r.coverageP99)} covT ${
        f(r.coverageThroughput)
      } width ${r.widthP99.toFixed(1)} AA ${f(r.aaRegression)} AA>0 ${f(r.aaAboveZero)} | SB ${
        f(r.stationary.coverageP99)
      } ${f(r.stationary.aaAboveZero)} | old ${f(r.old.coverageP99)} ${f(r.old.aaAboveZero)}`,
    );
  }
}
