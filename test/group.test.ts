// The group sender: the multi-receiver rules of src/core/group.ts, driven by hand (no network).

import { describe, expect, it } from 'vitest';
import { decode, encodeAck } from '../src/core/codec.js';
import { GroupSender, type GroupConfig, type Transmit } from '../src/core/group.js';
import { fileBytes } from '../harness/files.js';

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
