/**
 * The one wording of a `check --find-rate` outcome (the report's `capacity`), for the run's
 * summary and its HTML page.
 * @module
 */
import type { CapacityRecord } from "./schema.ts";

const ops = (x: number) => String(Number(x.toFixed(2)));

/** One line: what `--find-rate` found, as the run's summary and its HTML page say it. */
export function describeCapacity(c: CapacityRecord): string {
  const slo = `P99 ≤ ${c.slo.p99_ms} ms, errors ≤ ${(c.slo.max_error_rate * 100).toFixed(2)}%`;
  if (c.sustained_rate === null) {
    return `no offered rate from ${c.search.from_rate} ops/s kept the SLO (${slo}; ${c.stopped})`;
  }
  const at = c.bound === "at_least" ? "≥ " : "";
  const confirmed = c.confirmed === null
    ? "not confirmed (the full-length run is invalid)"
    : c.confirmed
    ? "confirmed by the full-length run"
    : "NOT confirmed by the full-length run";
  return `sustained rate ${at}${ops(c.sustained_rate)} ops/s (${slo}; ${
    stepCount(c.steps.length)
  }, ${c.stopped}), ${confirmed}`;
}

/** `1 step`, `7 steps`. */
export function stepCount(n: number): string {
  return `${n} step${n === 1 ? "" : "s"}`;
}
