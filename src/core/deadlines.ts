// Each flow's next deadline, and the earliest of them: the group sender's timer bookkeeping. A min-heap of
// entries (key, insertion order, flow) in three typed arrays (no object per entry: with 1,000 flows the
// object heap's pointer chasing was most of the simulator's deadline cost). Lazy: an entry is pushed only
// when a flow's deadline moves earlier; a later deadline (every ACK pushes it later) keeps the entry, which
// is re-keyed when it reaches the top. Ties between equal keys go to the earlier insertion, so the order in
// which due flows are handled is the same on every run.

export class FlowDeadlines {
  /** Each flow's deadline (NaN: none). */
  private readonly deadline: Float64Array;
  /** The key of each flow's live entry (NaN: none); an entry whose key differs is superseded. */
  private readonly entryKey: Float64Array;
  private keys = new Float64Array(16);
  private orders = new Float64Array(16);
  private owners = new Int32Array(16);
  private size = 0;
  private nextOrder = 0;

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
      this.push(at, r);
    }
    return true;
  }

  /** The earliest deadline of any flow (the top entry is then that flow's), or undefined. */
  next(): number | undefined {
    while (this.size > 0) {
      const r = this.owners[0]!;
      const top = this.keys[0]!;
      if (this.entryKey[r] !== top) {
        this.pop(); // superseded by an earlier entry
        continue;
      }
      const at = this.deadline[r]!;
      if (at === top) return at;
      // The flow's deadline moved later (or went away) since this entry was pushed: re-key the entry.
      if (Number.isNaN(at)) {
        this.entryKey[r] = Number.NaN;
        this.pop();
      } else {
        this.entryKey[r] = at;
        this.replaceTop(at);
      }
    }
    return undefined;
  }

  /** The flow with the earliest deadline if that is at or before `now` (its deadline is cleared), else -1. */
  takeDue(now: number): number {
    const at = this.next();
    if (at === undefined || at > now) return -1;
    const r = this.owners[0]!;
    this.pop();
    this.entryKey[r] = Number.NaN;
    this.deadline[r] = Number.NaN;
    return r;
  }

  // ---- the heap, ordered by (key, order) ----

  private push(key: number, owner: number): void {
    if (this.size === this.keys.length) this.grow();
    const order = this.nextOrder++;
    const { keys, orders, owners } = this;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(key < keys[p]! || (key === keys[p]! && order < orders[p]!))) break;
      keys[i] = keys[p]!;
      orders[i] = orders[p]!;
      owners[i] = owners[p]!;
      i = p;
    }
    keys[i] = key;
    orders[i] = order;
    owners[i] = owner;
  }

  private pop(): void {
    const last = --this.size;
    if (last > 0) this.siftDown(this.keys[last]!, this.orders[last]!, this.owners[last]!);
  }

  /** Give the top entry a new key (and a new insertion order, as a pop and a push would). */
  private replaceTop(key: number): void {
    this.siftDown(key, this.nextOrder++, this.owners[0]!);
  }

  /** Place (key, order, owner) from the top down, over the first `size` slots. */
  private siftDown(key: number, order: number, owner: number): void {
    const { keys, orders, owners } = this;
    const n = this.size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const rt = l + 1;
      const c = rt < n && (keys[rt]! < keys[l]! || (keys[rt] === keys[l] && orders[rt]! < orders[l]!)) ? rt : l;
      if (!(keys[c]! < key || (keys[c] === key && orders[c]! < order))) break;
      keys[i] = keys[c]!;
      orders[i] = orders[c]!;
      owners[i] = owners[c]!;
      i = c;
    }
    keys[i] = key;
    orders[i] = order;
    owners[i] = owner;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    const keys = new Float64Array(n);
    const orders = new Float64Array(n);
    const owners = new Int32Array(n);
    keys.set(this.keys);
    orders.set(this.orders);
    owners.set(this.owners);
    this.keys = keys;
    this.orders = orders;
    this.owners = owners;
  }
}
