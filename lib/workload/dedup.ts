/**
 * Engram's semantic deduplication, seen from the workload: how close two embeddings of one
 * cluster are, against the cosine at which Engram stops storing a new memory.
 *
 * Engram (orchard9/engram at 5d54816) compares every stored memory with all hot memories
 * (`engram-core/src/store.rs:1228-1236`, `MemoryStore::store`; the deduplicator is the default one, `store.rs:481`) and treats cosine ≥ 0.95 as a
 * duplicate (`engram-core/src/storage/deduplication.rs:114`, threshold set at
 * `deduplication.rs:293`, `SemanticDeduplicator::default`); with the default strategy
 * (`KeepHighestConfidence`) a duplicate is skipped or replaces the old one, so the memory count
 * does not grow. A scenario whose same-cluster embeddings are closer than that preloads one
 * memory per cluster, whatever its `preload` says.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * ok(expectedClusterCosine(new Float64Array([0.5, -0.2, 0.9]), 0.1) > 0.9);
 * ```
 * @module
 */
import { Workload } from "./ops.ts";
import type { Scenario } from "./scenario.ts";

/** Engram's duplicate rule: a new memory with cosine ≥ this to a stored one is not added. */
export const ENGRAM_DEDUP_COSINE = 0.95;

const SQRT2 = Math.SQRT2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, absolute error < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

function normalPdf(z: number): number {
  return INV_SQRT_2PI * Math.exp(-z * z / 2);
}

/**
 * The cosine two independent draws of one cluster tend to (dimension → ∞): each component is
 * `clamp(center + N(0, σ²), -1, 1)`, as the generator draws it, so the expected dot product is
 * Σ E[xⱼ]² and the expected squared norm Σ E[xⱼ²] (moments of the clamped normal, exact). For
 * centers uniform in [-1, 1] and no clamping this is (1/3) / (1/3 + σ²). Quantisation to 4
 * decimals and the Irwin–Hall approximation of the normal change it by less than 1e-3.
 */
export function expectedClusterCosine(center: ArrayLike<number>, stdDev: number): number {
  let dot = 0, norm = 0;
  for (let j = 0; j < center.length; j++) {
    const mu = center[j];
    if (stdDev === 0) {
      const v = Math.max(-1, Math.min(1, mu));
      dot += v * v;
      norm += v * v;
      continue;
    }
    const a = (-1 - mu) / stdDev, b = (1 - mu) / stdDev;
    const pa = normalCdf(a), pb = normalCdf(b), fa = normalPdf(a), fb = normalPdf(b);
    const inside = pb - pa;
    const mean = -pa + (1 - pb) + mu * inside + stdDev * (fa - fb);
    const square = pa + (1 - pb) + mu * mu * inside + 2 * mu * stdDev * (fa - fb) +
      stdDev * stdDev * (inside + a * fa - b * fb);
    dot += mean * mean;
    norm += square;
  }
  return norm === 0 ? 1 : dot / norm;
}

/** Cosine similarity of two vectors (1 when either is zero, as for identical points). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let j = 0; j < a.length; j++) {
    dot += a[j] * b[j];
    na += a[j] * a[j];
    nb += b[j] * b[j];
  }
  return na === 0 || nb === 0 ? 1 : dot / Math.sqrt(na * nb);
}

/**
 * The largest cosine between any two of `vectors` (all pairs; O(n² · dim)), with the mean over
 * pairs: what Engram's duplicate check would see if they were all stored.
 */
export function pairwiseCosines(vectors: readonly Float64Array[]): { max: number; mean: number } {
  const unit = vectors.map((v) => {
    let n = 0;
    for (let j = 0; j < v.length; j++) n += v[j] * v[j];
    n = Math.sqrt(n);
    return n === 0 ? v : v.map((x) => x / n);
  });
  let max = -1, sum = 0, pairs = 0;
  for (let i = 0; i < unit.length; i++) {
    const a = unit[i];
    for (let k = i + 1; k < unit.length; k++) {
      const b = unit[k];
      let dot = 0;
      for (let j = 0; j < a.length; j++) dot += a[j] * b[j];
      if (dot > max) max = dot;
      sum += dot;
      pairs++;
    }
  }
  return { max, mean: pairs === 0 ? NaN : sum / pairs };
}

/**
 * The expected cosine of two draws of a scenario's first (most popular) cluster, to hold against
 * `ENGRAM_DEDUP_COSINE`; null for uniform embeddings (no clusters: draws are nearly orthogonal).
 */
export function sameClusterCosine(s: Scenario): number | null {
  const d = s.distribution;
  if (d.type === "uniform") return null;
  const center = d.type === "hot_spot"
    ? new Float64Array(s.embeddingDim).fill(d.center)
    : new Workload(s).space.centers.subarray(0, s.embeddingDim);
  return expectedClusterCosine(center, d.stdDev);
}
