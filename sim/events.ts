// The event queue and virtual clock. Events are ordered by (time, insertion sequence) so ties resolve the same
// way on every run; a binary min-heap keeps push/pop at O(log n).

export interface Timed {
  /** Virtual time in ms at which the event fires. */
  time: number;
  /** Insertion order, assigned by the queue; breaks ties between equal times. */
  seq: number;
}

function before(a: Timed, b: Timed): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class EventQueue<E extends Timed> {
  private readonly heap: E[] = [];
  private nextSeq = 0;
  /** The virtual clock: the time of the last event popped (never moves backwards). */
  now = 0;
  /** Events popped so far. */
  processed = 0;

  /** Schedule `event` at `event.time`; a time in the past is clamped to now (the clock never runs backwards). */
  push(event: E): void {
    if (!(event.time >= this.now)) event.time = this.now;
    event.seq = this.nextSeq++;
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  /** Remove the earliest event and advance the clock to it. */
  pop(): E | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let child = heap[l]!;
        if (r < n && before(heap[r]!, child)) {
          c = r;
          child = heap[r]!;
        }
        if (!before(child, last)) break;
        heap[i] = child;
        i = c;
      }
      heap[i] = last;
    }
    this.now = top.time;
    this.processed++;
    return top;
  }
}
