/**
 * The machine a benchmark ran on and how busy it was: `nproc`, CPU model, RAM, OS, Deno version,
 * and the load average (read at each measurement, since other work shares the host).
 * @module
 */
import { cpus } from "node:os";
import { readProcFile } from "./procs.ts";
import { PLATFORM } from "../lib/shared/platform.ts";

/** What BENCHMARKS.md records about the host. */
export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  ramGiB: number;
  os: string;
  kernel: string;
  deno: string;
  v8: string;
}

/** Reads the host description (Linux /proc/cpuinfo; node:os elsewhere). */
export async function machineInfo(): Promise<MachineInfo> {
  const cpuinfo = (await readProcFile("/proc/cpuinfo")) ?? "";
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpus()[0]?.model ?? "unknown";
  const memKiB = Deno.systemMemoryInfo().total / 1024;
  const osName = readOr("/etc/os-release", "").match(/^PRETTY_NAME="?([^"\n]+)/m)?.[1] ??
    PLATFORM.os;
  return {
    nproc: navigator.hardwareConcurrency,
    cpuModel: model.trim(),
    ramGiB: Math.round((memKiB / 1024 / 1024) * 10) / 10,
    os: osName,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

/** The 1-, 5- and 15-minute load averages. */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = Deno.loadavg();
  const r = (x: number) => Math.round(x * 100) / 100;
  return [r(a), r(b), r(c)];
}

/** Load average as printed in tables: `1.23 / 1.10 / 0.98`. */
export function formatLoad(l: [number, number, number]): string {
  return l.map((x) => x.toFixed(2)).join(" / ");
}

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}
