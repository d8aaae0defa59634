/**
 * Due requests and the queue of those waiting for an in-flight slot.
 * @module
 */
import type { Op } from "../workload/ops.ts";
import type { OpSource } from "./shard.ts";

/**
 * A due request. Its op is rendered only when it is sent (or expires), in due order from its
 * stream, so a queue of waiting requests holds a few numbers each, not rendered payloads.
 */
export interface Pending {
  stream: OpSource;
  op: Op | null;
  dueMs: number;
  /** Second of the measured window it was due in, from its due offset (exact). */
  second: number;
  measured: boolean;
}

/** The op of a pending request, rendered on first use. */
export function opOf(p: Pending): Op {
  return p.op ??= p.stream.next();
}

/** FIFO of requests waiting for a slot; they keep their due time and leave in due order. */
export class PendingQueue {
  #items: Pending[] = [];
  #head = 0;

  /** Requests waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest waiting request, if any. */
  peek(): Pending | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  push(p: Pending): void {
    this.#items.push(p);
  }

  /** Removes and returns the oldest waiting request (call only when `size > 0`). */
  take(): Pending {
    const next = this.#items[this.#head];
    this.#items[this.#head++] = undefined as unknown as Pending;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return next;
  }

  /** Empties the queue, returning what waited, oldest first. */
  takeAll(): Pending[] {
    const rest = this.#items.slice(this.#head);
    this.#head = this.#items.length;
    return rest;
  }
}
