/**
 * The options of one `check` run, as the command line parsed them.
 * @module
 */
import type { ReferenceKnobs } from "../target/target.ts";

/** Options of one check run, already parsed from the command line. */
export interface CheckOptions {
  task: string;
  phase: "before" | "after";
  competitive: boolean;
  scenario?: string;
  seed?: bigint;
  rate?: number;
  durationSeconds?: number;
  warmupSeconds?: number;
  url?: string;
  reference: boolean;
  knobs: ReferenceKnobs;
  /** Engram checkout to measure (default: the current directory when it is one). */
  engramDir?: string;
  /** Run `cargo build --release` before starting Engram (false with --no-build). */
  build: boolean;
  /** Engram's HTTP port. */
  port: number;
  /** Keep Engram's fresh data dir after the run. */
  keepData: boolean;
  /** `--no-preload-cache`: preload every run afresh, neither restoring nor keeping a snapshot. */
  noPreloadCache?: boolean;
  /** Deadline for Engram's /health to answer 200. */
  startupTimeoutMs: number;
  outDir: string;
  timeoutMs: number;
  maxInFlight: number;
  preloadConcurrency: number;
  /** Worker threads for the load (`--workers`); undefined: chosen from the rate and cores. */
  workers?: number;
  /** `--client-cpus`: pin the load generator to this CPU list (Linux, taskset). */
  clientCpus?: string;
  /** `--server-cpus`: start the server the tool launches on this CPU list (Linux, taskset). */
  serverCpus?: string;
  quiet: boolean;
  /** `--profile`: record the server's CPU during the measured window (lib/run/profile_step.ts). */
  profile: boolean;
  /** `--profile-pid`: the server process to profile for `--url`. */
  profilePid?: number;
  /** Also write `<stem>.html`, the self-contained single-run page (lib/render/html_run.ts). */
  html: boolean;
  /** `--find-rate`: search the highest rate that keeps the SLO, then run at it (absent: no). */
  findRate?: FindRateOptions;
  runIndex: number;
  runCount: number;
  runGroup: string;
  /** `confirm`: this run's place in the interleaved session (lib/cli/confirm.ts). */
  interleaved?: { pair: number; block: number; order: "AB" | "BA"; orderSeed: string };
  /**
   * `confirm`: start the build kept in `outDir`'s store with this sha256 (no build, no checkout
   * lookup); the server's working directory is `keptCwd` (the checkout, or the out dir when the
   * checkout is gone).
   */
  kept?: { sha256: string; cwd: string };
}

/** `check --find-rate`'s settings (lib/run/capacity_step.ts). */
export interface FindRateOptions {
  /** `--slo-p99-ms`; absent: the scenario's `validation.expected_p99_latency_ms`. */
  sloP99Ms?: number;
  /** `--find-rate-from`: the first rate tried (ops/s). */
  fromRate: number;
  /** `--find-rate-to`: the highest rate tried (ops/s). */
  toRate: number;
  /** `--find-rate-step-s`: each step's measured seconds (after a 1 s warm-up). */
  stepSeconds: number;
  /** `--find-rate-precision`: bisection ends within this percent of the passing rate. */
  precisionPct: number;
  /** `--find-rate-budget-s`: no step starts after this many seconds of search. */
  budgetSeconds: number;
}
