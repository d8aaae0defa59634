/**
 * The quick summary printed at the end of a run (terminal and `_loadtest.log`).
 * @module
 */
import type { RunReport } from "../report/schema.ts";
import type { RunLog } from "./run_log.ts";
import { describeCapacity } from "../report/capacity.ts";
import { oneLine } from "../shared/sanitize.ts";
import { isLowerBound, lowerBoundMark, runCensoring } from "../report/censoring.ts";
import { describeTargetState } from "../report/target_state.ts";
import { describePreload } from "../report/preload_words.ts";

/** Where the run's files went: the report (null: nowhere) and the other files written. */
export interface WrittenFiles {
  report: string | null;
  others: string[];
}

/**
 * Prints the run's headline numbers, its validity and where its files are: only files that
 * were written, their paths on one line each (a newline in `--out-dir` cannot split them).
 */
export function printSummary(r: RunReport, files: WrittenFiles, log: RunLog): void {
  log.line("");
  log.line(`=== Quick Summary (${r.config_name}, ${r.target.kind} target) ===`);
  // Without a measured window the report's numbers are zeros, not measurements: none is shown.
  if (r.no_measured_window !== undefined) {
    log.line(`no measured window: ${r.no_measured_window}; nothing was measured`);
  } else printMeasured(r, log);
  const preload = describePreload(r.preload);
  if (preload !== null) log.line(`preload:       ${preload}`);
  if (r.capacity) log.line(`capacity:      ${describeCapacity(r.capacity)}`);
  if (r.target_state) log.line(`target state:  ${describeTargetState(r.target_state)}`);
  for (const note of r.notes ?? []) log.line(`note:          ${note}`);
  if (!r.valid) log.warn(`RUN INVALID: ${r.invalid_reasons.join("; ")}`);
  log.line(`report:        ${files.report === null ? "not written" : oneLine(files.report)}`);
  const others = files.others.map((f) => oneLine(f)).join(", ");
  log.line(`files:         ${others === "" ? "none written" : others}`);
}

/** The measured window's numbers: operations, errors, the three times, validation, censoring. */
function printMeasured(r: RunReport, log: RunLog): void {
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  // Response-time percentiles whose rank falls among the timed-out requests are lower bounds.
  const censoring = runCensoring(r);
  const rt = (x: number, p: number) => `${lowerBoundMark(isLowerBound(censoring, p))}${ms(x)}`;
  log.line(
    `operations:    ${r.total_operations} in ${r.elapsed_seconds.toFixed(1)} s  (${
      r.overall_throughput.toFixed(2)
    } ops/s; target ${r.target_rate}, sent at ${r.achieved_rate.toFixed(2)})`,
  );
  log.line(
    `errors:        ${r.total_errors} (${(r.overall_error_rate * 100).toFixed(2)}%)${
      Object.keys(r.errors_by_kind).length ? "  " + JSON.stringify(r.errors_by_kind) : ""
    }`,
  );
  if (r.fallbacks > 0) {
    log.line(
      `fallbacks:     ${r.fallbacks} recalls fell back to similarity mode (server rejected spreading/hybrid)`,
    );
  }
  log.line(
    `response time: P50 ${rt(r.p50_latency_ms, 50)}  P95 ${rt(r.p95_latency_ms, 95)}  P99 ${
      rt(r.p99_latency_ms, 99)
    }  P99.9 ${rt(r.p999_latency_ms, 99.9)}  max ${rt(r.max_latency_ms, 100)}   (due → response)`,
  );
  log.line(
    `service time:  P50 ${ms(r.service_time.p50_ms)}  P95 ${ms(r.service_time.p95_ms)}  P99 ${
      ms(r.service_time.p99_ms)
    }  P99.9 ${ms(r.service_time.p999_ms)}  max ${ms(r.service_time.max_ms)}   (send → response)`,
  );
  log.line(
    `schedule lag:  P50 ${ms(r.schedule_lag.p50_ms)}  P99 ${ms(r.schedule_lag.p99_ms)}  max ${
      ms(r.schedule_lag.max_ms)
    }  late sends ${r.late_sends}, held by in-flight cap ${r.capped_sends}`,
  );
  if (r.validation && !r.validation.passed) {
    log.line(`scenario validation: ${r.validation.failures.join("; ")}`);
  }
  if (censoring !== null) {
    log.line(
      `censored:      ${censoring.censored} requests timed out; a response time marked ≥ is a ` +
        `lower bound (its rank falls among them)`,
    );
  }
}
