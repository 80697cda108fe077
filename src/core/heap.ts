// A binary min-heap ordered by (key, insertion order), so ties resolve the same way on every run: the
// simulator's event queue (the group's deadlines keep their own typed-array heap, deadlines.ts).

export interface Keyed {
  /** The ordering key (a time in ms). */
  key: number;
  /** Insertion order, assigned by the heap; breaks ties between equal keys. */
  order: number;
}

function before(a: Keyed, b: Keyed): boolean {
  return a.key < b.key || (a.key === b.key && a.order < b.order);
}

export class MinHeap<E extends Keyed> {
  private readonly items: E[] = [];
  private nextOrder = 0;

  push(item: E): void {
    item.order = this.nextOrder++;
    const heap = this.items;
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(item, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  peek(): E | undefined {
    return this.items[0];
  }

  pop(): E | undefined {
    const heap = this.items;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[c]!, last)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}
