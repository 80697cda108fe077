// The receiver's reorder buffer and SACK replies, through the ReceiverMachine: out-of-order segments are held
// (never before lock-on), written strictly in order, and the reply only ever acknowledges what was written.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encodeData } from '../src/core/codec.js';
import { ReceiverMachine, type ReceiverEvent } from '../src/core/receiver.js';
import { decodeSack } from '../src/core/sack.js';

function machine(reorderSegments: number, sack = false, initialSeq = 0): ReceiverMachine {
  return new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9, reorderSegments, sack, initialSeq });
}

const seg = (seq: number, byte: number, len = 4): Uint8Array => encodeData(seq >>> 0, new Uint8Array(len).fill(byte));

function feed(m: ReceiverMachine, bytes: Uint8Array): { events: ReceiverEvent[]; reply: Uint8Array | undefined } {
  m.handleDatagram(0, bytes, 'sender');
  const events: ReceiverEvent[] = [];
  for (let e = m.pollEvent(); e; e = m.pollEvent()) events.push(e);
  return { events, reply: m.pollTransmit()?.bytes };
}

/** What a reply acknowledges cumulatively (classic ACK or SACK). */
function cumOf(reply: Uint8Array): number {
  const s = decodeSack(reply);
  if (s.ok) return s.sack.cum;
  const d = decode(reply);
  if (!d.ok || d.segment.kind !== 'ack') throw new Error('not an ACK');
  return d.segment.seq;
}

describe('receiver reorder buffer', () => {
  it('holds nothing before lock-on: a segment ahead of 0 is ignored, as the classic receiver does', () => {
    const m = machine(16);
    expect(feed(m, seg(3, 3)).events.map((e) => e.kind)).toEqual(['ignored']);
    expect(feed(m, seg(0, 0)).events.map((e) => e.kind)).toEqual(['delivered']); // 3 was not kept
  });

  it('a hole filled releases the held run in order, and the one reply acknowledges all of it', () => {
    const m = machine(16);
    feed(m, seg(0, 0));
    expect(feed(m, seg(2, 2)).events.map((e) => e.kind)).toEqual(['held']);
    expect(feed(m, seg(3, 3)).events.map((e) => e.kind)).toEqual(['held']);
    const r = feed(m, seg(1, 1));
    expect(r.events.map((e) => (e.kind === 'delivered' ? e.seq : e.kind))).toEqual([1, 2, 3]);
    expect(cumOf(r.reply!)).toBe(3);
  });

  it('a held segment keeps its bytes when the transport reuses the datagram buffer before the hole fills', () => {
    const m = machine(16);
    feed(m, seg(0, 0));
    const buffer = seg(2, 2);
    expect(feed(m, buffer).events.map((e) => e.kind)).toEqual(['held']);
    buffer.fill(0xee); // the socket's next datagram lands in the same memory
    const r = feed(m, seg(1, 1));
    const two = r.events.find((e) => e.kind === 'delivered' && e.seq === 2);
    expect(two?.kind === 'delivered' && [...two.payload]).toEqual([2, 2, 2, 2]);
  });

  it('with --sack, the reply reports what is held beyond the cumulative point', () => {
    const m = machine(16, true);
    feed(m, seg(0, 0));
    feed(m, seg(2, 2));
    const r = feed(m, seg(5, 5));
    const s = decodeSack(r.reply!);
    expect(s).toEqual({ ok: true, sack: { cum: 0, ranges: [{ start: 2, end: 3 }, { start: 5, end: 6 }] } });
  });

  it('beyond its bound it behaves as the classic receiver (re-ACK, nothing kept)', () => {
    const m = machine(2);
    feed(m, seg(0, 0));
    const r = feed(m, seg(9, 9));
    expect(r.events.map((e) => e.kind)).toEqual(['duplicate']);
    expect(cumOf(r.reply!)).toBe(0);
  });

  it('any arrival order: every segment written once, in order; no reply acknowledges an unwritten segment', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.boolean(), fc.oneof(fc.constant(0), fc.integer({ min: 0xffffffff - 20, max: 0xffffffff })), fc.array(fc.nat({ max: 30 }), { maxLength: 200 }), (cap, sack, initialSeq, order) => {
        const m = machine(cap, sack, initialSeq);
        feed(m, seg(initialSeq, 0));
        let written = 1;
        for (const k of order) {
          const r = feed(m, seg(initialSeq + k, k & 0xff));
          for (const e of r.events) {
            if (e.kind !== 'delivered') continue;
            expect((e.seq - initialSeq) >>> 0).toBe(written);
            expect(e.payload[0]).toBe(written & 0xff);
            written++;
          }
          if (r.reply) expect((cumOf(r.reply) - initialSeq) >>> 0).toBe(written - 1);
        }
      }),
    );
  });
});
