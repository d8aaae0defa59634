/**
 * System metrics and diagnostics, correct on Linux and macOS, written without ANSI codes.
 *   - `SystemSampler`: host CPU, load and memory, and the server process's CPU%, RSS and
 *     threads when it is local, sampled once per second (`_sys.txt`).
 *   - `diagnostics()`: running engram processes, who holds the port, load, free memory
 *     (`_diag.txt`, and `m17_check diag`).
 * @module
 */

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

interface CpuTimes {
  busy: number;
  total: number;
}

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

function hostCpuTimes(): CpuTimes | null {
  const stat = readText("/proc/stat");
  if (!stat) return null;
  const f = stat.split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

const CLK_TCK = 100;

/** Linux: process CPU seconds, RSS and threads from /proc. */
function linuxProc(pid: number): { cpuSec: number; rssMb: number; threads: number } | null {
  const stat = readText(`/proc/${pid}/stat`);
  const status = readText(`/proc/${pid}/status`);
  if (!stat || !status) return null;
  const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(after[11]), stime = Number(after[12]);
  const rssKb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
  const threads = Number(status.match(/Threads:\s+(\d+)/)?.[1] ?? 0);
  return { cpuSec: (utime + stime) / CLK_TCK, rssMb: rssKb / 1024, threads };
}

/** macOS (and fallback): `ps` for CPU%, RSS; thread count from `ps -M`. */
async function psProc(pid: number): Promise<{ cpuPct: number; rssMb: number; threads: number } | null> {
  try {
    const out = await new Deno.Command("ps", { args: ["-o", "rss=,%cpu=", "-p", String(pid)] })
      .output();
    const [rss, cpu] = new TextDecoder().decode(out.stdout).trim().split(/\s+/).map(Number);
    if (!Number.isFinite(rss)) return null;
    let threads = 0;
    const m = await new Deno.Command("ps", { args: ["-M", "-p", String(pid)] }).output();
    if (m.success) threads = Math.max(0, new TextDecoder().decode(m.stdout).trim().split("\n").length - 1);
    return { cpuPct: cpu, rssMb: rss / 1024, threads };
  } catch {
    return null;
  }
}

/** Samples once per second until stopped; bounded by the run it accompanies. */
export class SystemSampler {
  readonly samples: SystemSample[] = [];
  #timer: number | undefined;
  #prevHost: CpuTimes | null = null;
  #prevProc: { cpuSec: number; t: number } | null = null;
  #t0 = performance.now();
  #busy = false;

  constructor(readonly pid: number | null) {}

  /** Starts sampling (first sample now). */
  start(): void {
    this.#t0 = performance.now();
    this.#prevHost = hostCpuTimes();
    this.#timer = setInterval(() => this.#sample(), 1000);
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const t = (performance.now() - this.#t0) / 1000;
      const mem = Deno.systemMemoryInfo();
      const host = hostCpuTimes();
      let hostCpuPct: number | null = null;
      if (host && this.#prevHost && host.total > this.#prevHost.total) {
        hostCpuPct = (100 * (host.busy - this.#prevHost.busy)) / (host.total - this.#prevHost.total);
      }
      this.#prevHost = host;
      let procCpuPct: number | null = null, procRssMb: number | null = null;
      let procThreads: number | null = null;
      if (this.pid !== null) {
        if (Deno.build.os === "linux") {
          const p = linuxProc(this.pid);
          if (p) {
            if (this.#prevProc) procCpuPct = (100 * (p.cpuSec - this.#prevProc.cpuSec)) / (t - this.#prevProc.t);
            this.#prevProc = { cpuSec: p.cpuSec, t };
            procRssMb = p.rssMb;
            procThreads = p.threads;
          }
        } else {
          const p = await psProc(this.pid);
          if (p) {
            procCpuPct = p.cpuPct;
            procRssMb = p.rssMb;
            procThreads = p.threads;
          }
        }
      }
      this.samples.push({
        t,
        load1: Deno.loadavg()[0],
        memFreeMb: (mem.available ?? mem.free) / 1048576,
        memTotalMb: mem.total / 1048576,
        hostCpuPct,
        procCpuPct,
        procRssMb,
        procThreads,
      });
    } catch { /* sampling is best effort */ }
    this.#busy = false;
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.#timer);
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
        `  ${name.padEnd(14)} ${Math.min(...v).toFixed(d)} / ${mean.toFixed(d)} / ${Math.max(...v).toFixed(d)}`,
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

/** Lists processes whose executable is named `engram` (not this tool). */
export async function engramProcesses(): Promise<EngramProcess[]> {
  const out = await run("ps", ["-axo", "pid=,pcpu=,pmem=,comm=,args="]);
  if (!out) return [];
  const procs: EngramProcess[] = [];
  for (const line of out.split("\n")) {
    const m = line.trim().match(/^(\d+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s+(.*)$/);
    if (!m) continue;
    const comm = m[4].split("/").pop()!;
    if (comm !== "engram") continue;
    procs.push({ pid: Number(m[1]), cpuPct: Number(m[2]), memPct: Number(m[3]), command: m[5] });
  }
  return procs;
}

/** Who listens on a TCP port, in words (best effort: `ss` on Linux, `lsof` elsewhere). */
export async function portHolder(port: number): Promise<string | null> {
  if (Deno.build.os === "linux") {
    const ss = await run("ss", ["-ltnpH", `sport = :${port}`]);
    if (ss && ss.trim()) {
      const users = ss.match(/users:\(\((.*?)\)\)/)?.[1];
      return users ? users.replaceAll('"', "") : ss.trim().split("\n")[0];
    }
  }
  const lsof = await run("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN"]);
  if (lsof && lsof.trim()) {
    const row = lsof.trim().split("\n")[1];
    if (row) {
      const f = row.trim().split(/\s+/);
      return `${f[0]} pid=${f[1]}`;
    }
  }
  return null;
}

/** The diagnostics report (`_diag.txt` and `m17_check diag`), plain text. */
export async function diagnostics(port: number | null): Promise<string> {
  const lines: string[] = [];
  lines.push(`m17 diagnostics at ${new Date().toISOString()} on ${Deno.hostname()} (${Deno.build.os}/${Deno.build.arch})`);
  const procs = await engramProcesses();
  lines.push("", `engram processes: ${procs.length}`);
  for (const p of procs) {
    lines.push(`  pid ${p.pid}  cpu ${p.cpuPct.toFixed(1)}%  mem ${p.memPct.toFixed(1)}%  ${p.command}`);
    if (p.cpuPct > 80) lines.push(`  WARNING: pid ${p.pid} uses ${p.cpuPct.toFixed(0)}% CPU`);
  }
  if (procs.length > 2) {
    lines.push(`  WARNING: ${procs.length} engram processes: leaked test servers? (m17_check diag --kill-leaked)`);
  }
  if (port !== null) {
    const holder = await portHolder(port);
    lines.push("", `port ${port}: ${holder ?? "free (no listener found)"}`);
  }
  const [l1, l5, l15] = Deno.loadavg();
  lines.push("", `load average: ${l1.toFixed(2)} ${l5.toFixed(2)} ${l15.toFixed(2)} (${navigator.hardwareConcurrency} cpus)`);
  const mem = Deno.systemMemoryInfo();
  lines.push(
    `memory: ${((mem.available ?? mem.free) / 1048576).toFixed(0)} MB available of ${(mem.total / 1048576).toFixed(0)} MB`,
  );
  return lines.join("\n") + "\n";
}
