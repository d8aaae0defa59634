/**
 * Reliability, CPU lists (issue 25, class 9): `--client-cpus` / `--server-cpus` naming a CPU the
 * host does not have is bad input: one line, exit 3, nothing written (never a taskset error and
 * an unpinned run).
 */
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { listing, run } from "../fixtures/reliability.ts";

const SHORT = ["--duration", "2", "--warmup", "0", "--rate", "100"];

Deno.test("a CPU list the host does not have: one line, exit 3, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_rel_cpus_" });
  const beyond = availableParallelism() + 97; // e.g. 99 on a 2-core host
  try {
    const cases: [string, string[], RegExp][] = [
      [
        "client",
        ["--reference", "--client-cpus", String(beyond)],
        new RegExp(
          `^m17_check: --client-cpus ${beyond}: this host has no CPU ${beyond} \\(its CPUs: [0-9,-]+\\)$`,
        ),
      ],
      [
        "server",
        ["--reference", "--server-cpus", `0-${beyond}`],
        new RegExp(`^m17_check: --server-cpus 0-${beyond}: this host has no CPU \\d+`),
      ],
      [
        "dry-run",
        ["--dry-run", "--client-cpus", String(beyond)],
        new RegExp(`^m17_check: --client-cpus ${beyond}: this host has no CPU ${beyond} `),
      ],
      [
        "url",
        ["--url", "http://127.0.0.1:9", "--client-cpus", `0,${beyond}`],
        new RegExp(`^m17_check: --client-cpus 0,${beyond}: this host has no CPU ${beyond} `),
      ],
    ];
    for (const [name, args, line] of cases) {
      const out = join(dir, name);
      const r = await run(["t1", ...args, ...SHORT, "--out-dir", out]);
      assert.equal(r.code, 3, `${name}: ${r.stdout}\n${r.stderr}`);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${name}: one line:\n${r.stderr}`);
      assert.match(lines[0], line);
      assert.equal(listing(out), null, `${name}: nothing written`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
