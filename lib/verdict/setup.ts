/**
 * How each run was measured, beyond the scenario: the load generator's I/O engine and worker
 * count, the host's CPU count and the Deno version, the server's origin, the recorded settings.
 * What changes the measurement itself (the engine, the workers, the CPUs) is refused unless
 * `--force`; every difference is also shown above the table (lib/verdict/differences.ts), so a
 * forced comparison says what it compared across. A Deno version is shown, not refused: it is
 * how a tool upgrade shows up, like the tool's own version.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { sameServer } from "./setup.ts";
 * strictEqual(sameServer("http://localhost:7432", "http://127.0.0.1:7432"), true);
 * strictEqual(sameServer("http://localhost:7432", "http://127.0.0.1:7433"), false);
 * strictEqual(sameServer("http://[::1]:80/", "http://localhost"), true);
 * ```
 * @module
 */
import type { RunReport } from "../report/schema.ts";
import type { ExpectedDifference } from "./types.ts";

/** One recorded fact about how a run was measured (null: the report does not record it). */
interface SetupFact {
  what: string;
  /** The words of the refusal: `before and after <differ> (x vs y)`. */
  differ: string;
  of: (r: RunReport) => string | null;
  /** Whether a difference changes the measurement (refused unless `--force`). */
  refuse: boolean;
}

const FACTS: SetupFact[] = [
  {
    what: "I/O engine",
    differ: "drove their sockets with different I/O engines",
    of: (r) => r.generator?.io ?? null,
    refuse: true,
  },
  {
    what: "Load workers",
    differ: "ran different numbers of load workers",
    of: (r) => (r.generator ? String(r.generator.workers) : null),
    refuse: true,
  },
  {
    what: "Host CPUs",
    differ: "ran on hosts with different CPU counts",
    of: (r) => (typeof r.host?.cpus === "number" ? String(r.host.cpus) : null),
    refuse: true,
  },
  {
    what: "Deno",
    differ: "ran on different Deno versions",
    of: (r) => r.host?.deno ?? null,
    refuse: false,
  },
];

/** The setup facts recorded by both runs that differ, each as a difference above the table. */
export function setupDifferences(b: RunReport, a: RunReport): ExpectedDifference[] {
  return FACTS.flatMap((f) => {
    const x = f.of(b), y = f.of(a);
    return x !== null && y !== null && x !== y ? [{ what: f.what, before: x, after: y }] : [];
  });
}

/**
 * What about the setup refuses a comparison (overridden by `--force`), with `pair` naming the two
 * runs in the messages ("before and after").
 */
export function setupProblems(b: RunReport, a: RunReport, pair = "before and after"): string[] {
  const problems: string[] = [];
  for (const f of FACTS.filter((f) => f.refuse)) {
    const x = f.of(b), y = f.of(a);
    if (x !== null && y !== null && x !== y) problems.push(`${pair} ${f.differ} (${x} vs ${y})`);
  }
  if (
    b.target.kind === "url" && a.target.kind === "url" && !sameServer(b.target.url, a.target.url)
  ) {
    problems.push(
      `${pair} measured different servers (${originOf(b.target.url)} vs ${originOf(a.target.url)})`,
    );
  }
  return problems;
}

/** What a reader should know because a report does not record it (settings, host). */
export function unrecordedWarnings(b: RunReport, a: RunReport): string[] {
  const warnings: string[] = [];
  const unrecorded = (what: string, has: (r: RunReport) => boolean, unchecked: string) => {
    const sides = (["before", "after"] as const).filter((s) => !has(s === "before" ? b : a));
    if (sides.length === 0) return;
    const which = sides.length === 2
      ? "neither report records"
      : `the ${sides[0]} report records no`;
    warnings.push(`${which} ${what}: ${unchecked} not checked`);
  };
  unrecorded(
    "settings (request timeout, in-flight cap)",
    (r) => r.settings !== undefined,
    "whether both runs used the same timeout and in-flight cap is",
  );
  unrecorded(
    "host",
    (r) => typeof r.host?.hostname === "string",
    "whether both ran on one host is",
  );
  return warnings;
}

/** The origin of a URL (`http://127.0.0.1:7432`), or the text itself when it is not one. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** Loopback names: `localhost` (and `*.localhost`), 127.0.0.0/8 and `[::1]` are one host. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === "[::1]";
}

/**
 * Whether two `--url` targets are one server: the same scheme and port, and the same host once
 * loopback names are resolved to one (`localhost` and `127.0.0.1` are the same machine; compare
 * has no network access to resolve other names, which are compared as written).
 */
export function sameServer(x: string, y: string): boolean {
  const key = (url: string) => {
    try {
      const u = new URL(url);
      const port = u.port || (u.protocol === "https:" ? "443" : "80");
      return `${u.protocol}//${isLoopback(u.hostname) ? "loopback" : u.hostname}:${port}`;
    } catch {
      return url;
    }
  };
  return key(x) === key(y);
}
