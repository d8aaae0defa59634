/**
 * Writes that never leave a half-written file behind: data goes to a temporary file in the same
 * directory, is flushed to disk, and only then takes the final name in one rename (or link).
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * import { strictEqual } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/PERFORMANCE_LOG.md`, "# Log\n");
 * strictEqual(await Deno.readTextFile(`${dir}/PERFORMANCE_LOG.md`), "# Log\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
import { basename, dirname, join } from "node:path";
import { PLATFORM } from "./platform.ts";

/** Writes `data` to a fresh temporary file next to `path`, fsynced; returns its path. */
async function writeTemp(path: string, data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const suffix = `${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const temp = join(dirname(path), `.${basename(path)}.${suffix}`);
  const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } catch (e) {
    file.close();
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
  file.close();
  return temp;
}

/**
 * Replaces (or creates) `path` with `data` atomically: readers see the old content or the new
 * content, never a mix. An existing file's permission bits are kept.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const existingMode = await Deno.stat(path).then((s) => s.mode, () => null);
  const temp = await writeTemp(path, data);
  try {
    if (existingMode !== null && PLATFORM.fileModes) {
      await Deno.chmod(temp, existingMode & 0o7777);
    }
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

/**
 * Creates `path` with `data`, complete or not at all; never overwrites an existing file
 * (throws `Deno.errors.AlreadyExists`).
 */
export async function writeNewFile(path: string, data: string | Uint8Array): Promise<void> {
  const temp = await writeTemp(path, data);
  try {
    // link() fails when the target exists, so two writers can never clobber each other.
    await Deno.link(temp, path);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) throw e;
    // File systems without hard links: fall back to an exclusive create of the final name.
    const bytes = await Deno.readFile(temp);
    await Deno.writeFile(path, bytes, { createNew: true }).catch(async (e2) => {
      // Created by us but not complete (a full disk): remove it, "complete or not at all".
      if (!(e2 instanceof Deno.errors.AlreadyExists)) await Deno.remove(path).catch(() => {});
      throw e2;
    });
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}
