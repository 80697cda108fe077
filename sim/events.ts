// The event queue and virtual clock: core's MinHeap ordered by (time, insertion order), so ties resolve the
// same way on every run.

import { MinHeap } from '../src/core/heap.js';

/** An event at virtual time `key` (ms). */
export interface Timed {
  key: number;
}

export class EventQueue<E extends Timed> {
  private readonly heap = new MinHeap<E>();
  /** The virtual clock: the time of the last event popped (never moves backwards). */
  now = 0;
  /** Events popped so far. */
  processed = 0;

  /** Schedule `event` at `event.key`; a time in the past is clamped to now (the clock never runs backwards). */
  push(event: E): void {
    if (!(event.key >= this.now)) event.key = this.now;
    this.heap.push(event.key, event);
  }

  peekTime(): number | undefined {
    return this.heap.size > 0 ? this.heap.topKey() : undefined;
  }

  /** Remove the earliest event and advance the clock to it. */
  pop(): E | undefined {
    const top = this.heap.pop();
    if (top === undefined) return undefined;
    this.now = top.key;
    this.processed++;
    return top;
  }
}
