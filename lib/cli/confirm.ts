/**
 * `m17_check <task> confirm`: re-measures the task's before and after builds in randomized
 * interleaved blocks (lib/run/interleave.ts) until the verdict is clear. Each run is an ordinary
 * `runCheck`; after each pair the group is judged exactly as `compare` judges it (gather the
 * group → compareRuns → decideVerdict); the session ends when the verdict is not inconclusive,
 * at `--pairs`, or when the next pair would end past `--budget`, and prints compare's output.
 * @module
 */
import { basename } from "node:path";
import { type CheckOptions, runCheck } from "../run/check.ts";
import type { Judgement } from "./confirm_progress.ts";
import { blockKind, interleavedSchedule, type PairSlot } from "../run/interleave.ts";
import { RunLog } from "../run/run_log.ts";
import {
  compareCommand,
  confirmCommand as confirmLine,
  type ToolCommands,
} from "../report/files.ts";
import { type LoadedReport, readReport } from "../report/read.ts";
import type { Phase } from "../report/schema.ts";
import { renderTerminal } from "../render/terminal.ts";
import { compareSparklineLines, isUnicodeTerminal, terminalEnv } from "../render/sparkline.ts";
import { asciiGlyphs, useAscii } from "../render/format.ts";
import { EXIT, UsageError } from "../shared/errors.ts";
import { type Baseline, defaultBaselinesPath, loadBaseline } from "../verdict/baselines.ts";
import { compareRuns } from "../verdict/compare.ts";
import { gatherRuns } from "../verdict/discovery.ts";
import { decideVerdict, defaultThresholds, exitCodeOf } from "../verdict/verdict.ts";
import { type Arm, type Arms, confirmArms } from "./confirm_arms.ts";
import { budgetStop, describeRun, progressLine, seconds } from "./confirm_progress.ts";
import {
  CONFIRM_USAGE,
  type ConfirmOptions,
  DEFAULT_OUT_DIR,
  parseConfirmArgs,
} from "./confirm_args.ts";
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
  const arms = await confirmArms(o, commands);
  for (const w of arms.warnings) console.error(`m17_check: warning: ${w}`);
  return await confirmSession(o, arms, commands);
}

/**
 * Runs a confirm session of `arms` (a task's, or the milestone's: lib/cli/milestone_confirm.ts);
 * returns the exit code.
 */
export async function confirmSession(
  o: ConfirmOptions,
  arms: Arms,
  commands: ToolCommands,
): Promise<number> {
  // Competitive mode positions the after side against compare's default competitor baseline.
  const baseline = o.competitive
    ? await loadBaseline(defaultBaselinesPath(), DEFAULT_BASELINE)
    : null;
  const previous = arms.previous;
  const session: Session = {
    o,
    arms,
    commands,
    baseline,
    group: previous?.group ?? crypto.randomUUID(),
    orderSeed: previous?.orderSeed ?? o.orderSeed ??
      BigInt(crypto.getRandomValues(new Uint32Array(1))[0]),
    firstPair: (previous?.lastPair ?? 0) + 1,
  };
  return await withSignals((watch) => runSession(session, watch));
}

/**
 * Invalid runs a session leaves out (their pairs) before it stops: the instrument may fail once
 * on a shared host; failing again says the host is not fit to measure on.
 */
const MAX_INVALID_RUNS = 2;

/** The newest finished report of each arm, for discovery's "newest report + its group". */
type Newest = Record<Phase, LoadedReport | null>;

/** A session's fixed inputs. */
interface Session {
  o: ConfirmOptions;
  arms: Arms;
  group: string;
  commands: ToolCommands;
  baseline: Baseline | null;
  orderSeed: bigint;
  /** 1 for a new session; the pair after the last one for a continued session. */
  firstPair: number;
}

async function runSession(session: Session, watch: SignalWatch): Promise<number> {
  const { o, arms, group, commands, orderSeed, firstPair } = session;
  const lastPair = firstPair - 1 + o.maxPairs;
  const say = (line: string) => console.log(line);
  const mode = o.competitive ? "competitive" : "internal";
  const schedule = interleavedSchedule(orderSeed, lastPair).slice(firstPair - 1);
  const budgetMs = o.budgetMinutes * 60_000;
  const started = performance.now();
  const runMs: number[] = [];
  const newest: Newest = { before: null, after: null };
  let judged: Judgement | null = null;
  let invalidRuns = 0;
  let skipped = false;
  let stopped = `${o.maxPairs} pair${o.maxPairs === 1 ? "" : "s"} run (--pairs ${o.maxPairs})`;

  say(
    `confirm: task ${o.task}${o.competitive ? " (competitive)" : ""}, group ${group}${
      firstPair > 1 ? ` (continued after pair ${firstPair - 1}; --new-session starts another)` : ""
    }`,
  );
  say(`  A = before: ${arms.before.label}, from ${basename(arms.before.source.path)}`);
  say(`  B = after:  ${arms.after.label}, from ${basename(arms.after.source.path)}`);
  say(
    `  pairs ${firstPair} to ≤${lastPair} in blocks ABBA/BAAB (order seed ${orderSeed}), budget ${o.budgetMinutes} min; ` +
      `each run ${describeRun(arms.before.options)}`,
  );
  for (const slot of schedule) {
    const over = slot.pair > firstPair
      ? budgetStop(performance.now() - started, runMs, o.budgetMinutes)
      : null;
    if (over !== null) {
      stopped = over;
      break;
    }
    if (slot.pair % 2 === 1) say(`block ${slot.block}: ${blockKind(slot.order)}`);
    for (const arm of slot.order === "AB" ? [arms.before, arms.after] : [arms.after, arms.before]) {
      if (watch.received()) break;
      const t0 = performance.now();
      const outcome = await runCheck(
        runOptions(arm, slot, session, lastPair),
        new RunLog(true), // its lines go to its log file; the session prints its own
        watch.signal,
        CHECK_RENDERERS,
      ).catch((e) => {
        if (watch.received()) return null; // interrupted before its target was up: no report
        throw e;
      });
      if (outcome === null) break;
      runMs.push(performance.now() - t0);
      const r = outcome.report;
      if (watch.received()) break;
      if (r !== null && !r.valid && invalidRuns < MAX_INVALID_RUNS) {
        // The instrument failed this once (e.g. the generator starved by other work on the
        // host): the pair is left out, never compared, and the session goes on.
        invalidRuns++;
        say(
          `confirm: the ${arm.phase} run of pair ${slot.pair} is invalid (${
            r.invalid_reasons.join("; ")
          }); pair ${slot.pair} is left out (${invalidRuns} of at most ${MAX_INVALID_RUNS} such runs)`,
        );
        skipped = true;
        break;
      }
      if (r === null || outcome.exitCode !== EXIT.ok || outcome.files === null) {
        say(
          `confirm: the ${arm.phase} run of pair ${slot.pair} failed${
            r && !r.valid ? ` (invalid: ${r.invalid_reasons.join("; ")})` : ""
          }; stopping. The finished pairs stay as reports of group ${group.slice(0, 8)}.`,
        );
        return EXIT.runFailed;
      }
      newest[arm.phase] = await readReport(outcome.files.report);
      if (!o.quiet) {
        say(
          `  pair ${slot.pair} of ≤${lastPair}: ${arm.phase} (${
            arm.phase === "before" ? "A" : "B"
          }) P99 ${r.p99_latency_ms.toFixed(3)} ms, ${r.overall_throughput.toFixed(1)} ops/s in ${
            seconds(runMs.at(-1)!)
          }`,
        );
      }
    }
    if (watch.received()) break;
    if (skipped) {
      skipped = false;
      continue;
    }
    judged = await judge(o, newest, mode, session.baseline);
    say(progressLine(slot, lastPair, judged, performance.now() - started, runMs, budgetMs));
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
        `(an interrupted run's report is marked invalid and left out of the group's comparison)`,
    );
    return EXIT.sigint; // withSignals replaces it with the signal's own code
  }
  if (judged === null) throw new UsageError("confirm: no pair finished");
  if (judged.verdict.kind === "inconclusive") {
    say(
      `confirm: more pairs continue this session: ${
        confirmLine(o.task, mode, commands)
      } --pairs ${o.maxPairs}${o.outDir === DEFAULT_OUT_DIR ? "" : ` --out-dir ${o.outDir}`}`,
    );
  }
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
function runOptions(arm: Arm, slot: PairSlot, s: Session, lastPair: number): CheckOptions {
  return {
    ...arm.options,
    quiet: true,
    runGroup: s.group,
    runIndex: slot.pair,
    runCount: lastPair,
    interleaved: {
      pair: slot.pair,
      block: slot.block,
      order: slot.order,
      orderSeed: String(s.orderSeed),
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
