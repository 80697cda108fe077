// On the --verify/--key wires the receiver acknowledges the in-order segments of one batch (the datagrams read
// together, ended by flush()) with one ACK; everything else is still answered at once.

import { describe, expect, it } from 'vitest';
import { encodeData } from '../src/core/codec.js';
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

describe('--verify/--key receiver: one ACK per batch of in-order segments', () => {
  it('a batch of in-order segments is written in order and acknowledged once, after the batch, naming its last segment', () => {
    const m = verifyReceiver();
    const { written, replies } = batch(m, data(0, 5));
    expect(written).toEqual([0, 1, 2, 3, 4, 5]);
    expect(replies.map(acked)).toEqual([[5, ACK_STATUS.ack]]);
    expect(replies[0]!.to).toBe(FROM);
  });

  it('a stop-and-wait sender (one segment a batch) gets one ACK per segment, as before', () => {
    const m = verifyReceiver();
    for (let seq = 0; seq < 4; seq++) expect(batch(m, data(seq, seq)).replies.map(acked)).toEqual([[seq, ACK_STATUS.ack]]);
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

  it('the classic receiver still answers every segment at once', () => {
    const m = new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9 });
    const segs = [0, 1, 2].map((seq) => encodeData(seq, payload(seq)));
    expect(batch(m, segs).replies).toHaveLength(3);
  });
});
