/**
 * The profile comparison as text: the terminal table printed after the verdict, the Markdown
 * table, the JSON value, and the HTML section (table plus the differential flame graph). One
 * set of rows (verdict/profile_diff.ts) feeds all four.
 * @module
 */
import { dirname, relative, resolve, sep } from "node:path";
import { match } from "ts-pattern";
import {
  type FunctionShareChange,
  type ProfileComparison,
  tooFewSamplesReason,
} from "../verdict/profile_diff.ts";
import { escapeXml } from "./flamegraph.ts";
import { oneLine } from "../shared/sanitize.ts";

/** How the profiles were recorded, for the heading line. */
export interface ProfileSource {
  /** Sampling frequency in Hz. */
  readonly frequencyHz: number;
}

/** `+1.2 pp` / `−0.4 pp`. */
export function formatPp(delta: number): string {
  return `${delta >= 0 ? "+" : "−"}${Math.abs(delta).toFixed(1)} pp`;
}

/**
 * A function name as printed: control characters and escape sequences gone (the name comes from
 * the profiled binary's symbols), cut in the middle when long so both the crate and the
 * function stay readable.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { shortName } from "./profile_table.ts";
 * strictEqual(shortName("spread\x1b[2J\x1b[31m!"), "spread!");
 * ```
 */
export function shortName(raw: string, max = 60): string {
  const name = oneLine(raw, Infinity);
  if (name.length <= max) return name;
  const head = Math.ceil((max - 1) / 2);
  return `${name.slice(0, head)}…${name.slice(name.length - (max - 1 - head))}`;
}

function shares(before: number, after: number, delta: number): string {
  return `${before.toFixed(1)}% → ${after.toFixed(1)}% ${formatPp(delta)}`;
}

function heading(c: Extract<ProfileComparison, { kind: "compared" }>, src: ProfileSource): string {
  return `Server CPU by function (perf, ${src.frequencyHz} Hz): ${c.beforeSamples} samples before, ` +
    `${c.afterSamples} after; share of all samples, largest self change first`;
}

/** A row's self change within its noise band gets a mark, explained under the table. */
function noiseMark(r: FunctionShareChange): string {
  return Math.abs(r.selfChangePp) <= r.selfNoisePp ? " ~" : "";
}

/**
 * The terminal table.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { renderProfileTable } from "./profile_table.ts";
 * const text = renderProfileTable({ kind: "too_few_samples", beforeSamples: 12, afterSamples: 900, minimum: 200 }, { frequencyHz: 99 });
 * ok(text.startsWith("profiles not compared: 12 samples before"));
 * ```
 */
export function renderProfileTable(c: ProfileComparison, src: ProfileSource): string {
  return match(c)
    .with({ kind: "too_few_samples" }, (t) => `${tooFewSamplesReason(t)}\n`)
    .with({ kind: "compared" }, (t) => {
      const rows = t.rows.map((r) => [
        shortName(r.name),
        shares(r.selfBeforePct, r.selfAfterPct, r.selfChangePp) + noiseMark(r),
        shares(r.totalBeforePct, r.totalAfterPct, r.totalChangePp),
      ]);
      const head = ["Function", "Self before → after", "Total before → after"];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (cells: string[]) =>
        cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join("  ")
          .trimEnd();
      return [
        heading(t, src),
        line(head),
        ...rows.map(line),
        ...(rows.some((r) => r[1].endsWith(" ~"))
          ? ["~ self change within its approximate 95% sampling noise"]
          : []),
      ].join("\n") + "\n";
    })
    .exhaustive();
}

/** The Markdown table (for `compare --markdown`). */
export function renderProfileMarkdown(c: ProfileComparison, src: ProfileSource): string {
  return match(c)
    .with({ kind: "too_few_samples" }, (t) => `_${tooFewSamplesReason(t)}_\n`)
    .with({ kind: "compared" }, (t) => {
      const cell = (s: string) => s.replaceAll("|", "\\|");
      return [
        `_${heading(t, src)}_`,
        "",
        "| Function | Self before → after | Total before → after |",
        "| --- | ---: | ---: |",
        ...t.rows.map((r) =>
          `| \`${cell(shortName(r.name, 80))}\` | ${
            shares(r.selfBeforePct, r.selfAfterPct, r.selfChangePp)
          }${noiseMark(r)} | ${shares(r.totalBeforePct, r.totalAfterPct, r.totalChangePp)} |`
        ),
      ].join("\n") + "\n";
    })
    .exhaustive();
}

/** The JSON value (for `compare --json`): numbers rounded to 0.01. */
export function profileComparisonJson(c: ProfileComparison, src: ProfileSource) {
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return match(c)
    .with({ kind: "too_few_samples" }, (t) => ({
      compared: false as const,
      frequency_hz: src.frequencyHz,
      before_samples: t.beforeSamples,
      after_samples: t.afterSamples,
      minimum_samples: t.minimum,
      reason: tooFewSamplesReason(t),
    }))
    .with({ kind: "compared" }, (t) => ({
      compared: true as const,
      frequency_hz: src.frequencyHz,
      before_samples: t.beforeSamples,
      after_samples: t.afterSamples,
      functions: t.rows.map((r) => ({
        name: r.name,
        self_before_pct: r2(r.selfBeforePct),
        self_after_pct: r2(r.selfAfterPct),
        self_change_pp: r2(r.selfChangePp),
        self_noise_pp: r2(r.selfNoisePp),
        total_before_pct: r2(r.totalBeforePct),
        total_after_pct: r2(r.totalAfterPct),
        total_change_pp: r2(r.totalChangePp),
      })),
    }))
    .exhaustive();
}

/**
 * The `href` of `target` in a page written to `page`: the path relative to the page's directory,
 * each segment percent-encoded, so the link works wherever `--html FILE` put the page (as long
 * as the two files keep their places).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { relativeHref } from "./profile_table.ts";
 * strictEqual(relativeHref("out/r/001_compare.html", "out/r/001_profile_diff.svg"), "001_profile_diff.svg");
 * strictEqual(relativeHref("/srv/pages/c.html", "/data/m17 #1/x.svg"), "../../data/m17%20%231/x.svg");
 * ```
 */
export function relativeHref(page: string, target: string): string {
  const rel = relative(dirname(resolve(page)), resolve(target));
  return rel.split(sep).map(encodeURIComponent).join("/");
}

/**
 * The HTML section: heading, table, the differential flame graph drawn inline (tooltips only:
 * the page allows no scripts) and a link (`href`, relative to the page) to the interactive
 * `<task>_profile_diff.svg`.
 */
export function profileHtmlSection(
  c: ProfileComparison,
  src: ProfileSource,
  diffSvg: { inline: string; href: string } | null,
): string {
  const body = match(c)
    .with({ kind: "too_few_samples" }, (t) => `<p>${escapeXml(tooFewSamplesReason(t))}</p>`)
    .with(
      { kind: "compared" },
      (t) =>
        `<p>${escapeXml(heading(t, src))}</p>\n<table><thead><tr><th>Function</th>` +
        `<th>Self before → after</th><th>Total before → after</th></tr></thead><tbody>` +
        t.rows.map((r) =>
          `<tr><td><code>${escapeXml(shortName(r.name, 100))}</code></td><td class="num">${
            escapeXml(shares(r.selfBeforePct, r.selfAfterPct, r.selfChangePp) + noiseMark(r))
          }</td><td class="num">${
            escapeXml(shares(r.totalBeforePct, r.totalAfterPct, r.totalChangePp))
          }</td></tr>`
        ).join("") + `</tbody></table>`,
    )
    .exhaustive();
  const graph = diffSvg === null ? "" : `\n<div class="flame">${diffSvg.inline}</div>\n<p>` +
    `Interactive (zoom, search): <a id="profile-diff-link" href="${escapeXml(diffSvg.href)}">${
      escapeXml(decodeURIComponent(diffSvg.href))
    }</a></p>`;
  return `<section id="profile"><h2>Server CPU profile</h2>\n${body}${graph}</section>\n`;
}
