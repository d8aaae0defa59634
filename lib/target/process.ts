/**
 * Child server processes that are always stopped: each is started in its own process group,
 * its output goes to a log file (never the terminal), and `stop()` sends SIGTERM to the group,
 * then SIGKILL after a grace period, whatever happened to its leader: a server that forked and
 * exited leaves children in its group, and they are stopped too. Every child is registered until
 * its group is gone or stopped, so a signal handler can stop them all before the tool exits.
 * @module
 */
import { resolve } from "node:path";
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
  /** The log the process writes itself (`output: "file"`), else null. */
  #logPath: string | null;
  /** The stop in progress, and when it turns to SIGKILL (`performance.now()`). */
  #stopping: Promise<Deno.CommandStatus> | null = null;
  #killAtMs = Infinity;

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    opts: {
      cwd?: string;
      env?: Record<string, string>;
      logPath?: string;
      cpus?: string | null;
      /**
       * How the output reaches `logPath`: "pump" (default) reads it through this process, line
       * by line, so `waitForLine` works; "file" gives the process the log file itself (through
       * `/bin/sh -c 'exec … >>log 2>&1'`, the old script's `engram start &` with a redirect),
       * so a chatty server (Engram logs ~3 lines per store, ~400 KB/s at 1,000 ops/s) never
       * wakes this process nor waits on a pipe it drains; `tail()` then reads the file's end.
       */
      output?: "pump" | "file";
    },
  ) {
    const toFile = opts.output === "file" && opts.logPath !== undefined;
    // Absolute: the shell that opens it runs in the child's cwd.
    this.#logPath = toFile ? resolve(opts.logPath!) : null;
    this.#logFile = opts.logPath && !toFile
      ? Deno.openSync(opts.logPath, { create: true, append: true, write: true })
      : null;
    try {
      const pinned = pinnedCommand(opts.cpus ?? null, cmd, args);
      const run = toFile
        ? {
          cmd: "/bin/sh",
          args: ["-c", 'exec "$@" >>"$0" 2>&1', this.#logPath!, pinned.cmd, ...pinned.args],
        }
        : pinned;
      this.child = new Deno.Command(run.cmd, {
        args: run.args,
        cwd: opts.cwd,
        env: opts.env,
        stdin: "piped",
        stdout: toFile ? "null" : "piped",
        stderr: toFile ? "null" : "piped",
        detached: true,
      }).spawn();
    } catch (e) {
      this.#logFile?.close();
      throw e;
    }
    this.pid = this.child.pid;
    LIVE.add(this);
    if (!toFile) this.#pumps.push(this.#pump(this.child.stdout), this.#pump(this.child.stderr));
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
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
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
    if (this.#logPath !== null) {
      throw new Error(`${this.name}: its output goes to a file; there are no lines to wait for`);
    }
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
    return this.#logPath === null ? [...this.#tail] : fileTail(this.#logPath, TAIL_LINES);
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

/** Lines of output `tail()` keeps. */
const TAIL_LINES = 20;

/** The last `n` lines of the file at `path` (its last 64 KiB read); none when it cannot be read. */
export function fileTail(path: string, n: number): string[] {
  let file: Deno.FsFile | null = null;
  try {
    file = Deno.openSync(path, { read: true });
    const size = file.statSync().size;
    const want = Math.min(size, 64 * 1024);
    file.seekSync(size - want, Deno.SeekMode.Start);
    const buf = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const r = file.readSync(buf.subarray(got));
      if (r === null || r === 0) break;
      got += r;
    }
    const lines = new TextDecoder().decode(buf.subarray(0, got)).split("\n");
    if (lines.at(-1) === "") lines.pop();
    // The first line may be cut by the 64 KiB window; drop it unless the file is that small.
    if (size > want) lines.shift();
    return lines.slice(-n);
  } catch {
    return [];
  } finally {
    file?.close();
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
