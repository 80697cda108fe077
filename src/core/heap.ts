// The one min-heap: entries (key, insertion order, value), ordered by `precedes`, so ties between equal keys go
// to the earlier insertion and resolve the same way on every run. Used for the simulator's event queue, the
// group's flow deadlines (deadlines.ts) and the multicast repair batches. Keys and orders live in typed
// arrays and the values beside them, so a comparison reads two doubles instead of chasing an object pointer
// per entry (with 1,000 flows, the pointer chasing was most of the simulator's deadline cost).

/** Whether entry (keyA, orderA) comes out of the heap before (keyB, orderB). */
export function precedes(keyA: number, orderA: number, keyB: number, orderB: number): boolean {
  return keyA < keyB || (keyA === keyB && orderA < orderB);
}

export class MinHeap<V> {
  private keys = new Float64Array(16);
  private orders = new Float64Array(16);
  private values: (V | undefined)[] = [];
  private count = 0;
  private nextOrder = 0;

  get size(): number {
    return this.count;
  }

  /**
   * Add `value` at `key`; it comes out after every entry already in the heap with the same key. A caller that
   * orders entries across several structures (sim/events.ts) passes its own insertion `order` instead.
   */
  push(key: number, value: V, order = this.nextOrder++): void {
    if (this.count === this.keys.length) this.grow();
    const { keys, orders } = this;
    let i = this.count++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!precedes(key, order, keys[p]!, orders[p]!)) break;
      this.move(p, i);
      i = p;
    }
    this.place(i, key, order, value);
  }

  /** The earliest entry's key (NaN when empty). */
  topKey(): number {
    return this.count > 0 ? this.keys[0]! : Number.NaN;
  }

  /** The earliest entry's insertion order (NaN when empty). */
  topOrder(): number {
    return this.count > 0 ? this.orders[0]! : Number.NaN;
  }

  /** The earliest entry's value, left in the heap (undefined when empty). */
  peek(): V | undefined {
    return this.count > 0 ? this.values[0] : undefined;
  }

  /** Remove the earliest entry and return its value (undefined when empty). */
  pop(): V | undefined {
    if (this.count === 0) return undefined;
    const top = this.values[0];
    const last = --this.count;
    const value = this.values[last];
    this.values[last] = undefined; // the heap does not keep a removed value alive
    if (last > 0) this.siftDown(this.keys[last]!, this.orders[last]!, value);
    return top;
  }

  /** Give the earliest entry a new key and a new insertion order, as a pop and a push would, in one pass. */
  replaceTop(key: number): void {
    if (this.count > 0) this.siftDown(key, this.nextOrder++, this.values[0]);
  }

  /** Place (key, order, value) from the top down, over the first `count` slots. */
  private siftDown(key: number, order: number, value: V | undefined): void {
    const { keys, orders } = this;
    const n = this.count;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const rt = l + 1;
      const c = rt < n && precedes(keys[rt]!, orders[rt]!, keys[l]!, orders[l]!) ? rt : l;
      if (!precedes(keys[c]!, orders[c]!, key, order)) break;
      this.move(c, i);
      i = c;
    }
    this.place(i, key, order, value);
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from]!;
    this.orders[to] = this.orders[from]!;
    this.values[to] = this.values[from];
  }

  private place(i: number, key: number, order: number, value: V | undefined): void {
    this.keys[i] = key;
    this.orders[i] = order;
    this.values[i] = value;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    const orders = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    orders.set(this.orders);
    this.keys = keys;
    this.orders = orders;
  }
}
