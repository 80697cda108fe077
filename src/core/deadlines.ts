// Each flow's next deadline, and the earliest of them: the group sender's timer bookkeeping, over the one
// min-heap (heap.ts) with the flow's index as the value. Lazy: an entry is pushed only when a flow's deadline
// moves earlier; a later deadline (every ACK pushes it later) keeps the entry, which is re-keyed when it
// reaches the top. Ties between equal keys go to the earlier insertion, so the order in which due flows are
// handled is the same on every run.

import { MinHeap } from './heap.js';

export class FlowDeadlines {
  /** Each flow's deadline (NaN: none). */
  private readonly deadline: Float64Array;
  /** The key of each flow's live entry (NaN: none); an entry whose key differs is superseded. */
  private readonly entryKey: Float64Array;
  private readonly heap = new MinHeap<number>();

  constructor(flows: number) {
    this.deadline = new Float64Array(flows).fill(Number.NaN);
    this.entryKey = new Float64Array(flows).fill(Number.NaN);
  }

  /** Flow r's deadline is now `at` (undefined: nothing timed). False when it did not change. */
  set(r: number, at: number | undefined): boolean {
    const key = at ?? Number.NaN;
    const old = this.deadline[r]!;
    if (key === old || (Number.isNaN(key) && Number.isNaN(old))) return false;
    this.deadline[r] = key;
    if (at !== undefined && !(this.entryKey[r]! <= at)) {
      this.entryKey[r] = at;
      this.heap.push(at, r);
    }
    return true;
  }

  /** The earliest deadline of any flow (the heap's top entry is then that flow's), or undefined. */
  next(): number | undefined {
    const heap = this.heap;
    while (heap.size > 0) {
      const r = heap.peek()!;
      const top = heap.topKey();
      if (this.entryKey[r] !== top) {
        heap.pop(); // superseded by an earlier entry
        continue;
      }
      const at = this.deadline[r]!;
      if (at === top) return at;
      // The flow's deadline moved later (or went away) since this entry was pushed: re-key the entry.
      if (Number.isNaN(at)) {
        this.entryKey[r] = Number.NaN;
        heap.pop();
      } else {
        this.entryKey[r] = at;
        heap.replaceTop(at);
      }
    }
    return undefined;
  }

  /** The flow with the earliest deadline if that is at or before `now` (its deadline is cleared), else -1. */
  takeDue(now: number): number {
    const at = this.next();
    if (at === undefined || at > now) return -1;
    const r = this.heap.pop()!;
    this.entryKey[r] = Number.NaN;
    this.deadline[r] = Number.NaN;
    return r;
  }
}
