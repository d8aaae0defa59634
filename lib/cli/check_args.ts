/**
 * `m17_check`'s command line: the verbs (`diag`, `install-scripts`, `serve`, or a run), the
 * options of a run and its help text. The `--ref-*` knobs are validated by the reference
 * server's own `validateKnobs`, so a knob the server would refuse is refused here, before any
 * file is written.
 * @module
 */
import type { CheckOptions } from "../run/check.ts";
import type { FindRateOptions } from "../run/options.ts";
import { LIMITS } from "../workload/scenario.ts";
import { MILESTONE_TASK, validateTaskId } from "../report/files.ts";
import { REFERENCE_KNOB_FLAGS } from "../report/schema.ts";
import { DEFAULT_ENGRAM_PORT } from "../target/engram.ts";
import type { ReferenceKnobs } from "../target/target.ts";
import { parseTargetUrl } from "../target/url.ts";
import { UsageError } from "../shared/errors.ts";
import { KNOB_LIMITS, type KnobName, validateKnobs } from "../reference/knobs.ts";
import { parseCpuBurn } from "../reference/cpu_burn.ts";
import {
  cpuList,
  type FlagValues,
  integerIn,
  nonNegativeNumber,
  numberIn,
  parseFlags,
  port,
  positiveNumber,
  seed as parseSeedFlag,
} from "./flags.ts";

/** Each knob's range, as `latency-ms 0..600000`. */
function knobRanges(): string[] {
  return Object.values(KNOB_LIMITS).map((l) => `${l.flag} ${l.min}..${l.max}`);
}

/** `m17_check --help`. */
export const CHECK_USAGE = `Usage: m17_check <task> [before|after] [--competitive] [options]
       m17_check serve [reference server options]     (the built-in reference server)
       m17_check diag [--port N] [--kill-leaked [--yes]]  (engram processes, port, load, memory)
       m17_check install-scripts <engram-dir> [--force]  (make the Engram checkout's
                 scripts/m17_performance_check.sh and compare_m17_performance.sh run m17)
       m17_check uninstall-scripts <engram-dir>  (put back what install-scripts replaced)
       m17_check snapshots [list|prune]  (preload snapshots of Engram runs and their disk use)
       m17_check <task> confirm [--budget MIN] [--pairs N] [--seed-order N]  (re-measure the
                 task's kept before and after builds interleaved until the verdict is clear;
                 m17_check <task> confirm --help)
       m17_check milestone confirm [--budget MIN] [--pairs N]  (the same for the milestone's first
                 before build and latest after build: the cumulative change of compare --history;
                 m17_check milestone confirm --help)
       m17_check builds [list|prune] [--out-dir D]  (the kept builds and the disk they hold)

Runs a deterministic, seeded, open-loop load test and writes
  tmp/m17_performance/[competitive_]<task>_<phase>_<YYYYmmdd_HHMMSS>{.json,_loadtest.log,_sys.txt,_diag.txt,.hlog}

Target (first that applies): --url URL; an Engram checkout (--engram-dir D, or the current
directory), built with cargo build --release and started on --port with a fresh data dir;
otherwise the built-in reference server (also forced with --reference). The Engram binary a
run starts is kept in <out-dir>/builds/<sha256>/ (m17_check builds; confirm runs it again).

Options:
  --competitive          competitive scenario (scenarios/competitive/hybrid_production_100k.toml)
  --scenario F|NAME      scenario file, or a shipped scenario name (m17_baseline)
  --seed N|0xHEX         override the scenario seed
  --rate N               override the target rate (ops/s)
  --duration S           override the measured duration (seconds)
  --warmup S             override the warm-up (seconds, not recorded)
  --url URL              measure an already running server (nothing is started or stopped)
  --reference            force the built-in reference server
  --engram-dir D         the Engram checkout to build and measure (default: the current directory)
  --no-build             skip cargo build --release; use the existing target/release/engram
  --port N               Engram's HTTP port (default ${DEFAULT_ENGRAM_PORT}); a taken port is refused
  --keep-data            keep Engram's fresh data dir (<out-dir>/<run>_data) after the run
  --no-preload-cache     preload afresh: neither restore nor keep a preload snapshot
                         (<out-dir>/snapshots/; m17_check snapshots list|prune)
  --startup-timeout-s S  how long Engram may take to answer /health (default 60)
  --out-dir D            results directory (default tmp/m17_performance)
  --timeout-ms N         per-request timeout (default 10000)
  --max-in-flight N      cap on concurrent requests; waiting requests keep their due time (default 64)
  --workers N            load generator threads, request i to worker i mod N (default: one per
                         5,000 ops/s, at most one fewer than the cores; printed at the start)
  --client-cpus LIST     Linux: pin the load generator (all its threads) to CPUs LIST (0-3,6)
  --server-cpus LIST     Linux: start the server check launches on CPUs LIST (taskset -c); both
                         default to disjoint CPUs on hosts with 4+ cores; recorded in the report
  --runs N               N independent runs (fresh server and state each), grouped for compare
  --dry-run              print the resolved scenario, op mix, fingerprint and first ops; contact nothing
  --quiet                only warnings and errors on the terminal
  --html                 also write <stem>.html: a self-contained page of the run (plots, definitions)
  --profile              Linux: sample the server's CPU with perf (99 Hz) during the measured window
                         only; writes <stem>_profile.folded and <stem>_profile.svg (a flame graph)
  --profile-pid PID      the server process to profile with --url
  --find-rate            capacity search: the highest offered rate that keeps the SLO (P99, and
                         error rate at most the scenario's max_error_rate, else 1%), by short
                         steps doubling from --find-rate-from, then bisection; then one
                         full-length run at it. All steps share one server start and preload;
                         every step is recorded in the report
  --slo-p99-ms MS        the SLO's P99 (default: the scenario's expected_p99_latency_ms)
  --find-rate-from N     first rate tried (default 10 ops/s); --find-rate-to N: highest (100000)
  --find-rate-step-s S   measured seconds per step, after 1 s warm-up (default 5)
  --find-rate-precision P  stop bisecting within P% of the passing rate (default 5)
  --find-rate-budget-s S   no step starts after S seconds of search (default 900; at most 40 steps)
  --help, --version

Reference server knobs (with the reference target; checked by the server's own rules):
  --ref-latency-ms X  --ref-jitter-ms Y  --ref-error-rate P
  --ref-stall-every-s S --ref-stall-ms M  --ref-no-spreading  --ref-record FILE
  --ref-cpu-burn OP:MS   each OP request (store, recall, search, complete) burns MS ms of CPU
  ranges: ${knobRanges().slice(0, 3).join(", ")},
          ${knobRanges().slice(3).join(", ")}; a stall needs both and fits in its period

Exit codes: 0 valid report written, 1 run failed or invalid, 3 usage/config error,
70 internal error (a bug: the message has its stack), 129 hung up (SIGHUP), 130 interrupted
(SIGINT), 143 terminated (SIGTERM).`;

/** What the first argument asks for: another verb, or a run (the default verb). */
export type CheckVerb =
  | { verb: "diag"; argv: string[] }
  | { verb: "install-scripts"; argv: string[] }
  | { verb: "uninstall-scripts"; argv: string[] }
  | { verb: "serve"; argv: string[] }
  | { verb: "snapshots"; argv: string[] }
  | { verb: "builds"; argv: string[] }
  /** `<task> confirm …` (argv without the word `confirm`). */
  | { verb: "confirm"; argv: string[] }
  | { verb: "run"; argv: string[] };

/** Splits off the verb; anything that is not a known verb is a run's arguments. */
export function checkVerb(argv: string[]): CheckVerb {
  const [first, ...rest] = argv;
  if (
    first === "diag" || first === "install-scripts" || first === "uninstall-scripts" ||
    first === "serve" || first === "snapshots" || first === "builds"
  ) {
    return { verb: first, argv: rest };
  }
  // `<task> confirm`, also after the old positional `--competitive` (`<task> --competitive confirm`).
  const at = argv[1] === "confirm"
    ? 1
    : argv[1] === "--competitive" && argv[2] === "confirm"
    ? 2
    : -1;
  if (at > 0) return { verb: "confirm", argv: argv.filter((_, i) => i !== at) };
  return { verb: "run", argv };
}

const CHECK_FLAGS = {
  competitive: { type: "boolean" },
  scenario: { type: "string" },
  seed: { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  url: { type: "string" },
  reference: { type: "boolean" },
  "engram-dir": { type: "string" },
  "no-build": { type: "boolean" },
  port: { type: "string" },
  "keep-data": { type: "boolean" },
  "no-preload-cache": { type: "boolean" },
  "startup-timeout-s": { type: "string" },
  "out-dir": { type: "string" },
  "timeout-ms": { type: "string" },
  "max-in-flight": { type: "string" },
  "preload-concurrency": { type: "string" },
  workers: { type: "string" },
  "client-cpus": { type: "string" },
  "server-cpus": { type: "string" },
  runs: { type: "string" },
  "dry-run": { type: "boolean" },
  quiet: { type: "boolean" },
  html: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  "ref-latency-ms": { type: "string" },
  "ref-jitter-ms": { type: "string" },
  "ref-error-rate": { type: "string" },
  "ref-stall-every-s": { type: "string" },
  "ref-stall-ms": { type: "string" },
  "ref-no-spreading": { type: "boolean" },
  "ref-record": { type: "string" },
  "ref-cpu-burn": { type: "string" },
  profile: { type: "boolean" },
  "profile-pid": { type: "string" },
  "find-rate": { type: "boolean" },
  "slo-p99-ms": { type: "string" },
  "find-rate-from": { type: "string" },
  "find-rate-to": { type: "string" },
  "find-rate-step-s": { type: "string" },
  "find-rate-precision": { type: "string" },
  "find-rate-budget-s": { type: "string" },
} as const;

type CheckFlagValues = FlagValues<typeof CHECK_FLAGS>;

/** A parsed run command line. */
export type CheckCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "dry-run"; options: CheckOptions }
  | { kind: "run"; options: CheckOptions };

/** Parses a run's command line into options (throws UsageError). */
export function parseCheckArgs(argv: string[]): CheckCommand {
  const { values: v, positionals } = parseFlags(argv, CHECK_FLAGS);
  if (v.help) return { kind: "help" };
  if (v.version) return { kind: "version" };

  const pos = [...positionals];
  let competitive = v.competitive ?? false;
  // The old script accepted --competitive as a positional in 2nd or 3rd place.
  const ci = pos.indexOf("--competitive");
  if (ci >= 0) {
    pos.splice(ci, 1);
    competitive = true;
  }
  if (pos.length > 2) throw new UsageError(`unexpected argument ${JSON.stringify(pos[2])}`);
  const task = validateTaskId(pos[0] ?? "unknown");
  const phase = pos[1] ?? "before";
  if (phase !== "before" && phase !== "after") {
    throw new UsageError(`Phase must be 'before' or 'after' (got ${JSON.stringify(phase)})`);
  }
  if (task === MILESTONE_TASK) {
    throw new UsageError(
      `task id '${MILESTONE_TASK}' is reserved: its runs are written by 'm17_check ${MILESTONE_TASK} confirm' ` +
        `(the milestone's first before build against its latest after build); name the task by its own id`,
    );
  }
  refuseTargetConflicts(v);
  const seed = parseSeedFlag("seed", v.seed);
  const options: CheckOptions = {
    task,
    phase,
    competitive,
    scenario: v.scenario,
    seed,
    rate: positiveNumber("rate", v.rate),
    durationSeconds: positiveNumber("duration", v.duration),
    warmupSeconds: nonNegativeNumber("warmup", v.warmup),
    url: v.url,
    reference: v.reference ?? false,
    engramDir: v["engram-dir"],
    build: !v["no-build"],
    port: port("port", v.port) ?? DEFAULT_ENGRAM_PORT,
    keepData: v["keep-data"] ?? false,
    noPreloadCache: v["no-preload-cache"] ?? false,
    startupTimeoutMs: (numberIn("startup-timeout-s", v["startup-timeout-s"], 1, 3600) ?? 60) *
      1000,
    knobs: referenceKnobs(v, seed),
    outDir: v["out-dir"] ?? "tmp/m17_performance",
    timeoutMs: integerIn("timeout-ms", v["timeout-ms"], 1, 600_000) ?? 10_000,
    maxInFlight: integerIn("max-in-flight", v["max-in-flight"], 1, 100_000) ?? 64,
    preloadConcurrency: integerIn("preload-concurrency", v["preload-concurrency"], 1, 1024) ??
      32,
    workers: integerIn("workers", v.workers, 1, 64),
    clientCpus: cpuList("client-cpus", v["client-cpus"]),
    serverCpus: cpuList("server-cpus", v["server-cpus"]),
    quiet: v.quiet ?? false,
    html: v.html ?? false,
    profile: v.profile ?? false,
    profilePid: integerIn("profile-pid", v["profile-pid"], 1, 2 ** 22),
    runIndex: 1,
    runCount: integerIn("runs", v.runs, 1, 100) ?? 1,
    runGroup: crypto.randomUUID(),
    findRate: findRateOptions(v),
  };
  return v["dry-run"] ? { kind: "dry-run", options } : { kind: "run", options };
}

/** `--find-rate` and its settings, refused without it or with what it replaces. */
function findRateOptions(v: CheckFlagValues): FindRateOptions | undefined {
  const settings = FIND_RATE_FLAGS.filter((k) => v[k] !== undefined);
  if (!v["find-rate"]) {
    if (settings.length > 0) throw new UsageError(`--${settings[0]} only applies with --find-rate`);
    return undefined;
  }
  if (v.runs !== undefined) {
    throw new UsageError("--find-rate and --runs conflict: a search is one run (one server start)");
  }
  if (v.rate !== undefined) {
    throw new UsageError(
      "--find-rate and --rate conflict: the search chooses the rate (see --find-rate-from/--find-rate-to)",
    );
  }
  const maxRate = LIMITS.maxRate;
  return {
    sloP99Ms: positiveNumber("slo-p99-ms", v["slo-p99-ms"]),
    fromRate: numberIn("find-rate-from", v["find-rate-from"], 0.1, maxRate) ?? 10,
    toRate: numberIn("find-rate-to", v["find-rate-to"], 0.1, maxRate) ?? maxRate,
    stepSeconds: integerIn("find-rate-step-s", v["find-rate-step-s"], 1, 600) ?? 5,
    precisionPct: numberIn("find-rate-precision", v["find-rate-precision"], 0.1, 100) ?? 5,
    budgetSeconds: integerIn("find-rate-budget-s", v["find-rate-budget-s"], 1, 86_400) ?? 900,
  };
}

const FIND_RATE_FLAGS = [
  "slo-p99-ms",
  "find-rate-from",
  "find-rate-to",
  "find-rate-step-s",
  "find-rate-precision",
  "find-rate-budget-s",
] as const;

/** One target at a time; target-specific flags only with their target. */
function refuseTargetConflicts(v: CheckFlagValues): void {
  if (v.url !== undefined) parseTargetUrl(v.url); // a bad URL is refused before anything runs
  if (v.url !== undefined && v.reference) {
    throw new UsageError("--url and --reference conflict: choose one target");
  }
  if (v["profile-pid"] !== undefined && (v.url === undefined || !v.profile)) {
    throw new UsageError("--profile-pid goes with --url and --profile (other targets are known)");
  }
  if (v.url !== undefined && v["server-cpus"] !== undefined) {
    throw new UsageError("--server-cpus only applies to a server check starts, not to --url");
  }
  const refFlags = Object.keys(v).filter((k) => k.startsWith("ref-"));
  if (v.url !== undefined && refFlags.length > 0) {
    throw new UsageError(`--${refFlags[0]} only applies to the reference server, not to --url`);
  }
  const engramFlags = [
    "engram-dir",
    "no-build",
    "port",
    "keep-data",
    "no-preload-cache",
    "startup-timeout-s",
  ]
    .filter((k) => v[k as keyof CheckFlagValues] !== undefined);
  if (engramFlags.length > 0 && (v.url !== undefined || v.reference)) {
    throw new UsageError(
      `--${engramFlags[0]} only applies to an Engram checkout, not to ${
        v.url !== undefined ? "--url" : "--reference"
      }`,
    );
  }
}

/**
 * The `--ref-*` knobs, validated by the reference server's own `validateKnobs`; only the knobs
 * given are kept, so reports stay tidy.
 */
function referenceKnobs(v: CheckFlagValues, seed: bigint | undefined): ReferenceKnobs {
  const texts: Partial<Record<KnobName, string>> = {};
  for (const name of Object.keys(KNOB_LIMITS) as KnobName[]) {
    const text = v[REFERENCE_KNOB_FLAGS[name]];
    if (typeof text === "string") texts[name] = text;
  }
  const checked = validateKnobs(texts, "ref-");
  if (!checked.ok) throw new UsageError(checked.problem);
  const knobs: ReferenceKnobs = {};
  for (const name of Object.keys(texts) as KnobName[]) knobs[name] = checked.knobs[name];
  if (v[REFERENCE_KNOB_FLAGS.noSpreading]) knobs.noSpreading = true;
  if (seed !== undefined) knobs.seed = String(seed);
  if (v[REFERENCE_KNOB_FLAGS.record] !== undefined) knobs.record = v[REFERENCE_KNOB_FLAGS.record];
  const cpuBurn = v[REFERENCE_KNOB_FLAGS.cpuBurn];
  if (cpuBurn !== undefined) {
    const burn = parseCpuBurn(cpuBurn, "ref-");
    if (!burn.ok) throw new UsageError(burn.problem);
    knobs.cpuBurn = `${burn.burn.op}:${burn.burn.ms}`;
  }
  return knobs;
}
