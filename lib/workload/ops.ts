/**
 * The deterministic operation stream: op i → kind, parameters and the exact HTTP request bytes.
 *
 * Same scenario + seed → byte-identical requests on every platform: the generator uses only
 * `Prng` (integer arithmetic), embeddings are quantised to 4 decimals and written as ASCII
 * from a precomputed table of the 10,000 four-digit fractions (no float formatting at run
 * time), and text comes from a fixed vocabulary. Ops are produced lazily, O(1) memory in run length.
 *
 * Three independent streams are derived from the seed: measured ops, warm-up ops and preload
 * memories, so the measured stream does not change when the warm-up length or preload does.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { parseScenario } from "./scenario.ts";
 * import { Workload } from "./ops.ts";
 * const s = parseScenario('[arrival]\nrate = 10\n[operations]\nstore_weight = 1\n[data]\nembedding_dim = 4', "x");
 * const a = new Workload(s).stream("measured").next();
 * const b = new Workload(s).stream("measured").next();
 * strictEqual(a.body, b.body);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { UsageError } from "../shared/errors.ts";
import { IRWIN_HALL_SCALE, Prng } from "./prng.ts";
import { OP_KINDS, type OpKind, type RecallMode, type Scenario } from "./scenario.ts";

/** Bumped whenever the bytes generated for a scenario and seed change. */
export const GENERATOR_VERSION = "m17-workload-v1";

/** One request, fully rendered. */
export interface Op {
  /** Position in its stream (0-based). */
  index: number;
  kind: OpKind;
  method: "GET" | "POST";
  /** Path with query string. */
  path: string;
  /** JSON body, or null for GET. */
  body: string | null;
  /**
   * The plain episodic recall to send instead when the server rejects the requested recall
   * mode (semantic/blended recall before M17 is enabled).
   */
  fallbackPath?: string;
}

/** Which derived stream to draw from. */
export type StreamName = "measured" | "warmup" | "preload";

const STREAM_IDS: Record<StreamName, bigint> = { measured: 1n, warmup: 2n, preload: 3n };

const QUANT = 10_000; // 4 decimals
const ASCII = new TextDecoder();

/** A fixed vocabulary for content and text cues, so text search has something to find. */
export const VOCABULARY: readonly string[] = [
  "memory",
  "episode",
  "concept",
  "graph",
  "node",
  "edge",
  "recall",
  "signal",
  "pattern",
  "schema",
  "river",
  "forest",
  "mountain",
  "ocean",
  "city",
  "garden",
  "library",
  "station",
  "bridge",
  "market",
  "morning",
  "evening",
  "winter",
  "summer",
  "storm",
  "sunlight",
  "shadow",
  "music",
  "letter",
  "journey",
  "friend",
  "teacher",
  "doctor",
  "child",
  "artist",
  "pilot",
  "farmer",
  "engineer",
  "writer",
  "runner",
  "coffee",
  "bread",
  "apple",
  "lantern",
  "compass",
  "mirror",
  "window",
  "engine",
  "harbor",
  "meadow",
  "learned",
  "noticed",
  "remembered",
  "built",
  "found",
  "lost",
  "shared",
  "painted",
  "measured",
  "heard",
  "quickly",
  "quietly",
  "together",
  "alone",
];

/** Cumulative popularity thresholds on the 32-bit integer scale (exact comparisons). */
function popularityThresholds(numClusters: number, exponent: number): Uint32Array | null {
  if (exponent === 0) return null;
  const weights = new Float64Array(numClusters);
  let total = 0;
  for (let k = 0; k < numClusters; k++) {
    weights[k] = 1 / Math.pow(k + 1, exponent);
    total += weights[k];
  }
  const t = new Uint32Array(numClusters);
  let acc = 0;
  for (let k = 0; k < numClusters; k++) {
    acc += weights[k];
    t[k] = Math.min(4294967295, Math.round((acc / total) * 4294967295));
  }
  t[numClusters - 1] = 4294967295;
  return t;
}

/** Shape of the embedding space, derived once per scenario. */
class EmbeddingSpace {
  readonly dim: number;
  readonly centers: Float64Array; // numClusters × dim
  readonly numClusters: number;
  readonly stdDev: number;
  readonly popularity: Uint32Array | null;
  readonly kind: Scenario["distribution"]["type"];
  readonly hotCenter: number;
  readonly #draws: Uint32Array;
  readonly #bytes: Uint8Array;
  readonly #quantised: Int32Array;

  constructor(s: Scenario) {
    const d = s.distribution;
    this.dim = s.embeddingDim;
    this.kind = d.type;
    this.numClusters = d.type === "clustered" || d.type === "scale_free" ? d.numClusters : 1;
    this.stdDev = d.type === "uniform" ? 0 : d.stdDev;
    this.hotCenter = d.type === "hot_spot" ? d.center : 0;
    if (this.numClusters * this.dim > 16_000_000) {
      throw new UsageError(
        `scenario: num_clusters × embedding_dim = ${
          this.numClusters * this.dim
        } is too large (≤ 16,000,000)`,
      );
    }
    this.popularity = d.type === "scale_free"
      ? popularityThresholds(d.numClusters, d.exponent)
      : null;
    this.#draws = new Uint32Array(2 * this.dim);
    this.#bytes = new Uint8Array(this.dim * 10 + 16); // "-0.1234" + "%2C" per component
    this.#quantised = new Int32Array(this.dim);
    const rng = Prng.derive(s.seed, 0xC0FFEEn);
    this.centers = new Float64Array(this.numClusters * this.dim);
    for (let i = 0; i < this.centers.length; i++) this.centers[i] = rng.nextFloat() * 2 - 1;
  }

  /** Picks a cluster: uniform for `clustered`, power law for `scale_free`. */
  cluster(rng: Prng): number {
    if (this.numClusters === 1) return 0;
    const p = this.popularity;
    if (p === null) return rng.nextInt(this.numClusters);
    const u = rng.nextU32();
    let lo = 0, hi = p.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Renders one embedding of `cluster` as JSON array text (quantised, deterministic). With
   * `urlEncoded`, brackets and commas are percent-encoded for a query string. `every` > 1 keeps
   * only every n-th component and writes `null` for the rest (a partial cue).
   */
  render(rng: Prng, cluster: number, every = 1, urlEncoded = false): string {
    const dim = this.dim;
    const draws = this.#draws;
    rng.fill(draws);
    const q = this.#quantised;
    const base = cluster * dim;
    if (this.kind === "uniform") {
      for (let j = 0; j < dim; j++) q[j] = quantise(draws[2 * j] / 2147483648 - 1);
    } else {
      const sd = this.stdDev * IRWIN_HALL_SCALE;
      const hot = this.kind === "hot_spot";
      const centers = this.centers;
      const center = this.hotCenter;
      for (let j = 0, d = 0; j < dim; j++, d += 2) {
        // Irwin–Hall sum of four 16-bit uniforms ≈ normal (see Prng.nextGaussian).
        const a = draws[d], b = draws[d + 1];
        const g = (a & 0xFFFF) + (a >>> 16) + (b & 0xFFFF) + (b >>> 16) - 131070;
        const k = Math.floor(((hot ? center : centers[base + j]) + sd * g) * QUANT + 0.5);
        q[j] = k > QUANT ? QUANT : k < -QUANT ? -QUANT : k;
      }
    }
    return writeDecimals(q, this.#bytes, every, urlEncoded);
  }
}

/**
 * Rounds to the 4-decimal grid (half up, as `Math.floor(v + 0.5)`: exact IEEE arithmetic, and in
 * V8 about 1.5× faster than `Math.round` in this loop) and clamps to [-1, 1]; returns the
 * integer numerator.
 */
function quantise(x: number): number {
  const k = Math.floor(x * QUANT + 0.5);
  return k > QUANT ? QUANT : k < -QUANT ? -QUANT : k;
}

/** ASCII of the four decimals of m/10000, m in 0..9999, packed little-endian into a Uint32. */
const DIGITS = new Uint32Array(QUANT);
/** How far to advance after writing "0." + DIGITS[m]: trailing zeros (and a bare ".") dropped. */
const ADVANCE = new Uint8Array(QUANT);
for (let m = 0; m < QUANT; m++) {
  const d = String(m).padStart(4, "0");
  DIGITS[m] = d.charCodeAt(0) | (d.charCodeAt(1) << 8) | (d.charCodeAt(2) << 16) |
    (d.charCodeAt(3) << 24);
  const significant = d.replace(/0+$/, "").length;
  ADVANCE[m] = significant === 0 ? 1 : 2 + significant;
}

/**
 * Writes k/10000 for each k as the shortest decimal text (the same text `String(k / 10000)`
 * gives, e.g. `-0.05`, `1`, `0`), comma separated in brackets, as ASCII. Branch-light: each
 * value is written as "0." plus four digits in two stores, then the cursor advances only past
 * the significant ones (the rest is overwritten by what follows).
 */
function writeDecimals(q: Int32Array, out: Uint8Array, every: number, urlEncoded: boolean): string {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  // Separator bytes, little-endian: "," or "%2C".
  const sep = urlEncoded ? 0x433225 : 0x2C;
  const sepLength = urlEncoded ? 3 : 1;
  let p = 0;
  if (urlEncoded) out[p++] = 37, out[p++] = 53, out[p++] = 66; // %5B
  else out[p++] = 91; // [
  for (let j = 0; j < q.length; j++) {
    if (every > 1 && j % every !== 0) {
      view.setUint32(p, 0x6C6C756E, true); // null
      p += 4;
    } else {
      let k = q[j];
      out[p] = 45; // "-", kept only for negative values
      if (k < 0) {
        p++;
        k = -k;
      }
      if (k === QUANT) out[p++] = 49; // 1
      else {
        view.setUint16(p, 0x2E30, true); // "0."
        view.setUint32(p + 2, DIGITS[k], true);
        p += ADVANCE[k];
      }
    }
    view.setUint32(p, sep, true);
    p += sepLength;
  }
  p -= sepLength; // no separator after the last value
  if (urlEncoded) out[p++] = 37, out[p++] = 53, out[p++] = 68; // %5D
  else out[p++] = 93; // ]
  return ASCII.decode(out.subarray(0, p));
}

function words(rng: Prng, n: number): string {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = VOCABULARY[rng.nextInt(VOCABULARY.length)];
  return out.join(" ");
}

/** Per-scenario request factory; `stream()` hands out independent deterministic op streams. */
export class Workload {
  readonly scenario: Scenario;
  readonly space: EmbeddingSpace;
  /** Cumulative weights on the 32-bit scale, in `OP_KINDS` order. */
  readonly #mix: Uint32Array;

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    this.space = new EmbeddingSpace(scenario);
    const total = OP_KINDS.reduce((a, k) => a + scenario.weights[k], 0);
    this.#mix = new Uint32Array(OP_KINDS.length);
    let acc = 0;
    OP_KINDS.forEach((k, i) => {
      acc += scenario.weights[k];
      this.#mix[i] = scenario.weights[k] === 0 && acc === 0
        ? 0
        : Math.min(4294967295, Math.round((acc / total) * 4294967295));
    });
    // Make the last kind with a weight absorb rounding.
    for (let i = OP_KINDS.length - 1; i >= 0; i--) {
      if (scenario.weights[OP_KINDS[i]] > 0) {
        this.#mix[i] = 4294967295;
        for (let j = i + 1; j < OP_KINDS.length; j++) this.#mix[j] = 4294967295;
        break;
      }
    }
  }

  /** The normalised op mix (fractions summing to 1), for display. */
  mix(): Record<OpKind, number> {
    const total = OP_KINDS.reduce((a, k) => a + this.scenario.weights[k], 0);
    return Object.fromEntries(OP_KINDS.map((k) => [k, this.scenario.weights[k] / total])) as Record<
      OpKind,
      number
    >;
  }

  /** A fresh stream; two streams of the same name yield identical ops. */
  stream(name: StreamName): OpStream {
    return new OpStream(
      this,
      Prng.derive(this.scenario.seed, STREAM_IDS[name]),
      name === "preload",
    );
  }

  /** Picks the op kind for a uniform 32-bit draw. */
  kindFor(u: number): OpKind {
    const m = this.#mix;
    for (let i = 0; i < m.length; i++) {
      if (u <= m[i] && this.scenario.weights[OP_KINDS[i]] > 0) return OP_KINDS[i];
    }
    return OP_KINDS[m.length - 1];
  }
}

/** A lazy, infinite, deterministic sequence of ops. */
export class OpStream {
  #index = 0;
  constructor(readonly workload: Workload, readonly rng: Prng, readonly storesOnly: boolean) {}

  /** The next op. */
  next(): Op {
    const w = this.workload;
    const s = w.scenario;
    const rng = this.rng;
    const index = this.#index++;
    const kind: OpKind = this.storesOnly ? "Store" : w.kindFor(rng.nextU32());
    const spaceId = s.memorySpaces > 1 ? `space_${rng.nextInt(s.memorySpaces)}` : null;
    const cluster = w.space.cluster(rng);
    const common = `threshold=${s.recallThreshold}&max_results=${s.maxResults}` +
      (spaceId ? `&space=${spaceId}` : "");
    switch (kind) {
      case "Store": {
        const content = `m17 memory ${index} cluster ${cluster}: ${words(rng, 8)}`;
        const confidence = (50 + rng.nextInt(50)) / 100;
        const embedding = w.space.render(rng, cluster);
        const body =
          `{"content":${
            JSON.stringify(content)
          },"embedding":${embedding},"confidence":${confidence}` +
          (spaceId ? `,"memory_space_id":"${spaceId}"` : "") + "}";
        return { index, kind, method: "POST", path: "/api/v1/memories/remember", body };
      }
      case "Recall":
      case "BlendedRecall": {
        const mode: RecallMode = kind === "Recall" ? s.modes.recall : s.modes.blendedRecall;
        const q = `embedding=${w.space.render(rng, cluster, 1, true)}&${common}`;
        return recallOp(index, kind, q, mode);
      }
      case "SemanticRecall": {
        const q = `query=${encodeURIComponent(words(rng, 3))}&${common}`;
        return recallOp(index, kind, q, s.modes.semanticRecall);
      }
      case "Search": {
        const q = `query=${encodeURIComponent(words(rng, 2))}&limit=${s.searchLimit}`;
        return { index, kind, method: "GET", path: `/api/v1/memories/search?${q}`, body: null };
      }
      case "PatternCompletion": {
        const what = words(rng, 4);
        const partial = w.space.render(rng, cluster, 2);
        const body = `{"partial_episode":{"known_fields":{"what":${JSON.stringify(what)}},` +
          `"partial_embedding":${partial},"cue_strength":0.7,"temporal_context":[]},` +
          `"config":{"ca1_threshold":0.7,"num_hypotheses":3,"max_iterations":7}}`;
        return { index, kind, method: "POST", path: "/api/v1/complete", body };
      }
    }
  }
}

function recallOp(index: number, kind: OpKind, query: string, mode: RecallMode): Op {
  const path = `/api/v1/memories/recall?${query}&mode=${mode}`;
  return mode === "similarity" ? { index, kind, method: "GET", path, body: null } : {
    index,
    kind,
    method: "GET",
    path,
    body: null,
    fallbackPath: `/api/v1/memories/recall?${query}&mode=similarity`,
  };
}

/** The exact bytes of one request as used by the golden vectors: method, path, body. */
export function serializeOp(op: Op): string {
  return `${op.method} ${op.path}\n${op.body ?? ""}\n`;
}

/**
 * Workload fingerprint: SHA-256 (hex, first 16 bytes) of the generator version and every
 * scenario field that shapes the request stream or its timing. Equal fingerprints mean
 * byte-identical requests at identical due times.
 */
export function workloadFingerprint(s: Scenario): string {
  const shaping = {
    generator: GENERATOR_VERSION,
    seed: "0x" + s.seed.toString(16),
    arrival: s.arrival,
    durationSeconds: s.durationSeconds,
    warmupSeconds: s.warmupSeconds,
    weights: s.weights,
    modes: s.modes,
    recallThreshold: s.recallThreshold,
    maxResults: s.maxResults,
    searchLimit: s.searchLimit,
    preload: s.preload,
    embeddingDim: s.embeddingDim,
    memorySpaces: s.memorySpaces,
    distribution: s.distribution,
  };
  return createHash("sha256").update(JSON.stringify(shaping)).digest("hex").slice(0, 32);
}

/**
 * Preload stream fingerprint: SHA-256 (hex, first 16 bytes) of what shapes the preload's
 * memories (generator version, seed, embedding dimension, memory spaces, distribution), without
 * the count: the first n memories are the same whatever the count, so a preload can resume.
 */
export function preloadStreamFingerprint(s: Scenario): string {
  const shaping = {
    generator: GENERATOR_VERSION,
    stream: "preload",
    seed: "0x" + s.seed.toString(16),
    embeddingDim: s.embeddingDim,
    memorySpaces: s.memorySpaces,
    distribution: s.distribution,
  };
  return createHash("sha256").update(JSON.stringify(shaping)).digest("hex").slice(0, 32);
}

/** SHA-256 (hex) of the first `n` serialized requests of a stream: the golden vector. */
export function streamDigest(w: Workload, name: StreamName, n: number): string {
  const h = createHash("sha256");
  const st = w.stream(name);
  for (let i = 0; i < n; i++) h.update(serializeOp(st.next()));
  return h.digest("hex");
}
