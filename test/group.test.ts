// The group sender: the multi-receiver rules of src/core/group.ts, driven by hand (no network).

import { describe, expect, it } from 'vitest';
import { decode, encodeAck } from '../src/core/codec.js';
import { GroupSender, type GroupConfig, type Transmit } from '../src/core/group.js';
import { KeyReceiverWire } from '../src/core/receiver-wire.js';
import type { FileSource } from '../src/core/segments.js';
import { fileBytes } from '../harness/files.js';
import { wireReceiver, writtenBytes } from './flow-harness.js';
import { hex } from './support.js';

const RTO = { minMs: 5, maxMs: 2000, initialMs: 100, granularityMs: 1 };

function group(over: Partial<GroupConfig> = {}): GroupSender {
  // 10 bytes per segment: a 50-byte file is 5 data segments + the empty end of file.
  return new GroupSender({ receivers: 3, file: fileBytes(50, 7), mss: 18, eof: 'empty', mode: 'lockstep', rto: RTO, giveUpMs: 10_000, ...over });
}

function drainTransmit(g: GroupSender, now: number): Transmit[] {
  const out: Transmit[] = [];
  for (let t = g.pollTransmit(now); t !== undefined; t = g.pollTransmit(now)) out.push(t);
  return out;
}

const seqOf = (t: Transmit): number => {
  const d = decode(t.bytes);
  return d.ok && d.segment.kind === 'data' ? d.segment.seq : -1;
};

/** ACK what was sent to `receivers` (all by default). */
function ackAll(g: GroupSender, sent: Transmit[], now: number, receivers?: number[]): void {
  for (const t of sent) if (receivers === undefined || receivers.includes(t.receiver)) g.handleDatagram(now, t.receiver, encodeAck(seqOf(t)));
}

describe('group sender', () => {
  it('lockstep: segment i goes to nobody until every live receiver has acknowledged segment i - 1', () => {
    const g = group();
    let sent = drainTransmit(g, 0);
    expect(sent.map((t) => [t.receiver, seqOf(t)]).sort()).toEqual([[0, 0], [1, 0], [2, 0]]);
    ackAll(g, sent, 1, [0, 1]); // receiver 2 has not answered yet
    expect(drainTransmit(g, 1)).toEqual([]);
    ackAll(g, sent, 2, [2]);
    sent = drainTransmit(g, 2);
    expect(sent.map((t) => seqOf(t))).toEqual([1, 1, 1]);
    expect(g.allowed).toBe(1);
  });

  it('lockstep: a failed receiver leaves the barrier and the others go on', () => {
    const g = group();
    const sent = drainTransmit(g, 0);
    ackAll(g, sent, 1, [0, 1]);
    g.fail(2, 'port-unreachable');
    expect(drainTransmit(g, 1).map((t) => [t.receiver, seqOf(t)]).sort()).toEqual([[0, 1], [1, 1]]);
    const events = [];
    for (let e = g.pollEvent(); e !== undefined; e = g.pollEvent()) events.push(e);
    expect(events).toContainEqual({ type: 'failed', reason: 'port-unreachable', receiver: 2 });
  });

  it('independent: a fast receiver is not held back by a slow one', () => {
    const g = group({ mode: 'independent' });
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const sent = drainTransmit(g, now);
      ackAll(g, sent, ++now, [0]);
    }
    expect(g.flows[0]!.status).toBe('done');
    expect(g.flows[1]!.acked).toBe(0);
    expect(g.slowest).toBe(0);
  });

  it('encodes each segment once for all receivers', () => {
    const g = group({ receivers: 5 });
    let now = 0;
    while (!g.finished) {
      const sent = drainTransmit(g, now);
      ackAll(g, sent, ++now);
    }
    expect(g.flows.every((f) => f.status === 'done')).toBe(true);
    expect(g.segments.encoded).toBe(g.total);
    expect(g.datagramsSent).toBe(5 * g.total);
  });

  it('the file buffer gate: segments at or beyond the loaded end are sent to nobody', () => {
    const g = group({ mode: 'independent', receivers: 2 });
    g.setBufferEnd(2);
    let now = 0;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = drainTransmit(g, now);
      seen.push(...sent.map(seqOf));
      ackAll(g, sent, ++now);
    }
    expect(Math.max(...seen)).toBe(1);
    g.setBufferEnd(Number.POSITIVE_INFINITY);
    expect(drainTransmit(g, now).map(seqOf)).toEqual([2, 2]);
  });

  it('lockstep across threads: the slowest receiver of another group holds this one', () => {
    const g = group({ receivers: 1 });
    g.setPeerSlowest(0);
    const sent = drainTransmit(g, 0);
    ackAll(g, sent, 1);
    expect(drainTransmit(g, 1)).toEqual([]);
    g.setPeerSlowest(1);
    expect(drainTransmit(g, 1).map(seqOf)).toEqual([1]);
  });

  it('one timer: pollTimeout is the earliest deadline of any flow, and handleTimeout retransmits exactly the due ones', () => {
    const g = group({ mode: 'independent', receivers: 2 });
    drainTransmit(g, 0); // both at 0, RTO 100
    const later = drainTransmit(g, 0);
    expect(later).toEqual([]);
    g.handleDatagram(50, 0, encodeAck(0));
    drainTransmit(g, 50); // receiver 0's segment 1: its deadline (from a 50 ms RTT sample) is later than 100
    expect(g.pollTimeout()).toBe(100); // receiver 1's segment 0
    g.handleTimeout(99);
    expect(drainTransmit(g, 99)).toEqual([]);
    expect(g.idleWakeups).toBe(1);
    g.handleTimeout(100);
    expect(drainTransmit(g, 100).map((t) => [t.receiver, seqOf(t)])).toEqual([[1, 0]]);
    expect(g.flows[1]!.stats.timeouts).toBe(1);
    expect(g.flows[0]!.stats.timeouts).toBe(0);
  });

  it('abort fails every receiver still sending, once', () => {
    const g = group();
    drainTransmit(g, 0);
    g.abort();
    g.abort();
    expect(g.finished).toBe(true);
    expect(g.flows.map((f) => f.failReason)).toEqual(['aborted', 'aborted', 'aborted']);
    expect(g.pollTimeout()).toBeUndefined();
    expect(drainTransmit(g, 1)).toEqual([]);
  });
});

describe('group sender: --key with a window seals ahead', () => {
  const psk = new Uint8Array(32).fill(1);
  // MSS 64 on the --key wire: 40 payload bytes a segment; 100 data segments and the END.
  const file = fileBytes(4000, 11);
  const PAYLOAD = 40;

  /** One receiver (buffering up to N), every datagram answered at once; the sender's loop order: transmit, prepare, then the replies. */
  function run(window: number, bufferEnd: number) {
    let highestRead = 0;
    const source: FileSource = {
      length: file.length,
      subarray: (start, end) => {
        highestRead = Math.max(highestRead, Math.min(end, file.length));
        return file.subarray(start, end);
      },
    };
    const g = new GroupSender({
      receivers: 1, file: source, mss: 64, eof: 'empty', mode: 'independent', rto: RTO, giveUpMs: 10_000,
      window: { window, sack: false, cc: 'none' },
      wire: { mode: 'key', digest: new Uint8Array(32), key: { psk, ns: new Uint8Array(16).fill(2) } },
    });
    const rx = wireReceiver(new KeyReceiverWire(psk, new Uint8Array(16).fill(3)), window);
    g.setBufferEnd(bufferEnd);
    let sealedInTransmit = 0;
    let replies: Uint8Array[] = [];
    for (let now = 0; now < 1000 && !g.finished; now++) {
      for (const r of replies) g.handleDatagram(now, 0, r);
      const before = g.segments.encoded;
      const sent = drainTransmit(g, now);
      sealedInTransmit += g.segments.encoded - before;
      g.prepare();
      expect(highestRead).toBeLessThanOrEqual(Math.min(bufferEnd, 100) * PAYLOAD);
      replies = sent.flatMap((t) => rx.handle(now, t.bytes));
      if (sent.length === 0 && replies.length === 0) break; // waiting at the file buffer's gate
    }
    return { g, rx, sealedInTransmit };
  }

  it('a lossless transfer seals every segment once, each before the ACK that lets it go (none while transmitting)', () => {
    const { g, rx, sealedInTransmit } = run(16, Number.POSITIVE_INFINITY);
    expect(g.finished).toBe(true);
    expect(hex(writtenBytes(rx))).toBe(hex(file));
    expect(g.segments.encoded).toBe(g.total);
    expect(sealedInTransmit).toBe(0);
  });

  it('never reads a segment beyond the loaded file buffer', () => {
    const { g } = run(16, 30);
    expect(g.finished).toBe(false);
    expect(g.flows[0]!.acked).toBe(30);
  });
});
