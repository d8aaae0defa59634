/**
 * compare's profile step: when the before or after run was recorded with `check --profile`,
 * load both profiles, rank the functions whose share of server CPU changed most, render the
 * differential flame graph for `<dir>/[competitive_]<task>_profile_diff.svg`, and hand every
 * output its part (terminal, Markdown, JSON, HTML section, the first next step).
 *
 * Nothing is written here: the SVG is a planned output, checked with compare's other outputs
 * (`--log`, `--html`, `--export`) before anything is written and written with them after the
 * verdict is shown (lib/render/outputs.ts). Like `<task>_compare.html`, it is compare's own file
 * for the task: a regular file of that name (an earlier compare's graph) is replaced, anything
 * else there (a directory, a FIFO) or another output aimed at it is refused (exit 3).
 * @module
 */
import { join } from "node:path";
import type { LoadedReport } from "../report/read.ts";
import { profileRecordOf, readRunProfile, type RunProfile } from "../report/profile_read.ts";
import type { Mode, Phase } from "../report/schema.ts";
import { compareProfiles, type ProfileComparison } from "../verdict/profile_diff.ts";
import { escapeXml } from "../render/flamegraph.ts";
import { renderFlameGraphDiff } from "../render/flamegraph_diff.ts";
import type { PlannedOutput } from "../render/outputs.ts";
import { PROFILE_BOTH, type ProfileStep } from "../render/terminal.ts";
import {
  profileComparisonJson,
  profileHtmlSection,
  relativeHref,
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
  /** The HTML section of a page written to `htmlPath` (its link to the SVG is relative to it). */
  readonly htmlSection: (htmlPath: string) => string;
  /** The differential flame graph, when the profiles were compared. */
  readonly files: PlannedOutput[];
  /** The first of the next steps after a regression. */
  readonly step: ProfileStep;
}

/** What the differential flame graph is called in messages (`<what>: <path>` once written). */
export const PROFILE_DIFF_WHAT = "Differential flame graph";

/** `<dir>/[competitive_]<task>_profile_diff.svg`. */
export function profileDiffPath(dir: string, task: string, mode: Mode): string {
  return join(dir, `${mode === "competitive" ? "competitive_" : ""}${task}_profile_diff.svg`);
}

/** The phases whose profile is missing or unreadable. */
function unprofiled(b: RunProfile, a: RunProfile): Phase[] {
  return ([["before", b], ["after", a]] as const).flatMap(([ph, p]) =>
    p.kind === "none" ? [ph] : []
  );
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
      htmlSection: () =>
        `<section id="profile"><h2>Server CPU profile</h2><p>${escapeXml(reason)}</p></section>\n`,
      files: [],
      step: { kind: "profile_again", phases: unprofiled(b, a) },
    };
  }
  const comparison = compareProfiles(b.profile, a.profile);
  const src = { frequencyHz: a.frequencyHz };
  const title = `${where.task}: server CPU, after vs before`;
  const files: PlannedOutput[] = [];
  let inline: string | null = null;
  let step: ProfileStep = PROFILE_BOTH;
  if (comparison.kind === "compared") {
    const path = profileDiffPath(where.dir, where.task, where.mode);
    files.push({
      path,
      what: PROFILE_DIFF_WHAT,
      text: renderFlameGraphDiff(b.profile, a.profile, { title }),
    });
    inline = renderFlameGraphDiff(b.profile, a.profile, { title, interactive: false });
    step = { kind: "compared", diffSvg: path };
  }
  return {
    comparison,
    terminal: renderProfileTable(comparison, src),
    markdown: renderProfileMarkdown(comparison, src),
    json: profileComparisonJson(comparison, src),
    htmlSection: (htmlPath) =>
      profileHtmlSection(
        comparison,
        src,
        inline === null ? null : { inline, href: relativeHref(htmlPath, files[0].path) },
      ),
    files,
    step,
  };
}
