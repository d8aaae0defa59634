/**
 * The verdict on a comparison. With repeated runs (a `confirm` session or `check --runs N`), the
 * sequential rule of lib/verdict/sequential.ts decides P99 and throughput: REGRESSION when the
 * change in medians is past the threshold and the always-valid p ≤ 0.05 that after is worse;
 * PASS when the always-valid bound rules out every change past the threshold; otherwise
 * INCONCLUSIVE. With one run per side, the specification's rule on point estimates (P99 up by
 * more than the threshold, throughput down by more than it), or with `significance` the rule
 * that the whole within-run interval must be past it. Errors keep the specification's rule (any
 * increase, on the side medians with repeated runs); in competitive mode an after P99 above the
 * competitor baseline fails. The exit code follows from the verdict.
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
import { pastThreshold, signedThreshold, standing } from "./significance.ts";
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
 * Applies the verdict's rule to a comparison (module comment). Repeated runs: each of P99 and
 * throughput is "fail", "pass" or "inconclusive" by the one rule of lib/verdict/significance.ts
 * (`standing`, the sequential rule), whatever `significance` says. One run per side: the point
 * rule, or with `significance` a criterion past its threshold fails only when its whole
 * interval is past it (else "inconclusive"). Errors keep the specification's rule in every mode
 * (any increase is a regression); the baseline criterion compares against a published number
 * and keeps the point rule.
 */
export function decideVerdict(
  comparison: Comparison,
  thresholds: Thresholds,
  options: { significance?: boolean } = {},
): Verdict {
  const stats = comparison.statistics;
  const rule: VerdictRule = stats.method === "runs"
    ? "sequential"
    : options.significance
    ? "significance"
    : "point";
  const judge = (id: CriterionId, value: number | null, fails: (v: number) => boolean) => ({
    id,
    status: value === null ? "n/a" as const : fails(value) ? "fail" as const : "pass" as const,
  });
  // Under the significance rule, a failure must also have its whole interval past the threshold.
  const sure = (result: CriterionResult, sureWorse: boolean | null): CriterionResult =>
    rule === "significance" && result.status === "fail" && sureWorse !== true
      ? { id: result.id, status: "inconclusive" }
      : result;
  // The sequential rule decides on its own: surely worse, ruled out, or not yet either.
  const sequential = (id: "p99" | "throughput", result: CriterionResult): CriterionResult => {
    if (result.status === "n/a") return result;
    const status = match(standing(comparison, id, thresholds).kind)
      .with("beyond", () => "fail" as const)
      .with("within", () => "pass" as const)
      .with("straddles", "unknown", () => "inconclusive" as const)
      .exhaustive();
    return { id, status };
  };
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
    if (rule === "sequential") return sequential(spec.threshold, result);
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
  const base = {
    rule,
    thresholds,
    criteria,
    ...(stats.method === "runs"
      ? {
        evidence: {
          design: stats.design,
          p99: stats.perRun.p99.evidence,
          throughput: stats.perRun.throughput.evidence,
        },
      }
      : {}),
  };
  if (failed.length > 0) {
    return comparison.mode === "competitive"
      ? { kind: "competitive_regression", ...base, failed }
      : { kind: "regression", ...base, failed };
  }
  if (uncertain.length > 0) return { kind: "inconclusive", ...base, uncertain };
  return { kind: "pass", ...base };
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
