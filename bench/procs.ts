/**
 * Processes a benchmark starts and watches: the reference server, the trivial endpoint and
 * client subprocesses; CPU time and RSS read from /proc (Linux).
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ServerProcess } from "../lib/target/process.ts";
import { startReference } from "../lib/target/reference.ts";
import type { ReferenceKnobs, Target } from "../lib/target/target.ts";

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux). */
const CLK_TCK = 100;

/** The repository root (bench/..). */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Starts the reference server in its own process on a free loopback port, as `check` does. */
export function startRef(dim: number, knobs: ReferenceKnobs = {}): Promise<Target> {
  return startReference(knobs, { dim });
}

/** A running trivial endpoint: answers every request 200 `ok`. */
export interface Trivial {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/trivial_server.ts as a separate `deno run` process. */
export async function startTrivial(): Promise<Trivial> {
  const main = fileURLToPath(new URL("./trivial_server.ts", import.meta.url));
  const proc = new ServerProcess("trivial server", Deno.execPath(), [
    "run",
    "--allow-net",
    main,
  ], {});
  const m = await proc.waitForLine(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
  return { url: m[1], pid: proc.pid, stop: async () => void (await proc.stop(2000)) };
}

/**
 * Reads /proc files of another process. Deno refuses /proc reads without --allow-all, so under
 * the task's permissions a `cat` (--allow-run) reads them; null when the process is gone.
 */
export async function readProcFile(path: string): Promise<string | null> {
  const r = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
    .output();
  return r.success ? new TextDecoder().decode(r.stdout) : null;
}

/** This process's user + system CPU seconds (node:process, no /proc needed). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** User + system CPU seconds of process `pid` so far, or null when it is gone. */
export async function cpuSeconds(pid: number): Promise<number | null> {
  const stat = await readProcFile(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14, 15)
}

/** Resident set size in MiB (VmRSS) and its peak (VmHWM), or null when the process is gone. */
export async function rssMiB(pid: number): Promise<{ rss: number; hwm: number } | null> {
  const s = await readProcFile(`/proc/${pid}/status`);
  if (s === null) return null;
  const kib = (k: string) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+)`, "m"))?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, hwm: kib("VmHWM") / 1024 };
}

/** Output and CPU time of a finished command, measured by bash's `times` (children's CPU). */
export interface Timed {
  code: number;
  stdout: string;
  stderr: string;
  /** User + system CPU seconds of the command and all its children. */
  cpuSeconds: number;
  wallSeconds: number;
}

/**
 * Runs `argv` under `bash -c '"$@"; times'`: bash's `times` prints the CPU time of its waited-for
 * children (the command and everything it started), with no sampling race. Bounded by
 * `timeoutMs` (SIGKILL).
 */
export async function runTimed(argv: string[], timeoutMs: number): Promise<Timed> {
  const t0 = performance.now();
  // The command's stdout goes to a file (fd 3); bash's own stdout carries only `times`.
  const out = await Deno.makeTempFile({ prefix: "m17_bench_" });
  try {
    const child = new Deno.Command("bash", {
      args: ["-c", 'exec 3>"$0"; "$@" 1>&3; rc=$?; times; exit $rc', out, ...argv],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, timeoutMs);
    const r = await child.output();
    clearTimeout(timer);
    // `times` prints two lines, the shell's then its children's "user sys" ("0m1.234s 0m0.120s").
    const lines = new TextDecoder().decode(r.stdout).trim().split("\n");
    const secs = (t: string | undefined) => {
      const m = t?.match(/(\d+)m([\d.]+)s/);
      return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
    };
    const [user, sys] = (lines[1] ?? "").trim().split(/\s+/);
    return {
      code: r.code,
      stdout: await Deno.readTextFile(out),
      stderr: new TextDecoder().decode(r.stderr),
      cpuSeconds: secs(user) + secs(sys),
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}
