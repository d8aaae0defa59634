/**
 * Pattern completion: fills the unknown components of a partial embedding from the stored
 * memories nearest to its known components, the way Engram's CA3/CA1 completion is gated: a cue
 * with under 30% of its components known is refused (422), and so is a best match below the
 * CA1 threshold or an empty space.
 * @module
 */
import { ApiError } from "./api_error.ts";
import type { PartialEmbedding } from "./request.ts";
import type { MemorySpace, ScoredMemory } from "./store.ts";
import { normalize } from "./vector_index.ts";

/** Smallest fraction of known components Engram completes from. */
export const MIN_CUE_OVERLAP = 0.3;

/** Completion settings (Engram's `config`). */
export interface CompletionConfig {
  ca1Threshold: number;
  numHypotheses: number;
}

/** A completed cue: the memories it was completed from and the filled-in embedding. */
export interface Completion {
  /** Best first; `score` is the cosine over the known components. */
  sources: ScoredMemory[];
  /** Known components kept, unknown ones reconstructed, in the cue's own scale. */
  embedding: Float64Array;
  /** Fraction of the cue's components that were known. */
  overlap: number;
}

/** Completes `cue` from `space` (undefined: a space nothing was ever stored in). */
export function completePattern(
  space: MemorySpace | undefined,
  cue: PartialEmbedding,
  dim: number,
  config: CompletionConfig,
): Completion {
  const overlap = cue.known.length / dim;
  if (overlap < MIN_CUE_OVERLAP) {
    throw new ApiError(
      "MEMORY_VALIDATION_ERROR",
      `Pattern completion requires minimum 30% cue overlap. Current overlap: ${
        (overlap * 100).toFixed(1)
      }% (${cue.known.length} of ${dim} dimensions known). Provide more of partial_embedding.`,
    );
  }
  if (!space || space.vectorCount === 0) {
    throw new ApiError(
      "MEMORY_VALIDATION_ERROR",
      `Pattern completion found no stored memories with embeddings in space '${
        space?.id ?? "(empty)"
      }': store memories before completing patterns.`,
    );
  }
  let cueNorm = 0;
  for (let i = 0; i < cue.known.length; i++) cueNorm += cue.values[cue.known[i]] ** 2;
  cueNorm = Math.sqrt(cueNorm);
  const query = normalize(Float32Array.from(cue.values));
  const sources = space.nearest(query, Math.max(1, config.numHypotheses), cue.known)
    .filter((s) => s.score > 0);
  const best = sources[0]?.score ?? 0;
  if (best < config.ca1Threshold) {
    throw new ApiError(
      "MEMORY_VALIDATION_ERROR",
      `Completion confidence ${best.toFixed(2)} below CA1 threshold ${config.ca1Threshold}: ` +
        "no stored memory matches the known part of the cue closely enough.",
    );
  }
  const accepted = sources.filter((s) => s.score >= config.ca1Threshold);
  return { sources, embedding: fill(space, cue, cueNorm, accepted), overlap };
}

/**
 * Unknown components: the similarity-weighted mean of the accepted sources' components (those
 * at or above the CA1 threshold), each scaled so its known part has the cue's norm.
 */
function fill(
  space: MemorySpace,
  cue: PartialEmbedding,
  cueNorm: number,
  sources: readonly ScoredMemory[],
): Float64Array {
  const dim = cue.values.length;
  const out = new Float64Array(dim);
  const isKnown = new Uint8Array(dim);
  for (const j of cue.known) isKnown[j] = 1;
  const v = new Float32Array(dim);
  let totalWeight = 0;
  for (const s of sources) {
    if (!space.readEmbedding(s.memory, v)) continue;
    let knownNorm = 0;
    for (const j of cue.known) knownNorm += v[j] * v[j];
    if (knownNorm === 0) continue;
    const scale = (s.score * cueNorm) / Math.sqrt(knownNorm);
    for (let j = 0; j < dim; j++) if (!isKnown[j]) out[j] += v[j] * scale;
    totalWeight += s.score;
  }
  for (let j = 0; j < dim; j++) {
    out[j] = isKnown[j] ? cue.values[j] : totalWeight > 0 ? out[j] / totalWeight : 0;
  }
  return out;
}
