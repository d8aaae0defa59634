/**
 * The differential flame graph: the after profile's shape, each frame coloured by how its self
 * share of all samples changed against the same stack in the before profile — red grew, blue
 * shrank, white unchanged, the strongest colour at the largest change. Shares, not counts, are
 * compared, so runs with different sample totals compare fairly. Stacks that vanished after the
 * change cannot be drawn on after's shape; the profile table (verdict/profile_diff.ts) lists them.
 * @module
 */
import { type FoldedProfile, type FrameNode, frameTree } from "../report/profile.ts";
import { type FlameOptions, type FrameStyle, renderFrames } from "./flamegraph.ts";

/** Before's node at the same path (thread name first), or null. */
function lookup(root: FrameNode, path: readonly string[]): FrameNode | null {
  let node: FrameNode | undefined = root;
  for (const name of path) {
    node = node.children.get(name);
    if (!node) return null;
  }
  return node;
}

/** `+1.2 pp` style. */
function pp(delta: number): string {
  return `${delta >= 0 ? "+" : "−"}${Math.abs(delta).toFixed(1)} pp`;
}

/** White → red (t > 0) or white → blue (t < 0), |t| ≤ 1. */
export function diffColour(t: number): string {
  const c = Math.max(-1, Math.min(1, t));
  const fade = Math.round(255 * (1 - 0.85 * Math.abs(c)));
  return c >= 0 ? `rgb(255,${fade},${fade})` : `rgb(${fade},${fade},255)`;
}

/** Self-share change (percentage points) of every after frame, by path key. */
function selfChanges(before: FrameNode, after: FrameNode): Map<string, number> {
  const out = new Map<string, number>();
  const stack: Array<[FrameNode, string[]]> = [[after, []]];
  for (let guard = 0; stack.length > 0 && guard < 10_000_000; guard++) {
    const [node, path] = stack.pop()!;
    const b = lookup(before, path);
    const selfBefore = b && before.total > 0 ? 100 * b.self / before.total : 0;
    const selfAfter = after.total > 0 ? 100 * node.self / after.total : 0;
    out.set(path.join(";"), selfAfter - selfBefore);
    for (const child of node.children.values()) stack.push([child, [...path, child.name]]);
  }
  return out;
}

/**
 * The differential flame graph of after against before, as a standalone SVG.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { renderFlameGraphDiff } from "./flamegraph_diff.ts";
 * import { parseFolded } from "../report/profile.ts";
 * const before = parseFolded("srv;main;spread 1\nsrv;main;store 3\n");
 * const after = parseFolded("srv;main;spread 3\nsrv;main;store 1\n");
 * if (typeof before === "string" || typeof after === "string") throw new Error("bad fixture");
 * const svg = renderFlameGraphDiff(before, after, { title: "diff" });
 * ok(svg.includes("self 25.0% → 75.0% (+50.0 pp)"));
 * ```
 */
export function renderFlameGraphDiff(
  before: FoldedProfile,
  after: FoldedProfile,
  opts: FlameOptions,
): string {
  const beforeRoot = frameTree(before);
  const afterRoot = frameTree(after);
  const changes = selfChanges(beforeRoot, afterRoot);
  // Saturate at the largest change, but never amplify sub-point noise into strong colours.
  const scale = Math.max(1, ...[...changes.values()].map(Math.abs));
  const style: FrameStyle = {
    fill: (_node, path) => diffColour((changes.get(path.join(";")) ?? 0) / scale),
    describe: (node, path) => {
      const b = lookup(beforeRoot, path);
      const share = (n: number, t: number) => (t > 0 ? 100 * n / t : 0);
      const tb = share(b?.total ?? 0, beforeRoot.total);
      const ta = share(node.total, afterRoot.total);
      const sb = share(b?.self ?? 0, beforeRoot.total);
      const sa = share(node.self, afterRoot.total);
      return `total ${tb.toFixed(1)}% → ${ta.toFixed(1)}% (${pp(ta - tb)}), ` +
        `self ${sb.toFixed(1)}% → ${sa.toFixed(1)}% (${pp(sa - sb)})` +
        (b ? "" : ", new after");
    },
  };
  return renderFrames(afterRoot, style, {
    ...opts,
    subtitle: opts.subtitle ??
      `after's shape; red: self share grew, blue: shrank (strongest = ${scale.toFixed(1)} pp)`,
  });
}
