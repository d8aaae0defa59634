/**
 * lib/cli/flags.ts: the one parseArgs wrapper and the one set of value parsers, each with the
 * one wording `--flag "text": expected …`.
 */
import assert from "node:assert/strict";
import { UsageError } from "../../lib/shared/errors.ts";
import {
  badValue,
  integerIn,
  nonNegativeNumber,
  numberIn,
  parseFlags,
  percent,
  port,
  positiveNumber,
  seed,
} from "../../lib/cli/flags.ts";

/** Asserts that `f` throws a UsageError whose message is exactly `message`. */
function refuses(f: () => unknown, message: string): void {
  assert.throws(f, (e) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

const SPEC = {
  rate: { type: "string" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

Deno.test("parseFlags returns values and positionals", () => {
  const r = parseFlags(["001", "--rate", "5", "after", "--force", "-h"], SPEC);
  assert.deepEqual(r.positionals, ["001", "after"]);
  assert.equal(r.values.rate, "5");
  assert.equal(r.values.force, true);
  assert.equal(r.values.help, true);
  assert.deepEqual(parseFlags([], SPEC), { values: {}, positionals: [] });
  assert.equal(parseFlags(["--rate=-5"], SPEC).values.rate, "-5");
});

Deno.test("parseFlags: parseArgs errors become one-line UsageErrors in one wording", () => {
  refuses(() => parseFlags(["--bogus"], SPEC), "unknown option --bogus; see --help");
  refuses(
    () => parseFlags(["--forse"], SPEC),
    "unknown option --forse (did you mean --force?); see --help",
  );
  refuses(
    () => parseFlags(["--rate", "-5"], SPEC),
    "--rate: missing value (a value starting with '-' is written --rate=-…)",
  );
  refuses(() => parseFlags(["--rate"], SPEC), "--rate: missing value");
  refuses(() => parseFlags(["--force=yes"], SPEC), "--force: takes no value");
});

Deno.test("positiveNumber: finite and > 0", () => {
  assert.equal(positiveNumber("rate", undefined), undefined);
  assert.equal(positiveNumber("rate", "2.5"), 2.5);
  assert.equal(positiveNumber("rate", "1e3"), 1000);
  for (const bad of ["0", "-1", "abc", "", " ", "NaN", "Infinity"]) {
    refuses(
      () => positiveNumber("rate", bad),
      `--rate ${JSON.stringify(bad)}: expected a number > 0`,
    );
  }
});

Deno.test("nonNegativeNumber: finite and ≥ 0", () => {
  assert.equal(nonNegativeNumber("warmup", undefined), undefined);
  assert.equal(nonNegativeNumber("warmup", "0"), 0);
  assert.equal(nonNegativeNumber("warmup", "1.5"), 1.5);
  for (const bad of ["-0.1", "x", "", "Infinity"]) {
    refuses(
      () => nonNegativeNumber("warmup", bad),
      `--warmup ${JSON.stringify(bad)}: expected a number ≥ 0`,
    );
  }
});

Deno.test("numberIn: a number within [min, max]", () => {
  assert.equal(numberIn("startup-timeout-s", undefined, 1, 3600), undefined);
  assert.equal(numberIn("startup-timeout-s", "1", 1, 3600), 1);
  assert.equal(numberIn("startup-timeout-s", "3600", 1, 3600), 3600);
  for (const bad of ["0.5", "3601", "soon"]) {
    refuses(
      () => numberIn("startup-timeout-s", bad, 1, 3600),
      `--startup-timeout-s ${JSON.stringify(bad)}: expected a number from 1 to 3600`,
    );
  }
});

Deno.test("integerIn and port: whole numbers within range", () => {
  assert.equal(integerIn("runs", "3", 1, 100), 3);
  assert.equal(integerIn("runs", undefined, 1, 100), undefined);
  for (const bad of ["1.5", "0", "101", "three", ""]) {
    refuses(
      () => integerIn("runs", bad, 1, 100),
      `--runs ${JSON.stringify(bad)}: expected an integer from 1 to 100`,
    );
  }
  assert.equal(port("port", "7432"), 7432);
  assert.equal(port("port", undefined), undefined);
  for (const bad of ["0", "65536", "x", "80.5"]) {
    refuses(
      () => port("port", bad),
      `--port ${JSON.stringify(bad)}: expected an integer from 1 to 65535`,
    );
  }
});

Deno.test("percent: a non-negative number, % optional", () => {
  assert.equal(percent("threshold-p99", undefined), undefined);
  assert.equal(percent("threshold-p99", "5"), 5);
  assert.equal(percent("threshold-p99", "2.5%"), 2.5);
  assert.equal(percent("threshold-p99", " 0 "), 0);
  for (const bad of ["five", "-5", "5%%", "", "1e2"]) {
    refuses(
      () => percent("threshold-p99", bad),
      `--threshold-p99 ${JSON.stringify(bad)}: expected a number of percent ≥ 0 (5 or 5%)`,
    );
  }
});

Deno.test("seed: an unsigned 64-bit integer, decimal or 0xHEX", () => {
  assert.equal(seed("seed", undefined), undefined);
  assert.equal(seed("seed", "42"), 42n);
  assert.equal(seed("seed", "0xFF"), 255n);
  for (const bad of ["0xZZ", "-1", "seed"]) {
    refuses(
      () => seed("seed", bad),
      `--seed ${JSON.stringify(bad)}: expected an unsigned 64-bit integer, decimal or 0xHEX`,
    );
  }
});

Deno.test("badValue is the one wording", () => {
  assert.equal(badValue("x", "y", "z").message, '--x "y": expected z');
});
