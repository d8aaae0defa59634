/**
 * The capacity lines of compare (two `check --find-rate` runs): the sustained rate before and
 * after and its change, whether each full-length run confirmed it, and, in competitive mode, the
 * after rate against the competitor's published QPS (indicative only). The terminal, Markdown
 * and HTML renderings quote these lines as they are.
 * @module
 */
import type { CapacityChange, CapacitySide } from "../verdict/capacity.ts";
import { formatChange, formatOps } from "./format.ts";

/** `480 ops/s`, `≥ 100000 ops/s` (no step failed), `none` (no step passed). */
export function sustainedWords(s: CapacitySide): string {
  if (s.sustainedRate === null) return "none";
  return `${s.bound === "at_least" ? "≥ " : ""}${formatOps(s.sustainedRate)} ops/s`;
}

/** The lines, empty when the comparison has no capacity searches. */
export function capacityLines(c: CapacityChange | null | undefined): string[] {
  if (!c) return [];
  // Each rate is known to within the search's precision: a smaller change is not one.
  const within = c.changePct !== null && Math.abs(c.changePct) <= c.precisionPct
    ? `, within the search precision of ${c.precisionPct}%`
    : "";
  const change = formatChange(c.changePct) + within;
  const lines = [
    `Sustained rate (--find-rate; SLO P99 ≤ ${c.sloP99Ms} ms, errors ≤ ${
      (c.maxErrorRate * 100).toFixed(2)
    }%): before ${sustainedWords(c.before)} → after ${sustainedWords(c.after)} (${change})`,
  ];
  const unconfirmed = (["before", "after"] as const).filter((k) => c[k].confirmed === false);
  if (unconfirmed.length > 0) {
    lines.push(
      `  not confirmed by the full-length run at the rate found: ${unconfirmed.join(" and ")}`,
    );
  }
  if (c.competitor) {
    const k = c.competitor;
    lines.push(
      `  vs ${k.name}'s published ${
        formatOps(k.qps)
      } QPS (indicative only: another workload and client model; ${k.source}): ` +
        (k.ratio === null ? "after found no rate" : `after sustains ${k.ratio.toFixed(2)}×`),
    );
  }
  return lines;
}
