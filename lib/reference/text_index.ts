/**
 * Word-level inverted index for text search and text-cued recall.
 *
 * A query counts, per document, how many of its distinct words the document contains (one pass
 * over the words' posting lists into a reused byte array), then walks documents newest first
 * only until the best `limit` are certain. Ranking: more matched words first, then newer first.
 * @module
 */

/** Most distinct words indexed per document and read from a query: bounds work on 100 KB input. */
const MAX_TERMS = 4096;
const MAX_QUERY_TERMS = 32;
const WORD = /[\p{L}\p{N}]+/gu;

/** Lower-cased distinct words of `text`, at most `limit`. */
export function tokenize(text: string, limit = MAX_TERMS): string[] {
  const seen = new Set<string>();
  for (const m of text.toLowerCase().matchAll(WORD)) {
    seen.add(m[0]);
    if (seen.size >= limit) break;
  }
  return [...seen];
}

/** Result of one text query. */
export interface TextMatches {
  /** Best documents first. */
  docs: number[];
  /** Fraction of the query's words each document contains, in (0, 1]. */
  scores: number[];
  /** How many documents contain at least one query word. */
  total: number;
}

/** Append-only inverted index from words to document ids. */
export class TextIndex {
  readonly #postings = new Map<string, number[]>();
  #lastDoc = -1;
  /** Scratch: matched-word count per document during one search. */
  #scores = new Uint8Array(0);
  /** Scratch: the documents with a non-zero count (a typed array: no growth while searching). */
  #touched = new Int32Array(0);

  /** Indexes `text` under `doc`; ids must increase from call to call. */
  add(doc: number, text: string): void {
    if (doc <= this.#lastDoc) throw new RangeError(`text index: doc ${doc} after ${this.#lastDoc}`);
    this.#lastDoc = doc;
    for (const word of tokenize(text)) {
      const list = this.#postings.get(word);
      if (list) list.push(doc);
      else this.#postings.set(word, [doc]);
    }
  }

  /** The `limit` best documents for `query` and the number of documents matching any word. */
  search(query: string, limit: number): TextMatches {
    const terms = tokenize(query, MAX_QUERY_TERMS);
    if (this.#scores.length <= this.#lastDoc) {
      this.#scores = new Uint8Array(2 * this.#lastDoc + 2);
      this.#touched = new Int32Array(2 * this.#lastDoc + 2);
    }
    const scores = this.#scores, touched = this.#touched;
    // Pass 1: count matched words per document (scores is all zero between calls).
    let nTouched = 0;
    const perScore = new Array<number>(terms.length + 1).fill(0);
    for (const t of terms) {
      const list = this.#postings.get(t);
      if (!list) continue;
      for (let i = 0; i < list.length; i++) {
        const doc = list[i];
        if (scores[doc]++ === 0) touched[nTouched++] = doc;
      }
    }
    for (let i = 0; i < nTouched; i++) perScore[scores[touched[i]]]++;
    // Pass 2: newest first, until the best `limit` are certain.
    const byScore: number[][] = perScore.map(() => []);
    const wanted = perScore.map((n) => Math.min(n, limit));
    const complete = () => {
      let have = 0;
      for (let c = terms.length; c > 0 && have < limit; c--) {
        if (byScore[c].length < Math.min(wanted[c], limit - have)) return false;
        have += byScore[c].length;
      }
      return true;
    };
    for (let doc = this.#lastDoc; doc >= 0 && limit > 0 && nTouched > 0; doc--) {
      const c = scores[doc];
      if (c > 0 && byScore[c].length < wanted[c]) {
        byScore[c].push(doc);
        if (complete()) break;
      }
    }
    for (let i = 0; i < nTouched; i++) scores[touched[i]] = 0;
    const docs: number[] = [], matched: number[] = [];
    for (let c = terms.length; c > 0 && docs.length < limit; c--) {
      for (const doc of byScore[c].slice(0, limit - docs.length)) {
        docs.push(doc);
        matched.push(c / terms.length);
      }
    }
    return { docs, scores: matched, total: nTouched };
  }
}
