/**
 * What every benchmark returns and how results are printed and stored: a table of rows, a
 * verdict against the goal, and the raw data, written to tmp/bench/<name>_<timestamp>.json.
 * @module
 */
import { join } from "node:path";
import { formatLoad, loadAverage, machineInfo } from "./machine.ts";
import { ROOT } from "./procs.ts";

/** Passed to every benchmark. */
export interface BenchContext {
  /** Short version for development: fewer repetitions, shorter runs. */
  quick: boolean;
  /** Where the benchmark may write files (tmp/bench/<name>/). */
  workDir: string;
  /** Progress line on stderr. */
  log(text: string): void;
}

/** One table row: column → value. */
export type Row = Record<string, string | number | boolean | null>;

/** The outcome of one benchmark. */
export interface BenchResult {
  /** "met", "not met", or a plain word when there is no pass/fail goal. */
  verdict: string;
  /** One or two sentences: the headline figure against the goal. */
  summary: string;
  rows: Row[];
  /** Everything measured, for the JSON file. */
  data?: unknown;
}

/** A benchmark: name on the command line, the goal it checks, and how to run it. */
export interface Benchmark {
  name: string;
  title: string;
  goal: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Median of a list (mean of the middle two for even lengths); NaN when empty. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Rounds to `d` decimals. */
export function round(x: number, d = 3): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** The load average right now, formatted for a row. */
export function loadNow(): string {
  return formatLoad(loadAverage());
}

/** Renders rows as an aligned text table (columns in first-seen order). */
export function renderTable(rows: Row[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: Row[string] | undefined) =>
    v === undefined || v === null ? "" : typeof v === "number" ? String(v) : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [
    line(cols),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join("\n");
}

/** Writes the machine-readable result; returns the path. */
export async function writeResult(
  b: Benchmark,
  result: BenchResult,
  meta: { quick: boolean; startedAt: Date; loadStart: number[]; loadEnd: number[] },
): Promise<string> {
  const dir = join(ROOT, "tmp", "bench");
  await Deno.mkdir(dir, { recursive: true });
  const ts = meta.startedAt.toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
  const path = join(dir, `${b.name}${meta.quick ? "_quick" : ""}_${ts}.json`);
  const doc = {
    benchmark: b.name,
    title: b.title,
    goal: b.goal,
    quick: meta.quick,
    started_at: meta.startedAt.toISOString(),
    ended_at: new Date().toISOString(),
    machine: await machineInfo(),
    load_average_start: meta.loadStart,
    load_average_end: meta.loadEnd,
    ...result,
  };
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(doc, null, 2) + "\n");
  await Deno.rename(tmp, path);
  return path;
}
