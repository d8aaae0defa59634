/**
 * On-CPU sampling of a server process with Linux `perf`, for the measured window only: `perf
 * record -e cpu-clock -F <Hz> -g -p PID` is attached before the window with its events disabled
 * (`--delay=-1`), switched on and off through a control FIFO at the window's edges, then stopped;
 * `perf script` turns the data into text (folding it is report/profile.ts's job). When perf is
 * missing, not permitted (`perf_event_paranoid`, a container without perf events) or the OS is
 * not Linux, the result is one line saying why, and the run goes on without a profile.
 * @module
 */
import { join } from "node:path";
import { ServerProcess } from "./process.ts";
import { type Os, osName, PLATFORM } from "../shared/platform.ts";

/** The sampling frequency (Hz): low enough to cost ~1% of a core, FlameGraph's default. */
export const PROFILE_FREQUENCY_HZ = 99;

/** How call stacks are unwound: frame pointers (`-g`) or a DWARF copy of the stack. */
export type CallGraph = "fp" | "dwarf";

/** Why there is no profile, as one line for the user. */
export interface NoProfile {
  readonly kind: "unavailable";
  readonly reason: string;
}

/** What a recording produced. */
export interface PerfCapture {
  readonly kind: "recorded";
  /** `perf script` output of the window's samples. */
  readonly scriptText: string;
  readonly frequencyHz: number;
  readonly callGraph: CallGraph;
  /** Time the events were enabled. */
  readonly windowMs: number;
  /** CPU time perf itself used while recording, in ms (user + system). */
  readonly perfCpuMs: number;
  /** Samples perf reported writing, and chunks it reported lost (null: not stated). */
  readonly samplesWritten: number | null;
  readonly lostChunks: number;
}

/** Result of stopping a recording. */
export type PerfResult = PerfCapture | NoProfile;

/** Where perf is, or why it cannot be used here; `env` is read for PATH only. */
export function findPerf(
  os: Os = PLATFORM.os,
  path: string = Deno.env.get("PATH") ?? "",
): string | NoProfile {
  if (os !== "linux") {
    return {
      kind: "unavailable",
      reason: `no profile: --profile records with Linux perf, which ${osName(os)} does not have`,
    };
  }
  for (const dir of path.split(":").filter(Boolean)) {
    try {
      if (Deno.statSync(join(dir, "perf")).isFile) return join(dir, "perf");
    } catch { /* not here */ }
  }
  return {
    kind: "unavailable",
    reason: "no profile: `perf` is not installed (Debian: apt-get install linux-perf)",
  };
}

/** The kernel's `perf_event_paranoid` level, or null when unreadable. */
export function perfParanoid(): number | null {
  try {
    const n = Number(Deno.readTextFileSync("/proc/sys/kernel/perf_event_paranoid").trim());
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

/** One line explaining a failed start from perf's own last words. */
export function startFailureReason(perfOutput: readonly string[], paranoid: number | null): string {
  const text = perfOutput.join("\n");
  const permission = /paranoid|Permission denied|not permitted|EACCES|EPERM|No permission/i
    .test(text);
  if (permission) {
    return `no profile: perf may not record here (kernel.perf_event_paranoid = ${
      paranoid ?? "unknown"
    }; run as root, or sysctl kernel.perf_event_paranoid=1, or allow perf events in the container)`;
  }
  const last = perfOutput.map((l) => l.trim()).filter((l) => l && !l.startsWith("[")).pop();
  return `no profile: perf record did not start${last ? `: ${last}` : ""}`;
}

/** CPU time (user + system, ms) a process has used, from /proc; 0 when unreadable. */
function cpuMsOf(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Options of a recording. */
export interface RecordOptions {
  readonly pid: number;
  /** Directory for perf's data and control FIFO (removed files; the caller owns the dir). */
  readonly workDir: string;
  /** perf's own output (stderr) is appended here. */
  readonly logPath: string;
  readonly frequencyHz?: number;
  readonly callGraph?: CallGraph;
  /** Milliseconds to wait for perf to attach (default 15,000). */
  readonly startTimeoutMs?: number;
}

/**
 * A `perf record` attached to a process with its events off. `start()` it before the measured
 * window (after warm-up), `enable()` at the window's start, `stop()` at its end.
 */
export class PerfRecording {
  #perf: ServerProcess;
  #ctl: Deno.FsFile;
  #dataPath: string;
  #ctlPath: string;
  #perfPath: string;
  #opts: Required<Omit<RecordOptions, "startTimeoutMs">>;
  #enabledAt: number | null = null;
  #cpuAtEnable = 0;

  private constructor(
    perf: ServerProcess,
    ctl: Deno.FsFile,
    paths: { data: string; ctl: string; perf: string },
    opts: Required<Omit<RecordOptions, "startTimeoutMs">>,
  ) {
    this.#perf = perf;
    this.#ctl = ctl;
    this.#dataPath = paths.data;
    this.#ctlPath = paths.ctl;
    this.#perfPath = paths.perf;
    this.#opts = opts;
  }

  /** Attaches perf to `opts.pid` with events disabled; one line why not when it cannot. */
  static async start(opts: RecordOptions): Promise<PerfRecording | NoProfile> {
    const perfPath = findPerf();
    if (typeof perfPath !== "string") return perfPath;
    const full = {
      pid: opts.pid,
      workDir: opts.workDir,
      logPath: opts.logPath,
      frequencyHz: opts.frequencyHz ?? PROFILE_FREQUENCY_HZ,
      callGraph: opts.callGraph ?? "fp",
    };
    const data = join(opts.workDir, `perf_${opts.pid}.data`);
    const ctlPath = join(opts.workDir, `perf_${opts.pid}.ctl`);
    await Deno.remove(ctlPath).catch(() => {});
    const mk = await new Deno.Command("mkfifo", { args: [ctlPath], stderr: "piped" }).output()
      .catch((e) => ({ success: false, stderr: new TextEncoder().encode(String(e)) }));
    if (!mk.success) {
      return {
        kind: "unavailable",
        reason: `no profile: cannot make a FIFO for perf's control (${
          new TextDecoder().decode(mk.stderr).trim()
        })`,
      };
    }
    // Read-write on our side: opening never blocks, and perf's open never waits for us.
    const ctl = await Deno.open(ctlPath, { read: true, write: true });
    const args = [
      "record",
      "-e",
      "cpu-clock",
      "-F",
      String(full.frequencyHz),
      ...(full.callGraph === "dwarf" ? ["--call-graph", "dwarf"] : ["-g"]),
      "--delay=-1",
      "--control",
      `fifo:${ctlPath}`,
      "-p",
      String(opts.pid),
      "-o",
      data,
    ];
    const perf = new ServerProcess("perf record", perfPath, args, { logPath: opts.logPath });
    try {
      await perf.waitForLine(/Events disabled/, opts.startTimeoutMs ?? 15_000);
    } catch {
      await perf.stop(2000);
      ctl.close();
      await Deno.remove(ctlPath).catch(() => {});
      await Deno.remove(data).catch(() => {});
      return { kind: "unavailable", reason: startFailureReason(perf.tail(), perfParanoid()) };
    }
    return new PerfRecording(perf, ctl, { data, ctl: ctlPath, perf: perfPath }, full);
  }

  /** Switches sampling on (the measured window starts); resolves once perf confirms. */
  async enable(timeoutMs = 5000): Promise<void> {
    const confirmed = this.#perf.waitForLine(/Events enabled/, timeoutMs);
    await this.#ctl.write(new TextEncoder().encode("enable\n"));
    await confirmed;
    this.#enabledAt = performance.now();
    this.#cpuAtEnable = cpuMsOf(this.#perf.pid);
  }

  /** Stops perf and removes its files without reading them (errors, interrupts). */
  async discard(): Promise<void> {
    await this.#perf.stop(5000);
    this.#ctl.close();
    await Deno.remove(this.#ctlPath).catch(() => {});
    await Deno.remove(this.#dataPath).catch(() => {});
  }

  /** Switches sampling off, stops perf and returns the window's stacks as `perf script` text. */
  async stop(): Promise<PerfResult> {
    const windowMs = this.#enabledAt === null ? 0 : performance.now() - this.#enabledAt;
    const perfCpuMs = this.#enabledAt === null ? 0 : cpuMsOf(this.#perf.pid) - this.#cpuAtEnable;
    try {
      if (this.#perf.status === null) {
        const disabled = this.#perf.waitForLine(/Events disabled/, 5000).catch(() => null);
        await this.#ctl.write(new TextEncoder().encode("disable\n"));
        await disabled;
      }
    } catch { /* perf already gone: its status says so below */ }
    const status = await this.#perf.stop(10_000);
    this.#ctl.close();
    await Deno.remove(this.#ctlPath).catch(() => {});
    const tail = this.#perf.tail().join("\n");
    const written = /\((\d+) samples\)/.exec(tail);
    const lost = /lost (\d+) chunks/.exec(tail);
    try {
      if (this.#enabledAt === null) {
        return { kind: "unavailable", reason: "no profile: sampling was never switched on" };
      }
      if (!written && status.code !== 0 && status.code !== 130 && status.signal !== "SIGTERM") {
        return { kind: "unavailable", reason: startFailureReason(this.#perf.tail(), null) };
      }
      const script = await new Deno.Command(this.#perfPath, {
        args: ["script", "-i", this.#dataPath],
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!script.success) {
        return { kind: "unavailable", reason: "no profile: perf script could not read the data" };
      }
      return {
        kind: "recorded",
        scriptText: new TextDecoder().decode(script.stdout),
        frequencyHz: this.#opts.frequencyHz,
        callGraph: this.#opts.callGraph,
        windowMs,
        perfCpuMs,
        samplesWritten: written ? Number(written[1]) : null,
        lostChunks: lost ? Number(lost[1]) : 0,
      };
    } finally {
      await Deno.remove(this.#dataPath).catch(() => {});
    }
  }
}
