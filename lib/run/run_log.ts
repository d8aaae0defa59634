/**
 * Where a run's output goes: the terminal (maybe a TTY) and the `_loadtest.log` file.
 * @module
 */

/** Where a run's output goes: the terminal (maybe a TTY) and the `_loadtest.log` file. */
export class RunLog {
  #lines: string[] = [];
  #file: Deno.FsFile | null = null;
  #encoder = new TextEncoder();
  #statusShown = false;
  readonly tty: boolean;

  constructor(readonly quiet: boolean) {
    this.tty = Deno.stdout.isTerminal();
  }

  /** Starts mirroring every line into `path` (earlier lines are written first). */
  attach(path: string): void {
    this.#file = Deno.openSync(path, { create: true, append: true, write: true });
    for (const l of this.#lines) this.#file.writeSync(this.#encoder.encode(l + "\n"));
    this.#lines = [];
  }

  /** A line for the terminal and the log. */
  line(text: string): void {
    this.#clearStatus();
    if (!this.quiet) console.log(text);
    this.#toFile(text);
  }

  /** A line for the log file only (the entrypoint tells the terminal). */
  record(text: string): void {
    this.#toFile(text);
  }

  /** A line that always reaches the terminal (stderr) and the log. */
  warn(text: string): void {
    this.#clearStatus();
    console.error(text);
    this.#toFile(text);
  }

  /** A live status line: rewritten in place on a TTY, a plain line otherwise (every `every` calls). */
  status(text: string, plain: boolean): void {
    if (this.quiet) return;
    if (this.tty) {
      Deno.stdout.writeSync(this.#encoder.encode(`\r\x1b[2K${text}`));
      this.#statusShown = true;
    } else if (plain) {
      console.log(text);
    }
    if (plain) this.#toFile(text);
  }

  #clearStatus() {
    if (this.#statusShown) {
      Deno.stdout.writeSync(this.#encoder.encode("\r\x1b[2K"));
      this.#statusShown = false;
    }
  }

  #toFile(text: string) {
    if (this.#file) this.#file.writeSync(this.#encoder.encode(text + "\n"));
    else this.#lines.push(text);
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
