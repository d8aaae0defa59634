/**
 * The profile of a run, for compare: the report's `profile` record and its folded file (next to
 * the report), or why there is none.
 * @module
 */
import { dirname, join } from "node:path";
import { messageOf } from "../shared/errors.ts";
import { INPUT_LIMITS, readInputText } from "../shared/input_file.ts";
import type { LoadedReport } from "./read.ts";
import { type FoldedProfile, parseFolded, type ProfileRecord } from "./profile.ts";

/** A run's profile, or why it has none. */
export type RunProfile =
  | { readonly kind: "loaded"; readonly profile: FoldedProfile; readonly frequencyHz: number }
  | { readonly kind: "none"; readonly reason: string };

/** The `profile` record of a report, or null when it has none (or not one this tool wrote). */
export function profileRecordOf(loaded: LoadedReport): ProfileRecord | null {
  if (loaded.kind !== "current") return null;
  const p = (loaded.report as { profile?: unknown }).profile;
  if (typeof p !== "object" || p === null) return null;
  const r = p as Record<string, unknown>;
  if (r.kind === "none" && typeof r.reason === "string") return r as ProfileRecord;
  if (
    r.kind === "recorded" && typeof r.folded_file === "string" &&
    typeof r.frequency_hz === "number"
  ) return r as ProfileRecord;
  return null;
}

/** Reads the folded stacks a report points at. */
export async function readRunProfile(loaded: LoadedReport): Promise<RunProfile> {
  const record = profileRecordOf(loaded);
  if (record === null) return { kind: "none", reason: `${loaded.path} was not profiled` };
  if (record.kind === "none") return { kind: "none", reason: `${loaded.path}: ${record.reason}` };
  const path = join(dirname(loaded.path), record.folded_file);
  let text: string;
  try {
    // A name from inside the report: it may point at a FIFO or a device, which is never opened.
    text = await readInputText(path, { label: "profile", maxBytes: INPUT_LIMITS.reportBytes });
  } catch (e) {
    return { kind: "none", reason: messageOf(e) };
  }
  const profile = parseFolded(text);
  if (typeof profile === "string") return { kind: "none", reason: `${path}: ${profile}` };
  return { kind: "loaded", profile, frequencyHz: record.frequency_hz };
}
