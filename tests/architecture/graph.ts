/**
 * The import graph of the tool's sources and the checks on it: which file imports which
 * (static, dynamic, `import type`, `export … from`; code in comments does not count), the
 * layer rule, cycles and file sizes. Pure functions over paths relative to the tool root, so
 * the checks can be fed a synthetic graph to prove they fail.
 * @module
 */
import { dirname, join, normalize, relative } from "node:path";

/** One import of a file: the specifier as written, and whether it is type-only. */
export interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** File → the files it imports (relative paths, `/`-separated, from the tool root). */
export type Graph = ReadonlyMap<string, readonly string[]>;

/** Source text with comments blanked out (strings, templates and regex literals kept). */
export function stripComments(src: string): string {
  let out = "";
  let i = 0;
  // The last significant character outside comments decides whether `/` starts a regex.
  let last = "";
  const regexAfter = "(,=:[!&|?{};+-*%<>~^";
  while (i < src.length) {
    const c = src[i], next = src[i + 1];
    if (c === "/" && next === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      const start = i++;
      while (i < src.length && src[i] !== c) i += src[i] === "\\" ? 2 : 1;
      i++;
      out += src.slice(start, i);
      last = c;
    } else if (
      c === "/" && (last === "" || regexAfter.includes(last) || /\breturn$/.test(out.trimEnd()))
    ) {
      const start = i++;
      let inClass = false;
      while (i < src.length && src[i] !== "\n" && (inClass || src[i] !== "/")) {
        if (src[i] === "[") inClass = true;
        else if (src[i] === "]") inClass = false;
        i += src[i] === "\\" ? 2 : 1;
      }
      i++;
      out += src.slice(start, i);
      last = "/";
    } else {
      out += c;
      if (!/\s/.test(c)) last = c;
      i++;
    }
  }
  return out;
}

const STATIC =
  /(?:^|[;}\n])\s*(import|export)\s+(type\s+)?(?:[\w*${},\s]*?\s+from\s+)?(["'])([^"'\n]+)\3/g;
const DYNAMIC = /\bimport\s*\(\s*(["'`])([^"'`\n]+)\1\s*\)/g;

/** The import specifiers of a module's source (static, dynamic with a literal, re-exports). */
export function importsOf(src: string): Import[] {
  const code = stripComments(src);
  const found: Import[] = [];
  for (const m of code.matchAll(STATIC)) {
    // `export const x = "…"` is no import: a string without `from` only counts after `import`.
    const bare = !/\sfrom\s+["']/.test(m[0]);
    if (bare && m[1] === "export") continue;
    found.push({ specifier: m[4], typeOnly: m[2] !== undefined });
  }
  for (const m of code.matchAll(DYNAMIC)) found.push({ specifier: m[2], typeOnly: false });
  return found;
}

/** `./x.ts` seen from `lib/a/b.ts` → `lib/a/x.ts`; null for bare, `node:`, `npm:`, URLs. */
export function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return null;
  return normalize(join(dirname(from), specifier)).split("\\").join("/");
}

/** The graph of `files` (path → source), keeping only imports of relative files. */
export function buildGraph(files: ReadonlyMap<string, string>): Graph {
  const graph = new Map<string, string[]>();
  for (const [path, src] of files) {
    const targets = importsOf(src)
      .map((i) => resolveSpecifier(path, i.specifier))
      .filter((t): t is string => t !== null);
    graph.set(path, [...new Set(targets)].sort());
  }
  return graph;
}

/** A layer: a name and the path prefixes (folders end in `/`) or exact files that belong to it. */
export interface Layer {
  name: string;
  paths: readonly string[];
}

/** The rule: the layers and, for each, the layers (or single files) it may import. */
export interface LayerRule {
  layers: readonly Layer[];
  /** Layer name → layer names or exact file paths it may import; its own layer always. */
  allowed: Readonly<Record<string, readonly string[]>>;
}

/** The layer owning `path`: the one with the longest matching path (a file beats a folder). */
export function layerOf(rule: LayerRule, path: string): string | null {
  let best: { name: string; length: number } | null = null;
  for (const layer of rule.layers) {
    for (const p of layer.paths) {
      const hit = p.endsWith("/") ? path.startsWith(p) : path === p;
      if (hit && (best === null || p.length > best.length)) {
        best = { name: layer.name, length: p.length };
      }
    }
  }
  return best?.name ?? null;
}

/** Every import that breaks the rule, and every file that belongs to no layer, one line each. */
export function layerViolations(rule: LayerRule, graph: Graph): string[] {
  const problems: string[] = [];
  for (const [from, targets] of graph) {
    const fromLayer = layerOf(rule, from);
    if (fromLayer === null) {
      problems.push(`${from}: belongs to no layer (add it to the rule)`);
      continue;
    }
    const allowed = rule.allowed[fromLayer] ?? [];
    for (const to of targets) {
      const toLayer = layerOf(rule, to);
      if (toLayer === null) {
        problems.push(`${from} → ${to}: ${to} belongs to no layer`);
      } else if (toLayer !== fromLayer && !allowed.includes(toLayer) && !allowed.includes(to)) {
        problems.push(`${from} → ${to}: ${fromLayer} may not import ${toLayer}`);
      }
    }
  }
  return problems.sort();
}

/** Each import cycle, as its path `a → b → … → a` (one per strongly connected component). */
export function cycles(graph: Graph): string[] {
  // Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
  const index = new Map<string, number>(), low = new Map<string, number>();
  const onStack = new Set<string>(), stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const nodes = [...new Set([...graph.keys(), ...[...graph.values()].flat()])].sort();
  const edges = (n: string) => graph.get(n) ?? [];
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter), low.set(root, counter++), stack.push(root), onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const targets = edges(frame.node);
      if (frame.next < targets.length) {
        const to = targets[frame.next++];
        if (!index.has(to)) {
          index.set(to, counter), low.set(to, counter++), stack.push(to), onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== frame.node);
        const selfLoop = edges(frame.node).includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  return components.map((c) => cyclePath(graph, new Set(c)).join(" → ")).sort();
}

/** One cycle inside a strongly connected component: a shortest way back to its first file. */
function cyclePath(graph: Graph, component: ReadonlySet<string>): string[] {
  const start = [...component].sort()[0];
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head];
    for (const to of graph.get(node) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const chain: string[] = [];
        for (let n = node; n !== start; n = previous.get(n)!) chain.unshift(n);
        return [start, ...chain, start];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/** Files longer than `maxLines` lines, as `path: N lines`. */
export function oversized(files: ReadonlyMap<string, string>, maxLines: number): string[] {
  const problems: string[] = [];
  for (const [path, src] of files) {
    const lines = src.endsWith("\n") ? src.split("\n").length - 1 : src.split("\n").length;
    if (lines > maxLines) problems.push(`${path}: ${lines} lines (at most ${maxLines})`);
  }
  return problems.sort();
}

/** Every `.ts` file under `dir` (relative to `root`), sorted. */
export function tsFilesUnder(root: string, dir: string): string[] {
  const found: string[] = [];
  const pending = [join(root, dir)];
  for (let n = 0; n < pending.length && n < 10_000; n++) {
    for (const entry of Deno.readDirSync(pending[n])) {
      const path = join(pending[n], entry.name);
      if (entry.isDirectory) pending.push(path);
      else if (entry.isFile && entry.name.endsWith(".ts")) {
        found.push(relative(root, path).split("\\").join("/"));
      }
    }
  }
  return found.sort();
}
