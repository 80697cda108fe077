// The group sender with a sliding window and pacing, driven by hand (no network).

import { describe, expect, it } from 'vitest';
import { decode, encodeAck } from '../src/core/codec.js';
import { GroupSender, type GroupConfig, type Transmit } from '../src/core/group.js';
import { WindowFlow } from '../src/core/window.js';
import { SenderFlow } from '../src/core/flow.js';
import { fileBytes } from '../harness/files.js';

const RTO = { minMs: 5, maxMs: 2000, initialMs: 100, granularityMs: 1 };

function group(over: Partial<GroupConfig> = {}): GroupSender {
  // 10 bytes per segment: a 200-byte file is 20 data segments + the empty end of file.
  return new GroupSender({ receivers: 2, file: fileBytes(200, 3), mss: 18, eof: 'empty', mode: 'lockstep', rto: RTO, giveUpMs: 10_000, ...over });
}

function drain(g: GroupSender, now: number): Transmit[] {
  const out: Transmit[] = [];
  for (let t = g.pollTransmit(now); t !== undefined; t = g.pollTransmit(now)) out.push(t);
  return out;
}

const indexOf = (t: Transmit): number => {
  const d = decode(t.bytes);
  return d.ok && d.segment.kind === 'data' ? d.segment.seq : -1;
};

const ack = (g: GroupSender, now: number, sent: Transmit[], receiver: number): void => {
  for (const t of sent) if (t.receiver === receiver) g.handleDatagram(now, receiver, encodeAck(indexOf(t)));
};

describe('group with a window', () => {
  it('window 1 without extensions hosts the classic SenderFlow; anything else a WindowFlow', () => {
    expect(group().flows[0]).toBeInstanceOf(SenderFlow);
    expect(group({ window: { window: 1, sack: false, cc: 'none' } }).flows[0]).toBeInstanceOf(SenderFlow);
    expect(group({ window: { window: 4, sack: false, cc: 'none' } }).flows[0]).toBeInstanceOf(WindowFlow);
    expect(group({ window: { window: 1, sack: true, cc: 'none' } }).flows[0]).toBeInstanceOf(WindowFlow);
  });

  it('lockstep: segment j goes to nobody until every live receiver has acknowledged j - N', () => {
    const n = 4;
    const g = group({ window: { window: n, sack: false, cc: 'none' } });
    const first = drain(g, 0);
    expect(first.map(indexOf)).toEqual([0, 0]);
    ack(g, 1, first, 0);
    ack(g, 1, first, 1);
    // Receiver 0 acknowledges everything it gets; receiver 1 nothing more: the slowest has acknowledged 1 segment.
    let sent = drain(g, 1);
    for (let round = 0; round < 5; round++) {
      ack(g, 2 + round, sent, 0);
      sent = drain(g, 2 + round);
    }
    expect(g.flows[0]!.acked).toBe(1 + n); // indices 1..N went out and were acknowledged; N + 1 waits
    expect(g.allowed).toBe(1 + n - 1);
    // Receiver 1's ACK of its window moves the barrier on for both.
    g.handleDatagram(10, 1, encodeAck(2));
    expect(g.allowed).toBe(3 + n - 1);
    expect(drain(g, 10).filter((t) => t.receiver === 0).map(indexOf)).toEqual([5, 6]);
  });

  it('--rate: the group holds datagrams back once the burst is spent and names the time it may send again', () => {
    // 8000 bits/s = 1 byte per ms: an 18-byte segment (+28 bytes of headers) takes 46 ms; the burst is 4 x 18 bytes.
    // The RTO is at least 500 ms, so the next deadline is the pacer's.
    const g = group({ mode: 'independent', receivers: 1, window: { window: 8, sack: false, cc: 'none' }, rateBitsPerSec: 8000, rto: { ...RTO, initialMs: 1000, minMs: 500 } });
    const a = drain(g, 0);
    ack(g, 0, a, 0);
    const b = drain(g, 0);
    expect(a.length + b.length).toBeLessThan(8);
    const next = g.pollTimeout()!;
    // Two datagrams of 46 bytes sent at 0 with 72 bytes of burst allowance: the next may go at 92 - 72 = 20 ms.
    expect(a.length + b.length).toBe(2);
    expect(next).toBeCloseTo(20, 9);
    expect(drain(g, next - 0.001)).toEqual([]);
    g.handleTimeout(next);
    expect(drain(g, next).length).toBe(1);
  });
});
