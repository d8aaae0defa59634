/**
 * `m17_check <task> confirm`: re-measures the task's before and after builds in randomized
 * interleaved blocks (lib/run/interleave.ts) until the verdict is clear. Each run is an ordinary
 * `runCheck`; after each pair the group is judged exactly as `compare` judges it (gather the
 * group → compareRuns → decideVerdict); the session ends when the verdict is not inconclusive,
 * at `--pairs`, or when the next pair would end past `--budget`, and prints compare's output.
 * @module
 */
import { basename } from "node:path";
import { match } from "ts-pattern";
import { type CheckOptions, runCheck } from "../run/check.ts";
import { blockKind, interleavedSchedule, type PairSlot } from "../run/interleave.ts";
import { RunLog } from "../run/run_log.ts";
import { compareCommand, type ToolCommands } from "../report/files.ts";
import { type LoadedReport, readReport } from "../report/read.ts";
import type { Phase } from "../report/schema.ts";
import { renderTerminal } from "../render/terminal.ts";
import { compareSparklineLines, isUnicodeTerminal, terminalEnv } from "../render/sparkline.ts";
import { asciiGlyphs, useAscii } from "../render/format.ts";
import { EXIT, UsageError } from "../shared/errors.ts";
import { type Baseline, defaultBaselinesPath, loadBaseline } from "../verdict/baselines.ts";
import { compareRuns } from "../verdict/compare.ts";
import { gatherRuns } from "../verdict/discovery.ts";
import type { Comparison, Verdict } from "../verdict/types.ts";
import { decideVerdict, defaultThresholds, exitCodeOf } from "../verdict/verdict.ts";
import { type Arm, type Arms, confirmArms } from "./confirm_arms.ts";
import { CONFIRM_USAGE, type ConfirmOptions, parseConfirmArgs } from "./confirm_args.ts";
import { DEFAULT_BASELINE } from "./compare_args.ts";
import { startedFromEnv, toolCommands } from "./invocation.ts";
import { CHECK_RENDERERS, type SignalWatch, withSignals } from "./run_checks.ts";

/** Runs `m17_check <task> confirm …`; returns the exit code. Bad input throws `UsageError`. */
export async function confirmCommand(argv: string[]): Promise<number> {
  const cmd = parseConfirmArgs(argv);
  if (cmd.kind === "help") {
    console.log(CONFIRM_USAGE);
    return EXIT.ok;
  }
  const o = cmd.options;
  const commands = toolCommands(startedFromEnv());
  const group = crypto.randomUUID();
  const arms = await confirmArms(o, commands, group);
  // Competitive mode positions the after side against compare's default competitor baseline.
  const baseline = o.competitive
    ? await loadBaseline(defaultBaselinesPath(), DEFAULT_BASELINE)
    : null;
  return await withSignals((watch) => runSession({ o, arms, group, commands, baseline }, watch));
}

/** The judgement of the group so far, made as compare makes it. */
interface Judgement {
  comparison: Comparison;
  verdict: Verdict;
}

/** The newest finished report of each arm, for discovery's "newest report + its group". */
type Newest = Record<Phase, LoadedReport | null>;

/** A session's fixed inputs. */
interface Session {
  o: ConfirmOptions;
  arms: Arms;
  group: string;
  commands: ToolCommands;
  baseline: Baseline | null;
}

async function runSession(session: Session, watch: SignalWatch): Promise<number> {
  const { o, arms, group, commands } = session;
  const say = (line: string) => console.log(line);
  const mode = o.competitive ? "competitive" : "internal";
  const schedule = interleavedSchedule(o.orderSeed, o.maxPairs);
  const budgetMs = o.budgetMinutes * 60_000;
  const started = performance.now();
  const runMs: number[] = [];
  const newest: Newest = { before: null, after: null };
  let judged: Judgement | null = null;
  let stopped = `${o.maxPairs} pair${o.maxPairs === 1 ? "" : "s"} run (--pairs)`;

  say(`confirm: task ${o.task}${o.competitive ? " (competitive)" : ""}, group ${group}`);
  say(`  A = before: ${arms.before.label}, from ${basename(arms.before.source.path)}`);
  say(`  B = after:  ${arms.after.label}, from ${basename(arms.after.source.path)}`);
  say(
    `  up to ${o.maxPairs} pairs in blocks ABBA/BAAB (order seed ${o.orderSeed}), budget ${o.budgetMinutes} min; ` +
      `each run ${describeRun(arms.before.options)}`,
  );
  for (const slot of schedule) {
    const elapsed = performance.now() - started;
    const pairMs = meanPairMs(runMs);
    if (slot.pair > 1 && elapsed + pairMs > budgetMs) {
      stopped = `budget: another pair (${seconds(pairMs)}) would end past ${o.budgetMinutes} min`;
      break;
    }
    if (slot.pair % 2 === 1) say(`block ${slot.block}: ${blockKind(slot.order)}`);
    for (const arm of slot.order === "AB" ? [arms.before, arms.after] : [arms.after, arms.before]) {
      if (watch.received()) break;
      const t0 = performance.now();
      const outcome = await runCheck(
        runOptions(arm, slot, o),
        new RunLog(true), // its lines go to its log file; the session prints its own
        watch.signal,
        CHECK_RENDERERS,
      );
      runMs.push(performance.now() - t0);
      const r = outcome.report;
      if (watch.received()) break;
      if (r === null || outcome.exitCode !== EXIT.ok || outcome.files === null) {
        say(
          `confirm: the ${arm.phase} run of pair ${slot.pair} failed${
            r && !r.valid ? ` (invalid: ${r.invalid_reasons.join("; ")})` : ""
          }; stopping. The finished pairs stay as reports of group ${group.slice(0, 8)}.`,
        );
        return EXIT.runFailed;
      }
      newest[arm.phase] = await readReport(outcome.files.report);
      say(
        `  pair ${slot.pair} of ≤${o.maxPairs}: ${arm.phase} (${
          arm.phase === "before" ? "A" : "B"
        }) P99 ${r.p99_latency_ms.toFixed(3)} ms, ${r.overall_throughput.toFixed(1)} ops/s in ${
          seconds(runMs.at(-1)!)
        }`,
      );
    }
    if (watch.received()) break;
    judged = await judge(o, newest, mode, session.baseline);
    say(progressLine(slot, o, judged, performance.now() - started, runMs, budgetMs));
    if (judged.verdict.kind !== "inconclusive") {
      stopped = `the verdict is ${judged.verdict.kind.replace("_", " ")} after ${slot.pair} pair${
        slot.pair === 1 ? "" : "s"
      }`;
      break;
    }
  }
  if (watch.received()) {
    say(
      `confirm: interrupted; the finished runs stay as reports of group ${group.slice(0, 8)} ` +
        `(an interrupted run's report is marked invalid: compare refuses the group until it is removed)`,
    );
    return EXIT.sigint; // withSignals replaces it with the signal's own code
  }
  if (judged === null) throw new UsageError("confirm: no pair finished");
  say(
    `confirm: stopped: ${stopped}; the same result: ${
      compareCommand(o.task, mode, commands)
    } --dir ${o.outDir}`,
  );
  say("");
  const text = renderTerminal(judged.comparison, judged.verdict, undefined, {
    afterTable: compareSparklineLines(
      newest.before!,
      newest.after!,
      isUnicodeTerminal(terminalEnv()),
    ),
    commands,
  });
  console.log(useAscii(false, Deno.env.toObject()) ? asciiGlyphs(text) : text);
  return exitCodeOf(judged.verdict);
}

/** One run's options: its arm's, with its place in the session. */
function runOptions(arm: Arm, slot: PairSlot, o: ConfirmOptions): CheckOptions {
  return {
    ...arm.options,
    quiet: true,
    runIndex: slot.pair,
    runCount: o.maxPairs,
    interleaved: {
      pair: slot.pair,
      block: slot.block,
      order: slot.order,
      orderSeed: String(o.orderSeed),
    },
  };
}

/** Judges the group as compare does: the newest reports, their group, compareRuns, decideVerdict. */
async function judge(
  o: ConfirmOptions,
  newest: Newest,
  mode: "internal" | "competitive",
  baseline: Baseline | null,
): Promise<Judgement> {
  const before = newest.before!, after = newest.after!;
  const runs = await gatherRuns({ dir: o.outDir, task: o.task, mode }, { before, after });
  const comparison = compareRuns({ task: o.task, mode, before, after, runs, baseline });
  return { comparison, verdict: decideVerdict(comparison, defaultThresholds(mode)) };
}

/** Mean measured time of a pair (two runs), 0 before any run. */
function meanPairMs(runMs: number[]): number {
  return runMs.length === 0 ? 0 : 2 * runMs.reduce((s, x) => s + x, 0) / runMs.length;
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

function signed(pct: number | null): string {
  return pct === null ? "n/a" : `${pct >= 0 ? "+" : "−"}${Math.abs(pct).toFixed(1)}%`;
}

/** `pair 3 of ≤20: P99 +4.1%, throughput −0.2% (medians of 3 pairs): inconclusive; 1.2 min elapsed, ETA ≤ 6.1 min`. */
function progressLine(
  slot: PairSlot,
  o: ConfirmOptions,
  j: Judgement,
  elapsedMs: number,
  runMs: number[],
  budgetMs: number,
): string {
  const m = j.comparison.metrics;
  const left = o.maxPairs - slot.pair;
  const etaMs = Math.min(left * meanPairMs(runMs), Math.max(0, budgetMs - elapsedMs));
  const verdict = match(j.verdict.kind)
    .with("inconclusive", () => "inconclusive, going on")
    .with("pass", () => "PASS")
    .with("regression", () => "REGRESSION")
    .with("competitive_regression", () => "COMPETITIVE REGRESSION")
    .exhaustive();
  return `pair ${slot.pair} of ≤${o.maxPairs}: P99 ${signed(m.p99.changePct)}, throughput ${
    signed(m.throughput.changePct)
  } (after vs before, medians of ${slot.pair} pair${slot.pair === 1 ? "" : "s"}): ${verdict}; ` +
    `${seconds(elapsedMs)} elapsed${
      j.verdict.kind === "inconclusive" && left > 0 ? `, at most ${seconds(etaMs)} more` : ""
    }`;
}

/** The settings every run repeats, in one phrase. */
function describeRun(c: CheckOptions): string {
  return `${c.rate} ops/s for ${c.durationSeconds} s after ${c.warmupSeconds} s warm-up, ` +
    `timeout ${c.timeoutMs} ms, in-flight cap ${c.maxInFlight}, fresh server and data dir`;
}
