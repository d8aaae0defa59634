/**
 * Association links between memories and spreading activation over them.
 *
 * Each node keeps at most `DEGREE` weighted, undirected links (fixed-size arrays: memory stays
 * linear in the number of memories); a full node drops its weakest link for a stronger one.
 * Activation starts at the seeds, and each hop passes on `parent × weight × decay`.
 * @module
 */

/** Most links a node keeps. */
export const DEGREE = 8;
/** Activation kept per hop, on top of the link weight. */
const DECAY = 0.5;
/** Most nodes one spreading pass may touch: bounds the cost of a query. */
const MAX_VISITED = 1024;

/** An activated node and how strongly. */
export interface Activation {
  node: number;
  activation: number;
}

/** Undirected weighted graph over dense node ids 0 … size-1. */
export class LinkGraph {
  #size = 0;
  #neighbors = new Int32Array(DEGREE * 1024);
  #weights = new Float32Array(DEGREE * 1024);
  #degree = new Uint8Array(1024);
  /** Scratch for `spread`: activation per node, valid where `#stamp` equals `#visit`. */
  #level = new Float32Array(0);
  #stamp = new Uint32Array(0);
  #visit = 0;

  /** Number of nodes. */
  get size(): number {
    return this.#size;
  }

  /** Adds an unlinked node and returns its id. */
  addNode(): number {
    if (this.#size === this.#degree.length) {
      const grow = <T extends Int32Array | Float32Array | Uint8Array>(
        a: T,
        make: (n: number) => T,
      ) => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.#neighbors = grow(this.#neighbors, (n) => new Int32Array(n));
      this.#weights = grow(this.#weights, (n) => new Float32Array(n));
      this.#degree = grow(this.#degree, (n) => new Uint8Array(n));
    }
    return this.#size++;
  }

  /** Links `a` and `b` with `weight` in both directions (a full node keeps its strongest links). */
  link(a: number, b: number, weight: number): void {
    this.#attach(a, b, weight);
    this.#attach(b, a, weight);
  }

  /** The links of `node` as [neighbor, weight] pairs. */
  neighbors(node: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.#degree[node]; i++) {
      out.push([this.#neighbors[node * DEGREE + i], this.#weights[node * DEGREE + i]]);
    }
    return out;
  }

  /**
   * Spreads activation from `seeds` for `hops` hops and returns the nodes reached that are not
   * seeds, strongest first, at most `limit`. A node keeps the strongest activation that reaches it.
   */
  spread(seeds: readonly Activation[], hops: number, limit: number): Activation[] {
    if (this.#level.length < this.#size) {
      this.#level = new Float32Array(this.#degree.length);
      this.#stamp = new Uint32Array(this.#degree.length);
    }
    const level = this.#level, stamp = this.#stamp;
    const visit = ++this.#visit; // nodes with stamp === visit were reached in this call
    const isSeed = new Set<number>();
    let frontier: number[] = [];
    for (const s of seeds) {
      if (stamp[s.node] !== visit || s.activation > level[s.node]) {
        if (stamp[s.node] !== visit) frontier.push(s.node);
        stamp[s.node] = visit;
        level[s.node] = s.activation;
      }
      isSeed.add(s.node);
    }
    const reached: number[] = [];
    for (let hop = 0; hop < hops && frontier.length > 0 && reached.length < MAX_VISITED; hop++) {
      const next: number[] = [];
      for (const node of frontier) {
        for (let i = 0, base = node * DEGREE; i < this.#degree[node]; i++) {
          const to = this.#neighbors[base + i];
          const passed = level[node] * this.#weights[base + i] * DECAY;
          if (stamp[to] !== visit) {
            stamp[to] = visit;
            level[to] = passed;
            reached.push(to);
            next.push(to);
          } else if (passed > level[to] && !isSeed.has(to)) {
            level[to] = passed;
          }
        }
      }
      frontier = next;
    }
    // Top `limit` by insertion: `reached` can hold ~700 nodes, `limit` is ~10.
    const best: Activation[] = [];
    for (const node of reached) {
      const activation = level[node];
      if (best.length === limit && !stronger(activation, node, best[limit - 1])) continue;
      let i = best.length < limit ? best.length : limit - 1;
      if (best.length < limit) best.push({ node, activation });
      while (i > 0 && stronger(activation, node, best[i - 1])) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = { node, activation };
    }
    return best;
  }

  #attach(from: number, to: number, weight: number): void {
    const base = from * DEGREE;
    const n = this.#degree[from];
    let weakest = -1;
    for (let i = 0; i < n; i++) {
      if (this.#neighbors[base + i] === to) return;
      if (weakest < 0 || this.#weights[base + i] < this.#weights[base + weakest]) weakest = i;
    }
    if (n < DEGREE) {
      this.#neighbors[base + n] = to;
      this.#weights[base + n] = weight;
      this.#degree[from] = n + 1;
    } else if (weight > this.#weights[base + weakest]) {
      this.#neighbors[base + weakest] = to;
      this.#weights[base + weakest] = weight;
    }
  }
}

/** Ranking of spread results: higher activation first, then lower node id. */
function stronger(activation: number, node: number, than: Activation): boolean {
  return activation > than.activation || (activation === than.activation && node < than.node);
}
