/**
 * The verdict on a comparison: the specification's rule on point estimates (P99 up by more than
 * the threshold, throughput down by more than it, any increase in errors; in competitive mode,
 * an after P99 above the competitor baseline) and, with `significance`, the stricter rule that a
 * change over its threshold must also be significantly worse. The exit code follows from it.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { defaultThresholds, exitCodeOf } from "./verdict.ts";
 * strictEqual(defaultThresholds("competitive").p99Pct, 10);
 * const pass = { kind: "pass", rule: "point", thresholds: defaultThresholds("internal"), criteria: [] } as const;
 * strictEqual(exitCodeOf({ ...pass, criteria: [] }), 0);
 * ```
 * @module
 */
import { match } from "ts-pattern";
import type { Mode } from "../report/schema.ts";
import { EXIT } from "../shared/errors.ts";
import { GATED_METRICS, METRIC } from "./metrics.ts";
import {
  ALPHA,
  pastThreshold,
  signedThreshold,
  standing,
  unreachableSignificance,
} from "./significance.ts";
import { UsageError } from "../shared/errors.ts";
import type {
  Comparison,
  CriterionId,
  CriterionResult,
  MetricChange,
  Thresholds,
  Verdict,
  VerdictRule,
} from "./types.ts";

/** Default thresholds per mode (the specification's targets). */
export function defaultThresholds(mode: Mode): Thresholds {
  const pct = mode === "competitive" ? 10 : 5;
  return { p99Pct: pct, throughputPct: pct };
}

/**
 * Whether a gated metric's change fails its threshold: the judged number and the rule. P99 and
 * throughput are judged on the change as printed (one decimal: `displayedChange`).
 */
function gate(
  kind: "p99" | "throughput" | "errors",
  m: MetricChange,
  t: Thresholds,
): { value: number | null; fails: (v: number) => boolean } {
  return match(kind)
    .with("p99", "throughput", (id) => ({
      value: m.changePct,
      fails: (c: number) => pastThreshold(c, signedThreshold(id, t)),
    }))
    .with("errors", () => ({ value: m.delta, fails: (d: number) => d > 0 }))
    .exhaustive();
}

/**
 * Applies the specification's rule to a comparison. With `significance`, a P99 or throughput
 * criterion past its threshold fails only when the change is significantly past it (the one
 * rule of lib/verdict/significance.ts: the whole interval past the threshold, or p ≤ α against
 * the threshold); otherwise it is "inconclusive". Errors keep the specification's rule in every
 * mode (any increase is a regression); the baseline criterion compares against a published
 * number and keeps the point rule. Repeated runs whose counts cannot reach p ≤ α are refused
 * (`UsageError`, exit 3) under the significance rule, before any test.
 */
export function decideVerdict(
  comparison: Comparison,
  thresholds: Thresholds,
  options: { significance?: boolean } = {},
): Verdict {
  const rule: VerdictRule = options.significance ? "significance" : "point";
  const stats = comparison.statistics;
  if (rule === "significance" && stats.method === "runs") {
    const why = unreachableSignificance(
      stats.runs.before.paths.length,
      stats.runs.after.paths.length,
      ALPHA,
    );
    if (why !== null) throw new UsageError(why);
  }
  const judge = (id: CriterionId, value: number | null, fails: (v: number) => boolean) => ({
    id,
    status: value === null ? "n/a" as const : fails(value) ? "fail" as const : "pass" as const,
  });
  // Under the significance rule, a failure must also be significantly worse.
  const sure = (result: CriterionResult, sureWorse: boolean | null): CriterionResult =>
    rule === "significance" && result.status === "fail" && sureWorse !== true
      ? { id: result.id, status: "inconclusive" }
      : result;
  const criteria: CriterionResult[] = GATED_METRICS.map((id) => {
    const spec = METRIC[id];
    const m = comparison.metrics[id];
    const { value, fails } = gate(spec.threshold, m, thresholds);
    const result = judge(id, value, fails);
    // A server that saturates after the change and not before is the worst regression.
    if (spec.threshold === "errors" && saturatedOnlyAfter(comparison)) {
      return { id, status: "fail" };
    }
    if (spec.threshold === "errors") return result;
    return sure(result, standing(comparison, spec.threshold, thresholds).kind === "beyond");
  });
  if (comparison.mode === "competitive") {
    const pos = comparison.positioning;
    criteria.push(
      pos === null || pos.engramP99Ms < 0.001
        ? { id: "baseline", status: "n/a" }
        : judge("baseline", pos.engramP99Ms, (ms) => ms > pos.baseline.p99Ms),
    );
  }
  const failed = criteria.filter((c) => c.status === "fail").map((c) => c.id);
  const uncertain = criteria.filter((c) => c.status === "inconclusive").map((c) => c.id);
  if (failed.length > 0) {
    return comparison.mode === "competitive"
      ? { kind: "competitive_regression", rule, thresholds, criteria, failed }
      : { kind: "regression", rule, thresholds, criteria, failed };
  }
  if (uncertain.length > 0) return { kind: "inconclusive", rule, thresholds, criteria, uncertain };
  return { kind: "pass", rule, thresholds, criteria };
}

/** Whether the after run saturated the server (its report's note) and the before run did not. */
export function saturatedOnlyAfter(c: Comparison): boolean {
  return c.after.saturated !== null && c.before.saturated === null;
}

/**
 * The process exit code of a verdict (0 ok, 1 regression, 2 competitive regression,
 * 4 inconclusive).
 */
export function exitCodeOf(verdict: Verdict): number {
  return match(verdict)
    .with({ kind: "pass" }, () => EXIT.ok)
    .with({ kind: "regression" }, () => EXIT.regression)
    .with({ kind: "competitive_regression" }, () => EXIT.competitiveRegression)
    .with({ kind: "inconclusive" }, () => EXIT.inconclusive)
    .exhaustive();
}
