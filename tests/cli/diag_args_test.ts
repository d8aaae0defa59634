/** lib/cli/diag_args.ts: `m17_check diag`'s flags; bad ones exit 3 with the usage text. */
import assert from "node:assert/strict";
import { diagCommand, parseDiagArgs } from "../../lib/cli/diag_args.ts";
import { UsageError } from "../../lib/shared/errors.ts";

async function quietly(fn: () => Promise<number>): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const { error, log } = console;
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  console.log = () => {};
  try {
    return { code: await fn(), err: err.join("\n") };
  } finally {
    console.error = error;
    console.log = log;
  }
}

Deno.test("parseDiagArgs: the port (default 7432), --kill-leaked, --yes, --help", () => {
  assert.deepEqual(parseDiagArgs([]), {
    kind: "diag",
    options: { port: 7432, killLeaked: false, yes: false },
  });
  assert.deepEqual(parseDiagArgs(["--port", "8080", "--kill-leaked", "-y"]), {
    kind: "diag",
    options: { port: 8080, killLeaked: true, yes: true },
  });
  assert.deepEqual(parseDiagArgs(["-h"]), { kind: "help" });
  assert.throws(() => parseDiagArgs(["--port", "x"]), UsageError);
  assert.throws(() => parseDiagArgs(["extra"]), /unexpected argument "extra"/);
});

Deno.test("diagCommand: a bad flag exits 3 with the one wording and the usage", async () => {
  const port = await quietly(() => diagCommand(["--port", "x"]));
  assert.equal(port.code, 3);
  assert.match(port.err, /^m17_check diag: --port "x": expected an integer from 1 to 65535\n/);
  assert.match(port.err, /Usage: m17_check diag/);
  const bogus = await quietly(() => diagCommand(["--bogus"]));
  assert.equal(bogus.code, 3);
  assert.match(bogus.err, /^m17_check diag: unknown option --bogus/);
  assert.equal((await quietly(() => diagCommand(["--help"]))).code, 0);
});
