// The datagram seam over simulated links: the sender's and each receiver's DatagramTransport, all on one
// event queue in virtual time. The production loops (GroupLoop, ReceiverLoop) run over these unchanged.
// A transport's one timer is an event on the queue; as the UDP sender's timer, a new deadline replaces the
// old one, earlier or later. Re-arming earlier pushes a new event (the superseded one is skipped); re-arming
// later keeps the pending event, which on coming due re-queues itself at the deadline now wanted instead of
// waking the loop for nothing: every ACK moves the sender's deadline later.

import { GROUP_PEER } from '../src/core/group.js';
import type { DatagramHandlers, DatagramTransport } from '../src/transport/datagram.js';
import { EventQueue, type Timed } from './events.js';
import { Link, type Deliver } from './network.js';

export const enum Kind {
  ArriveAtReceiver = 0,
  ArriveAtSender = 1,
  SenderTimer = 2,
  ReceiverTimer = 3,
}

export interface SimEvent extends Timed {
  kind: Kind;
  /** The receiver (arrivals, receiver timers), or -1 for the sender's timer. */
  r: number;
  /** The datagram, for arrivals (flattened into the event: one allocation per packet, not two). */
  bytes: Uint8Array | undefined;
  corrupted: boolean;
}

/** What the scenario watches: timer livelocks. */
export interface SimWatch {
  /** A loop woken by its timer asked for another wake-up at (or before) that instant. */
  livelock(which: 'sender' | 'receiver', r: number, now: number): void;
}

/** The one timer of a simulated endpoint. */
class SimTimer {
  /** The time of the pending timer event, if any. */
  armed: number | undefined;
  /** The deadline last set (at or after `armed`), if any. */
  wanted: number | undefined;
  /** True while the endpoint handles its own timer event. */
  firing = false;

  constructor(
    private readonly queue: EventQueue<SimEvent>,
    private readonly kind: Kind,
    private readonly r: number,
    private readonly watch: SimWatch,
  ) {}

  set(deadline: number | undefined): void {
    if (deadline === undefined) {
      this.armed = this.wanted = undefined;
      return;
    }
    if (this.firing && deadline <= this.queue.now) {
      // Handling the timeout made no progress: re-arming would spin at this instant forever. Report, do not re-arm.
      this.watch.livelock(this.kind === Kind.SenderTimer ? 'sender' : 'receiver', this.r, this.queue.now);
      return;
    }
    const at = Math.max(deadline, this.queue.now);
    this.wanted = at;
    if (this.armed === undefined || at < this.armed) this.arm(at);
  }

  private arm(at: number): void {
    this.armed = at;
    this.queue.push({ key: at, kind: this.kind, r: this.r, bytes: undefined, corrupted: false });
  }

  /** The queue popped this timer's event: true when it is the current one and due (then the endpoint handles it). */
  take(at: number): boolean {
    if (this.armed !== at) return false;
    this.armed = undefined;
    const wanted = this.wanted!;
    if (wanted > at) {
      this.arm(wanted);
      return false;
    }
    this.wanted = undefined;
    return true;
  }
}

/**
 * One simulated endpoint: the sender (peers are receiver indices, each with its own link) or a receiver (its
 * one peer is the sender, over its uplink).
 */
export class SimEndpoint<P> implements DatagramTransport<P> {
  private handlers: DatagramHandlers<P> | undefined;
  private readonly timer: SimTimer;
  private closed = false;

  constructor(
    private readonly queue: EventQueue<SimEvent>,
    timerKind: Kind,
    r: number,
    /** The link a datagram to `to` leaves on (several: a multicast, each link with its own faults). */
    private readonly route: (to: P) => Link | readonly Link[],
    watch: SimWatch,
    private readonly onSend: (to: P, bytes: Uint8Array) => void,
  ) {
    this.timer = new SimTimer(queue, timerKind, r, watch);
  }

  now(): number {
    return this.queue.now;
  }

  open(h: DatagramHandlers<P>): void {
    this.handlers = h;
    h.ready();
  }

  send(to: P, bytes: Uint8Array): void {
    if (this.closed) return;
    this.onSend(to, bytes);
    const links = this.route(to);
    if (links instanceof Link) links.send(this.queue.now, bytes);
    else for (const l of links) l.send(this.queue.now, bytes);
  }

  setTimer(deadline: number | undefined): void {
    this.timer.set(deadline);
  }

  close(): void {
    this.closed = true;
    this.timer.set(undefined);
  }

  /** A datagram from `from` reached this endpoint. */
  arrive(from: P, bytes: Uint8Array): void {
    if (this.closed || this.handlers === undefined) return;
    this.handlers.datagram(from, bytes);
    if (!this.closed) this.handlers.idle?.();
  }

  fire(at: number): void {
    if (this.closed || this.handlers === undefined || !this.timer.take(at)) return;
    this.timer.firing = true;
    this.handlers.timer();
    this.timer.firing = false;
  }
}

/** The address key every receiver sees for the (single) sender. */
export const SENDER_KEY = 'sim-sender:7735';

export interface SimNetOptions {
  receivers: number;
  /** Build receiver r's link in one direction; the link hands each copy it delivers to `deliver`. */
  link(r: number, dir: 'down' | 'up', deliver: Deliver): Link;
  watch: SimWatch;
  /** Every DATA/FIN the sender transmits (before the link sees it; r = GROUP_PEER: once to the group), and every ACK a receiver sends. */
  onSend?(r: number, dir: 'down' | 'up', bytes: Uint8Array): void;
}

/**
 * A simulated network: one sender transport, one per receiver, their links and the event queue. `step()`
 * processes one event; the caller decides when to stop. `beforeArrival` may look at (or drop) each arrival.
 */
export class SimNet {
  readonly queue = new EventQueue<SimEvent>();
  readonly sender: SimEndpoint<number>;
  readonly receivers: SimEndpoint<string>[] = [];
  readonly downs: Link[] = [];
  readonly ups: Link[] = [];
  /** Called with each arrival before it is delivered; false drops it (a crashed host). */
  beforeArrival: (ev: SimEvent) => boolean = () => true;

  constructor(o: SimNetOptions) {
    for (let r = 0; r < o.receivers; r++) {
      const push = (kind: Kind) => (atMs: number, bytes: Uint8Array, corrupted: boolean) => this.queue.push({ key: atMs, kind, r, bytes, corrupted });
      this.downs.push(o.link(r, 'down', push(Kind.ArriveAtReceiver)));
      this.ups.push(o.link(r, 'up', push(Kind.ArriveAtSender)));
    }
    // The multicast link: a datagram to the group reaches every receiver, each over its own link (its own loss,
    // delay and corruption), as a switch copies it to each port.
    const route = (r: number): Link | readonly Link[] => (r === GROUP_PEER ? this.downs : this.downs[r]!);
    this.sender = new SimEndpoint<number>(this.queue, Kind.SenderTimer, -1, route, o.watch, (r, bytes) => o.onSend?.(r, 'down', bytes));
    for (let r = 0; r < o.receivers; r++) {
      const up = this.ups[r]!;
      this.receivers.push(new SimEndpoint<string>(this.queue, Kind.ReceiverTimer, r, () => up, o.watch, (_to, bytes) => o.onSend?.(r, 'up', bytes)));
    }
  }

  /** Process the next event (advancing the clock to it); undefined when the queue is empty. */
  step(): SimEvent | undefined {
    const ev = this.queue.pop();
    if (ev === undefined) return undefined;
    switch (ev.kind) {
      case Kind.ArriveAtReceiver:
        if (this.beforeArrival(ev)) this.receivers[ev.r]!.arrive(SENDER_KEY, ev.bytes!);
        break;
      case Kind.ArriveAtSender:
        if (this.beforeArrival(ev)) this.sender.arrive(ev.r, ev.bytes!);
        break;
      case Kind.SenderTimer:
        this.sender.fire(ev.key);
        break;
      case Kind.ReceiverTimer:
        this.receivers[ev.r]!.fire(ev.key);
        break;
    }
    return ev;
  }
}
