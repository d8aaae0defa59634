/**
 * The one command-line parser of every verb: a wrapper over `node:util` `parseArgs` that turns
 * its errors into one-line `UsageError`s, and one set of value parsers with one wording:
 * `--rate "abc": expected a number > 0`.
 *
 * @example
 * ```ts
 * import { strictEqual, throws } from "node:assert/strict";
 * import { integerIn, parseFlags } from "./flags.ts";
 *
 * const { values, positionals } = parseFlags(["001", "--port", "7432"], {
 *   port: { type: "string" },
 * });
 * strictEqual(positionals[0], "001");
 * strictEqual(integerIn("port", values.port, 1, 65535), 7432);
 * throws(() => integerIn("port", "x", 1, 65535), /--port "x": expected an integer from 1 to 65535/);
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { messageOf, suggest, UsageError } from "../shared/errors.ts";
import { parseSeed } from "../workload/prng.ts";

/** One option of a verb, as `parseArgs` takes it. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
}

/** A verb's options by long name. */
export type FlagSpecs = Record<string, FlagSpec>;

/** The values of `S`: strings or booleans, undefined when not given. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]?: S[K]["type"] extends "boolean" ? boolean : string;
};

/** A parsed command line. */
export interface ParsedFlags<S extends FlagSpecs> {
  values: FlagValues<S>;
  positionals: string[];
}

/**
 * Parses `argv` strictly against `spec` (positionals allowed; each verb checks their number).
 * Unknown options, missing values and values given to booleans throw a one-line `UsageError`.
 */
export function parseFlags<S extends FlagSpecs>(argv: string[], spec: S): ParsedFlags<S> {
  try {
    const parsed = parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
    return { values: { ...parsed.values } as FlagValues<S>, positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError(parseArgsProblem(messageOf(e), Object.keys(spec)));
  }
}

/** The one wording of a `parseArgs` error. */
function parseArgsProblem(message: string, names: string[]): string {
  const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(message);
  if (unknown) {
    const hint = suggest(unknown[1].replace(/^-+/, ""), names);
    return `unknown option ${unknown[1]}${hint ? ` (did you mean --${hint}?)` : ""}; see --help`;
  }
  // "--rate -5" reads as a missing value followed by an option named -5.
  const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    const flag = ambiguous[1];
    return `${flag}: missing value (a value starting with '-' is written ${flag}=-…)`;
  }
  const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
  if (missing) return `${missing[1]}: missing value`;
  const noValue = /^Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(message);
  if (noValue) return `${noValue[1]}: takes no value`;
  return message.replace(/\. To specify a positional argument.*$/, "");
}

/** The error of a bad value: `--flag "text": expected what`. */
export function badValue(flag: string, text: string, expected: string): UsageError {
  return new UsageError(`--${flag} ${JSON.stringify(text)}: expected ${expected}`);
}

/** `text` as a number that `accept`s, else the one-wording error saying what was `expected`. */
function parseNumber(
  flag: string,
  text: string | undefined,
  accept: (n: number) => boolean,
  expected: string,
): number | undefined {
  if (text === undefined) return undefined;
  const n = text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(n) || !accept(n)) throw badValue(flag, text, expected);
  return n;
}

/** A finite number > 0 (a rate, a duration); undefined when the flag is absent. */
export function positiveNumber(flag: string, text: string | undefined): number | undefined {
  return parseNumber(flag, text, (n) => n > 0, "a number > 0");
}

/** A finite number ≥ 0 (a warm-up); undefined when the flag is absent. */
export function nonNegativeNumber(flag: string, text: string | undefined): number | undefined {
  return parseNumber(flag, text, (n) => n >= 0, "a number ≥ 0");
}

/** A number in [min, max]; undefined when the flag is absent. */
export function numberIn(
  flag: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  return parseNumber(flag, text, (n) => n >= min && n <= max, `a number from ${min} to ${max}`);
}

/** An integer in [min, max]; undefined when the flag is absent. */
export function integerIn(
  flag: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  return parseNumber(
    flag,
    text,
    (n) => Number.isInteger(n) && n >= min && n <= max,
    `an integer from ${min} to ${max}`,
  );
}

/** A TCP port, 1 to 65535; undefined when the flag is absent. */
export function port(flag: string, text: string | undefined): number | undefined {
  return integerIn(flag, text, 1, 65535);
}

/** A percentage ≥ 0, with or without `%` (`5`, `2.5%`); undefined when the flag is absent. */
export function percent(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?%?$/.test(text.trim())) {
    throw badValue(flag, text, "a number of percent ≥ 0 (5 or 5%)");
  }
  return Number(text.trim().replace(/%$/, ""));
}

/** A seed: an unsigned 64-bit integer, decimal or 0xHEX; undefined when the flag is absent. */
export function seed(flag: string, text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const parsed = parseSeed(text);
  if (parsed === undefined) {
    throw badValue(flag, text, "an unsigned 64-bit integer, decimal or 0xHEX");
  }
  return parsed;
}

/**
 * A Linux CPU list (`0-3,6`: CPU numbers from 0 to 1023, ranges ascending), as given with spaces
 * removed; undefined when the flag is absent.
 *
 * @example
 * ```ts
 * import { strictEqual, throws } from "node:assert/strict";
 * strictEqual(cpuList("client-cpus", "0-1, 3"), "0-1,3");
 * throws(() => cpuList("client-cpus", "3-1"), /--client-cpus "3-1": expected a CPU list/);
 * ```
 */
export function cpuList(flag: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const list = text.replace(/\s+/g, "");
  const ok = list !== "" && list.split(",").every((part) => {
    const m = part.match(/^(\d{1,4})(?:-(\d{1,4}))?$/);
    if (!m) return false;
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    return lo <= hi && hi <= 1023;
  });
  if (!ok) throw badValue(flag, text, "a CPU list like 0-3,6 (CPUs 0 to 1023, ranges ascending)");
  return list;
}
