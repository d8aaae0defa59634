/**
 * Child server processes that are always stopped: each is started in its own process group,
 * its output goes to a log file (never the terminal), and `stop()` sends SIGTERM to the group,
 * then SIGKILL after a grace period. Every live child is registered, so a signal handler can
 * stop them all before the tool exits.
 * @module
 */
import { pinnedCommand } from "./pin.ts";

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
      LIVE.delete(this);
      await Promise.allSettled(this.#pumps);
      try {
        this.#logFile?.close();
      } catch { /* already closed */ }
      this.#logFile = null;
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

  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(graceMs = 5000): Promise<Deno.CommandStatus> {
    if (this.#status) return this.#status;
    try {
      await this.child.stdin.close();
    } catch { /* already closed */ }
    signalGroup(this.pid, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((r) => {
      timer = setTimeout(() => {
        signalGroup(this.pid, "SIGKILL");
        r();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    const status = await this.exited;
    clearTimeout(timer);
    // Children of the server that outlived it are in the same group.
    signalGroup(this.pid, "SIGKILL");
    return status;
  }
}

/** Sends a signal to a whole process group (the child was started as its leader). */
function signalGroup(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(-pid, sig);
  } catch {
    try {
      Deno.kill(pid, sig);
    } catch { /* already gone */ }
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
