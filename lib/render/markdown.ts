/**
 * A Markdown rendering of a comparison for a pull request: the comparison table, per-run
 * values, positioning and verdict lines, without ANSI or terminal layout.
 * @module
 */
import { capacityLines } from "./capacity_words.ts";
import type { Comparison, Verdict } from "../verdict/types.ts";
import { VERSION } from "../shared/version.ts";
import { positionWords, thresholdWords } from "./format.ts";
import { statsHeading, tableRows } from "./terminal.ts";
import {
  commitLine,
  differenceLines,
  headerLine,
  noiseLines,
  notJudgedLines,
  perRunLines,
  regressionLines,
  resolutionLine,
  ruledOutLines,
  successLine,
} from "./wording.ts";

/** A Markdown rendering for a pull request (no ANSI, no terminal layout). */
export function renderMarkdown(c: Comparison, v: Verdict): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const heading = statsHeading(c);
  const differences = differenceLines(c);
  const out = [
    `### ${headerLine(c).replaceAll("=", "").trim()}`,
    "",
    ...(differences.length > 0 ? [...differences.map((l) => `- ${cell(l)}`), ""] : []),
    heading === null
      ? "| Metric | Before | After | Change |"
      : `| Metric | Before | After | Change | ${heading} |`,
    heading === null ? "| --- | ---: | ---: | ---: |" : "| --- | ---: | ---: | ---: | ---: |",
    ...tableRows(c).map((r) =>
      `| ${cell(r.label)} | ${r.before} | ${r.after} | ${r.change} |` +
      (heading === null ? "" : ` ${r.stats} |`)
    ),
    "",
  ];
  const perRun = perRunLines(c);
  if (perRun.length > 0) {
    out.push(`_${perRun.slice(0, 2).join(" ")}_`, "", "```", ...perRun.slice(2), "```", "");
  }
  const pos = c.positioning;
  if (pos) {
    const b = pos.baseline;
    out.push(
      `| Metric | vs ${cell(b.displayName)} |`,
      "| --- | ---: |",
      `| P99 latency | ${positionWords(pos.gapPct)} |`,
      `| ${cell(b.displayName)} P99 | ${b.p99Ms.toFixed(2)}ms (baseline) |`,
      `| Engram P99 | ${pos.engramP99Ms.toFixed(2)}ms (Engram) |`,
      "",
      `_${cell(b.displayName)} baseline: ${[b.source, b.workload].filter(Boolean).join("; ")}. ` +
        `${b.caveat ?? "Indicative only: different workload."}_`,
      "",
    );
  }
  const capacity = capacityLines(c.capacity);
  if (capacity.length > 0) out.push(...capacity.map((l) => `- ${cell(l.trim())}`), "");
  const verdict = v.kind === "pass"
    ? [`**${successLine(c, v.thresholds)}**`]
    : [...regressionLines(c, v).map((l) => `- **${l}**`), ...ruledOutLines(c).map((l) => `- ${l}`)];
  out.push(
    `_Thresholds: ${thresholdWords(v.thresholds)}. ${resolutionLine()}._`,
    "",
    ...[...notJudgedLines(v), ...noiseLines(c, v.thresholds)].map((l) => `_${l}_`),
    ...verdict,
    "",
  );
  out.push(`\`${commitLine(c, v)}\``, "");
  out.push(
    `<sub>Before: \`${c.before.path}\` · After: \`${c.after.path}\` · m17_compare ${VERSION}</sub>`,
  );
  return out.join("\n") + "\n";
}
