/**
 * compare's profile step: when the before or after run was recorded with `check --profile`,
 * load both profiles, rank the functions whose share of server CPU changed most, draw the
 * differential flame graph to `<dir>/[competitive_]<task>_profile_diff.svg`, and hand every
 * output its part (terminal, Markdown, JSON, HTML section).
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../shared/atomic.ts";
import type { LoadedReport } from "../report/read.ts";
import { profileRecordOf, readRunProfile } from "../report/profile_read.ts";
import type { Mode } from "../report/schema.ts";
import { compareProfiles, type ProfileComparison } from "../verdict/profile_diff.ts";
import { escapeXml } from "../render/flamegraph.ts";
import { renderFlameGraphDiff } from "../render/flamegraph_diff.ts";
import {
  profileComparisonJson,
  profileHtmlSection,
  renderProfileMarkdown,
  renderProfileTable,
} from "../render/profile_table.ts";

/** What compare prints and writes about the profiles. */
export interface ProfileOutputs {
  readonly comparison: ProfileComparison | null;
  /** Printed after the verdict (always with a regression; see `compare`). */
  readonly terminal: string;
  readonly markdown: string;
  readonly json: unknown;
  readonly htmlSection: string;
  /** Lines naming files written. */
  readonly written: string[];
}

/** `<dir>/[competitive_]<task>_profile_diff.svg`. */
export function profileDiffPath(dir: string, task: string, mode: Mode): string {
  return join(dir, `${mode === "competitive" ? "competitive_" : ""}${task}_profile_diff.svg`);
}

/** The profile outputs, or null when neither run was profiled (compare says nothing then). */
export async function compareRunProfiles(
  before: LoadedReport,
  after: LoadedReport,
  where: { dir: string; task: string; mode: Mode },
): Promise<ProfileOutputs | null> {
  if (profileRecordOf(before) === null && profileRecordOf(after) === null) return null;
  const [b, a] = [await readRunProfile(before), await readRunProfile(after)];
  if (b.kind === "none" || a.kind === "none") {
    const missing = b.kind === "none" ? b : a as Extract<typeof a, { kind: "none" }>;
    const reason = `profiles not compared: ${missing.reason}`;
    return {
      comparison: null,
      terminal: `${reason}\n`,
      markdown: `_${reason}_\n`,
      json: { compared: false, reason },
      htmlSection: `<section id="profile"><h2>Server CPU profile</h2><p>${
        escapeXml(reason)
      }</p></section>\n`,
      written: [],
    };
  }
  const comparison = compareProfiles(b.profile, a.profile);
  const src = { frequencyHz: a.frequencyHz };
  const title = `${where.task}: server CPU, after vs before`;
  let diff: { inline: string; fileName: string } | null = null;
  const written: string[] = [];
  if (comparison.kind === "compared") {
    const path = profileDiffPath(where.dir, where.task, where.mode);
    await writeFileAtomic(path, renderFlameGraphDiff(b.profile, a.profile, { title }));
    written.push(`Differential flame graph: ${path}`);
    diff = {
      inline: renderFlameGraphDiff(b.profile, a.profile, { title, interactive: false }),
      fileName: path.split("/").pop()!,
    };
  }
  return {
    comparison,
    terminal: renderProfileTable(comparison, src),
    markdown: renderProfileMarkdown(comparison, src),
    json: profileComparisonJson(comparison, src),
    htmlSection: profileHtmlSection(comparison, src, diff),
    written,
  };
}
