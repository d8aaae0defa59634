/**
 * The spread of identical runs on this host and target, for a single before/after pair: from
 * earlier valid runs of the same build, measured the same way on the same host (a `check --runs N`
 * group or `--calibrate`'s runs, the before arm of a `confirm` session), never assumed. Null
 * when there are fewer than `MIN_NOISE_RUNS` such runs: the spread is then unknown.
 * @module
 */
import type { LoadedReport } from "../report/read.ts";
import { readReport } from "../report/read.ts";
import type { Mode } from "../report/schema.ts";
import { listReports } from "./discovery.ts";
import { expectedDifferences } from "./differences.ts";
import { noiseFloors } from "./significance.ts";
import type { HostSpread } from "./types.ts";

/** At most this many of the newest matching runs are read. */
export const MAX_SPREAD_RUNS = 20;

/**
 * Whether two reports are runs of one build measured the same way: same workload, scenario,
 * rate, duration, target (kind, URL, checkout, build or knobs; the kept binary's sha256 when
 * both record one) and host. The tool's version may differ.
 */
export function sameSetup(a: LoadedReport, b: LoadedReport): boolean {
  if (a.kind !== "current" || b.kind !== "current") return false;
  const x = a.report, y = b.report;
  const same = (f: (r: typeof x) => unknown) => f(x) === f(y);
  const sha = (r: typeof x) => r.target.details.binary_sha256;
  return same((r) => r.workload_fingerprint) && same((r) => r.scenario.name) &&
    same((r) => r.scenario.rate) && same((r) => r.scenario.duration_seconds) &&
    same((r) => r.target.kind) && same((r) => r.target.url) &&
    same((r) => r.target.details.checkout) && same((r) => r.host?.hostname) &&
    (sha(x) === undefined || sha(y) === undefined || sha(x) === sha(y)) &&
    expectedDifferences(a, b).every((d) => d.what === "m17_check");
}

/**
 * The spread of valid before runs of `dir` measured like `before` (`sameSetup`), the newest
 * `MAX_SPREAD_RUNS`; null with fewer than `MIN_NOISE_RUNS`. Unreadable reports are skipped.
 */
export async function hostSpread(
  dir: string,
  task: string,
  mode: Mode,
  before: LoadedReport,
): Promise<HostSpread | null> {
  if (before.kind !== "current") return null;
  const runs: LoadedReport[] = [];
  for (const path of (await listReports(dir, task, "before", mode)).reverse()) {
    if (runs.length >= MAX_SPREAD_RUNS) break;
    const r = path === before.path ? before : await readReport(path).catch(() => null);
    if (r?.kind === "current" && r.report.valid && sameSetup(before, r)) runs.push(r);
  }
  const floors = noiseFloors(runs);
  return floors === null ? null : { floors, paths: runs.map((r) => r.path).reverse() };
}
