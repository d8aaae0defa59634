/**
 * The in-memory memory store: one `MemorySpace` per memory space id, each with its memories,
 * a vector index, a text index and association links.
 *
 * Memory ids come from one counter per store (`mem_00000001`, `ep_00000002`, …), so two servers
 * fed the same requests hand out the same ids.
 * @module
 */
import { LinkGraph } from "./graph.ts";
import { TextIndex } from "./text_index.ts";
import { SimHasher, type VectorHit, VectorIndex } from "./vector_index.ts";

/** New links are looked for among this many most recent vectors of the space (bounded cost). */
const LINK_WINDOW = 4096;
/** Candidates re-ranked exactly when linking, and most links made per new memory. */
const LINK_CANDIDATES = 32;
const LINKS_PER_MEMORY = 4;

/** Fields only episodes have. */
export interface EpisodeDetails {
  when: string;
  whereLocation: string | null;
  who: string[] | null;
  why: string | null;
  how: string | null;
  emotionalValence: number | null;
}

/** Everything needed to store one memory or episode. */
export interface MemoryInput {
  kind: "memory" | "episode";
  /** Client-chosen id; generated when absent. */
  id?: string;
  /** Returned as `content` and indexed for text search. */
  content: string;
  /** Extra words indexed for text search only (episode context fields). */
  searchText?: string;
  confidence: number;
  /** Unit-length embedding, or null for a text-only memory. */
  embedding: Float32Array | null;
  tags: string[];
  memoryType: string;
  observedAt: string;
  episode?: EpisodeDetails;
  autoLink: boolean;
  linkThreshold: number;
}

/** A stored memory as handlers see it. */
export interface MemoryRecord {
  id: string;
  kind: "memory" | "episode";
  content: string;
  confidence: number;
  tags: string[];
  memoryType: string;
  observedAt: string;
  episode?: EpisodeDetails;
}

/** A link made when a memory was stored. */
export interface NewLink {
  id: string;
  similarity: number;
}

/** A memory and how well it matched. */
export interface ScoredMemory {
  memory: number;
  score: number;
}

/** The memories of one space and its indexes. Memory numbers are dense from 0. */
export class MemorySpace {
  readonly id: string;
  readonly #records: MemoryRecord[] = [];
  readonly #vectors: VectorIndex;
  readonly #links = new LinkGraph();
  readonly #text = new TextIndex();
  /** Vector row → memory number (text-only memories have no row). */
  readonly #memoryOfRow: number[] = [];
  /** Memory number → vector row, or -1. */
  readonly #rowOfMemory: number[] = [];

  /** An empty space whose vectors are hashed by `hasher`. */
  constructor(id: string, hasher: SimHasher) {
    this.id = id;
    this.#vectors = new VectorIndex(hasher);
  }

  /** Number of memories in the space. */
  get count(): number {
    return this.#records.length;
  }

  /** Number of memories with an embedding. */
  get vectorCount(): number {
    return this.#vectors.size;
  }

  /** The record of memory number `memory`. */
  record(memory: number): MemoryRecord {
    return this.#records[memory];
  }

  /** Stores a memory under `id`; links it to its nearest recent neighbours when asked. */
  add(id: string, input: MemoryInput): { memory: number; links: NewLink[] } {
    const memory = this.#records.length;
    this.#records.push({
      id,
      kind: input.kind,
      content: input.content,
      confidence: input.confidence,
      tags: input.tags,
      memoryType: input.memoryType,
      observedAt: input.observedAt,
      episode: input.episode,
    });
    this.#text.add(
      memory,
      input.searchText ? `${input.content} ${input.searchText}` : input.content,
    );
    const links: NewLink[] = [];
    if (input.embedding === null) {
      this.#rowOfMemory.push(-1);
      return { memory, links };
    }
    const neighbours: VectorHit[] = input.autoLink
      ? this.#vectors.search(input.embedding, {
        k: LINKS_PER_MEMORY,
        candidates: LINK_CANDIDATES,
        fromRow: this.#vectors.size - LINK_WINDOW,
      })
      : [];
    const row = this.#vectors.add(input.embedding);
    this.#links.addNode();
    this.#memoryOfRow.push(memory);
    this.#rowOfMemory.push(row);
    for (const n of neighbours) {
      if (n.score < input.linkThreshold) break;
      this.#links.link(row, n.row, n.score);
      links.push({ id: this.#records[this.#memoryOfRow[n.row]].id, similarity: n.score });
    }
    return { memory, links };
  }

  /**
   * The `k` memories most similar to a unit `query` (approximate; see vector_index.ts). With
   * `known`, similarity is measured over those components only (a partial cue).
   */
  nearest(query: Float32Array, k: number, known?: Int32Array): ScoredMemory[] {
    return this.#vectors.search(query, { k, known }).map((h) => ({
      memory: this.#memoryOfRow[h.row],
      score: h.score,
    }));
  }

  /** Exact cosine between a unit query and a memory's embedding (0 without one). */
  similarity(query: Float32Array, memory: number): number {
    const row = this.#rowOfMemory[memory];
    return row < 0 ? 0 : this.#vectors.similarity(query, row);
  }

  /** Copies the unit embedding of `memory` into `out`; false when it has none. */
  readEmbedding(memory: number, out: Float32Array): boolean {
    const row = this.#rowOfMemory[memory];
    if (row < 0) return false;
    this.#vectors.read(row, out);
    return true;
  }

  /** Text matches for `query`: best `limit` memories, scored by the fraction of words matched. */
  matchText(query: string, limit: number): { hits: ScoredMemory[]; total: number } {
    const m = this.#text.search(query, limit);
    return { hits: m.docs.map((memory, i) => ({ memory, score: m.scores[i] })), total: m.total };
  }

  /** Memories reached by spreading activation from `seeds` (seeds excluded), strongest first. */
  spread(seeds: readonly ScoredMemory[], hops: number, limit: number): ScoredMemory[] {
    const start = [];
    for (const s of seeds) {
      const row = this.#rowOfMemory[s.memory];
      if (row >= 0) start.push({ node: row, activation: s.score });
    }
    return this.#links.spread(start, hops, limit).map((a) => ({
      memory: this.#memoryOfRow[a.node],
      score: a.activation,
    }));
  }
}

/** All memory spaces of one server. */
export class MemoryStore {
  readonly #hasher: SimHasher;
  readonly #spaces = new Map<string, MemorySpace>();
  #sequence = 0;

  /** An empty store for `dim`-dimensional embeddings; `seed` fixes the index's projections. */
  constructor(dim: number, seed: bigint) {
    this.#hasher = new SimHasher(dim, seed);
  }

  /** The space `id`, created empty on first use (Engram creates spaces on demand too). */
  space(id: string): MemorySpace {
    let s = this.#spaces.get(id);
    if (!s) {
      s = new MemorySpace(id, this.#hasher);
      this.#spaces.set(id, s);
    }
    return s;
  }

  /** The space `id` if anything was ever stored or asked of it. */
  existing(id: string): MemorySpace | undefined {
    return this.#spaces.get(id);
  }

  /** Stores `input` in space `spaceId` under a new (or the client's) id. */
  remember(spaceId: string, input: MemoryInput): { id: string; memory: number; links: NewLink[] } {
    this.#sequence++;
    const id = input.id ??
      `${input.kind === "episode" ? "ep" : "mem"}_${this.#sequence.toString(16).padStart(8, "0")}`;
    return { id, ...this.space(spaceId).add(id, input) };
  }

  /** Memory count per space. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, s] of this.#spaces) out[id] = s.count;
    return out;
  }

  /** Memories across all spaces. */
  get totalCount(): number {
    let n = 0;
    for (const s of this.#spaces.values()) n += s.count;
    return n;
  }
}
