/**
 * Writing a run's files when the disk may be full or failing: every file is attempted, a file
 * that cannot be written is one line naming it and why (no stack), and the report, held in
 * memory, goes to a fresh directory in `$TMPDIR`, else in `/tmp`, when the out dir refuses it, so
 * a measurement is never thrown away silently. Nothing existing is ever overwritten.
 *
 * @example
 * ```ts
 * import { strictEqual, match } from "node:assert/strict";
 * import { ArtifactWriter } from "./artifacts.ts";
 * const dir = await Deno.makeTempDir();
 * const out = new ArtifactWriter();
 * strictEqual(await out.write(`${dir}/a.txt`, "a\n"), true);
 * strictEqual(await out.write(`${dir}/a.txt`, "again\n"), false); // never overwrites
 * match(out.failures[0], /a\.txt could not be written \(/);
 * strictEqual(await Deno.readTextFile(`${dir}/a.txt`), "a\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
import { basename, join } from "node:path";
import { writeNewFile } from "../shared/atomic.ts";
import { ioReason } from "../shared/errors.ts";

/**
 * Where a report goes when the out dir refuses it, in order: a fresh directory in `$TMPDIR` (or
 * the platform's temp dir), then in the system temp dir `/tmp` (when `$TMPDIR` is elsewhere and
 * also full or failing).
 */
const RESCUE_DIRS: (string | undefined)[] = [undefined, "/tmp"];

/** Writes a run's files, collecting one line per file that could not be written. */
export class ArtifactWriter {
  /** One line per file that could not be written: its path and why. */
  readonly failures: string[] = [];
  /** Every file written, in order: the `files:` line lists only these. */
  readonly written: string[] = [];

  /** Creates `path` with `data` (complete or not at all); false, and a failure line, if not. */
  async write(path: string, data: string | Uint8Array): Promise<boolean> {
    try {
      await writeNewFile(path, data);
      this.written.push(path);
      return true;
    } catch (e) {
      this.failures.push(`${path} could not be written (${ioReason(e)})`);
      return false;
    }
  }

  /**
   * Writes the report to `path`; when that fails, to a fresh `m17_report_*` directory in a temp
   * dir (`RESCUE_DIRS`; the failure line says where). Returns where it went, or null when
   * nowhere.
   */
  async writeReport(path: string, data: string): Promise<string | null> {
    try {
      await writeNewFile(path, data);
      this.written.push(path);
      return path;
    } catch (e) {
      const reason = ioReason(e);
      const tried: string[] = [];
      for (const dir of RESCUE_DIRS) {
        const rescued = await rescue(dir, basename(path), data).catch((e2) => {
          tried.push(ioReason(e2));
          return null;
        });
        if (rescued === null) continue;
        this.failures.push(`${path} could not be written (${reason}); the report is in ${rescued}`);
        this.written.push(rescued);
        return rescued;
      }
      this.failures.push(
        `${path} could not be written (${reason}), nor a copy in a temp dir (${
          [...new Set(tried)].join("; ")
        }): the report is lost; its summary is above`,
      );
      return null;
    }
  }
}

/** Writes `data` as `name` in a fresh `m17_report_*` directory under `dir`; removes it on failure. */
async function rescue(dir: string | undefined, name: string, data: string): Promise<string> {
  const made = await Deno.makeTempDir({ prefix: "m17_report_", dir });
  try {
    const rescued = join(made, name);
    await writeNewFile(rescued, data);
    return rescued;
  } catch (e) {
    await Deno.remove(made, { recursive: true }).catch(() => {});
    throw e;
  }
}
