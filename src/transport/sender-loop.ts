// The sender's event loop: drives one GroupSender over any DatagramTransport. Plumbing only — every
// protocol decision is the group's. The worker threads run it over UDP (workers/send-task.ts) and the
// simulator runs the very same loop over simulated links (sim/scenario.ts).

import { GROUP_PEER, type GroupEvent, type GroupSender } from '../core/group.js';
import type { DatagramTransport } from './datagram.js';

/** Shared state across threads (the file buffer, other groups, Ctrl-C); absent when one group is all there is. */
export interface Coordinator {
  /** Copy the shared gates into the group (buffer end, other groups' slowest, abort). */
  sync(group: GroupSender): void;
  /** Publish this group's progress (after its events were handled). */
  publish(group: GroupSender, ev: GroupEvent | undefined): void;
  /** Call `wake` once anything shared changed (the group waits at a shared gate). */
  waitForChange(wake: () => void): void;
}

export interface LoopHooks {
  /** Each group event, in order (printing, progress, the simulator's observer). */
  onEvent?(ev: GroupEvent): void;
  /**
   * Every flow is done or failed; the transport is closed. `errors`: transport error text per receiver;
   * `strays`: where the first stray datagram for each receiver came from (see DatagramHandlers.stray);
   * `strangers`: datagrams from nobody's address (DatagramHandlers.stranger), and where the first came from.
   */
  onFinished(errors: ReadonlyArray<string | undefined>, strays: ReadonlyArray<string | undefined>, strangers: Strangers): void;
  coordinator?: Coordinator;
}

/** Datagrams from addresses that are no receiver's: ignored, only counted for the report. */
export interface Strangers {
  count: number;
  first: string | undefined;
}

export class GroupLoop {
  /** Transport error text per receiver (a socket error fails only that receiver). */
  private readonly errors: Array<string | undefined>;
  private readonly strays: Array<string | undefined>;
  private readonly strangers: Strangers = { count: 0, first: undefined };
  private finished = false;
  private waiting = false;

  constructor(
    private readonly group: GroupSender,
    private readonly transport: DatagramTransport<number>,
    private readonly hooks: LoopHooks,
  ) {
    this.errors = new Array<string | undefined>(group.receivers).fill(undefined);
    this.strays = new Array<string | undefined>(group.receivers).fill(undefined);
  }

  /** Open the transport; the first segments go out once it is ready. */
  start(): void {
    const g = this.group;
    const t = this.transport;
    t.open({
      ready: () => this.pump(),
      datagram: (r, bytes) => {
        g.handleDatagram(t.now(), r, bytes);
        this.pump();
      },
      unreachable: (r) => {
        g.handleUnreachable(t.now(), r);
        this.pump();
      },
      error: (r, message) => {
        for (let q = 0; q < g.receivers; q++) {
          // An error sending to the group (GROUP_PEER) is everybody's, as one for the whole transport.
          if (r !== undefined && r !== GROUP_PEER && q !== r) continue;
          this.errors[q] ??= message;
          g.fail(q, 'socket-error');
        }
        this.pump();
      },
      unanswerable: () => {},
      stray: (r, from, bytes) => {
        this.strays[r] ??= from;
        g.handleStray(r, bytes);
      },
      stranger: (from) => {
        this.strangers.count++;
        this.strangers.first ??= from;
      },
      timer: () => {
        g.handleTimeout(t.now());
        this.pump();
      },
    });
  }

  abort(): void {
    this.group.abort();
    this.pump();
  }

  private drainEvents(): boolean {
    let any = false;
    for (let ev = this.group.pollEvent(); ev !== undefined; ev = this.group.pollEvent()) {
      any = true;
      this.hooks.onEvent?.(ev);
      this.hooks.coordinator?.publish(this.group, ev);
    }
    return any;
  }

  /** Drain the group (events of the input, the transmits, their events), then arm the one timer or wait at a shared gate. */
  pump(): void {
    if (this.finished) return;
    const g = this.group;
    const t = this.transport;
    this.hooks.coordinator?.sync(g);
    // Events first: what the input did (an ACK accepted) happened before what it lets the group send.
    let changed = this.drainEvents();
    const now = t.now();
    // out.receiver may be GROUP_PEER: a multicast transport sends that once to the group.
    for (let out = g.pollTransmit(now); out !== undefined; out = g.pollTransmit(now)) t.send(out.receiver, out.bytes);
    g.prepare();
    changed = this.drainEvents() || changed;
    if (changed) this.hooks.coordinator?.publish(g, undefined);
    if (g.finished) {
      this.finished = true;
      t.setTimer(undefined);
      t.close();
      this.hooks.onFinished(this.errors, this.strays, { ...this.strangers });
      return;
    }
    const at = g.pollTimeout();
    t.setTimer(at);
    // Nothing in flight and not finished: every live flow waits at a shared gate (another thread's receivers,
    // the file buffer). Sleep until the shared state moves.
    const c = this.hooks.coordinator;
    if (at === undefined && c !== undefined && !this.waiting) {
      this.waiting = true;
      c.waitForChange(() => {
        this.waiting = false;
        this.pump();
      });
    }
  }
}
