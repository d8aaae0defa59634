/**
 * `m17_compare --history` as text: the terminal table, Markdown (for a pull request) and JSON
 * (for CI). Each shows per task the before → after step of P99, throughput and errors, its
 * contribution and the cumulative change at that task, then the milestone's cumulative change
 * against the budget, the tasks that contributed most to a breach, the change points and every
 * task or run left out as not comparable.
 * @module
 */
import { match } from "ts-pattern";
import type { Breach, HistoryTask, MilestoneHistory } from "../verdict/history.ts";
import { METRIC } from "../verdict/metrics.ts";
import type { MetricChange } from "../verdict/types.ts";
import { CHANGE_POINT_DEFAULTS } from "../verdict/changepoint.ts";
import { type MilestoneConfirmView, verdictWord } from "./history_confirm.ts";
import {
  formatChange,
  formatInterval,
  formatMetricChange,
  formatMs,
  formatOps,
  formatPValue,
  signedInt,
  type Style,
  thresholdWords,
} from "./format.ts";

/** What the history output shows besides the histories. */
export interface HistoryView {
  dir: string;
  /** The PERFORMANCE_LOG.md read for tasks without reports, or null. */
  log: string | null;
  histories: MilestoneHistory[];
  warnings: string[];
  /** Each series' milestone confirm (`m17_check milestone confirm`), when known. */
  confirms?: MilestoneConfirmView[];
}

const SERIES = { internal: "internal series", competitive: "competitive series" } as const;

/** A metric's value in its unit. */
function value(metric: "p99" | "throughput" | "errors", v: number | null): string {
  if (v === null) return "?";
  return match(metric)
    .with("p99", () => `${formatMs(v)} ms`)
    .with("throughput", () => `${formatOps(v)} ops/s`)
    .with("errors", () => String(v))
    .exhaustive();
}

/** `1.2 → 1.3 ms (+8.3% [+2.0%, +14.1%])`, errors as `0 → 3 (+3)`. */
export function stepText(metric: "p99" | "throughput" | "errors", m: MetricChange): string {
  const sides = `${value(metric, m.before).replace(/ .*/, "")} → ${value(metric, m.after)}`;
  if (metric === "errors") return `${sides} (${m.delta === null ? "?" : signedInt(m.delta)})`;
  const ci = m.ci ? ` ${formatInterval(m.ci)}` : "";
  const p = m.pValue !== undefined ? ` p=${formatPValue(m.pValue)}` : "";
  return `${sides} (${formatMetricChange(m)}${ci}${p})`;
}

/** A task's comparability in a word or two. */
export function comparabilityWord(t: HistoryTask): string {
  return match(t.comparability)
    .with({ kind: "comparable" }, () => "yes")
    .with({ kind: "unchecked" }, () => "unchecked")
    .with({ kind: "excluded" }, () => "NO (excluded)")
    .exhaustive();
}

/** Where a task stands: cumulative `+4.0%` (errors `+2`). */
function position(metric: "p99" | "throughput" | "errors", v: number | null): string {
  if (v === null) return "–";
  return metric === "errors" ? signedInt(v) : formatChange(v);
}

/** What a task adds, in percentage points of the first before value (`+4.2 pp`; errors `+2`). */
function adds(metric: "p99" | "throughput" | "errors", v: number | null): string {
  return metric === "errors" || v === null
    ? position(metric, v)
    : `${formatChange(v).slice(0, -1)} pp`;
}

/** UTC minute of a run's start (`2026-12-07 05:53Z`). */
export function whenText(ms: number): string {
  return Number.isFinite(ms)
    ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") + "Z"
    : "?";
}

/** The breach sentence: `P99 +48.0% is past the +5% budget; most from 007, 009, 010`. */
export function breachText(h: MilestoneHistory, b: Breach): string {
  const m = h.cumulative!.metrics[b.metric];
  const what = b.metric === "errors"
    ? `errors rose ${value("errors", m.before)} → ${value("errors", m.after)}`
    : `${METRIC[b.metric].name} ${formatMetricChange(m)} is past the ${
      b.metric === "p99" ? "+" + h.budget.p99Pct : "-" + h.budget.throughputPct
    }% budget`;
  const who = b.contributors.length > 0
    ? `; contributed most: task ${b.contributors.join(", ")}`
    : "";
  return `${what}${who}`;
}

/** The lines of one mode's history (plain text; `style` colours the verdict). */
function historyLines(
  h: MilestoneHistory,
  style: Style,
  confirm: MilestoneConfirmView | undefined,
): string[] {
  const out: string[] = [
    style.bold(`${SERIES[h.mode]}: ${h.tasks.length} task(s), budget ${thresholdWords(h.budget)}`),
    "",
  ];
  for (const t of h.tasks) {
    out.push(
      `Task ${t.task}${t.name ? ` (${t.name})` : ""}, ${whenText(t.startedMs)}, ` +
        `${t.source === "log" ? "from PERFORMANCE_LOG.md" : "reports"}, comparable: ${
          comparabilityWord(t)
        }`,
    );
    for (const metric of ["p99", "throughput", "errors"] as const) {
      out.push(
        `  ${METRIC[metric].name.padEnd(12)} ${stepText(metric, t.step[metric])}; adds ${
          adds(metric, t.contribution[metric])
        }, cumulative ${position(metric, t.cumulative[metric])}`,
      );
    }
    if (t.comparability.kind === "excluded") {
      for (const p of t.comparability.problems) out.push(`  excluded: ${p}`);
    }
    if (t.comparability.kind === "unchecked") out.push(`  unchecked: ${t.comparability.reason}`);
  }
  out.push("");
  const c = h.cumulative;
  if (c === null) out.push("Cumulative: no comparable task");
  else {
    out.push(`Cumulative, task ${c.from.task} before → task ${c.to.task} after:`);
    for (const metric of ["p99", "throughput", "errors"] as const) {
      out.push(`  ${METRIC[metric].name.padEnd(12)} ${stepText(metric, c.metrics[metric])}`);
    }
    out.push(
      `  Chained steps: P99 ${formatChange(h.chainedPct.p99)}, throughput ${
        formatChange(h.chainedPct.throughput)
      }`,
    );
  }
  out.push(...milestoneConfirmLines(confirm).map((line) => `  ${line}`));
  out.push(
    h.breaches.length === 0
      ? style.green(`WITHIN BUDGET (${thresholdWords(h.budget)})`)
      : style.red(`BUDGET EXCEEDED: ${h.breaches.map((b) => breachText(h, b)).join("; ")}`),
    "",
    `Change points (E-Divisive means, α=${CHANGE_POINT_DEFAULTS.alpha}, ${CHANGE_POINT_DEFAULTS.permutations} permutations, min shift ${CHANGE_POINT_DEFAULTS.minMagnitudePct}%), over ${h.series.p99.length} run(s):`,
  );
  if (h.changePoints.length === 0) out.push("  none");
  for (const cp of h.changePoints) {
    out.push(
      `  ${METRIC[cp.metric].name}: at task ${cp.run.task} ${cp.run.phase} (${cp.run.path}): ` +
        `${value(cp.metric, cp.before)} → ${value(cp.metric, cp.after)} ` +
        `(${cp.shiftPct === null ? "from 0" : formatChange(cp.shiftPct)}), p=${
          formatPValue(cp.pValue)
        }`,
    );
  }
  for (const r of h.excludedRuns) out.push(`  run left out: ${r.path}: ${r.problems.join("; ")}`);
  return out;
}

/** The milestone confirm of `h`'s series, when the view has it. */
function confirmOf(v: HistoryView, h: MilestoneHistory): MilestoneConfirmView | undefined {
  return v.confirms?.find((c) => c.mode === h.mode);
}

/** The terminal output. */
export function renderHistoryTerminal(v: HistoryView, style: Style): string {
  const head = `m17_compare --history: ${v.dir}${v.log ? ` and ${v.log}` : ""}`;
  return [head, "", ...v.histories.flatMap((h) => [...historyLines(h, style, confirmOf(v, h)), ""])]
    .join("\n");
}

/** The Markdown output: one table per series, the cumulative line, change points. */
export function renderHistoryMarkdown(v: HistoryView): string {
  const out = [`## Milestone history (${v.dir})`, ""];
  for (const h of v.histories) {
    out.push(`### ${SERIES[h.mode]}, budget ${thresholdWords(h.budget)}`, "");
    out.push(
      "| Task | Measured | Comparable | P99 | Throughput | Errors | Adds (P99) | Cumulative (P99) |",
      "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const t of h.tasks) {
      out.push(
        `| ${t.task} | ${whenText(t.startedMs)} | ${comparabilityWord(t)} | ${
          stepText("p99", t.step.p99)
        } | ${stepText("throughput", t.step.throughput)} | ${stepText("errors", t.step.errors)} | ${
          adds("p99", t.contribution.p99)
        } | ${position("p99", t.cumulative.p99)} |`,
      );
    }
    out.push("");
    const c = h.cumulative;
    if (c !== null) {
      out.push(
        `**Cumulative** (task ${c.from.task} before → task ${c.to.task} after): P99 ${
          stepText("p99", c.metrics.p99)
        }, throughput ${stepText("throughput", c.metrics.throughput)}, errors ${
          stepText("errors", c.metrics.errors)
        }`,
        "",
      );
    }
    const confirm = milestoneConfirmLines(confirmOf(v, h));
    if (confirm.length > 0) out.push(...confirm.map((line) => `${line}  `), "");
    out.push(
      h.breaches.length === 0
        ? `**Within budget** (${thresholdWords(h.budget)})`
        : `**Budget exceeded**: ${h.breaches.map((b) => breachText(h, b)).join("; ")}`,
      "",
    );
    for (const cp of h.changePoints) {
      out.push(
        `- Change point, ${METRIC[cp.metric].name}: task ${cp.run.task} ${cp.run.phase}, ` +
          `${value(cp.metric, cp.before)} → ${value(cp.metric, cp.after)} (${
            cp.shiftPct === null ? "from 0" : formatChange(cp.shiftPct)
          }, p=${formatPValue(cp.pValue)})`,
      );
    }
    for (const t of h.tasks) {
      if (t.comparability.kind === "excluded") {
        out.push(`- Excluded: task ${t.task}: ${t.comparability.problems.join("; ")}`);
      }
    }
    out.push("");
  }
  return out.join("\n");
}

/** The JSON output: the histories as computed, with the exit code's reason. */
export function renderHistoryJson(v: HistoryView, exitCode: number): string {
  return JSON.stringify(
    {
      kind: "m17_history",
      dir: v.dir,
      log: v.log,
      exit_code: exitCode,
      change_point_method: {
        name: "E-Divisive means (Matteson & James 2014), permutation test, minimum shift merge",
        ...CHANGE_POINT_DEFAULTS,
        seed: String(CHANGE_POINT_DEFAULTS.seed),
      },
      histories: v.histories,
      milestone_confirms: v.confirms ?? [],
      warnings: v.warnings,
    },
    null,
    2,
  ) + "\n";
}

/** The milestone confirm lines (unindented) for one series; none when there is nothing to say. */
export function milestoneConfirmLines(c: MilestoneConfirmView | undefined): string[] {
  if (c === undefined) return [];
  const out: string[] = [];
  const s = c.session;
  if (s !== null) {
    const what = `milestone confirm session ${s.group.slice(0, 8)}, ${s.pairs} pair${
      s.pairs === 1 ? "" : "s"
    } interleaved, ended ${whenText(s.endedMs)}`;
    out.push(
      `Confirmed on one host${s.current ? "" : " (OTHER BUILDS: the milestone moved on since)"}: ${
        verdictWord(s.verdict)
      } (${what})`,
      `  P99 ${stepText("p99", s.metrics.p99)}, throughput ${
        stepText("throughput", s.metrics.throughput)
      }, errors ${stepText("errors", s.metrics.errors)}`,
    );
  }
  if (c.command !== null) {
    out.push(`${s?.current ? "Continue the confirm" : "Confirm it"}: ${c.command}`);
  }
  if (c.reports > 0) {
    out.push(
      `(task milestone, ${c.reports} report${
        c.reports === 1 ? "" : "s"
      }: the milestone confirm's runs, not a step; left out of the tasks)`,
    );
  }
  return out;
}
