/**
 * Child server processes that are always stopped: each is started in its own process group,
 * its output goes to a log file (never the terminal), and `stop()` sends SIGTERM to the group,
 * then SIGKILL after a grace period, whatever happened to its leader: a server that forked and
 * exited leaves children in its group, and they are stopped too. Every child is registered until
 * its group is gone or stopped, so a signal handler can stop them all before the tool exits.
 * @module
 */
import { pinnedCommand } from "./pin.ts";
import { PLATFORM } from "../shared/platform.ts";

/** A started server process. */
export class ServerProcess {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** Resolves when the process exits. */
  readonly exited: Promise<Deno.CommandStatus>;
  #status: Deno.CommandStatus | null = null;
  #tail: string[] = [];
  #lineWaiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  #pumps: Promise<void>[] = [];
  #logFile: Deno.FsFile | null;
  /** The stop in progress, and when it turns to SIGKILL (`performance.now()`). */
  #stopping: Promise<Deno.CommandStatus> | null = null;
  #killAtMs = Infinity;

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: Record<string, string>; logPath?: string; cpus?: string | null },
  ) {
    this.#logFile = opts.logPath
      ? Deno.openSync(opts.logPath, { create: true, append: true, write: true })
      : null;
    try {
      const run = pinnedCommand(opts.cpus ?? null, cmd, args);
      this.child = new Deno.Command(run.cmd, {
        args: run.args,
        cwd: opts.cwd,
        env: opts.env,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (e) {
      this.#logFile?.close();
      throw e;
    }
    this.pid = this.child.pid;
    LIVE.add(this);
    this.#pumps.push(this.#pump(this.child.stdout), this.#pump(this.child.stderr));
    this.exited = this.child.status.then(async (s) => {
      this.#status = s;
      await Promise.allSettled(this.#pumps);
      try {
        this.#logFile?.close();
      } catch { /* already closed */ }
      this.#logFile = null;
      // A child that outlived the leader in its group is still ours to stop.
      if (!groupAlive(this.pid)) LIVE.delete(this);
      return s;
    });
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    try {
      for await (const chunk of stream) {
        try {
          this.#logFile?.writeSync(chunk);
        } catch { /* log is best effort */ }
        partial += decoder.decode(chunk, { stream: true });
        const lines = partial.split("\n");
        partial = lines.pop()!;
        for (const line of lines) this.#line(line);
      }
    } catch { /* stream closed */ }
    if (partial) this.#line(partial);
  }

  #line(line: string) {
    this.#tail.push(line);
    if (this.#tail.length > 20) this.#tail.shift();
    for (const w of [...this.#lineWaiters]) {
      const m = line.match(w.re);
      if (m) {
        this.#lineWaiters.splice(this.#lineWaiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  /** Waits for an output line matching `re`; rejects if the process exits or time runs out. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name} did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#lineWaiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.exited.then((s) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited during startup (${describeStatus(s)})`));
      });
    });
  }

  /** Exit status if the process has exited, else null. */
  get status(): Deno.CommandStatus | null {
    return this.#status;
  }

  /** The last 20 lines of its output. */
  tail(): string[] {
    return [...this.#tail];
  }

  /**
   * SIGTERM to the process group, SIGKILL after `graceMs`; resolves when the leader has exited
   * and the group is empty (or SIGKILLed), whatever happened to the leader before: a server that
   * forked and exited leaves its children in the group. A second call during the stop shortens
   * the grace, never lengthens it.
   */
  stop(graceMs = 5000): Promise<Deno.CommandStatus> {
    this.#killAtMs = Math.min(this.#killAtMs, performance.now() + graceMs);
    return this.#stopping ??= this.#stop();
  }

  async #stop(): Promise<Deno.CommandStatus> {
    try {
      await this.child.stdin.close();
    } catch { /* already closed */ }
    this.#signalGroup("SIGTERM");
    while (
      performance.now() < this.#killAtMs && (this.#status === null || groupAlive(this.pid))
    ) {
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 20))]);
    }
    this.#signalGroup("SIGKILL");
    const status = await this.exited;
    // Children of the server that outlived it are in the same group.
    this.#signalGroup("SIGKILL");
    LIVE.delete(this);
    return status;
  }

  /**
   * Sends a signal to the whole process group (the child was started as its leader); to the
   * leader alone when the group cannot be signalled, and only while it is unreaped (its pid is
   * then still ours).
   */
  #signalGroup(sig: Deno.Signal): void {
    try {
      Deno.kill(-this.pid, sig);
    } catch {
      if (this.#status !== null) return;
      try {
        Deno.kill(this.pid, sig);
      } catch { /* already gone */ }
    }
  }
}

/**
 * Whether a live process is left in the process group `pgid` (signal 0: existence check only).
 * On Linux a zombie does not count: an orphan is reparented to PID 1, and a container's PID 1
 * may never reap it.
 */
function groupAlive(pgid: number): boolean {
  try {
    Deno.kill(-pgid, 0 as unknown as Deno.Signal);
  } catch {
    return false;
  }
  return !PLATFORM.linux || liveLinuxGroupMember(pgid);
}

/** Linux: a process in group `pgid` that is not a zombie, from /proc/<pid>/stat. */
function liveLinuxGroupMember(pgid: number): boolean {
  try {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      let stat: string;
      try {
        stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      } catch {
        continue; // exited meanwhile
      }
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
    }
    return false;
  } catch {
    return true; // no /proc to read: the signal said the group exists
  }
}

/** Describes an exit status in words. */
export function describeStatus(s: Deno.CommandStatus): string {
  return s.signal ? `killed by ${s.signal}` : `exit code ${s.code}`;
}

const LIVE = new Set<ServerProcess>();

/** Stops every live child (used by signal handlers and on fatal errors). */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.allSettled([...LIVE].map((p) => p.stop(graceMs)));
}
