/**
 * Where the server's CPU went, before vs after: the functions whose share of all samples
 * changed most, self (on top of the stack) and total (anywhere in it), in percentage points.
 * Ranked by the size of the self change (the function that burns the new time is first; its
 * callers follow on total), then of the total change. Shares, not sample counts, are compared,
 * so profiles with different totals compare fairly. Each row carries an approximate 95% noise
 * band of its self change (two binomial proportions; samples close in time are correlated, so
 * treat it as a floor). Below MIN_PROFILE_SAMPLES samples on either side there is no table,
 * only the reason.
 * @module
 */
import { type FoldedProfile, functionSamples } from "../report/profile.ts";

/**
 * The fewest samples a profile needs to be compared. At 200 samples a 10% share is known to
 * about ±4 pp (95%); fewer and the ranking is mostly noise. At 99 Hz that is about 2 s of one
 * busy core.
 */
export const MIN_PROFILE_SAMPLES = 200;

/** One function's share of all samples before and after, in percent and percentage points. */
export interface FunctionShareChange {
  readonly name: string;
  readonly selfBeforePct: number;
  readonly selfAfterPct: number;
  readonly selfChangePp: number;
  readonly totalBeforePct: number;
  readonly totalAfterPct: number;
  readonly totalChangePp: number;
  /** Approximate 95% half-width of the self change (pp): smaller changes may be noise. */
  readonly selfNoisePp: number;
}

/** The comparison of two profiles, or why there is none. */
export type ProfileComparison =
  | {
    readonly kind: "compared";
    readonly beforeSamples: number;
    readonly afterSamples: number;
    /** Largest self change first; at most `top` rows. */
    readonly rows: readonly FunctionShareChange[];
  }
  | {
    readonly kind: "too_few_samples";
    readonly beforeSamples: number;
    readonly afterSamples: number;
    readonly minimum: number;
  };

/**
 * Compares two profiles function by function.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { compareProfiles } from "./profile_diff.ts";
 * import { parseFolded } from "../report/profile.ts";
 * const before = parseFolded("srv;handle;store 300\nsrv;handle;burn 100\n");
 * const after = parseFolded("srv;handle;store 100\nsrv;handle;burn 300\n");
 * if (typeof before === "string" || typeof after === "string") throw new Error("bad fixture");
 * const c = compareProfiles(before, after);
 * strictEqual(c.kind === "compared" && c.rows[0].name, "burn");
 * strictEqual(c.kind === "compared" && c.rows[0].selfChangePp, 50);
 * ```
 */
export function compareProfiles(
  before: FoldedProfile,
  after: FoldedProfile,
  opts: { top?: number; minSamples?: number } = {},
): ProfileComparison {
  const minimum = opts.minSamples ?? MIN_PROFILE_SAMPLES;
  const beforeSamples = before.samples;
  const afterSamples = after.samples;
  if (beforeSamples < minimum || afterSamples < minimum) {
    return { kind: "too_few_samples", beforeSamples, afterSamples, minimum };
  }
  const b = functionSamples(before);
  const a = functionSamples(after);
  const pctOf = (n: number, total: number) => 100 * n / total;
  const rows: FunctionShareChange[] = [];
  for (const name of new Set([...b.keys(), ...a.keys()])) {
    const sb = pctOf(b.get(name)?.self ?? 0, beforeSamples);
    const sa = pctOf(a.get(name)?.self ?? 0, afterSamples);
    const tb = pctOf(b.get(name)?.total ?? 0, beforeSamples);
    const ta = pctOf(a.get(name)?.total ?? 0, afterSamples);
    const pb = sb / 100;
    const pa = sa / 100;
    rows.push({
      name,
      selfBeforePct: sb,
      selfAfterPct: sa,
      selfChangePp: sa - sb,
      totalBeforePct: tb,
      totalAfterPct: ta,
      totalChangePp: ta - tb,
      selfNoisePp: 100 * 1.96 *
        Math.sqrt(pb * (1 - pb) / beforeSamples + pa * (1 - pa) / afterSamples),
    });
  }
  rows.sort((x, y) =>
    Math.abs(y.selfChangePp) - Math.abs(x.selfChangePp) ||
    Math.abs(y.totalChangePp) - Math.abs(x.totalChangePp) ||
    x.name.localeCompare(y.name)
  );
  return { kind: "compared", beforeSamples, afterSamples, rows: rows.slice(0, opts.top ?? 10) };
}

/** One line saying why two profiles are not compared. */
export function tooFewSamplesReason(
  c: Extract<ProfileComparison, { kind: "too_few_samples" }>,
): string {
  return `profiles not compared: ${c.beforeSamples} samples before, ${c.afterSamples} after; ` +
    `at least ${c.minimum} on each side are needed (a longer --duration or more load)`;
}
