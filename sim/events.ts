// The event queue and virtual clock: core's MinHeap ordered by (time, insertion order), so ties resolve the
// same way on every run.
//
// Pushes at the same time with no other push between them form a run, one heap entry: a multicast fans one
// datagram out to every receiver's link at once (1,000 arrivals at one instant, then their 1,000 ACKs), and a
// heap of single events grew to every datagram in flight, each pop a walk down it. The order is unchanged: no
// entry of the heap was pushed between the run's first and last event, so none falls between them.

import { MinHeap } from '../src/core/heap.js';

/** An event at virtual time `key` (ms). */
export interface Timed {
  key: number;
}

export class EventQueue<E extends Timed> {
  private readonly heap = new MinHeap<E[]>();
  /** The run the last push went into, while it is in the heap or being drained; undefined after any other push target. */
  private tail: E[] | undefined;
  /** The run being drained (popped from the heap), and the index of its next event. */
  private draining: E[] | undefined;
  private drainAt = 0;
  /** The virtual clock: the time of the last event popped (never moves backwards). */
  now = 0;
  /** Events popped so far. */
  processed = 0;

  /** Schedule `event` at `event.key`; a time in the past is clamped to now (the clock never runs backwards). */
  push(event: E): void {
    if (!(event.key >= this.now)) event.key = this.now;
    const tail = this.tail;
    if (tail !== undefined && tail[0]!.key === event.key) {
      tail.push(event);
      return;
    }
    const run = [event];
    this.tail = run;
    this.heap.push(event.key, run);
  }

  peekTime(): number | undefined {
    if (this.draining !== undefined) return this.now;
    return this.heap.size > 0 ? this.heap.topKey() : undefined;
  }

  /** Remove the earliest event and advance the clock to it. */
  pop(): E | undefined {
    let run = this.draining;
    if (run === undefined) {
      run = this.heap.pop();
      if (run === undefined) return undefined;
      this.draining = run;
      this.drainAt = 0;
    }
    const top = run[this.drainAt++]!;
    if (this.drainAt === run.length) {
      this.draining = undefined;
      if (this.tail === run) this.tail = undefined;
    }
    this.now = top.key;
    this.processed++;
    return top;
  }
}
