/**
 * Competitor baselines (`scenarios/competitive/baselines.toml`): published vendor or third-party
 * figures quoted by competitive mode. They were not measured on the m17 workload, so every
 * comparison with them is indicative; each row carries its source.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { parseBaselines } from "./baselines.ts";
 * const rows = parseBaselines('[neo4j]\ndisplay_name = "Neo4j"\np99_ms = 27.96\nsource = "x"', "b.toml");
 * strictEqual(rows.neo4j.p99Ms, 27.96);
 * ```
 * @module
 */
import { BASELINES_PATH } from "../paths.ts";
import { parse as parseToml } from "smol-toml";
import { suggest, UsageError } from "../shared/errors.ts";
import { INPUT_LIMITS, readInputText } from "../shared/input_file.ts";
import { oneLine } from "../shared/sanitize.ts";

/** One competitor row. */
export interface Baseline {
  /** Row key in the file (`neo4j`). */
  id: string;
  /** Name shown in output (`Neo4j`). */
  displayName: string;
  /** The P99 latency compare positions against, in milliseconds. */
  p99Ms: number;
  qps: number | null;
  /** Where the figure comes from. */
  source: string;
  workload: string | null;
  caveat: string | null;
}

/** The baselines file shipped next to the tools (resolved from this module, not the cwd). */
export function defaultBaselinesPath(): string {
  return BASELINES_PATH;
}

/** Parses a baselines file; every problem is a `UsageError` naming the file and row. */
export function parseBaselines(text: string, where: string): Record<string, Baseline> {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (e) {
    throw new UsageError(
      `baselines file ${where} is not valid TOML: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const rows: Record<string, Baseline> = {};
  for (const [id, row] of Object.entries(doc)) {
    if (typeof row !== "object" || row === null || Array.isArray(row)) continue;
    const r = row as Record<string, unknown>;
    // Shown in the terminal and the log: no control character from the file gets through.
    const text = (key: string) => (typeof r[key] === "string" ? oneLine(r[key] as string) : null);
    if (typeof r.p99_ms !== "number" || !(r.p99_ms > 0)) {
      throw new UsageError(`baselines file ${where}: [${id}] needs a positive number p99_ms`);
    }
    const source = text("source");
    if (source === null) {
      throw new UsageError(
        `baselines file ${where}: [${id}] needs a source (where the figure comes from)`,
      );
    }
    rows[id] = {
      id,
      displayName: text("display_name") ?? id,
      p99Ms: r.p99_ms,
      qps: typeof r.qps === "number" ? r.qps : null,
      source,
      workload: text("workload"),
      caveat: text("caveat"),
    };
  }
  return rows;
}

/** Reads `path` and returns row `name`, or a `UsageError` listing the rows there are. */
export async function loadBaseline(path: string, name: string): Promise<Baseline> {
  const text = await readInputText(path, {
    label: "baselines file",
    maxBytes: INPUT_LIMITS.tomlBytes,
  });
  const rows = parseBaselines(text, path);
  const row = rows[name];
  if (row) return row;
  const ids = Object.keys(rows);
  const hint = suggest(name, ids);
  throw new UsageError(
    `no baseline '${name}' in ${path}${hint ? ` (did you mean '${hint}'?)` : ""}; ` +
      `known: ${ids.join(", ") || "none"}`,
  );
}
