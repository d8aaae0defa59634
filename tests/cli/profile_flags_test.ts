/** `check --profile`, `--profile-pid` and `--ref-cpu-burn` on the command line; `serve --cpu-burn`. */
import assert from "node:assert/strict";
import { parseCheckArgs } from "../../lib/cli/check_args.ts";
import { parseServeArgs } from "../../lib/reference/args.ts";
import { UsageError } from "../../lib/shared/errors.ts";

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    return e.message;
  }
  assert.fail("no UsageError");
}

Deno.test("--profile and --profile-pid reach the run's options", () => {
  const cmd = parseCheckArgs([
    "t",
    "before",
    "--url",
    "http://127.0.0.1:7432",
    "--profile",
    "--profile-pid",
    "42",
  ]);
  assert.ok(cmd.kind === "run");
  assert.equal(cmd.options.profile, true);
  assert.equal(cmd.options.profilePid, 42);
  const plain = parseCheckArgs(["t", "before"]);
  assert.ok(plain.kind === "run" && plain.options.profile === false);
});

Deno.test("--profile-pid only with --url and --profile", () => {
  assert.equal(
    refusal(() => parseCheckArgs(["t", "before", "--profile", "--profile-pid", "42"])),
    "--profile-pid goes with --url and --profile (other targets are known)",
  );
  assert.match(
    refusal(() =>
      parseCheckArgs([
        "t",
        "before",
        "--url",
        "http://127.0.0.1:1",
        "--profile",
        "--profile-pid",
        "x",
      ])
    ),
    /profile-pid/,
  );
});

Deno.test("--ref-cpu-burn is checked by the reference's own parser and passed as OP:MS", () => {
  const cmd = parseCheckArgs(["t", "after", "--ref-cpu-burn", "recall:0.5"]);
  assert.ok(cmd.kind === "run");
  assert.equal(cmd.options.knobs.cpuBurn, "recall:0.5");
  assert.match(
    refusal(() => parseCheckArgs(["t", "after", "--ref-cpu-burn", "fly:1"])),
    /^--ref-cpu-burn "fly:1": expected OP:MS/,
  );
  assert.deepEqual(parseServeArgs(["--cpu-burn", "store:2"]).options.cpuBurn, {
    op: "store",
    ms: 2,
  });
  assert.match(
    refusal(() => parseServeArgs(["--cpu-burn", "store:2000"])),
    /^--cpu-burn "store:2000"/,
  );
});
