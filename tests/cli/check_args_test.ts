/**
 * lib/cli/check_args.ts: the verbs, a run's options, and the `--ref-*` knobs validated by the
 * reference server's own `validateKnobs` (one range, one rule, one wording).
 */
import assert from "node:assert/strict";
import { checkVerb, parseCheckArgs } from "../../lib/cli/check_args.ts";
import { parseConfirmArgs } from "../../lib/cli/confirm_args.ts";
import { validateKnobs } from "../../lib/reference/knobs.ts";
import { parseServeArgs } from "../../lib/reference/args.ts";
import { UsageError } from "../../lib/shared/errors.ts";

function options(argv: string[]) {
  const cmd = parseCheckArgs(argv);
  assert.ok(cmd.kind === "run" || cmd.kind === "dry-run", cmd.kind);
  return cmd.options;
}

/** The message of the UsageError `f` throws. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    return e.message;
  }
  assert.fail("no UsageError");
}

Deno.test("checkVerb splits off diag, install-scripts and serve; anything else is a run", () => {
  assert.deepEqual(checkVerb(["diag", "--port", "1"]), { verb: "diag", argv: ["--port", "1"] });
  assert.deepEqual(checkVerb(["install-scripts", "d"]), { verb: "install-scripts", argv: ["d"] });
  assert.deepEqual(checkVerb(["serve"]), { verb: "serve", argv: [] });
  assert.deepEqual(checkVerb(["001", "after"]), { verb: "run", argv: ["001", "after"] });
  assert.deepEqual(checkVerb([]), { verb: "run", argv: [] });
});

Deno.test("parseCheckArgs: defaults and overrides", () => {
  const o = options(["001", "after", "--competitive", "--rate", "250", "--warmup", "0"]);
  assert.equal(o.task, "001");
  assert.equal(o.phase, "after");
  assert.equal(o.competitive, true);
  assert.equal(o.rate, 250);
  assert.equal(o.warmupSeconds, 0);
  assert.equal(o.port, 7432);
  assert.equal(o.timeoutMs, 10_000);
  assert.equal(o.maxInFlight, 64);
  assert.equal(o.startupTimeoutMs, 60_000);
  assert.equal(o.runCount, 1);
  assert.deepEqual(o.knobs, {});
  assert.equal(options(["001", "before", "--competitive"]).competitive, true);
  assert.equal(parseCheckArgs(["001", "--dry-run"]).kind, "dry-run");
  assert.deepEqual(parseCheckArgs(["--help"]), { kind: "help" });
});

Deno.test("--ref-* knobs: only those given are kept, as numbers", () => {
  const o = options([
    "t",
    "--ref-latency-ms",
    "2.5",
    "--ref-stall-every-s",
    "2",
    "--ref-stall-ms",
    "100",
    "--ref-no-spreading",
    "--seed",
    "0x10",
  ]);
  assert.deepEqual(o.knobs, {
    latencyMs: 2.5,
    stallEverySeconds: 2,
    stallMs: 100,
    noSpreading: true,
    seed: "16",
  });
});

Deno.test("--ref-* knobs are refused exactly when the reference server refuses them", () => {
  const cases: [string, string][][] = [
    [["latency-ms", "600000"]],
    [["latency-ms", "600001"]],
    [["latency-ms", "70000"]], // refused by check alone before: 60,000 was its limit
    [["jitter-ms", "-1"]],
    [["error-rate", "1"]],
    [["error-rate", "1.5"]],
    [["error-rate", "x"]],
    [["stall-every-s", "1"], ["stall-ms", "5000"]], // longer than the period
    [["stall-every-s", "1"], ["stall-ms", "1000"]],
    [["stall-ms", "100"]],
    [["stall-every-s", "0"], ["stall-ms", "0"]],
    [["stall-every-s", "86401"], ["stall-ms", "1"]],
  ];
  for (const flags of cases) {
    const serve = flags.map(([f, v]) => `--${f}=${v}`);
    const check = flags.map(([f, v]) => `--ref-${f}=${v}`);
    let serverRefused: string | null = null;
    try {
      parseServeArgs(serve);
    } catch (e) {
      assert.ok(e instanceof UsageError);
      serverRefused = e.message;
    }
    if (serverRefused === null) {
      options(["t", ...check]);
    } else {
      // The same problem, with check's flag names.
      assert.equal(
        refusal(() => parseCheckArgs(["t", ...check])),
        serverRefused.replaceAll("--", "--ref-"),
        serve.join(" "),
      );
    }
  }
});

Deno.test("validateKnobs: one range per knob, a stall needs both halves and fits its period", () => {
  assert.deepEqual(validateKnobs({}), {
    ok: true,
    knobs: { latencyMs: 0, jitterMs: 0, errorRate: 0, stallEverySeconds: 0, stallMs: 0 },
  });
  assert.deepEqual(validateKnobs({ latencyMs: "600001" }, "ref-"), {
    ok: false,
    problem: '--ref-latency-ms "600001": expected a number from 0 to 600000',
  });
  assert.deepEqual(validateKnobs({ stallMs: "100" }), {
    ok: false,
    problem: "--stall-every-s and --stall-ms go together",
  });
  assert.deepEqual(validateKnobs({ stallEverySeconds: "1", stallMs: "5000" }, "ref-"), {
    ok: false,
    problem: "--ref-stall-ms 5000 is longer than the period --ref-stall-every-s 1 (1000 ms)",
  });
});

Deno.test("--workers: absent means the default (chosen from rate and cores), else 1 to 64", () => {
  assert.equal(options(["t", "before"]).workers, undefined);
  assert.equal(options(["t", "before", "--workers", "3"]).workers, 3);
  assert.equal(
    refusal(() => parseCheckArgs(["t", "--workers", "0"])),
    '--workers "0": expected an integer from 1 to 64',
  );
});

Deno.test("parseCheckArgs refuses bad values in the one wording", () => {
  assert.equal(
    refusal(() => parseCheckArgs(["t", "--rate", "0"])),
    '--rate "0": expected a number > 0',
  );
  assert.equal(
    refusal(() => parseCheckArgs(["t", "--port", "70000"])),
    '--port "70000": expected an integer from 1 to 65535',
  );
  assert.equal(
    refusal(() => parseCheckArgs(["t", "--seed", "0xZZ"])),
    '--seed "0xZZ": expected an unsigned 64-bit integer, decimal or 0xHEX',
  );
  assert.equal(
    refusal(() => parseCheckArgs(["t", "--bogus"])),
    "unknown option --bogus; see --help",
  );
});

Deno.test("--client-cpus / --server-cpus: CPU lists in the one wording; --server-cpus not with --url", () => {
  const o = options(["t", "before"]);
  assert.equal(o.clientCpus, undefined);
  assert.equal(o.serverCpus, undefined);
  const p = options(["t", "--client-cpus", "0", "--server-cpus", "1-3, 5"]);
  assert.equal(p.clientCpus, "0");
  assert.equal(p.serverCpus, "1-3,5");
  for (const bad of ["", "a", "3-1", "0,,1", "1024", "-1"]) {
    assert.equal(
      refusal(() => parseCheckArgs(["t", `--client-cpus=${bad}`])),
      `--client-cpus ${
        JSON.stringify(bad)
      }: expected a CPU list like 0-3,6 (CPUs 0 to 1023, ranges ascending)`,
    );
  }
  assert.equal(
    refusal(() => parseCheckArgs(["t", "--url", "http://127.0.0.1:1", "--server-cpus", "1"])),
    "--server-cpus only applies to a server check starts, not to --url",
  );
  assert.equal(options(["t", "--url", "http://127.0.0.1:1", "--client-cpus", "1"]).clientCpus, "1");
});

Deno.test("checkVerb: `<task> confirm` (also after the positional --competitive) and `builds`", () => {
  assert.deepEqual(checkVerb(["001", "confirm", "--pairs", "3"]), {
    verb: "confirm",
    argv: ["001", "--pairs", "3"],
  });
  assert.deepEqual(checkVerb(["001", "--competitive", "confirm"]), {
    verb: "confirm",
    argv: ["001", "--competitive"],
  });
  assert.deepEqual(checkVerb(["builds", "prune"]), { verb: "builds", argv: ["prune"] });
  assert.equal(checkVerb(["001", "before", "confirm"]).verb, "run"); // refused by the run's parser
});

Deno.test("parseConfirmArgs: defaults, ranges, competitive either way", () => {
  const c = parseConfirmArgs(["001", "--seed-order", "0x10"]);
  assert.ok(c.kind === "confirm");
  assert.equal(c.options.budgetMinutes, 20);
  assert.equal(c.options.maxPairs, 20);
  assert.equal(c.options.orderSeed, 16n);
  assert.equal(c.options.outDir, "tmp/m17_performance");
  const d = parseConfirmArgs(["001", "--competitive", "--budget", "2.5", "--pairs", "6"]);
  assert.ok(d.kind === "confirm" && d.options.competitive && d.options.budgetMinutes === 2.5);
  assert.throws(() => parseConfirmArgs(["001", "--pairs", "0"]), UsageError);
  assert.throws(() => parseConfirmArgs(["001", "--budget", "-1"]), UsageError);
  assert.throws(() => parseConfirmArgs(["001", "after"]), /unexpected argument "after"/);
  assert.throws(() => parseConfirmArgs([]), /which task/);
  assert.equal(parseConfirmArgs(["--help"]).kind, "help");
});
