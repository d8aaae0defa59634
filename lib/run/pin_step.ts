/**
 * The CPU pinning step (`--client-cpus` / `--server-cpus`, lib/target/pin.ts), before the target
 * starts: pins this process now, and says which CPUs the server it starts gets.
 * @module
 */
import { availableParallelism } from "node:os";
import { UsageError } from "../shared/errors.ts";
import { cpusMissing, hostCpus, pinningUnavailable, pinSelf, planPinning } from "../target/pin.ts";
import type { CheckOptions } from "./options.ts";

/**
 * `--client-cpus` / `--server-cpus` name only CPUs this host has: a list it does not have is bad
 * input (a UsageError before anything is written), never a taskset error and an unpinned run.
 */
export async function checkCpuLists(o: CheckOptions): Promise<void> {
  const asked = [["--client-cpus", o.clientCpus], ["--server-cpus", o.serverCpus]] as const;
  if (asked.every(([, list]) => list === undefined)) return;
  const host = await hostCpus(availableParallelism());
  for (const [flag, list] of asked) {
    const missing = list === undefined ? null : cpusMissing(flag, list, host);
    if (missing !== null) throw new UsageError(missing);
  }
}

/** The CPUs in force: null where nothing is pinned. */
export interface Pinned {
  client: string | null;
  server: string | null;
}

/**
 * Plans and applies pinning, one line each to `say`: what was pinned, or that pinning is
 * unavailable here (the run continues unpinned).
 */
export async function applyPinning(
  o: CheckOptions,
  startsServer: boolean,
  say: (line: string) => void,
): Promise<Pinned> {
  const plan = planPinning({
    clientCpus: o.clientCpus,
    serverCpus: o.serverCpus,
    cores: availableParallelism(),
    startsServer,
  });
  if (plan.kind === "none") return { client: null, server: null };
  const unavailable = await pinningUnavailable();
  if (unavailable !== null) {
    say(`${unavailable}: running unpinned`);
    return { client: null, server: null };
  }
  let client = plan.client;
  if (client !== null) {
    const failed = await pinSelf(client);
    if (failed !== null) {
      say(`${failed}: the load generator runs unpinned`);
      client = null;
    }
  }
  const what = [
    client !== null ? `load generator on CPUs ${client}` : null,
    plan.server !== null ? `server on CPUs ${plan.server}` : null,
  ].filter((x) => x !== null).join(", ");
  if (what !== "") {
    say(
      `CPU pinning (${plan.source === "default" ? "default on this host" : "as asked"}): ${what}`,
    );
  }
  return { client, server: plan.server };
}
