// A first-in first-out queue of machine events: push and shift in O(1) (Array#shift moves every element),
// emptied in place once drained, so a steady stream of events allocates nothing.

export class Fifo<T> {
  private readonly items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  /** Items queued. */
  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head < this.items.length) return this.items[this.head++];
    if (this.head > 0) {
      this.items.length = 0;
      this.head = 0;
    }
    return undefined;
  }
}
