/**
 * Capacity in compare: the change of the sustained rate between a before and an after
 * `check --find-rate` report, and (competitive mode) the after rate next to the competitor's
 * published QPS, which is indicative only (another workload, another client model). Also what
 * makes two capacity searches incomparable (another SLO, other search settings).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { sustainedChangePct } from "./capacity.ts";
 * strictEqual(sustainedChangePct(400, 300), -25);
 * strictEqual(sustainedChangePct(null, 300), null);
 * ```
 * @module
 */
import type { LoadedReport } from "../report/read.ts";
import type { CapacityRecord, RunReport } from "../report/schema.ts";
import type { Baseline } from "./baselines.ts";

/** One side's search: its sustained rate, how it is bounded, whether the full run confirmed it. */
export interface CapacitySide {
  sustainedRate: number | null;
  bound: CapacityRecord["bound"];
  confirmed: boolean | null;
  steps: number;
}

/** The sustained rate before and after, and against a competitor's published QPS. */
export interface CapacityChange {
  sloP99Ms: number;
  maxErrorRate: number;
  /** The search's precision (%): each sustained rate is known to within it. */
  precisionPct: number;
  before: CapacitySide;
  after: CapacitySide;
  /** (after − before) / before × 100; null when a side found no rate. */
  changePct: number | null;
  /** Competitive mode with a baseline that publishes QPS: indicative only. */
  competitor: { name: string; qps: number; source: string; ratio: number | null } | null;
}

/** (after − before) / before × 100, null when either is unknown or before is 0. */
export function sustainedChangePct(before: number | null, after: number | null): number | null {
  if (before === null || after === null || before === 0) return null;
  return (after - before) / before * 100;
}

function capacityOf(r: LoadedReport): CapacityRecord | null {
  return r.kind === "current" ? r.report.capacity ?? null : null;
}

function side(c: CapacityRecord): CapacitySide {
  return {
    sustainedRate: c.sustained_rate,
    bound: c.bound,
    confirmed: c.confirmed,
    steps: c.steps.length,
  };
}

/** The capacity change, or null unless both reports are `--find-rate` runs. */
export function capacityChange(
  before: LoadedReport,
  after: LoadedReport,
  baseline: Baseline | null,
): CapacityChange | null {
  const b = capacityOf(before), a = capacityOf(after);
  if (b === null || a === null) return null;
  return {
    sloP99Ms: a.slo.p99_ms,
    maxErrorRate: a.slo.max_error_rate,
    precisionPct: a.search.precision_pct,
    before: side(b),
    after: side(a),
    changePct: sustainedChangePct(b.sustained_rate, a.sustained_rate),
    competitor: baseline?.qps
      ? {
        name: baseline.displayName,
        qps: baseline.qps,
        source: baseline.source,
        ratio: a.sustained_rate === null ? null : a.sustained_rate / baseline.qps,
      }
      : null,
  };
}

/**
 * Why two reports' capacity searches cannot be compared: only one of them is a `--find-rate`
 * run, or their SLOs or search settings differ (the step count and time may differ: they are
 * results). Empty when neither is one or both match.
 */
export function capacityProblems(b: RunReport, a: RunReport): string[] {
  if (!b.capacity && !a.capacity) return [];
  if (!b.capacity || !a.capacity) {
    const which = b.capacity ? "before" : "after";
    return [
      `only the ${which} report is a --find-rate run: compare two capacity searches or two fixed-rate runs`,
    ];
  }
  const problems: string[] = [];
  const x = b.capacity, y = a.capacity;
  if (x.slo.p99_ms !== y.slo.p99_ms || x.slo.max_error_rate !== y.slo.max_error_rate) {
    problems.push(
      `before and after searched with different SLOs (P99 ≤ ${x.slo.p99_ms} ms, errors ≤ ${x.slo.max_error_rate} vs P99 ≤ ${y.slo.p99_ms} ms, errors ≤ ${y.slo.max_error_rate})`,
    );
  }
  const settings = (c: CapacityRecord) =>
    `from ${c.search.from_rate} to ${c.search.to_rate} ops/s, ${c.search.step_seconds} s steps, precision ${c.search.precision_pct}%`;
  if (settings(x) !== settings(y)) {
    problems.push(
      `before and after searched with different settings (${settings(x)} vs ${settings(y)})`,
    );
  }
  return problems;
}
