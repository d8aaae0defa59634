/**
 * `check --dry-run`: what a run would send, without contacting anything.
 * @module
 */
import { ENGRAM_DEDUP_COSINE, sameClusterCosine } from "./dedup.ts";
import { serializeOp, Workload, workloadFingerprint } from "./ops.ts";
import { describePreload, describeSeedOrigin } from "./prepare.ts";
import { formatSeed } from "./prng.ts";
import { OP_KINDS, type Scenario } from "./scenario.ts";

/**
 * The `--dry-run` text: resolved scenario, op mix, fingerprint, first ops. Contacts nothing.
 *
 * @example
 * ```ts
 * import { match } from "node:assert/strict";
 * import { prepareScenario } from "./prepare.ts";
 * const { scenario, path, sha256 } = await prepareScenario({ competitive: false });
 * match(dryRunText(scenario, path, sha256, 2), /^scenario: +m17_baseline/);
 * ```
 */
export function dryRunText(s: Scenario, path: string, sha256: string, count = 10): string {
  const w = new Workload(s);
  const mix = w.mix();
  const lines = [
    `scenario:     ${s.name} (${path})`,
    `sha256:       ${sha256}`,
    `seed:         ${formatSeed(s.seed)} (${describeSeedOrigin(s)})`,
    `arrival:      ${s.arrival.pattern}, ${s.rate} ops/s`,
    `duration:     ${s.durationSeconds} s measured after ${s.warmupSeconds} s warm-up`,
    `preload:      ${describePreload(s)}`,
    `embeddings:   ${s.embeddingDim} dims, ${describeDistribution(s)}${describeCloseness(s)}`,
    `op mix:       ${
      OP_KINDS.filter((k) => mix[k] > 0).map((k) => `${k} ${(mix[k] * 100).toFixed(1)}%`).join(", ")
    }`,
    `modes:        recall=${s.modes.recall}, semantic=${s.modes.semanticRecall}, blended=${s.modes.blendedRecall}`,
    `fingerprint:  ${workloadFingerprint(s)}`,
    `first ${count} measured ops:`,
  ];
  const st = w.stream("measured");
  for (let i = 0; i < count; i++) {
    const op = st.next();
    const text = serializeOp(op).trimEnd().replace("\n", "  ");
    lines.push(
      `  ${String(i).padStart(3)} ${op.kind.padEnd(17)} ${
        text.length > 150 ? text.slice(0, 150) + "…" : text
      }`,
    );
  }
  return lines.join("\n");
}

/**
 * `; same-cluster cosine ≈ 0.848 (Engram deduplicates at ≥ 0.95)`: the expected cosine of two
 * draws of the first (most popular) cluster, against Engram's duplicate rule.
 */
function describeCloseness(s: Scenario): string {
  const c = sameClusterCosine(s);
  if (c === null) return "";
  const verdict = c >= ENGRAM_DEDUP_COSINE ? ": Engram will keep about one memory per cluster" : "";
  return `; same-cluster cosine ≈ ${
    c.toFixed(3)
  } (Engram deduplicates at ≥ ${ENGRAM_DEDUP_COSINE}${verdict})`;
}

function describeDistribution(s: Scenario): string {
  const d = s.distribution;
  switch (d.type) {
    case "uniform":
      return "uniform";
    case "clustered":
      return `clustered (${d.numClusters} clusters, std_dev ${d.stdDev})`;
    case "hot_spot":
      return `hot spot (center ${d.center}, std_dev ${d.stdDev})`;
    case "scale_free":
      return `scale-free (${d.numClusters} clusters, exponent ${d.exponent}, std_dev ${d.stdDev})`;
  }
}
