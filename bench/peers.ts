/**
 * The peer load generators the benchmarks compare m17 with, installed from the registries this
 * project reaches when they are missing: vegeta (Go module proxy, open loop, the peer for pacing
 * and CPU) and wrk (Debian, closed loop, for capacity).
 * @module
 */
import { join } from "node:path";

/** vegeta's pinned version (`go install …@VEGETA_VERSION`). */
export const VEGETA_VERSION = "v12.13.0";

async function run(cmd: string, args: string[], timeoutMs: number) {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutMs);
  try {
    return await child.output();
  } finally {
    clearTimeout(timer);
  }
}

async function works(path: string, args: string[]): Promise<boolean> {
  try {
    return (await run(path, args, 10_000)).success;
  } catch {
    return false;
  }
}

/** The vegeta binary, installed with `go install` into ~/go/bin when absent. */
export async function ensureVegeta(log: (t: string) => void): Promise<string> {
  const gopath = Deno.env.get("GOPATH") ?? join(Deno.env.get("HOME") ?? "/root", "go");
  const bin = join(gopath, "bin", "vegeta");
  if (await works(bin, ["-version"])) return bin;
  log(`installing vegeta ${VEGETA_VERSION} with go install`);
  const r = await run(
    "go",
    ["install", `github.com/tsenart/vegeta/v12@${VEGETA_VERSION}`],
    600_000,
  );
  if (!r.success || !(await works(bin, ["-version"]))) {
    throw new Error(
      `cannot install vegeta (go install github.com/tsenart/vegeta/v12@${VEGETA_VERSION}): ${
        new TextDecoder().decode(r.stderr).trim().split("\n").at(-1)
      }`,
    );
  }
  return bin;
}

/** The wrk binary, installed from Debian (`apt-get install wrk`) when absent. */
export async function ensureWrk(log: (t: string) => void): Promise<string> {
  for (const p of ["/usr/bin/wrk", "/usr/local/bin/wrk"]) {
    if (await works(p, ["--version"]) || (await Deno.stat(p).catch(() => null))) return p;
  }
  log("installing wrk with apt-get");
  const r = await run("apt-get", ["install", "-y", "wrk"], 600_000);
  if (!r.success) throw new Error("cannot install wrk (apt-get install -y wrk)");
  return "/usr/bin/wrk";
}
