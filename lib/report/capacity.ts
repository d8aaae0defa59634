/**
 * The report's `capacity` (a `check --find-rate` outcome: its types, re-exported by schema.ts) and
 * its one wording, for the run's summary and its HTML page.
 * @module
 */
/** One step of `check --find-rate`: a short measured window at one offered rate. */
export interface CapacityStep {
  /** 1-based, in the order measured. */
  index: number;
  /**
   * `double`: the rate doubles until a step fails; `bisect`: halves the bracket after that;
   * `repeat`: the previous step failed while the generator was behind, so its rate is measured
   * once more and this step decides.
   */
  phase: "double" | "bisect" | "repeat";
  /** The rate the open-loop schedule offered (ops/s). */
  offered_rate: number;
  /** Responses to the requests due in the step's window, per second of it (`methods.throughput`). */
  achieved_rate: number;
  /** Response-time P99 of the step's window (ms); a lower bound when `p99_censored`. */
  p99_ms: number;
  /** True when the P99's rank falls among timed-out requests (`methods.censoring`). */
  p99_censored: boolean;
  /**
   * Schedule lag P99 of sends the in-flight cap did not hold (ms): over 10 ms the generator, not
   * the target, missed the offered rate (a full-length run would be invalid); the step line says so.
   */
  generator_lag_p99_ms?: number;
  /** Completed requests of the step's window, and how many of them were errors. */
  operations: number;
  errors: number;
  /** errors / operations (0 without operations). */
  error_rate: number;
  /** P99 ≤ the SLO and error rate ≤ the maximum (and at least one operation). */
  pass: boolean;
  /** Wall-clock seconds the step took, warm-up and drain included. */
  seconds: number;
}

/**
 * `check --find-rate`: the search for the highest offered rate that keeps the SLO, every step,
 * and the full-length run at the rate found (the report's headline numbers are that run's).
 */
export interface CapacityRecord {
  /** What a step must keep to pass; where each bound came from. */
  slo: {
    p99_ms: number;
    p99_from: "flag" | "scenario";
    max_error_rate: number;
    error_rate_from: "scenario" | "default";
  };
  /** The search's settings (compare refuses two searches that differ in them). */
  search: {
    from_rate: number;
    to_rate: number;
    step_seconds: number;
    step_warmup_seconds: number;
    precision_pct: number;
    max_steps: number;
    budget_seconds: number;
    /** Every step and the full-length run measured one started target (one preload). */
    server_starts: 1;
  };
  steps: CapacityStep[];
  /**
   * The highest offered rate that passed (ops/s); null when none did. With `bound: "at_least"`
   * no step failed up to `to_rate`, so the true capacity may be higher.
   */
  sustained_rate: number | null;
  bound: "bracketed" | "at_least" | "none";
  /** Why the search ended. */
  stopped:
    | "precision"
    | "max_rate"
    | "nothing_passed"
    | "max_steps"
    | "budget"
    | "interrupted"
    | "target_died";
  /** Search seconds, from the first step's start to the last step's end. */
  search_seconds: number;
  /**
   * Whether the full-length run at `sustained_rate` kept the SLO too; null when there was no
   * rate to confirm (the full-length run then measured `from_rate`) or the full-length run is
   * invalid (interrupted, skipped, the generator fell behind).
   */
  confirmed: boolean | null;
}

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
