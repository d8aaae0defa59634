/**
 * The `diag` verb: the diagnostics report of a port (engram processes, who holds the port, load
 * average, memory) and, when asked, stopping leaked engram processes after confirmation.
 * @module
 */
import { EXIT } from "../shared/errors.ts";
import { cleanLines, oneLine } from "../shared/sanitize.ts";
import { terminateProcesses } from "./engram.ts";
import { diagnostics, engramProcesses } from "./system.ts";

/** What `diag` does. */
export interface DiagOptions {
  /** The port to report on. */
  port: number;
  /** Stop every process named engram (SIGTERM, SIGKILL after 3 s). */
  killLeaked: boolean;
  /** Do not ask before stopping them (required without a terminal). */
  yes: boolean;
}

/** Asks a yes/no question on the terminal; false unless the answer starts with y. */
function confirmOnTerminal(question: string): boolean {
  const answer = prompt(`${question} [y/N]`);
  return answer !== null && /^y/i.test(answer.trim());
}

/**
 * Prints `diagnostics(port)`; with `killLeaked`, stops the processes named engram after
 * confirmation (never without a terminal unless `yes`). Returns the exit code: 0, or 3 when
 * there is no terminal to confirm on.
 */
export async function runDiag(o: DiagOptions): Promise<number> {
  console.log(cleanLines((await diagnostics(o.port)).trimEnd())); // quotes process commands
  if (!o.killLeaked) return EXIT.ok;

  const procs = await engramProcesses();
  console.log("");
  if (procs.length === 0) {
    console.log("kill-leaked: no engram processes to stop");
    return EXIT.ok;
  }
  console.log(`kill-leaked: ${procs.length} engram process${procs.length === 1 ? "" : "es"}:`);
  for (const p of procs) console.log(`  pid ${p.pid}  ${oneLine(p.command)}`);
  if (!o.yes) {
    if (!Deno.stdin.isTerminal()) {
      console.error(
        "m17_check diag: not stopping them without a terminal to confirm on: pass --yes",
      );
      return EXIT.usage;
    }
    if (
      !confirmOnTerminal(`Stop ${procs.length === 1 ? "it" : "them"} (SIGTERM, SIGKILL after 3 s)?`)
    ) {
      console.log("kill-leaked: nothing stopped");
      return EXIT.ok;
    }
  }
  const survivors = await terminateProcesses(procs.map((p) => p.pid), 3000);
  console.log(`kill-leaked: stopped ${procs.length - survivors.length} of ${procs.length}`);
  for (const pid of survivors) {
    console.error(`  pid ${pid} is still alive (another user's process?)`);
  }
  return EXIT.ok;
}
