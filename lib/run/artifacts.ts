/**
 * Writing a run's files when the disk may be full or failing: every file is attempted, a file
 * that cannot be written is one line naming it and why (no stack), and the report, held in
 * memory, goes to a fresh directory in the system temp dir when the out dir refuses it, so a
 * measurement is never thrown away silently. Nothing existing is ever overwritten.
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

/** Writes a run's files, collecting one line per file that could not be written. */
export class ArtifactWriter {
  /** One line per file that could not be written: its path and why. */
  readonly failures: string[] = [];

  /** Creates `path` with `data` (complete or not at all); false, and a failure line, if not. */
  async write(path: string, data: string | Uint8Array): Promise<boolean> {
    try {
      await writeNewFile(path, data);
      return true;
    } catch (e) {
      this.failures.push(`${path} could not be written (${ioReason(e)})`);
      return false;
    }
  }

  /**
   * Writes the report to `path`; when that fails, to a fresh `m17_report_*` directory in the
   * system temp dir (the failure line says where). Returns where it went, or null when nowhere.
   */
  async writeReport(path: string, data: string): Promise<string | null> {
    try {
      await writeNewFile(path, data);
      return path;
    } catch (e) {
      const reason = ioReason(e);
      try {
        const rescued = join(await Deno.makeTempDir({ prefix: "m17_report_" }), basename(path));
        await writeNewFile(rescued, data);
        this.failures.push(`${path} could not be written (${reason}); the report is in ${rescued}`);
        return rescued;
      } catch (e2) {
        this.failures.push(
          `${path} could not be written (${reason}), nor a copy in the temp dir (${
            ioReason(e2)
          }): the report is lost`,
        );
        return null;
      }
    }
  }
}
