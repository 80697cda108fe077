// Counters shared by the worker threads and the main thread, in one SharedArrayBuffer. Each worker runs one
// group (a share of the receivers) and publishes, with Atomics: its group's slowest live acknowledged count
// (the file buffer follows the slowest of all; lockstep across threads waits for it) and, per receiver, what
// progress and the summary show. The main thread publishes how much of the file is loaded (BUFFER_END) and
// Ctrl-C (ABORT). Whoever moves a gate bumps GEN and notifies it; a waiting loop sleeps on GEN with
// Atomics.waitAsync, so no wake-up is ever missed. No protocol rule lives here: the group decides.

import type { GroupEvent, GroupSender } from '../core/group.js';
import type { Coordinator } from './sender-loop.js';

const ABORT = 0;
const GEN = 1;
const BUFFER_END = 2;
const HEADER_SLOTS = 3;
/** Per-receiver slots, read by the progress display. */
export const Slot = { status: 0, acked: 1, retransmissions: 2 } as const;
const SLOTS = 3;

export const Status = { sending: 0, done: 1, failed: 2 } as const;

/** A slot value meaning "no bound" (no live receiver, or the whole file loaded). */
const UNLIMITED = 0x7fffffff;

const toSlot = (v: number): number => (Number.isFinite(v) ? Math.min(v, UNLIMITED) : UNLIMITED);
const fromSlot = (v: number): number => (v === UNLIMITED ? Number.POSITIVE_INFINITY : v);

export class SharedState {
  readonly view: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly receivers: number,
    readonly groups: number,
  ) {
    this.view = new Int32Array(buffer);
  }

  static create(receivers: number, groups: number): SharedState {
    const state = new SharedState(new SharedArrayBuffer((HEADER_SLOTS + groups + receivers * SLOTS) * 4), receivers, groups);
    Atomics.store(state.view, BUFFER_END, UNLIMITED);
    return state;
  }

  private at(r: number, slot: number): number {
    return HEADER_SLOTS + this.groups + r * SLOTS + slot;
  }

  get(r: number, slot: number): number {
    return Atomics.load(this.view, this.at(r, slot));
  }

  set(r: number, slot: number, value: number): void {
    Atomics.store(this.view, this.at(r, slot), value);
  }

  get generation(): number {
    return Atomics.load(this.view, GEN);
  }

  get aborted(): boolean {
    return Atomics.load(this.view, ABORT) !== 0;
  }

  abort(): void {
    Atomics.store(this.view, ABORT, 1);
    Atomics.notify(this.view, ABORT);
    this.bump(); // loops waiting at a gate must see the abort too
  }

  private bump(): void {
    Atomics.add(this.view, GEN, 1);
    Atomics.notify(this.view, GEN);
  }

  /** Resolves when abort() is called (a one-shot wake-up instead of polling a flag). */
  async waitForAbort(): Promise<void> {
    while (!this.aborted) await Atomics.waitAsync(this.view, ABORT, 0).value;
  }

  /** Resolves once GEN differs from `seen`. */
  async waitForChange(seen: number): Promise<void> {
    await Atomics.waitAsync(this.view, GEN, seen).value;
  }

  /** Segments [0, bufferEnd) are loaded in the shared file buffer. */
  get bufferEnd(): number {
    return fromSlot(Atomics.load(this.view, BUFFER_END));
  }

  setBufferEnd(end: number): void {
    Atomics.store(this.view, BUFFER_END, toSlot(end));
    this.bump();
  }

  groupSlowest(g: number): number {
    return fromSlot(Atomics.load(this.view, HEADER_SLOTS + g));
  }

  setGroupSlowest(g: number, acked: number): void {
    const v = toSlot(acked);
    if (Atomics.exchange(this.view, HEADER_SLOTS + g, v) !== v) this.bump();
  }

  /** Lowest acknowledged count over every group's live receivers (Infinity when none is live). */
  slowestLive(except = -1): number {
    let min = Number.POSITIVE_INFINITY;
    for (let g = 0; g < this.groups; g++) if (g !== except) min = Math.min(min, this.groupSlowest(g));
    return min;
  }
}

/** One worker's view: its group `index`, whose receivers are the global indices `receivers`. */
export class SharedCoordinator implements Coordinator {
  private seen = 0;

  constructor(
    private readonly state: SharedState,
    private readonly index: number,
    private readonly receivers: readonly number[],
  ) {}

  sync(group: GroupSender): void {
    this.seen = this.state.generation;
    if (this.state.aborted) group.abort();
    group.setBufferEnd(this.state.bufferEnd);
    if (this.state.groups > 1) group.setPeerSlowest(this.state.slowestLive(this.index));
  }

  publish(group: GroupSender, ev: GroupEvent | undefined): void {
    if (ev === undefined) {
      this.state.setGroupSlowest(this.index, group.slowest);
      return;
    }
    const r = this.receivers[ev.receiver]!;
    if (ev.type === 'acked' || ev.type === 'timeout') {
      // The acknowledged count is the flow's (a window's cumulative base); a window's fast retransmits raise no
      // event of their own, so the retransmission count is refreshed with every ACK as well as every timeout.
      const flow = group.flows[ev.receiver]!;
      this.state.set(r, Slot.acked, flow.acked);
      this.state.set(r, Slot.retransmissions, flow.stats.retransmissions);
    } else if (ev.type === 'done') this.state.set(r, Slot.status, Status.done);
    else if (ev.type === 'failed') this.state.set(r, Slot.status, Status.failed);
  }

  waitForChange(wake: () => void): void {
    void this.state.waitForChange(this.seen).then(wake);
  }
}
