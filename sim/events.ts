// The event queue and virtual clock: events come out by (time, insertion order), so ties resolve the same way
// on every run.
//
// Most events are pushed in time order within a few streams: every arrival at now + the link delay (with no
// jitter, a monotone stream whatever the direction), the sender's timer at now + RTO, multicast fan-outs of one
// instant. Each such stream goes into a lane, a FIFO whose pushes are never earlier than its tail, so it needs no
// sorting; what fits no lane (jitter, a timer moved earlier) goes to core's MinHeap. A pop takes the earliest of
// the lane heads and the heap's top. Every event carries one global insertion order, so the order is exactly a
// single heap's: a heap of every datagram in flight made each pop a walk down it.

import { MinHeap, precedes } from '../src/core/heap.js';

/** An event at virtual time `key` (ms). */
export interface Timed {
  key: number;
}

/** Lanes beyond this many cost each push and pop more than they save the heap (few streams are monotone). */
const LANES = 4;

/** A FIFO ring of (key, order, event), pushed in (key, order) order. */
class Lane<E> {
  private keys = new Float64Array(64);
  private orders = new Float64Array(64);
  private events: (E | undefined)[] = new Array<E | undefined>(64);
  private head = 0;
  count = 0;

  tailKey(): number {
    return this.keys[(this.head + this.count - 1) & (this.keys.length - 1)]!;
  }

  headKey(): number {
    return this.keys[this.head]!;
  }

  headOrder(): number {
    return this.orders[this.head]!;
  }

  push(key: number, order: number, event: E): void {
    if (this.count === this.keys.length) this.grow();
    const at = (this.head + this.count++) & (this.keys.length - 1);
    this.keys[at] = key;
    this.orders[at] = order;
    this.events[at] = event;
  }

  shift(): E {
    const event = this.events[this.head]!;
    this.events[this.head] = undefined; // the lane does not keep a popped event alive
    this.head = (this.head + 1) & (this.keys.length - 1);
    this.count--;
    return event;
  }

  private grow(): void {
    const n = this.keys.length;
    const keys = new Float64Array(2 * n);
    const orders = new Float64Array(2 * n);
    const events = new Array<E | undefined>(2 * n);
    for (let i = 0; i < n; i++) {
      const from = (this.head + i) & (n - 1);
      keys[i] = this.keys[from]!;
      orders[i] = this.orders[from]!;
      events[i] = this.events[from];
    }
    this.keys = keys;
    this.orders = orders;
    this.events = events;
    this.head = 0;
  }
}

export class EventQueue<E extends Timed> {
  private readonly lanes: Lane<E>[] = [];
  private readonly heap = new MinHeap<E>();
  private nextOrder = 0;
  /** The virtual clock: the time of the last event popped (never moves backwards). */
  now = 0;
  /** Events popped so far. */
  processed = 0;

  /** Schedule `event` at `event.key`; a time in the past is clamped to now (the clock never runs backwards). */
  push(event: E): void {
    if (!(event.key >= this.now)) event.key = this.now;
    const key = event.key;
    const order = this.nextOrder++;
    // The lane with the latest tail not after `key` (the others stay open for earlier streams), else an empty one.
    let fit: Lane<E> | undefined;
    let fitKey = Number.NEGATIVE_INFINITY;
    let empty: Lane<E> | undefined;
    for (const lane of this.lanes) {
      if (lane.count === 0) {
        empty ??= lane;
        continue;
      }
      const tail = lane.tailKey();
      if (tail <= key && tail >= fitKey) {
        fit = lane;
        fitKey = tail;
      }
    }
    let lane = fit ?? empty;
    if (lane === undefined && this.lanes.length < LANES) this.lanes.push((lane = new Lane<E>()));
    if (lane !== undefined) lane.push(key, order, event);
    else this.heap.push(key, event, order);
  }

  /** The lane whose head comes out next, or undefined when it is the heap's top (or nothing is queued). */
  private earliestLane(): Lane<E> | undefined {
    let best: Lane<E> | undefined;
    let key = this.heap.size > 0 ? this.heap.topKey() : Number.POSITIVE_INFINITY;
    let order = this.heap.size > 0 ? this.heap.topOrder() : Number.POSITIVE_INFINITY;
    for (const lane of this.lanes) {
      if (lane.count > 0 && precedes(lane.headKey(), lane.headOrder(), key, order)) {
        best = lane;
        key = lane.headKey();
        order = lane.headOrder();
      }
    }
    return best;
  }

  peekTime(): number | undefined {
    const lane = this.earliestLane();
    if (lane !== undefined) return lane.headKey();
    return this.heap.size > 0 ? this.heap.topKey() : undefined;
  }

  /** Remove the earliest event and advance the clock to it. */
  pop(): E | undefined {
    const lane = this.earliestLane();
    const top = lane !== undefined ? lane.shift() : this.heap.pop();
    if (top === undefined) return undefined;
    this.now = top.key;
    this.processed++;
    return top;
  }
}
