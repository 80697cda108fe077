// The receiver's reorder buffer and SACK replies, through the ReceiverMachine: out-of-order segments are held
// (never before lock-on), written strictly in order, and the reply only ever acknowledges what was written.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encodeData } from '../src/core/codec.js';
import { ReceiverMachine, type ReceiverEvent } from '../src/core/receiver.js';
import { decodeSack } from '../src/core/sack.js';
import { ACK_STATUS } from '../src/core/extension.js';
import { KeyReceiverWire, VerifyReceiverWire } from '../src/core/receiver-wire.js';
import { ackKey, dataKey, encodeHandshake, handshakeKey, openAck, openSack, sealData } from '../src/core/seal.js';
import { decodeVerified, encodeVerifiedData } from '../src/core/verify.js';

function machine(reorderSegments: number, sack = false, initialSeq = 0): ReceiverMachine {
  return new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9, reorderSegments, sack, initialSeq });
}

const seg = (seq: number, byte: number, len = 4): Uint8Array => encodeData(seq >>> 0, new Uint8Array(len).fill(byte));

function feed(m: ReceiverMachine, bytes: Uint8Array): { events: ReceiverEvent[]; reply: Uint8Array | undefined } {
  m.handleDatagram(0, bytes, 'sender');
  m.flush(); // one datagram is its own batch
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

describe('receiver reorder buffer on the --verify and --key wires', () => {
  const PSK = new Uint8Array(32).fill(7);
  const NS = new Uint8Array(16).fill(1);
  const CR = new Uint8Array(16).fill(2);
  const kd = dataKey(PSK, NS);
  const ka = ackKey(PSK, NS, CR);
  const payload = (b: number): Uint8Array => new Uint8Array(4).fill(b);

  it('--verify: nothing held before segment 0; after it a hole filled releases the run, and the one VACK covers it', () => {
    const m = new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9, reorderSegments: 16, wire: new VerifyReceiverWire() });
    expect(feed(m, encodeVerifiedData(2, payload(2))).events.map((e) => e.kind)).toEqual(['ignored']);
    feed(m, encodeVerifiedData(0, payload(0)));
    expect(feed(m, encodeVerifiedData(2, payload(2))).events.map((e) => e.kind)).toEqual(['held']);
    const r = feed(m, encodeVerifiedData(1, payload(1)));
    expect(r.events.map((e) => (e.kind === 'delivered' ? e.seq : e.kind))).toEqual([1, 2]);
    expect(decodeVerified(r.reply!)).toEqual({ ok: true, segment: { kind: 'ack', seq: 2, status: ACK_STATUS.ack } });
  });

  it('--key: nothing held before the handshake opened the session; after it held segments are written in order, each ACK under a fresh counter', () => {
    const rx = new KeyReceiverWire(PSK, CR);
    const m = new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9, reorderSegments: 16, wire: rx });
    expect(feed(m, sealData(kd, 1, payload(1))).events.map((e) => (e.kind === 'ignored' ? e.reason : e.kind))).toEqual(['unauthenticated']);
    const kh = handshakeKey(PSK);
    expect(feed(m, encodeHandshake(kh, { kind: 'response', ns: NS, cr: CR })).events.map((e) => e.kind)).toEqual(['handshake']);
    const counters: number[] = [];
    const ackOf = (reply: Uint8Array | undefined) => {
      const o = openAck(ka, reply!);
      if (!o.ok) throw new Error(o.error);
      counters.push(o.ack.counter);
      return o.ack.seq;
    };
    expect(ackOf(feed(m, sealData(kd, 2, payload(2))).reply)).toBe(0xffffffff); // held: re-ACK of "nothing yet"
    expect(ackOf(feed(m, sealData(kd, 1, payload(1))).reply)).toBe(0xffffffff);
    const r = feed(m, sealData(kd, 0, payload(0)));
    expect(r.events.map((e) => (e.kind === 'delivered' ? e.seq : e.kind))).toEqual([0, 1, 2]);
    expect(ackOf(r.reply)).toBe(2);
    expect(new Set(counters).size).toBe(counters.length);
  });
});

describe('--sack on the --verify and --key wires', () => {
  const PSK = new Uint8Array(32).fill(7);
  const NS = new Uint8Array(16).fill(1);
  const CR = new Uint8Array(16).fill(2);
  const payload = (b: number): Uint8Array => new Uint8Array(4).fill(b);

  it('--verify: while holding, a re-ACK is a VSACK of what is held; once nothing is held, a plain VACK', () => {
    const m = new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9, reorderSegments: 16, sack: true, wire: new VerifyReceiverWire() });
    feed(m, encodeVerifiedData(0, payload(0)));
    feed(m, encodeVerifiedData(2, payload(2)));
    expect(decodeVerified(feed(m, encodeVerifiedData(5, payload(5))).reply!)).toEqual({ ok: true, segment: { kind: 'sack', seq: 0, ranges: [{ start: 2, end: 3 }, { start: 5, end: 6 }] } });
    feed(m, encodeVerifiedData(1, payload(1)));
    // An in-order arrival that releases nothing is answered as on the classic wire: a plain ACK.
    const r = feed(m, encodeVerifiedData(3, payload(3)));
    expect(decodeVerified(r.reply!)).toEqual({ ok: true, segment: { kind: 'ack', seq: 3, status: ACK_STATUS.ack } });
    expect(decodeVerified(feed(m, encodeVerifiedData(3, payload(3))).reply!)).toEqual({ ok: true, segment: { kind: 'sack', seq: 3, ranges: [{ start: 5, end: 6 }] } });
    expect(decodeVerified(feed(m, encodeVerifiedData(4, payload(4))).reply!)).toEqual({ ok: true, segment: { kind: 'ack', seq: 5, status: ACK_STATUS.ack } });
  });

  it('--key: KSACKs and KACKs take the one ACK counter: no nonce is used twice under the receiver\'s key', () => {
    const kd = dataKey(PSK, NS);
    const ka = ackKey(PSK, NS, CR);
    const m = new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9, reorderSegments: 16, sack: true, wire: new KeyReceiverWire(PSK, CR) });
    feed(m, encodeHandshake(handshakeKey(PSK), { kind: 'response', ns: NS, cr: CR }));
    const counters: number[] = [];
    const kinds: string[] = [];
    for (const seq of [0, 2, 4, 4, 1, 3, 5, 7, 6]) {
      m.prepare();
      const reply = feed(m, sealData(kd, seq, payload(seq))).reply!;
      const s = openSack(ka, reply);
      const a = openAck(ka, reply);
      if (s.ok) counters.push(s.sack.counter), kinds.push('sack');
      else if (a.ok) counters.push(a.ack.counter), kinds.push('ack');
      else throw new Error('reply opens as neither KACK nor KSACK');
    }
    expect(kinds).toContain('sack');
    expect(kinds).toContain('ack');
    expect(new Set(counters).size).toBe(counters.length);
  });
});
