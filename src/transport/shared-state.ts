// Counters shared by every per-receiver loop and the main thread, in one SharedArrayBuffer. Loops write
// their own slots with Atomics; the main thread reads them for progress (no message per segment).
// Two things bound which segment a loop may send: the lockstep barrier (a monotonic LIMIT slot) and, for
// files streamed through a bounded window, WINDOW_END (segments loaded so far). Whoever moves either bumps
// GEN and notifies it; a waiting loop sleeps on GEN with Atomics.waitAsync, so no wake-up is ever missed.

import { lockstepLimit } from '../core/lockstep.js';

const HEADER_SLOTS = 4;
const ABORT = 0;
const LIMIT = 1;
const GEN = 2;
const WINDOW_END = 3;
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
    const state = new SharedState(new SharedArrayBuffer((HEADER_SLOTS + receivers * SLOTS) * 4), receivers);
    Atomics.store(state.view, WINDOW_END, UNLIMITED);
    return state;
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
    this.bump(); // loops waiting at the barrier must see the abort too
  }

  private bump(): void {
    Atomics.add(this.view, GEN, 1);
    Atomics.notify(this.view, GEN);
  }

  /** Resolves when abort() is called (a one-shot wake-up instead of polling a flag). */
  async waitForAbort(): Promise<void> {
    while (!this.aborted) await Atomics.waitAsync(this.view, ABORT, 0).value;
  }

  private slot(i: number): number {
    const v = Atomics.load(this.view, i);
    return v === UNLIMITED ? Number.POSITIVE_INFINITY : v;
  }

  /** Segments [0, windowEnd) are loaded in the shared file window. */
  get windowEnd(): number {
    return this.slot(WINDOW_END);
  }

  setWindowEnd(end: number): void {
    Atomics.store(this.view, WINDOW_END, Math.min(end, UNLIMITED));
    this.bump();
  }

  /** The highest segment index a loop may send now. */
  allowed(lockstep: boolean): number {
    const limit = lockstep ? this.slot(LIMIT) : Number.POSITIVE_INFINITY;
    return Math.min(limit, this.windowEnd - 1);
  }

  /** Lowest ACK count over live receivers: everything below it is done with by everybody. */
  slowestLive(): number {
    for (let r = 0; r < this.receivers; r++) {
      this.liveScratch[r] = this.get(r, Slot.status) === Status.sending;
      this.ackedScratch[r] = this.get(r, Slot.acked);
    }
    return lockstepLimit(this.ackedScratch, this.liveScratch);
  }

  /**
   * Recompute the lockstep limit after this loop's ACK count or status changed, and wake the waiters.
   * The slot only ever grows (compare-exchange), so a thread that read stale counters cannot lower it;
   * sequentially consistent Atomics guarantee the last of two concurrent updaters sees both ACKs.
   */
  advanceLimit(): void {
    const computed = this.slowestLive();
    const next = Number.isFinite(computed) ? Math.min(computed, UNLIMITED) : UNLIMITED;
    let cur = Atomics.load(this.view, LIMIT);
    while (cur < next) {
      const seen = Atomics.compareExchange(this.view, LIMIT, cur, next);
      if (seen === cur) {
        this.bump();
        return;
      }
      cur = seen;
    }
  }

  /** Resolves once segment `index` may be sent (or the run is aborted). */
  async waitUntilAllowed(index: number, lockstep: boolean): Promise<void> {
    for (;;) {
      const gen = Atomics.load(this.view, GEN);
      if (this.allowed(lockstep) >= index || this.aborted) return;
      await Atomics.waitAsync(this.view, GEN, gen).value;
    }
  }
}
