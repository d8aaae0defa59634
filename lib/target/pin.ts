/**
 * CPU pinning on a shared host (Linux `taskset`): the load generator (this process and all its
 * threads) and the server the tool starts on disjoint CPUs, so that neither takes the other's
 * core. Asked with `--client-cpus` / `--server-cpus`; by default only on hosts with 4 or more
 * cores and only when the tool starts the server. Elsewhere: one line, the run continues.
 * @module
 */
import { osName, PLATFORM } from "../shared/platform.ts";

/** What to pin, before knowing whether the host can. */
export interface PinRequest {
  clientCpus?: string;
  serverCpus?: string;
  /** The host's logical CPUs. */
  cores: number;
  /** Whether the tool starts the server (Engram or the reference server; not `--url`). */
  startsServer: boolean;
}

/** The CPU lists to apply: from the flags, or the default for a host with ≥ 4 cores. */
export type PinPlan =
  | { kind: "none" }
  | { kind: "pin"; client: string | null; server: string | null; source: "flags" | "default" };

/**
 * The plan: the flags as given; without them, on ≥ 4 cores with a server the tool starts, the
 * generator gets the last quarter of the CPUs (at least one) and the server the rest.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(planPinning({ cores: 2, startsServer: true }), { kind: "none" });
 * deepStrictEqual(planPinning({ cores: 8, startsServer: true }), {
 *   kind: "pin", client: "6-7", server: "0-5", source: "default",
 * });
 * ```
 */
export function planPinning(r: PinRequest): PinPlan {
  if (r.clientCpus !== undefined || r.serverCpus !== undefined) {
    return {
      kind: "pin",
      client: r.clientCpus ?? null,
      server: r.startsServer ? r.serverCpus ?? null : null,
      source: "flags",
    };
  }
  if (r.cores < 4 || !r.startsServer) return { kind: "none" };
  const clientCount = Math.max(1, Math.floor(r.cores / 4));
  const first = r.cores - clientCount;
  const range = (lo: number, hi: number) => lo === hi ? `${lo}` : `${lo}-${hi}`;
  return {
    kind: "pin",
    client: range(first, r.cores - 1),
    server: range(0, first - 1),
    source: "default",
  };
}

/**
 * The CPU numbers of a list (`0-3,6` → 0, 1, 2, 3, 6); the list is already validated
 * (lib/cli/flags.ts `cpuList`).
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(cpuNumbers("0-2, 6"), [0, 1, 2, 6]);
 * ```
 */
export function cpuNumbers(list: string): number[] {
  const out: number[] = [];
  for (const part of list.replace(/\s+/g, "").split(",")) {
    const [lo, hi] = part.split("-").map(Number);
    for (let c = lo; c <= (hi ?? lo); c++) out.push(c);
  }
  return out;
}

/**
 * The CPUs this host can pin to, as a list (`0-1`): on Linux the cgroup's effective cpuset, else
 * the online CPUs; elsewhere 0 to the logical CPU count − 1.
 */
export async function hostCpus(cores: number): Promise<string> {
  if (PLATFORM.linux) {
    for (const path of ["/sys/fs/cgroup/cpuset.cpus.effective", "/sys/devices/system/cpu/online"]) {
      const text = (await Deno.readTextFile(path).catch(() => "")).trim();
      if (/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) return text;
    }
  }
  return cores > 1 ? `0-${cores - 1}` : "0";
}

/**
 * Why a CPU list names CPUs the host does not have (`--client-cpus 99: this host has no CPU
 * 99 (its CPUs: 0-1)`), or null when it has them all.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(cpusMissing("--client-cpus", "1,3-4", "0-3"),
 *   "--client-cpus 1,3-4: this host has no CPU 4 (its CPUs: 0-3)");
 * strictEqual(cpusMissing("--client-cpus", "0-3", "0-3"), null);
 * ```
 */
export function cpusMissing(flag: string, list: string, host: string): string | null {
  const have = new Set(cpuNumbers(host));
  const missing = cpuNumbers(list).filter((c) => !have.has(c));
  if (missing.length === 0) return null;
  const named = missing.length > 5 ? `${missing.slice(0, 5).join(", ")}, …` : missing.join(", ");
  return `${flag} ${list}: this host has no CPU ${named} (its CPUs: ${host})`;
}

/** Whether `taskset` can pin here: null when it can, else why not (one line). */
export async function pinningUnavailable(): Promise<string | null> {
  if (!PLATFORM.linux) return `CPU pinning is unavailable on ${osName()}`;
  try {
    const r = await new Deno.Command("taskset", { args: ["-V"], stdout: "null", stderr: "null" })
      .output();
    return r.success ? null : "CPU pinning is unavailable: taskset -V failed";
  } catch {
    return "CPU pinning is unavailable: taskset is not installed (util-linux)";
  }
}

/**
 * Pins this process and all its threads (`taskset -a -p -c LIST <pid>`); threads started later
 * (the load workers) inherit it. Null on success, else taskset's own one-line complaint.
 */
export async function pinSelf(cpus: string): Promise<string | null> {
  try {
    const r = await new Deno.Command("taskset", {
      args: ["-a", "-p", "-c", cpus, String(Deno.pid)],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (r.success) return null;
    const why = new TextDecoder().decode(r.stderr).trim().split("\n")[0] ?? "";
    return `taskset -a -p -c ${cpus} failed: ${why.slice(0, 200)}`;
  } catch (e) {
    return `taskset -a -p -c ${cpus} failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * `cmd args` started on `cpus` (`taskset -c LIST cmd args`; taskset execs, so the pid is the
 * server's); unchanged when `cpus` is null.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(pinnedCommand("0-1", "engram", ["start"]), {
 *   cmd: "taskset", args: ["-c", "0-1", "engram", "start"],
 * });
 * deepStrictEqual(pinnedCommand(null, "engram", []), { cmd: "engram", args: [] });
 * ```
 */
export function pinnedCommand(
  cpus: string | null,
  cmd: string,
  args: string[],
): { cmd: string; args: string[] } {
  return cpus === null ? { cmd, args } : { cmd: "taskset", args: ["-c", cpus, cmd, ...args] };
}
