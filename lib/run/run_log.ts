/**
 * Where a run's output goes: the terminal (maybe a TTY) and the `_loadtest.log` file.
 * @module
 */
import { cleanLines } from "../shared/sanitize.ts";

/** Where a run's output goes: the terminal (maybe a TTY) and the `_loadtest.log` file. */
export class RunLog {
  #lines: string[] = [];
  #file: Deno.FsFile | null = null;
  #encoder = new TextEncoder();
  #statusShown = false;
  /** The terminal went away (a dropped SSH session): output goes to the log file only. */
  #terminalGone = false;
  /** Why the log file stopped being written (a full disk), or null. */
  #fileError: string | null = null;
  readonly tty: boolean;

  constructor(readonly quiet: boolean) {
    this.tty = Deno.stdout.isTerminal();
  }

  /** Starts mirroring every line into `path` (earlier lines are written first). */
  attach(path: string): void {
    this.#file = Deno.openSync(path, { create: true, append: true, write: true });
    this.#path = path;
    const early = this.#lines;
    this.#lines = [];
    for (const l of early) this.#toFile(l);
  }

  #path = "";

  /** One line naming the log file and why it could not be written, or null when it was. */
  get fileError(): string | null {
    return this.#fileError && `${this.#path} could not be written (${this.#fileError})`;
  }

  /** A line for the terminal and the log. */
  line(raw: string): void {
    const text = cleanLines(raw); // may quote a server's text: no escape sequence gets through
    this.#clearStatus();
    if (!this.quiet) this.#terminal(() => console.log(text));
    this.#toFile(text);
  }

  /** A line for the log file only (the entrypoint tells the terminal). */
  record(text: string): void {
    this.#toFile(cleanLines(text));
  }

  /** A line that always reaches the terminal (stderr) and the log. */
  warn(raw: string): void {
    const text = cleanLines(raw);
    this.#clearStatus();
    this.#terminal(() => console.error(text));
    this.#toFile(text);
  }

  /** A live status line: rewritten in place on a TTY, a plain line otherwise (every `every` calls). */
  status(text: string, plain: boolean): void {
    if (this.quiet) return;
    if (this.tty) {
      this.#terminal(() => Deno.stdout.writeSync(this.#encoder.encode(`\r\x1b[2K${text}`)));
      this.#statusShown = true;
    } else if (plain) {
      this.#terminal(() => console.log(text));
    }
    if (plain) this.#toFile(text);
  }

  #clearStatus() {
    if (this.#statusShown) {
      this.#terminal(() => Deno.stdout.writeSync(this.#encoder.encode("\r\x1b[2K")));
      this.#statusShown = false;
    }
  }

  /** Writes to the terminal unless it is gone; a write that fails (EIO, EPIPE) marks it gone. */
  #terminal(write: () => unknown) {
    if (this.#terminalGone) return;
    try {
      write();
    } catch {
      this.#terminalGone = true;
    }
  }

  /** Appends to the log file; a write that fails (a full disk) stops the mirroring, not the run. */
  #toFile(text: string) {
    if (this.#fileError) return;
    if (!this.#file) {
      this.#lines.push(text);
      return;
    }
    const bytes = this.#encoder.encode(text + "\n");
    try {
      let written = 0;
      while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
    } catch (e) {
      this.#fileError = e instanceof Error ? e.message.split("\n")[0] : String(e);
    }
  }

  /** Closes the log file. */
  close(): void {
    this.#clearStatus();
    try {
      this.#file?.close();
    } catch { /* closed */ }
    this.#file = null;
  }
}
