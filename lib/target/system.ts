/**
 * System metrics and diagnostics, correct on Linux and macOS, written without ANSI codes.
 *   - `SystemSampler`: host CPU, load and memory, and the server process's CPU%, RSS and
 *     threads when it is local, sampled once per second (`_sys.txt`).
 *   - `diagnostics()`: running engram processes, who holds the port, load, free memory
 *     (`_diag.txt`, and `m17_check diag`).
 * @module
 */
import { cpus } from "node:os";
import { PLATFORM, platformLabel } from "../shared/platform.ts";

/** One sample. */
export interface SystemSample {
  t: number;
  load1: number;
  memFreeMb: number;
  memTotalMb: number;
  hostCpuPct: number | null;
  procCpuPct: number | null;
  procRssMb: number | null;
  procThreads: number | null;
}

/**
 * The host's mean CPU busy over `samples` (% of all cores), or null without a host CPU sample.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const at = (hostCpuPct: number | null) => ({
 *   t: 0, load1: 0, memFreeMb: 0, memTotalMb: 0, hostCpuPct,
 *   procCpuPct: null, procRssMb: null, procThreads: null,
 * });
 * strictEqual(meanHostCpuPct([at(90), at(null), at(100)]), 95);
 * strictEqual(meanHostCpuPct([at(null)]), null);
 * ```
 */
export function meanHostCpuPct(samples: readonly SystemSample[]): number | null {
  const v = samples.map((s) => s.hostCpuPct).filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

interface CpuTimes {
  busy: number;
  total: number;
}

/** Host CPU times summed over all CPUs (node:os works on Linux and macOS with --allow-sys). */
function hostCpuTimes(): CpuTimes | null {
  try {
    let busy = 0, total = 0;
    for (const { times: t } of cpus()) {
      busy += t.user + t.nice + t.sys + t.irq;
      total += t.user + t.nice + t.sys + t.irq + t.idle;
    }
    return total > 0 ? { busy, total } : null;
  } catch {
    return null;
  }
}

/**
 * Reads /proc files (all of them, or null when one is gone). Deno refuses /proc reads without
 * --allow-all; under the `deno task` permissions one `sh` (--allow-run) reads them, so a sample
 * costs a single spawn on the event loop the load generator shares.
 */
async function readProc(paths: string[]): Promise<string[] | null> {
  if (procReadable) {
    try {
      return await Promise.all(paths.map((p) => Deno.readTextFile(p)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied)) {
        return null;
      }
      procReadable = false;
    }
  }
  // /proc text files hold no NUL, so NUL separates them.
  const out = await run("sh", [
    "-c",
    'for f; do cat "$f" || exit 1; printf "\\0"; done',
    "sh",
    ...paths,
  ]);
  const texts = out?.split("\0") ?? [];
  return texts.length === paths.length + 1 ? texts.slice(0, -1) : null;
}
let procReadable = true;

function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The fields after `(comm)` in /proc/<pid>/stat; [0] is the state, [2] the process group. */
async function procStatFields(pid: number): Promise<string[] | null> {
  const texts = await readProc([`/proc/${pid}/stat`]);
  return texts ? statFields(texts[0]) : null;
}

/** Linux reports /proc CPU times in USER_HZ, which is 100 on every architecture Linux exposes. */
const CLK_TCK = 100;

/** A process's cumulative CPU seconds, RSS and thread count. */
interface ProcSnapshot {
  cpuSec: number;
  rssMb: number;
  threads: number;
}

/** Linux: from /proc/<pid>/stat and status. */
async function linuxProc(pid: number): Promise<ProcSnapshot | null> {
  const texts = await readProc([`/proc/${pid}/stat`, `/proc/${pid}/status`]);
  if (!texts) return null;
  const [f, status] = [statFields(texts[0]), texts[1]];
  const rssKb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
  const threads = Number(status.match(/Threads:\s+(\d+)/)?.[1] ?? 0);
  return { cpuSec: (Number(f[11]) + Number(f[12])) / CLK_TCK, rssMb: rssKb / 1024, threads };
}

/** `ps` CPU time (`[dd-][hh:]mm:ss[.cc]`, BSD and procps) in seconds. */
export function parsePsTime(text: string): number | null {
  const m = text.trim().match(/^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/);
  if (!m) return null;
  const [d, h, min, sec] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0));
  return ((d * 24 + h) * 60 + min) * 60 + sec;
}

/** macOS (and other systems without /proc): `ps` for CPU time and RSS, `ps -M` for threads. */
async function psProc(pid: number): Promise<ProcSnapshot | null> {
  const out = await run("ps", ["-o", "rss=,time=", "-p", String(pid)]);
  const [rss, time] = (out ?? "").trim().split(/\s+/);
  const cpuSec = parsePsTime(time ?? "");
  if (!Number.isFinite(Number(rss)) || cpuSec === null) return null;
  const threadLines = (await run("ps", ["-M", "-p", String(pid)]))?.trim().split("\n") ?? [];
  return { cpuSec, rssMb: Number(rss) / 1024, threads: Math.max(0, threadLines.length - 1) };
}

function procSnapshot(pid: number): Promise<ProcSnapshot | null> {
  return PLATFORM.linux ? linuxProc(pid) : psProc(pid);
}

/** A process's cumulative CPU seconds (user + system), or null when it cannot be read. */
export async function processCpuSeconds(pid: number): Promise<number | null> {
  return (await procSnapshot(pid))?.cpuSec ?? null;
}

/**
 * Samples once per second until stopped; bounded by the run it accompanies. CPU% is measured
 * over each second (100% = one core busy), from cumulative CPU times.
 */
export class SystemSampler {
  readonly samples: SystemSample[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #prevHost: CpuTimes | null = null;
  #prevProc: { cpuSec: number; t: number } | null = null;
  #t0 = performance.now();
  #inFlight: Promise<void> = Promise.resolve();
  #busy = false;

  constructor(readonly pid: number | null) {}

  /** Starts sampling; the first sample comes after one second, with CPU% over that second. */
  start(): void {
    this.#t0 = performance.now();
    this.#tick(false);
    this.#timer = setInterval(() => this.#tick(true), 1000);
  }

  #tick(record: boolean): void {
    if (this.#busy) return; // a slow `ps` must not pile up samples
    this.#busy = true;
    this.#inFlight = this.#sample(record).finally(() => this.#busy = false);
  }

  /** Takes one sample; with `record` false it only sets the baseline for CPU%. */
  async #sample(record: boolean): Promise<void> {
    try {
      const p = this.pid === null ? null : await procSnapshot(this.pid);
      const t = (performance.now() - this.#t0) / 1000;
      const host = hostCpuTimes();
      let hostCpuPct: number | null = null;
      if (host && this.#prevHost && host.total > this.#prevHost.total) {
        hostCpuPct = (100 * (host.busy - this.#prevHost.busy)) /
          (host.total - this.#prevHost.total);
      }
      this.#prevHost = host;
      let procCpuPct: number | null = null;
      if (p && this.#prevProc && t > this.#prevProc.t) {
        procCpuPct = (100 * (p.cpuSec - this.#prevProc.cpuSec)) / (t - this.#prevProc.t);
      }
      this.#prevProc = p ? { cpuSec: p.cpuSec, t } : null;
      if (!record) return;
      const mem = Deno.systemMemoryInfo();
      this.samples.push({
        t,
        load1: Deno.loadavg()[0],
        memFreeMb: (mem.available ?? mem.free) / 1048576,
        memTotalMb: mem.total / 1048576,
        hostCpuPct,
        procCpuPct,
        procRssMb: p?.rssMb ?? null,
        procThreads: p?.threads ?? null,
      });
    } catch { /* sampling is best effort */ }
  }

  /** Stops sampling; resolves when a sample in progress has finished. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
  }

  /** The `_sys.txt` text: header, one line per second, min/mean/max. */
  text(header: string[]): string {
    const lines = [...header, ""];
    const f = (v: number | null, d = 1) => (v === null ? "-" : v.toFixed(d));
    lines.push(
      "  t(s)  load1  host_cpu%  mem_free_mb  proc_cpu%  proc_rss_mb  proc_threads",
    );
    for (const s of this.samples) {
      lines.push(
        [
          s.t.toFixed(0).padStart(6),
          s.load1.toFixed(2).padStart(6),
          f(s.hostCpuPct).padStart(10),
          f(s.memFreeMb, 0).padStart(12),
          f(s.procCpuPct).padStart(10),
          f(s.procRssMb).padStart(12),
          f(s.procThreads, 0).padStart(13),
        ].join(" "),
      );
    }
    lines.push("", "summary (min / mean / max):");
    const stat = (name: string, pick: (s: SystemSample) => number | null, d = 1) => {
      const v = this.samples.map(pick).filter((x): x is number => x !== null);
      if (v.length === 0) return lines.push(`  ${name.padEnd(14)} n/a`);
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      lines.push(
        `  ${name.padEnd(14)} ${Math.min(...v).toFixed(d)} / ${mean.toFixed(d)} / ${
          Math.max(...v).toFixed(d)
        }`,
      );
    };
    stat("load1", (s) => s.load1, 2);
    stat("host_cpu%", (s) => s.hostCpuPct);
    stat("mem_free_mb", (s) => s.memFreeMb, 0);
    stat("proc_cpu%", (s) => s.procCpuPct);
    stat("proc_rss_mb", (s) => s.procRssMb);
    stat("proc_threads", (s) => s.procThreads, 0);
    lines.push(`  samples        ${this.samples.length}`);
    return lines.join("\n") + "\n";
  }
}

async function run(cmd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return null;
  }
}

/** A running process that looks like an Engram server. */
export interface EngramProcess {
  pid: number;
  cpuPct: number;
  memPct: number;
  command: string;
}

/** `ps -axo pid=,<column>=` as a map from pid to the rest of the line (may contain spaces). */
async function psColumn(column: string): Promise<Map<number, string>> {
  const out = await run("ps", ["-axo", `pid=,${column}=`]);
  const byPid = new Map<number, string>();
  for (const line of (out ?? "").split("\n")) {
    const m = line.trim().match(/^(\d+)\s+(.*)$/);
    if (m) byPid.set(Number(m[1]), m[2]);
  }
  return byPid;
}

/**
 * Lists processes whose executable is named `engram` (not this tool). The executable name and
 * the command line are read separately, because on macOS `comm` is a full path that may
 * contain spaces.
 */
export async function engramProcesses(): Promise<EngramProcess[]> {
  const [names, usage, commands] = await Promise.all([
    psColumn("comm"),
    psColumn("pcpu=,pmem"),
    psColumn("args"),
  ]);
  const procs: EngramProcess[] = [];
  for (const [pid, comm] of names) {
    if (comm.trim().split("/").pop() !== "engram" || pid === Deno.pid) continue;
    const [cpu, mem] = (usage.get(pid) ?? "").trim().split(/\s+/).map(Number);
    procs.push({
      pid,
      cpuPct: Number.isFinite(cpu) ? cpu : 0,
      memPct: Number.isFinite(mem) ? mem : 0,
      command: commands.get(pid) ?? comm,
    });
  }
  return procs;
}

/** One process listening on a TCP port; null fields when the OS does not say (another user). */
export interface PortListener {
  command: string | null;
  pid: number | null;
}

/**
 * Who listens on a TCP port (best effort: `ss` on Linux, `lsof` elsewhere or as a fallback).
 * Empty when nobody listens or neither tool could tell.
 */
export async function portListeners(port: number): Promise<PortListener[]> {
  if (PLATFORM.linux) {
    const ss = await run("ss", ["-ltnpH", `sport = :${port}`]);
    if (ss && ss.trim()) {
      const found = [...ss.matchAll(/\("([^"]*)",pid=(\d+)/g)].map((m) => ({
        command: m[1],
        pid: Number(m[2]),
      }));
      return found.length > 0 ? unique(found) : [{ command: null, pid: null }];
    }
  }
  const lsof = await run("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN"]);
  const rows = (lsof ?? "").trim().split("\n").slice(1).filter((r) => r.trim());
  return unique(rows.map((r) => {
    const f = r.trim().split(/\s+/);
    return { command: f[0], pid: Number(f[1]) };
  }));
}

function unique(listeners: PortListener[]): PortListener[] {
  const seen = new Set<string>();
  return listeners.filter((l) => !seen.has(`${l.pid}`) && seen.add(`${l.pid}`));
}

/** Who listens on a TCP port, in words (`engram (pid 123)`), or null when nobody is found. */
export async function portHolder(port: number): Promise<string | null> {
  const listeners = await portListeners(port);
  return listeners.length === 0 ? null : describeListeners(listeners);
}

/** Listeners in words: `engram (pid 123), deno (pid 456)`. */
export function describeListeners(listeners: PortListener[]): string {
  return listeners
    .map((l) =>
      l.pid === null
        ? "a process of another user (run ss -ltnp as root to see it)"
        : `${l.command} (pid ${l.pid})`
    )
    .join(", ");
}

/** The process group of `pid`, or null when it cannot be read (gone, or no `ps`). */
export async function processGroupOf(pid: number): Promise<number | null> {
  const text = PLATFORM.linux
    ? (await procStatFields(pid))?.[2]
    : (await run("ps", ["-o", "pgid=", "-p", String(pid)]))?.trim();
  return text && /^\d+$/.test(text) ? Number(text) : null;
}

/**
 * Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). Another user's
 * process is alive too (the signal is refused with EPERM, not ESRCH), and so is any pid the check
 * cannot be made for: only "no such process" is gone.
 */
export async function isAlive(pid: number): Promise<boolean> {
  const exists = () => {
    try {
      Deno.kill(pid, 0 as unknown as Deno.Signal); // signal 0: existence check only
      return true;
    } catch (e) {
      return !(e instanceof Deno.errors.NotFound); // ESRCH
    }
  };
  if (!exists()) return false;
  const state = PLATFORM.linux
    ? (await procStatFields(pid))?.[0]
    : (await run("ps", ["-o", "stat=", "-p", String(pid)]))?.trim() || undefined;
  // No state: it exited meanwhile, or nothing could tell; the signal check decides.
  return state === undefined ? exists() : !state.startsWith("Z");
}

/**
 * Whether the process a file names as its owner (a run's `.claim`: its pid and host name) may
 * still be running: `dead` only when it ran on this host and no live process has its pid;
 * `other_host` when it ran elsewhere (its pid says nothing here). A live pid may be another
 * process that reused it: `alive` then all the same, so what the owner holds is kept.
 */
export async function ownerState(
  owner: { pid: number; host: string },
): Promise<"alive" | "dead" | "other_host"> {
  let host: string;
  try {
    host = Deno.hostname();
  } catch {
    return "other_host"; // this host's name cannot be read: whose pid it is cannot be told
  }
  if (owner.host !== host) return "other_host";
  return await isAlive(owner.pid) ? "alive" : "dead";
}

/** The diagnostics report (`_diag.txt` and `m17_check diag`), plain text. */
export async function diagnostics(port: number | null): Promise<string> {
  const lines: string[] = [];
  lines.push(
    `m17 diagnostics at ${new Date().toISOString()} on ${Deno.hostname()} (${platformLabel()})`,
  );
  const procs = await engramProcesses();
  lines.push("", `engram processes: ${procs.length}`);
  for (const p of procs) {
    lines.push(
      `  pid ${p.pid}  cpu ${p.cpuPct.toFixed(1)}%  mem ${p.memPct.toFixed(1)}%  ${p.command}`,
    );
    if (p.cpuPct > 80) lines.push(`  WARNING: pid ${p.pid} uses ${p.cpuPct.toFixed(0)}% CPU`);
  }
  if (procs.length > 2) {
    lines.push(
      `  WARNING: ${procs.length} engram processes: leaked test servers? (m17_check diag --kill-leaked)`,
    );
  }
  if (port !== null) {
    const holder = await portHolder(port);
    lines.push("", `port ${port}: ${holder ?? "free (no listener found)"}`);
  }
  const [l1, l5, l15] = Deno.loadavg();
  lines.push(
    "",
    `load average: ${l1.toFixed(2)} ${l5.toFixed(2)} ${
      l15.toFixed(2)
    } (${navigator.hardwareConcurrency} cpus)`,
  );
  const mem = Deno.systemMemoryInfo();
  lines.push(
    `memory: ${((mem.available ?? mem.free) / 1048576).toFixed(0)} MB available of ${
      (mem.total / 1048576).toFixed(0)
    } MB`,
  );
  return lines.join("\n") + "\n";
}
