// A small seeded network for driving ONE sender flow against ONE receiver in virtual time (delay, jitter,
// loss of DATA and of ACKs, duplication). The simulator in sim/ does this for whole groups; here the point is
// to compare two flow implementations on identical inputs and to watch a flow's invariants at every send.

import { decode, encodeAck, encodeFin } from '../src/core/codec.js';
import { ReceiverMachine, type ReceiverConfig } from '../src/core/receiver.js';
import type { ReceiverWire } from '../src/core/receiver-wire.js';
import { ReorderBuffer } from '../src/core/reorder.js';
import { encodeSack, SACK_MAX_RANGES } from '../src/core/sack.js';
import type { SenderEvent, SenderStatus } from '../src/core/flow.js';
import { concat, hex, seeded } from './support.js';

export interface FlowLike {
  status: SenderStatus;
  pollTransmit(now: number): Uint8Array | undefined;
  handleDatagram(now: number, bytes: Uint8Array): void;
  handleTimeout(now: number): void;
  pollTimeout(): number | undefined;
  pollEvent(): SenderEvent | undefined;
  /** Work between datagrams (with --key: seal the ACK expected next); run after every service. */
  prepare?(): void;
}

export interface Receiver {
  /** The replies to one arriving datagram. */
  handle(now: number, bytes: Uint8Array): Uint8Array[];
  /** Payloads written, in write order. */
  readonly written: Uint8Array[];
  readonly complete: boolean;
}

export interface NetOptions {
  seed: number | string;
  delayMs: number;
  jitterMs: number;
  /** Loss of DATA on the way to the receiver. */
  loss: number;
  ackLoss: number;
  duplicate: number;
}

export interface Trace {
  sends: string[];
  events: string[];
  endMs: number;
  /** Anything the harness saw go wrong (a timer livelock, the time limit). */
  problems: string[];
}

/** The classic receiver: the project's ReceiverMachine, which discards (and re-ACKs) out-of-order segments. */
export function classicReceiver(initialSeq = 0): Receiver {
  return machineReceiver({ initialSeq });
}

/**
 * The project's receiver on the --verify/--key wire `wire`, holding up to `reorderSegments` out-of-order segments
 * (0: it discards them); with `sack`, it answers with the wire's SACK form while holding any.
 */
export function wireReceiver(wire: ReceiverWire, reorderSegments: number, initialSeq = 0, sack = false): Receiver {
  return machineReceiver({ initialSeq, reorderSegments, wire, sack });
}

/** A ReceiverMachine with no loss service and endless timers; every delivery of a datagram is written (a held run is several). */
function machineReceiver(cfg: Pick<ReceiverConfig, 'initialSeq' | 'reorderSegments' | 'wire' | 'sack'>): Receiver {
  const m = new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e12, lingerMs: 1e12, ...cfg });
  const written: Uint8Array[] = [];
  return {
    written,
    get complete() {
      return m.status === 'lingering';
    },
    handle(now, bytes) {
      m.handleDatagram(now, bytes, 'sender');
      m.flush(); // one datagram is its own batch
      for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) if (e.kind === 'delivered' && e.payload.length > 0) written.push(e.payload.slice());
      const reply = m.pollTransmit();
      m.prepare();
      return reply ? [reply.bytes] : [];
    },
  };
}

/**
 * A receiver that buffers out-of-order segments (ReorderBuffer) and writes strictly in order; with `sack` it
 * reports what it holds. Minimal on purpose (no loss service, one sender): it is the peer for window tests.
 */
export function bufferingReceiver(capacity: number, sack: boolean, initialSeq = 0): Receiver {
  const buffer = new ReorderBuffer(capacity);
  const written: Uint8Array[] = [];
  let expected = initialSeq >>> 0;
  let started = false;
  let complete = false;
  const ack = (): Uint8Array => {
    const cum = (expected - 1) >>> 0;
    const ranges = sack ? buffer.ranges(expected, SACK_MAX_RANGES) : [];
    return ranges.length > 0 ? encodeSack(cum, ranges) : encodeAck(cum);
  };
  return {
    written,
    get complete() {
      return complete;
    },
    handle(_now, bytes) {
      const d = decode(bytes);
      if (!d.ok || d.segment.kind === 'ack') return [];
      const seg = d.segment;
      if (seg.kind === 'fin') {
        complete = true;
        return [encodeFin()];
      }
      if (complete) return [ack()];
      const eof = seg.payload.length === 0 || seg.last;
      if (seg.seq !== expected) {
        if (!started) return [];
        buffer.offer(expected, seg.seq, seg.payload, eof);
        return [ack()];
      }
      started = true;
      const run = [{ seq: seg.seq, payload: seg.payload, eof }, ...buffer.release((seg.seq + 1) >>> 0)];
      for (const h of run) {
        if (h.payload.length > 0) written.push(h.payload.slice());
        expected = (h.seq + 1) >>> 0;
        if (h.eof) complete = true;
      }
      return [ack()];
    },
  };
}

interface Pending {
  time: number;
  order: number;
  toReceiver: boolean;
  bytes: Uint8Array;
}

/**
 * Run `flow` against `rx` until the flow is done or failed (or `limitMs`). `onSend` sees every transmission
 * before it leaves (for invariants). Same seed and options, same trace.
 */
export function runFlow(flow: FlowLike, rx: Receiver, net: NetOptions, limitMs = 1e7, onSend?: (now: number, bytes: Uint8Array) => void): Trace {
  const random = seeded(`net-${net.seed}`);
  const queue: Pending[] = [];
  let order = 0;
  const trace: Trace = { sends: [], events: [], endMs: 0, problems: [] };
  let now = 0;
  const push = (toReceiver: boolean, bytes: Uint8Array): void => {
    const lossRate = toReceiver ? net.loss : net.ackLoss;
    if (lossRate > 0 && random() < lossRate) return;
    const copies = net.duplicate > 0 && random() < net.duplicate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const time = now + net.delayMs + (net.jitterMs > 0 ? random() * net.jitterMs : 0);
      const p = { time, order: order++, toReceiver, bytes };
      let i = queue.length;
      while (i > 0 && (queue[i - 1]!.time > time || (queue[i - 1]!.time === time && queue[i - 1]!.order > p.order))) i--;
      queue.splice(i, 0, p);
    }
  };
  const service = (): void => {
    for (let b = flow.pollTransmit(now); b !== undefined; b = flow.pollTransmit(now)) {
      onSend?.(now, b);
      trace.sends.push(`${now.toFixed(3)} ${hex(b.subarray(0, 8))}`);
      push(true, b);
    }
    for (let e = flow.pollEvent(); e !== undefined; e = flow.pollEvent()) trace.events.push(`${now.toFixed(3)} ${JSON.stringify(e)}`);
    flow.prepare?.();
  };
  service();
  while (flow.status === 'sending') {
    const timer = flow.pollTimeout();
    const next = queue[0];
    if (timer === undefined && next === undefined) {
      trace.problems.push('nothing to do: no timer and nothing in the network');
      break;
    }
    if (next === undefined || (timer !== undefined && timer < next.time)) {
      now = Math.max(now, timer!);
      flow.handleTimeout(now);
      service();
      // A flow woken at its deadline that still asks for a wake-up at (or before) that instant would spin forever.
      const again = flow.pollTimeout();
      if (flow.status === 'sending' && again !== undefined && again <= now && (queue[0] === undefined || queue[0].time > now)) {
        trace.problems.push(`timer livelock at ${now} ms`);
        break;
      }
    } else {
      queue.shift();
      now = next.time;
      if (next.toReceiver) for (const reply of rx.handle(now, next.bytes)) push(false, reply);
      else flow.handleDatagram(now, next.bytes);
      service();
    }
    if (now > limitMs) {
      trace.problems.push(`time limit ${limitMs} ms reached`);
      break;
    }
  }
  trace.endMs = now;
  return trace;
}

export const writtenBytes = (rx: Receiver): Uint8Array => concat(rx.written);
