/**
 * CPU profiles as collapsed ("folded") stacks: the data model shared by the profiler, the flame
 * graphs and the profile comparison. A profile maps each distinct stack — frames root first,
 * the sampled thread's name as the root frame, as `stackcollapse-perf` and inferno write them —
 * to its sample count. Built from `perf script` text (Rust names demangled, JavaScript frames of
 * V8's perf map named without their tier marker or line), read from and written to the folded
 * text format (`frame;frame;frame count`), and summarised per function (self and total shares).
 * @module
 */
import { demangle } from "./demangle.ts";
import { oneLine } from "../shared/sanitize.ts";

/** Collapsed stacks: `frames.join(";")` (root first, thread name at depth 0) → samples. */
export interface FoldedProfile {
  readonly stacks: ReadonlyMap<string, number>;
  /** Sum of all counts. */
  readonly samples: number;
}

/** One function's samples: on top of the stack (self) and anywhere in it (total). */
export interface FunctionSamples {
  readonly name: string;
  readonly self: number;
  readonly total: number;
}

/** Builds a profile from stacks given as frame lists (root first); counts of equal stacks add. */
export function profileOf(stacks: Iterable<readonly [readonly string[], number]>): FoldedProfile {
  const map = new Map<string, number>();
  let samples = 0;
  for (const [frames, count] of stacks) {
    if (count <= 0 || frames.length === 0) continue;
    const key = frames.map(cleanFrame).join(";");
    map.set(key, (map.get(key) ?? 0) + count);
    samples += count;
  }
  return { stacks: map, samples };
}

/**
 * `;` separates frames in the folded format and a trailing space-number is the count. A name
 * comes from the profiled binary's symbols (or a folded file): escape sequences and control
 * characters are removed here, where every profile is built, so no printed table, flame graph
 * or folded file carries them.
 */
function cleanFrame(frame: string): string {
  return oneLine(frame.replaceAll(";", ":"), Infinity).trim() || "[unknown]";
}

/**
 * Folds `perf script` output (default fields, with call graphs): one stack per sample, the
 * thread name as root, each frame's symbol without its `+0x…` offset, Rust names demangled,
 * a frame without a symbol named after its binary (`[deno]`), repeats of such a frame merged.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { foldPerfScript, formatFolded } from "./profile.ts";
 * const text = "engram 41 1.0: 10101010 cpu-clock:\n" +
 *   "\t1a _ZN6engram6spread17h0123456789abcdefE+0x1a (/bin/engram)\n" +
 *   "\t2b main+0x2b (/bin/engram)\n\n";
 * strictEqual(formatFolded(foldPerfScript(text)), "engram;main;engram::spread 1\n");
 * ```
 */
export function foldPerfScript(text: string): FoldedProfile {
  const stacks: Array<[string[], number]> = [];
  let thread: string | null = null;
  let leafFirst: string[] = [];
  const flush = () => {
    if (thread !== null) stacks.push([[thread, ...leafFirst.reverse()], 1]);
    thread = null;
    leafFirst = [];
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      flush();
    } else if (/^\s/.test(line)) {
      if (thread === null) continue;
      const frame = parseFrameLine(line);
      if (frame === null) continue;
      const prev = leafFirst[leafFirst.length - 1];
      if (!(frame.startsWith("[") && frame === prev)) leafFirst.push(frame);
    } else {
      flush();
      thread = sampleThread(line);
    }
  }
  flush();
  return profileOf(stacks);
}

/** The thread name of a sample header `comm  pid[/tid] [cpu] time: [period] event:`. */
function sampleThread(header: string): string {
  const m = /^(.*?)\s+\d+(?:\/\d+)?\s+(?:\[\d+\]\s+)?\d+\.\d+:/.exec(header);
  return (m ? m[1] : header.split(/\s+/)[0]).trim() || "[unknown]";
}

/**
 * `\t addr symbol[+0xoff] (dso)` → the frame's name, or null for a line that is not a frame.
 * Frames perf found inlined (`(inlined)`, from debug info) are kept: they are the source's calls.
 */
function parseFrameLine(line: string): string | null {
  const m = /^\s*[0-9a-f]+\s+(.*?)\s+\((\/.*|\[.*\]|inlined)\)$/.exec(line);
  if (!m) return null;
  const symbol = m[1].replace(/\+0x[0-9a-f]+$/, "");
  const dso = m[2];
  if (symbol === "[unknown]" || symbol === "") {
    if (dso === "[unknown]") return "[unknown]";
    return `[${dso.split("/").pop()}]`;
  }
  return frameName(symbol);
}

/** A V8 perf-map name: kind, tier marker, function name, script URL, line and column. */
const V8_FRAME =
  /^(?:JS|LazyCompile|Function|Script|InterpretedFunction):(?:o?[~^+*]'?)?(.*?)( \S+?)?(?::\d+)?(?::\d+)?$/;

/**
 * The name a frame is known by: Rust symbols demangled; V8 perf-map names (`JS:*'burn
 * file:///x.ts:3:9`, `JS:o+burn …`, `LazyCompile:~burn …`) without the tier marker (`o` for
 * on-stack replacement, `~ ^ + *` for the interpreter, Sparkplug, Maglev, TurboFan, `'` for
 * context specialisation) and without line and column, so one function interpreted and
 * optimised, or moved by an edit above it, stays one function.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { frameName } from "./profile.ts";
 * strictEqual(frameName("JS:*'burnCpu file:///srv/api.ts:1:17"), "burnCpu file:///srv/api.ts");
 * strictEqual(frameName("JS:^ file:///srv/main.ts:1:1"), "(anonymous) file:///srv/main.ts");
 * strictEqual(frameName("JS:o+burnCpu file:///srv/api.ts:1:17"), "burnCpu file:///srv/api.ts");
 * strictEqual(frameName("_ZN3std2rt10lang_start17h0123456789abcdefE"), "std::rt::lang_start");
 * ```
 */
export function frameName(symbol: string): string {
  const js = V8_FRAME.exec(symbol);
  if (js) {
    const name = js[1].trim() || "(anonymous)";
    return js[2] ? `${name}${js[2]}` : name;
  }
  return demangle(symbol);
}

/**
 * Reads folded text (`frame;frame count` per line; blank lines ignored).
 * Returns a message naming the first bad line instead of a profile when the text is not folded.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { formatFolded, parseFolded } from "./profile.ts";
 * const p = parseFolded("main;a 2\nmain;b 1\nmain;a 1\n");
 * deepStrictEqual(typeof p === "string" ? p : formatFolded(p), "main;a 3\nmain;b 1\n");
 * ```
 */
export function parseFolded(text: string): FoldedProfile | string {
  const stacks: Array<[string[], number]> = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trimEnd();
    if (line === "") continue;
    const m = /^(.*\S)\s+(\d+)$/.exec(line);
    if (!m) return `line ${i + 1} is not "frame;frame count": ${oneLine(line, 80)}`;
    stacks.push([m[1].split(";"), Number(m[2])]);
  }
  return profileOf(stacks);
}

/** The folded text of a profile: one `stack count` line per stack, sorted by stack. */
export function formatFolded(profile: FoldedProfile): string {
  const keys = [...profile.stacks.keys()].sort();
  return keys.map((k) => `${k} ${profile.stacks.get(k)}\n`).join("");
}

/** The sum of several profiles (e.g. the runs of `check --runs N`). */
export function mergeProfiles(profiles: readonly FoldedProfile[]): FoldedProfile {
  return profileOf(
    profiles.flatMap((p) => [...p.stacks].map(([k, n]) => [k.split(";"), n] as const)),
  );
}

/**
 * Self and total samples of every function, the root frame (thread name) left out. A function
 * that recurses counts once per sample in its total.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { functionSamples, parseFolded } from "./profile.ts";
 * const p = parseFolded("t;main;spread 3\nt;main 1\n");
 * if (typeof p === "string") throw new Error(p);
 * deepStrictEqual(functionSamples(p).get("main"), { name: "main", self: 1, total: 4 });
 * ```
 */
export function functionSamples(profile: FoldedProfile): Map<string, FunctionSamples> {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [key, count] of profile.stacks) {
    const frames = key.split(";").slice(1);
    if (frames.length === 0) continue;
    const leaf = frames[frames.length - 1];
    self.set(leaf, (self.get(leaf) ?? 0) + count);
    for (const f of new Set(frames)) total.set(f, (total.get(f) ?? 0) + count);
  }
  const out = new Map<string, FunctionSamples>();
  for (const [name, t] of total) out.set(name, { name, self: self.get(name) ?? 0, total: t });
  return out;
}

/** The `n` functions with the most self samples (ties: most total, then name). */
export function topFunctions(profile: FoldedProfile, n: number): FunctionSamples[] {
  return [...functionSamples(profile).values()]
    .sort((a, b) => b.self - a.self || b.total - a.total || a.name.localeCompare(b.name))
    .slice(0, Math.max(0, n));
}

/** A tree of frames (root = all samples) for drawing: children sorted by name, as flame graphs are. */
export interface FrameNode {
  readonly name: string;
  /** Samples in this frame and below it. */
  total: number;
  /** Samples with this frame on top. */
  self: number;
  readonly children: Map<string, FrameNode>;
}

/** The frame tree of a profile; the root is named "all". */
export function frameTree(profile: FoldedProfile): FrameNode {
  const root: FrameNode = { name: "all", total: 0, self: 0, children: new Map() };
  for (const [key, count] of profile.stacks) {
    let node = root;
    node.total += count;
    for (const name of key.split(";")) {
      let child = node.children.get(name);
      if (!child) {
        child = { name, total: 0, self: 0, children: new Map() };
        node.children.set(name, child);
      }
      child.total += count;
      node = child;
    }
    node.self += count;
  }
  return root;
}

/**
 * The report's `profile` field (`check --profile`): how the server's CPU was sampled during the
 * measured window and where the stacks are, or why there is no profile. File names are relative
 * to the report's directory.
 */
export type ProfileRecord =
  | {
    readonly kind: "recorded";
    readonly tool: "perf";
    readonly event: "cpu-clock";
    readonly frequency_hz: number;
    readonly call_graph: "fp" | "dwarf";
    readonly samples: number;
    /** Seconds sampling was on (the measured window, give or take perf's switching). */
    readonly window_s: number;
    /** CPU perf itself used while sampling, as % of one core (its cost on the host). */
    readonly perf_cpu_pct: number;
    /** Chunks of samples perf reported lost (0 = none). */
    readonly lost_chunks: number;
    readonly folded_file: string;
    readonly svg_file: string;
  }
  | { readonly kind: "none"; readonly reason: string };
