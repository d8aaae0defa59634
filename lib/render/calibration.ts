/**
 * The terminal report of `m17_compare --calibrate`: how much each metric moves between runs of
 * one build on this host, and whether the gated thresholds are above that noise floor.
 * @module
 */
import { basename } from "node:path";
import type { Calibration } from "../verdict/significance.ts";
import { METRIC, NOISE_METRICS } from "../verdict/metrics.ts";
import { formatThreshold, PLAIN, type Style } from "./format.ts";
import { formatRunValue } from "./wording.ts";

/** The warning and advice lines of a calibration, one per gated metric. */
function calibrationVerdictLines(cal: Calibration): string[] {
  const gated = [
    ["P99", "p99", cal.thresholds.p99Pct, "--threshold-p99"],
    ["throughput", "throughput", cal.thresholds.throughputPct, "--threshold-throughput"],
  ] as const;
  return gated.map(([name, id, pct, flag]) => {
    const floor = cal.floors[id].p95PairPct.toFixed(1);
    return cal.below.some((b) => b.metric === id)
      ? `⚠ The ${formatThreshold(pct)}% ${name} threshold is below this host's noise floor ` +
        `(${floor}%): a ${name} change that size can be noise here; use ${flag} above ` +
        `${floor}, or confirm a change with interleaved runs (check ${cal.task} confirm)`
      : `✓ The ${formatThreshold(pct)}% ${name} threshold is above this host's noise floor ` +
        `(${floor}%)`;
  });
}

/** The terminal report of `--calibrate`. */
export function renderCalibration(cal: Calibration, style: Style = PLAIN): string {
  const runs = NOISE_METRICS.map((id) =>
    cal.values[id].map((v) => formatRunValue(id, v)).join(" ")
  );
  const width = Math.max(4, ...runs.map((r) => r.length));
  const line = (a: string, b: string, cv: string, max: string, p95: string) =>
    `${a.padEnd(20)} ${b.padEnd(width)} ${cv.padStart(7)} ${max.padStart(9)} ${p95.padStart(9)}`;
  const pct = (v: number) => `${v.toFixed(1)}%`;
  const source = cal.source === "group"
    ? `the ${cal.paths.length} runs of one check --runs group`
    : `all ${cal.paths.length} comparable ${cal.phase} reports`;
  return [
    style.bold(`=== Noise calibration: Task ${cal.task}, ${cal.phase} runs ===`),
    `Runs: ${source}: ${cal.paths.map((p) => basename(p)).join(", ")}`,
    "",
    line("Metric", "Runs", "CV", "Max pair", "P95 pair"),
    line("-".repeat(20), "-".repeat(width), "-".repeat(7), "-".repeat(9), "-".repeat(9)),
    ...NOISE_METRICS.map((id, i) => {
      const f = cal.floors[id];
      return line(METRIC[id].label, runs[i], pct(f.cvPct), pct(f.maxPairPct), pct(f.p95PairPct));
    }),
    "",
    "CV: standard deviation / mean over the runs. Max pair: the largest change between two runs.",
    "P95 pair: the 95th percentile of |change| over all pairs of runs: the noise floor, the",
    "smallest change this host can tell from noise with one run per side.",
    "",
    ...calibrationVerdictLines(cal).map((l) =>
      l.startsWith("⚠") ? style.yellow(l) : style.green(l)
    ),
  ].join("\n") + "\n";
}
