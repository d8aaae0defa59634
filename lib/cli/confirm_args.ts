/**
 * `m17_check <task> confirm`'s command line and help text.
 * @module
 */
import { validateTaskId } from "../report/files.ts";
import { UsageError } from "../shared/errors.ts";
import { integerIn, numberIn, parseFlags, port, seed as parseSeedFlag } from "./flags.ts";

/** `m17_check <task> confirm --help`. */
export const CONFIRM_USAGE =
  `Usage: m17_check <task> confirm [--budget MIN] [--pairs N] [--competitive] [--seed-order N]
                                [--new-session] [--out-dir D] [--port N] [--quiet]

Re-measures the task's newest before and after builds, interleaved, until the verdict is clear.
Each side is its newest valid report's build: for Engram the binary the check kept
(<out-dir>/builds/<sha256>/, 'm17_check builds'), for the reference server its recorded knobs.
Runs come in blocks of two pairs, ABBA or BAAB, drawn by a seeded PRNG (Randomized Multiple
Interleaved Trials); every run is an ordinary check (fresh server, fresh data dir, the same
scenario file, seed, rate, duration, warm-up, timeout, in-flight cap, workers and CPU pinning as
the reports) written as an ordinary before/after report of one group (run.design "interleaved").
When the newest before and after runs are a confirm session, confirm continues it (up to --pairs
more pairs). After each pair the group is judged as 'compare' judges it; the session stops when the verdict
is not inconclusive, at --pairs N or at the budget, and prints compare's output for the group.

  --budget MIN      stop starting pairs that would end past MIN minutes (default 20)
  --pairs N         at most N pairs this time (default 20, 1..200)
  --competitive     confirm the competitive runs
  --seed-order N    seed of the block order (default: random; printed and recorded in the reports)
  --new-session     start a new session even when the newest runs are a confirm session (which
                    confirm otherwise continues: same group, same block order, the next pairs)
  --out-dir D       results directory: the reports, the kept builds, the new runs
                    (default tmp/m17_performance)
  --port N          Engram's HTTP port for the runs (default 7432)
  --startup-timeout-s S  how long Engram may take to answer /health (default 60)
  --quiet           no line per run: the header, a line per pair, warnings and the comparison

Refused (exit 3, nothing run): before and after of different scenarios or settings, a scenario
file changed since, a side with no kept build (a report made before builds were kept, a pruned
or damaged build, a --url target): re-run 'check <task> before|after' from that build.
Exit codes: compare's (0 pass, 1 regression, 2 competitive regression, 4 inconclusive);
1 also when a run failed; 3 refused; 130/143/129 interrupted (the finished runs stay as reports).`;

const CONFIRM_FLAGS = {
  budget: { type: "string" },
  pairs: { type: "string" },
  competitive: { type: "boolean" },
  "seed-order": { type: "string" },
  "new-session": { type: "boolean" },
  "out-dir": { type: "string" },
  port: { type: "string" },
  "startup-timeout-s": { type: "string" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Options of a confirm session. */
export interface ConfirmOptions {
  task: string;
  competitive: boolean;
  /** Minutes after which no pair is started that would end later. */
  budgetMinutes: number;
  maxPairs: number;
  /** `--seed-order`: seed of the block order (a new session picks one at random without it). */
  orderSeed?: bigint;
  /** `--new-session`: never continue the newest confirm session. */
  newSession: boolean;
  outDir: string;
  port?: number;
  startupTimeoutMs: number;
  quiet: boolean;
}

/** The results directory unless `--out-dir` says otherwise (as `check`'s). */
export const DEFAULT_OUT_DIR = "tmp/m17_performance";

/** Default budget and pair cap. */
export const CONFIRM_DEFAULTS = { budgetMinutes: 20, maxPairs: 20 } as const;

/** Parses `confirm`'s arguments (the word `confirm` already removed); throws UsageError. */
export function parseConfirmArgs(
  argv: string[],
): { kind: "help" } | { kind: "confirm"; options: ConfirmOptions } {
  const { values: v, positionals } = parseFlags(argv, CONFIRM_FLAGS);
  if (v.help) return { kind: "help" };
  const pos = positionals.filter((p) => p !== "--competitive");
  if (pos.length !== 1) {
    throw new UsageError(
      pos.length === 0
        ? "confirm: which task? (m17_check <task> confirm)"
        : `confirm: unexpected argument ${JSON.stringify(pos[1])}`,
    );
  }
  return {
    kind: "confirm",
    options: {
      task: validateTaskId(pos[0]),
      competitive: (v.competitive ?? false) || positionals.includes("--competitive"),
      budgetMinutes: numberIn("budget", v.budget, 0.1, 24 * 60) ?? CONFIRM_DEFAULTS.budgetMinutes,
      maxPairs: integerIn("pairs", v.pairs, 1, 200) ?? CONFIRM_DEFAULTS.maxPairs,
      orderSeed: parseSeedFlag("seed-order", v["seed-order"]),
      newSession: v["new-session"] ?? false,
      outDir: v["out-dir"] ?? DEFAULT_OUT_DIR,
      port: port("port", v.port),
      startupTimeoutMs: (numberIn("startup-timeout-s", v["startup-timeout-s"], 1, 3600) ?? 60) *
        1000,
      quiet: v.quiet ?? false,
    },
  };
}
