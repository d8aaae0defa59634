/**
 * `m17_check builds [list|prune]`: the kept builds of a results directory (lib/target/builds.ts),
 * which reports use each, and how much disk they hold; `prune` removes what no report uses.
 * @module
 */
import { join } from "node:path";
import { INPUT_LIMITS, readInputText } from "../shared/input_file.ts";
import { EXIT, UsageError } from "../shared/errors.ts";
import {
  BUILDS_DIR,
  listStoredBuilds,
  removeStoredBuild,
  type StoredBuild,
} from "../target/builds.ts";
import { numberIn, parseFlags } from "./flags.ts";

/** `m17_check builds --help`. */
export const BUILDS_USAGE = `Usage: m17_check builds [list] [--out-dir D]
       m17_check builds prune [--out-dir D] [--older-than DAYS] [--all] [--dry-run]

Every check that starts Engram keeps the exact binary it ran in <out-dir>/builds/<sha256>/
(engram + build.json: commit, dirty flag, build profile, checkout), and its report records the
sha256 (target.details.binary_sha256), so 'm17_check <task> confirm' can run both builds again.

list (default)      each kept build: sha256, size, profile, commit, when kept, the reports using it;
                    and the disk all of them hold
prune               removes the builds no report in the out dir uses (--keep-referenced, the default)
  --older-than DAYS only builds last used (newest report using it, else kept) more than DAYS ago
  --all             also builds that reports use (confirm then refuses those reports)
  --dry-run         say what would be removed; remove nothing
  --out-dir D       results directory (default tmp/m17_performance)`;

const BUILDS_FLAGS = {
  "out-dir": { type: "string" },
  "older-than": { type: "string" },
  all: { type: "boolean" },
  "keep-referenced": { type: "boolean" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** A kept build with the reports that use it. */
export interface BuildUse {
  build: StoredBuild;
  /** Report file names using it, oldest first. */
  reports: string[];
  /** When it was last used: the newest using report's mtime, else when it was kept (ms). */
  lastUsedMs: number;
}

/** Reports (`*.json` at the top of `outDir`) naming each sha256, with their mtimes. */
async function reportsBySha(outDir: string): Promise<Map<string, { name: string; ms: number }[]>> {
  const uses = new Map<string, { name: string; ms: number }[]>();
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(outDir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return uses;
    throw e;
  }
  for (const entry of entries) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const path = join(outDir, entry.name);
    const text = await readInputText(path, { label: "report", maxBytes: INPUT_LIMITS.reportBytes })
      .catch(() => "");
    const sha = /"binary_sha256"\s*:\s*"([0-9a-f]{64})"/.exec(text)?.[1];
    if (!sha) continue;
    const ms = (await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? 0;
    uses.set(sha, [...(uses.get(sha) ?? []), { name: entry.name, ms }]);
  }
  return uses;
}

/** Every kept build of `outDir` with the reports that use it, oldest kept first. */
export async function buildUses(outDir: string): Promise<BuildUse[]> {
  const bySha = await reportsBySha(outDir);
  return (await listStoredBuilds(outDir)).map((build) => {
    const reports = (bySha.get(build.sha256) ?? []).sort((a, b) => a.ms - b.ms);
    const kept = Date.parse(build.record?.first_kept_at ?? "") || 0;
    return {
      build,
      reports: reports.map((r) => r.name),
      lastUsedMs: Math.max(kept, ...reports.map((r) => r.ms)),
    };
  });
}

/** Bytes as MB with one decimal (1 MB = 10^6 bytes). */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The listing's text. */
export function listText(outDir: string, uses: BuildUse[]): string {
  const total = uses.reduce((s, u) => s + u.build.bytes, 0);
  const head = `kept builds in ${join(outDir, BUILDS_DIR)}: ${uses.length}, ${megabytes(total)}`;
  if (uses.length === 0) return head;
  const rows = uses.map(({ build, reports }) => {
    const r = build.record;
    const commit = r === null
      ? "(no build.json)"
      : `${r.git_commit?.slice(0, 12) ?? "no git"}${r.git_dirty ? " dirty" : ""}`;
    const used = reports.length === 0
      ? "no report"
      : `${reports.length} report${reports.length === 1 ? "" : "s"} (newest ${reports.at(-1)})`;
    return [
      build.sha256.slice(0, 12),
      megabytes(build.bytes),
      r?.build_profile ?? "?",
      commit,
      r?.first_kept_at.replace(/:\d\d\.\d+Z$/, "Z") ?? "?",
      used,
    ];
  });
  const header = ["sha256", "size", "profile", "commit", "kept", "used by"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    "  " + cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join("  ");
  return [head, line(header), ...rows.map(line)].join("\n");
}

/** Which builds `prune` removes. */
export function pruneSelection(
  uses: BuildUse[],
  o: { all: boolean; olderThanDays?: number; nowMs: number },
): BuildUse[] {
  return uses.filter((u) =>
    (o.all || u.reports.length === 0) &&
    (o.olderThanDays === undefined || o.nowMs - u.lastUsedMs > o.olderThanDays * 86_400_000)
  );
}

/** Runs `m17_check builds …`; returns the exit code. */
export async function buildsCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, BUILDS_FLAGS);
  if (v.help) {
    console.log(BUILDS_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 1) {
    throw new UsageError(`builds: unexpected argument ${JSON.stringify(positionals[1])}`);
  }
  const action = positionals[0] ?? "list";
  if (action !== "list" && action !== "prune") {
    throw new UsageError(`builds: unknown action ${JSON.stringify(action)} (list or prune)`);
  }
  const outDir = v["out-dir"] ?? "tmp/m17_performance";
  const pruneFlags = (["older-than", "all", "keep-referenced", "dry-run"] as const)
    .filter((k) => v[k] !== undefined);
  if (action === "list" && pruneFlags.length > 0) {
    throw new UsageError(`builds: --${pruneFlags[0]} goes with 'builds prune'`);
  }
  if (v.all && v["keep-referenced"]) {
    throw new UsageError("builds prune: --all and --keep-referenced conflict: choose one");
  }
  const uses = await buildUses(outDir);
  if (action === "list") {
    console.log(listText(outDir, uses));
    return EXIT.ok;
  }
  const doomed = pruneSelection(uses, {
    all: v.all ?? false,
    olderThanDays: numberIn("older-than", v["older-than"], 0, 100_000),
    nowMs: Date.now(),
  });
  const verb = v["dry-run"] ? "would remove" : "removed";
  for (const u of doomed) {
    if (!v["dry-run"]) await removeStoredBuild(u.build);
    console.log(
      `${verb} ${u.build.sha256.slice(0, 12)} (${megabytes(u.build.bytes)}${
        u.reports.length > 0 ? `; used by ${u.reports.length} report(s)` : ""
      })`,
    );
  }
  const freed = doomed.reduce((s, u) => s + u.build.bytes, 0);
  const left = uses.filter((u) => !doomed.includes(u));
  console.log(
    `${verb} ${doomed.length} build${doomed.length === 1 ? "" : "s"} (${
      megabytes(freed)
    }); ${left.length} kept (${megabytes(left.reduce((s, u) => s + u.build.bytes, 0))})`,
  );
  return EXIT.ok;
}
