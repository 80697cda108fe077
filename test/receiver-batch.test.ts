// A receiver acknowledges the in-order segments of one batch (the datagrams read together, ended by flush())
// with one ACK while its sender pipelines (its last batch delivered more than one); a stop-and-wait sender's
// segment is answered at once, as classic receivers do; everything else is answered at once.

import { describe, expect, it } from 'vitest';
import { decode, encodeData } from '../src/core/codec.js';
import { ACK_STATUS } from '../src/core/extension.js';
import { ReceiverMachine, type ReceiverTransmit } from '../src/core/receiver.js';
import { VerifyReceiverWire } from '../src/core/receiver-wire.js';
import { decodeVerified, encodeVerifiedData } from '../src/core/verify.js';

const FROM = '192.0.2.1:40000';
const payload = (seq: number): Uint8Array => new Uint8Array(16).fill(seq & 0xff);

function verifyReceiver(reorderSegments = 0, lossRate = 0, random = (): number => 0): ReceiverMachine {
  return new ReceiverMachine({ lossRate, random, idleTimeoutMs: 1e9, lingerMs: 1e9, reorderSegments, wire: new VerifyReceiverWire() });
}

/** Hand `datagrams` over as one batch, as the loop does (events first, then the reply), then flush; every reply sent. */
function batch(m: ReceiverMachine, datagrams: Uint8Array[]): { written: number[]; replies: ReceiverTransmit[] } {
  const written: number[] = [];
  const replies: ReceiverTransmit[] = [];
  const drain = (): void => {
    for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) if (e.kind === 'delivered') written.push(e.seq);
    const r = m.pollTransmit();
    if (r !== undefined) replies.push(r);
  };
  for (const d of datagrams) {
    m.handleDatagram(0, d, FROM);
    drain();
  }
  m.flush();
  drain();
  return { written, replies };
}

const acked = (r: ReceiverTransmit): unknown => {
  const d = decodeVerified(r.bytes);
  return d.ok && d.segment.kind === 'ack' ? [d.segment.seq, d.segment.status] : d;
};
const data = (from: number, to: number): Uint8Array[] => Array.from({ length: to - from + 1 }, (_, i) => encodeVerifiedData(from + i, payload(from + i)));

const classicAcked = (r: ReceiverTransmit): unknown => {
  const d = decode(r.bytes);
  return d.ok && d.segment.kind === 'ack' ? d.segment.seq : d;
};
const classicData = (from: number, to: number): Uint8Array[] => Array.from({ length: to - from + 1 }, (_, i) => encodeData(from + i, payload(from + i)));
const classicReceiver = (): ReceiverMachine => new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9 });

describe.each([
  { wire: 'classic', receiver: classicReceiver, data: classicData, acked: classicAcked, ack: (seq: number): unknown => seq },
  { wire: '--verify', receiver: () => verifyReceiver(), data, acked, ack: (seq: number): unknown => [seq, ACK_STATUS.ack] },
])('$wire receiver: one ACK per batch while the sender pipelines, one per segment at once for stop-and-wait', (w) => {
  it('a burst of in-order segments read together is written in order and acknowledged once, after the batch, naming its last', () => {
    const m = w.receiver();
    const first = batch(m, w.data(0, 5));
    expect(first.written).toEqual([0, 1, 2, 3, 4, 5]);
    expect(first.replies.map(w.acked)).toEqual([w.ack(5)]);
    expect(batch(m, w.data(6, 9)).replies.map(w.acked)).toEqual([w.ack(9)]);
  });

  it('a stop-and-wait sender (one segment a batch) gets its ACK at once, before the batch ends, from the second segment on', () => {
    const m = w.receiver();
    expect(batch(m, w.data(0, 0)).replies.map(w.acked)).toEqual([w.ack(0)]);
    for (let seq = 1; seq < 4; seq++) {
      m.handleDatagram(0, w.data(seq, seq)[0]!, FROM);
      while (m.pollEvent() !== undefined); // written
      expect(w.acked(m.pollTransmit()!)).toEqual(w.ack(seq));
      expect(m.flush()).toBe(false); // nothing left to answer
    }
  });

  it('a sender that starts pipelining after single segments is answered per segment for one batch, then once a batch', () => {
    const m = w.receiver();
    batch(m, w.data(0, 0));
    expect(batch(m, w.data(1, 3)).replies.map(w.acked)).toEqual([w.ack(1), w.ack(2), w.ack(3)]);
    expect(batch(m, w.data(4, 7)).replies.map(w.acked)).toEqual([w.ack(7)]);
  });
});

describe('--verify/--key receiver: batches with holes, losses and failures', () => {
  it("the batch's ACK goes to the sender", () => {
    expect(batch(verifyReceiver(), data(0, 5)).replies.map((r) => r.to)).toEqual([FROM]);
  });

  it('an out-of-order segment in a batch is answered at once (the sender learns of the hole), and the batch adds no second copy of that ACK', () => {
    const m = verifyReceiver();
    const { written, replies } = batch(m, [...data(0, 2), encodeVerifiedData(4, payload(4))]);
    expect(written).toEqual([0, 1, 2]);
    // The re-ACK of 2 stands for the batch's ACK: a second "ACK 2" would read as a duplicate ACK.
    expect(replies.map(acked)).toEqual([[2, ACK_STATUS.ack]]);
  });

  it('with a reorder buffer, segments after a hole are held and the run is acknowledged once the hole fills', () => {
    const m = verifyReceiver(8);
    expect(batch(m, data(0, 0)).replies.map(acked)).toEqual([[0, ACK_STATUS.ack]]);
    const held = batch(m, data(2, 3));
    expect(held.written).toEqual([]);
    expect(held.replies.map(acked)).toEqual([
      [0, ACK_STATUS.ack],
      [0, ACK_STATUS.ack],
    ]);
    const filled = batch(m, [...data(1, 1), ...data(4, 5)]);
    expect(filled.written).toEqual([1, 2, 3, 4, 5]);
    expect(filled.replies.map(acked).at(-1)).toEqual([5, ACK_STATUS.ack]);
  });

  it('a segment the loss service drops within a batch does not cancel the ACK of the segments before it', () => {
    const draws = [0.9, 0.9, 0.1]; // the loss service (P = 0.5) drops the third segment
    const m = verifyReceiver(0, 0.5, () => draws.shift()!);
    const { written, replies } = batch(m, data(0, 2));
    expect(written).toEqual([0, 1]);
    expect(replies.map(acked)).toEqual([[1, ACK_STATUS.ack]]);
  });

  it('nothing is acknowledged before the batch ends, so a write that fails within it leaves none of it acknowledged', () => {
    const m = verifyReceiver();
    const replies: ReceiverTransmit[] = [];
    for (const d of data(0, 2)) {
      m.handleDatagram(0, d, FROM);
      while (m.pollEvent() !== undefined); // written
      const r = m.pollTransmit();
      if (r !== undefined) replies.push(r);
    }
    expect(replies).toEqual([]); // the ACK waits for the batch's end: a failure before it sends nothing
  });
});
