/**
 * What `--history` shows of the milestone confirm under the cumulative change (lib/cli/
 * milestone_status.ts finds it; lib/render/history_text.ts prints it): the command that
 * re-measures it (`m17_check milestone confirm`, shown only when it would start: both ends have
 * kept builds and are comparable) and, when a milestone confirm session exists, its verdict and
 * changes. Its runs are task `milestone`, never a step.
 * @module
 */
import { match } from "ts-pattern";
import type { Mode } from "../report/schema.ts";
import type { GatedMetricId } from "../verdict/metrics.ts";
import type { MetricChange, Verdict } from "../verdict/types.ts";
import { onlyUnconfirmed } from "./evidence_words.ts";

/** The newest milestone confirm session, judged as `compare milestone` judges it. */
export interface MilestoneConfirmSession {
  group: string;
  /** The highest pair of which a run is there. */
  pairs: number;
  verdict: Verdict;
  metrics: Record<GatedMetricId, MetricChange>;
  /** When its newest run ended, UTC ms. */
  endedMs: number;
  /** It measured the builds of the cumulative change's two ends (false: the milestone moved on). */
  current: boolean;
}

/** A series' milestone confirm: how to run it, and the session there is. */
export interface MilestoneConfirmView {
  mode: Mode;
  /** The command that re-measures the cumulative change; null when it would be refused. */
  command: string | null;
  session: MilestoneConfirmSession | null;
  /** Reports of task `milestone` in the directory (left out of the steps). */
  reports: number;
}

/**
 * `REGRESSION`, `PASS`, … as compare's verdict line names it (`UNCONFIRMED REGRESSION`: failed on
 * point estimates only, not by the sequential rule of repeated pairs).
 */
export function verdictWord(v: Verdict): string {
  const unconfirmed = onlyUnconfirmed(v) ? "UNCONFIRMED " : "";
  return match(v)
    .with({ kind: "pass" }, () => "PASS")
    .with({ kind: "regression" }, () => `${unconfirmed}REGRESSION`)
    .with({ kind: "competitive_regression" }, () => `${unconfirmed}COMPETITIVE REGRESSION`)
    .with({ kind: "inconclusive" }, () => "INCONCLUSIVE")
    .exhaustive();
}
