// Counters shared by every per-receiver loop and the main thread, in one SharedArrayBuffer. Loops write
// their own slots with Atomics; the main thread reads them for progress (no message per segment), and the
// lockstep barrier is a single monotonic LIMIT slot that loops wait on with Atomics.waitAsync.

import { lockstepLimit } from '../core/lockstep.js';

const HEADER_SLOTS = 4;
const ABORT = 0;
const LIMIT = 1;
/** Per-receiver slots. */
export const Slot = {
  status: 0,
  acked: 1,
  sent: 2,
  retransmissions: 3,
  timeouts: 4,
  srttMicros: 5,
  ignored: 6,
  ackForUnsent: 7,
} as const;
const SLOTS = 8;

export const Status = { sending: 0, done: 1, failed: 2 } as const;

/** LIMIT when no live receiver constrains the barrier. */
const UNLIMITED = 0x7fffffff;

export class SharedState {
  readonly view: Int32Array;
  // Scratch for advanceLimit, reused so the per-ACK barrier update allocates nothing.
  private readonly ackedScratch: number[];
  private readonly liveScratch: boolean[];

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly receivers: number,
  ) {
    this.view = new Int32Array(buffer);
    this.ackedScratch = new Array<number>(receivers).fill(0);
    this.liveScratch = new Array<boolean>(receivers).fill(false);
  }

  static create(receivers: number): SharedState {
    return new SharedState(new SharedArrayBuffer((HEADER_SLOTS + receivers * SLOTS) * 4), receivers);
  }

  private at(r: number, slot: number): number {
    return HEADER_SLOTS + r * SLOTS + slot;
  }

  get(r: number, slot: number): number {
    return Atomics.load(this.view, this.at(r, slot));
  }

  set(r: number, slot: number, value: number): void {
    Atomics.store(this.view, this.at(r, slot), value);
  }

  get aborted(): boolean {
    return Atomics.load(this.view, ABORT) !== 0;
  }

  abort(): void {
    Atomics.store(this.view, ABORT, 1);
    Atomics.notify(this.view, ABORT);
    Atomics.notify(this.view, LIMIT); // loops waiting at the barrier must see the abort too
  }

  /** Resolves when abort() is called (a one-shot wake-up instead of polling a flag). */
  async waitForAbort(): Promise<void> {
    while (!this.aborted) await Atomics.waitAsync(this.view, ABORT, 0).value;
  }

  get limit(): number {
    const v = Atomics.load(this.view, LIMIT);
    return v === UNLIMITED ? Number.POSITIVE_INFINITY : v;
  }

  /**
   * Recompute the lockstep limit after this loop's ACK count or status changed, and wake the waiters.
   * The slot only ever grows (compare-exchange), so a thread that read stale counters cannot lower it;
   * sequentially consistent Atomics guarantee the last of two concurrent updaters sees both ACKs.
   */
  advanceLimit(): void {
    for (let r = 0; r < this.receivers; r++) {
      this.liveScratch[r] = this.get(r, Slot.status) === Status.sending;
      this.ackedScratch[r] = this.get(r, Slot.acked);
    }
    const computed = lockstepLimit(this.ackedScratch, this.liveScratch);
    const next = Number.isFinite(computed) ? Math.min(computed, UNLIMITED) : UNLIMITED;
    let cur = Atomics.load(this.view, LIMIT);
    while (cur < next) {
      const seen = Atomics.compareExchange(this.view, LIMIT, cur, next);
      if (seen === cur) {
        Atomics.notify(this.view, LIMIT);
        return;
      }
      cur = seen;
    }
  }

  /** Resolves once the limit is at least `index` (or the run is aborted). */
  async waitForLimit(index: number): Promise<void> {
    for (;;) {
      const cur = Atomics.load(this.view, LIMIT);
      if ((cur === UNLIMITED || cur >= index) || this.aborted) return;
      await Atomics.waitAsync(this.view, LIMIT, cur).value;
    }
  }
}
