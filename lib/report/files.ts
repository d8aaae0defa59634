/**
 * Result file names, compatible with the old scripts:
 * `<out>/[competitive_]<task>_<phase>_<YYYYmmdd_HHMMSS>` + `.json`, `_loadtest.log`, `_sys.txt`,
 * `_diag.txt`, `.hlog`, `_server.log`. A run claims its stem with an exclusive create, so two
 * runs started in the same second get distinct names (`…_HHMMSS_2`), never overwriting.
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../shared/errors.ts";

/** Local time as `YYYYmmdd_HHMMSS` (the old scripts' `date +%Y%m%d_%H%M%S`). */
export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${
    p(d.getMinutes())
  }${p(d.getSeconds())}`;
}

/** The paths of one run's artifacts. */
export interface RunFiles {
  stem: string;
  report: string;
  log: string;
  sys: string;
  diag: string;
  hlog: string;
  serverLog: string;
  /** Exclusive claim on the stem, removed when the run finishes. */
  claim: string;
}

/** File names for a stem path (without extension). */
export function filesFor(stem: string): RunFiles {
  return {
    stem,
    report: `${stem}.json`,
    log: `${stem}_loadtest.log`,
    sys: `${stem}_sys.txt`,
    diag: `${stem}_diag.txt`,
    hlog: `${stem}.hlog`,
    serverLog: `${stem}_server.log`,
    claim: `${stem}.claim`,
  };
}

/**
 * Creates the out dir if needed and claims a fresh stem for this run. Throws `UsageError`
 * when the directory cannot be written.
 */
export async function claimRunFiles(
  outDir: string,
  task: string,
  phase: string,
  competitive: boolean,
  now = new Date(),
): Promise<RunFiles> {
  try {
    await Deno.mkdir(outDir, { recursive: true });
  } catch (e) {
    throw new UsageError(
      `out dir ${outDir}: cannot create (${(e as Error).message.split("\n")[0]})`,
    );
  }
  const base = join(
    outDir,
    `${competitive ? "competitive_" : ""}${task}_${phase}_${timestamp(now)}`,
  );
  for (let n = 1; n < 1000; n++) {
    const files = filesFor(n === 1 ? base : `${base}_${n}`);
    try {
      const f = await Deno.open(files.claim, { write: true, createNew: true });
      f.close();
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw new UsageError(
        `out dir ${outDir}: cannot write (${(e as Error).message.split("\n")[0]})`,
      );
    }
    // A finished run (report) or an interrupted one (log, no report) already holds the stem.
    if (await exists(files.report) || await exists(files.log)) {
      await Deno.remove(files.claim).catch(() => {});
      continue;
    }
    OPEN_CLAIMS.add(files.claim);
    return files;
  }
  throw new UsageError(`out dir ${outDir}: too many runs named ${base}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Releases a stem claim (the report, if written, now holds the name). */
export async function releaseClaim(files: RunFiles): Promise<void> {
  await Deno.remove(files.claim).catch(() => {});
  OPEN_CLAIMS.delete(files.claim);
}

const OPEN_CLAIMS = new Set<string>();

/** Removes every claim still held, at once: for an exit that skips the runs' own cleanup. */
export function releaseOpenClaimsSync(): void {
  for (const claim of OPEN_CLAIMS) {
    try {
      Deno.removeSync(claim);
    } catch { /* already gone */ }
  }
  OPEN_CLAIMS.clear();
}
