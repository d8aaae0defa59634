/**
 * Runs the real `m17_check` entrypoint as a child process (exactly what `deno task check` runs)
 * and reads the report it wrote.
 * @module
 */
import { join } from "node:path";
import { parseAnyReportName } from "../lib/report/files.ts";
import { ROOT } from "./procs.ts";

/** The permissions of the `check` task in deno.json. */
export const CHECK_PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-ffi",
];

/** The subset of a `RunReport` the benchmarks read (the file is the full report). */
export interface ReportView {
  files: { report: string };
  valid: boolean;
  invalid_reasons: string[];
  target_rate: number;
  achieved_rate: number;
  total_operations: number;
  total_errors: number;
  overall_throughput: number;
  p50_latency_ms: number;
  p99_latency_ms: number;
  p999_latency_ms: number;
  max_latency_ms: number;
  response_time: Record<string, number>;
  service_time: Record<string, number>;
  schedule_lag: Record<string, number>;
  late_sends: number;
  capped_sends: number;
  fallbacks: number;
  preload: { count: number; errors: number; seconds: number };
}

/** `deno run <perms> m17_check.ts <args…>`: the argv after the deno executable. */
export function checkArgv(args: string[]): string[] {
  return ["run", ...CHECK_PERMS, join(ROOT, "m17_check.ts"), ...args];
}

/** The command line as a user would type it, for BENCHMARKS.md. */
export function taskCommand(args: string[]): string {
  return `deno task check ${args.map((a) => (/^[\w.\/:=-]+$/.test(a) ? a : `'${a}'`)).join(" ")}`;
}

/** Runs check to completion (bounded by `timeoutMs`); returns its exit code and report. */
export async function runCheckChild(
  args: string[],
  outDir: string,
  timeoutMs: number,
): Promise<{ code: number; report: ReportView | null; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: checkArgv([...args, "--out-dir", outDir, "--quiet"]),
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const startedMs = Date.now();
  const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
  const r = await child.output();
  clearTimeout(timer);
  return {
    code: r.code,
    report: await latestReport(outDir, startedMs, args[0]),
    stderr: new TextDecoder().decode(r.stderr),
  };
}

/**
 * The newest report (`*.json`, by modification time) in `dir` written at or after `sinceMs`
 * (epoch ms; default any time) and, given `task`, named for that task (`[competitive_]<task>_
 * <phase>_<stamp>.json`), or null: a failed run never passes off an older report, nor the
 * report of the run before it (file times may be rounded to the second, so the time alone
 * cannot tell them apart).
 */
export async function latestReport(
  dir: string,
  sinceMs = 0,
  task?: string,
): Promise<ReportView | null> {
  try {
    let newest: { path: string; mtime: number } | null = null;
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      if (task !== undefined && parseAnyReportName(e.name)?.task !== task) continue;
      const path = join(dir, e.name);
      const mtime = (await Deno.stat(path)).mtime?.getTime() ?? 0;
      if (mtime < sinceMs - 1000) continue; // file times may be rounded to the second
      if (!newest || mtime >= newest.mtime) newest = { path, mtime };
    }
    return newest ? JSON.parse(await Deno.readTextFile(newest.path)) : null;
  } catch {
    return null;
  }
}
