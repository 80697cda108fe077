// The --verify and --key conversations, sender flow against receiver, without sockets: the handshake
// gives each receiver freshness, a recorded transfer replayed to a new receiver never delivers a byte,
// one sealed copy of the data serves several receivers, and no ACK nonce repeats.

import { describe, expect, it } from 'vitest';
import { encodeAck, encodeData } from '../src/core/codec.js';
import { ACK_STATUS } from '../src/core/extension.js';
import { KeyReceiverWire, VerifyReceiverWire, type Incoming } from '../src/core/receiver-wire.js';
import { KeyGroupWire, VerifyGroupWire, type FlowWire } from '../src/core/sender-wire.js';
import { flipBit, seeded } from './support.js';

const bytesFrom = (seed: string, n: number): Uint8Array => {
  const r = seeded(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
};
const PSK = bytesFrom('psk', 32);

/** Run the --key handshake between a flow and a receiver; returns every datagram the sender sent. */
function handshake(flow: FlowWire, rx: KeyReceiverWire): Uint8Array[] {
  const sent: Uint8Array[] = [];
  for (let step = 0; step < 4; step++) {
    const out = flow.handshake();
    if (out === undefined) return sent;
    sent.push(out);
    const answer = rx.read(out);
    expect(answer.kind).toBe('handshake');
    if (answer.kind === 'handshake') expect(flow.read(answer.reply)).toEqual({ kind: 'handshake' });
  }
  throw new Error('handshake did not finish');
}

const kinds = (xs: Incoming[]): string[] => xs.map((x) => (x.kind === 'ignored' ? `ignored:${x.reason}` : x.kind));

describe('--key conversation', () => {
  it('HELLO, CHALLENGE, RESPONSE, OPEN; then data and ACKs authenticate both ways', () => {
    const group = new KeyGroupWire(PSK, bytesFrom('ns', 16));
    const rx = new KeyReceiverWire(PSK, bytesFrom('cr', 16));
    const flow = group.flow();
    expect(rx.read(group.data(0, new Uint8Array([1, 2, 3])))).toEqual({ kind: 'ignored', reason: 'unauthenticated', mode: 'key' });
    expect(handshake(flow, rx)).toHaveLength(2);
    expect(rx.opened).toBe(true);
    const payload = bytesFrom('payload', 1000);
    expect(rx.read(group.data(0, payload))).toEqual({ kind: 'data', seq: 0, payload });
    expect(flow.read(rx.ack(0, ACK_STATUS.ack))).toEqual({ kind: 'ack', seq: 0, status: ACK_STATUS.ack });
    const digest = bytesFrom('digest', 32);
    expect(rx.read(group.end(1, digest))).toEqual({ kind: 'end', seq: 1, digest });
    expect(flow.read(rx.ack(1, ACK_STATUS.committed))).toEqual({ kind: 'ack', seq: 1, status: ACK_STATUS.committed });
  });

  it('a transfer recorded yesterday and replayed to a receiver with a new challenge delivers nothing', () => {
    const yesterdayRx = new KeyReceiverWire(PSK, bytesFrom('cr-yesterday', 16));
    const group = new KeyGroupWire(PSK, bytesFrom('ns-yesterday', 16));
    const recorded = handshake(group.flow(), yesterdayRx);
    for (let seq = 0; seq < 5; seq++) recorded.push(group.data(seq, bytesFrom(`seg-${seq}`, 100)));
    recorded.push(group.end(5, bytesFrom('d', 32)));
    for (const d of recorded) expect(yesterdayRx.read(d).kind).not.toBe('ignored');

    const today = new KeyReceiverWire(PSK, bytesFrom('cr-today', 16));
    const got = recorded.map((d) => today.read(d));
    // The HELLO gets today's challenge (harmless); the old RESPONSE names another challenge; the data was sealed for a session that never opens.
    expect(kinds(got)).toEqual(['handshake', ...Array(7).fill('ignored:unauthenticated')]);
    expect(today.opened).toBe(false);
  });

  it("a stranger's HELLO before the real sender's changes nothing, and a second session is foreign", () => {
    const rx = new KeyReceiverWire(PSK, bytesFrom('cr', 16));
    const stranger = new KeyGroupWire(bytesFrom('other-psk', 32), bytesFrom('ns-s', 16));
    expect(rx.read(stranger.hello)).toEqual({ kind: 'ignored', reason: 'bad-mac', mode: 'key' });
    const first = new KeyGroupWire(PSK, bytesFrom('ns-1', 16));
    const second = new KeyGroupWire(PSK, bytesFrom('ns-2', 16));
    const f2 = second.flow();
    const c2 = rx.read(second.hello); // both get a challenge ...
    handshake(first.flow(), rx); // ... the first to answer opens the session
    expect(c2.kind === 'handshake' && f2.read(c2.reply)).toEqual({ kind: 'handshake' });
    expect(rx.read(f2.handshake()!)).toEqual({ kind: 'ignored', reason: 'foreign', mode: 'key' });
    expect(rx.read(second.data(0, new Uint8Array([9])))).toMatchObject({ kind: 'ignored', reason: 'unauthenticated' });
    expect(rx.read(first.data(0, new Uint8Array([9])))).toEqual({ kind: 'data', seq: 0, payload: new Uint8Array([9]) });
  });

  it('one sealed copy serves every receiver; each ACK opens only in its own receiver\'s flow', () => {
    const group = new KeyGroupWire(PSK, bytesFrom('ns', 16));
    const rxs = [0, 1, 2].map((i) => new KeyReceiverWire(PSK, bytesFrom(`cr-${i}`, 16)));
    const flows = rxs.map((rx) => {
      const f = group.flow();
      handshake(f, rx);
      return f;
    });
    const seg = group.data(0, bytesFrom('p', 500));
    for (const rx of rxs) expect(rx.read(seg).kind).toBe('data');
    const acks = rxs.map((rx) => rx.ack(0, ACK_STATUS.ack));
    flows.forEach((f, i) => acks.forEach((a, j) => expect(f.read(a).kind).toBe(i === j ? 'ack' : 'ignored')));
  });

  it('no ACK nonce repeats: every ACK, re-ACKs and OPEN answers included, carries a new counter', () => {
    const group = new KeyGroupWire(PSK, bytesFrom('ns', 16));
    const rx = new KeyReceiverWire(PSK, bytesFrom('cr', 16));
    const flow = group.flow();
    const sent = handshake(flow, rx);
    const response = sent[1]!;
    const acks = [rx.ack(0, 0), rx.ack(0, 0), rx.ack(1, 0)];
    const again = rx.read(response); // a retransmitted RESPONSE is answered again, under a new counter
    if (again.kind === 'handshake') acks.push(again.reply);
    const counters = acks.map((a) => Buffer.from(a.subarray(8, 16)).toString('hex'));
    expect(new Set(counters).size).toBe(acks.length);
    expect(counters).toHaveLength(4);
  });

  it('damaged or forged datagrams are ignored, never delivered, in both directions', () => {
    const group = new KeyGroupWire(PSK, bytesFrom('ns', 16));
    const rx = new KeyReceiverWire(PSK, bytesFrom('cr', 16));
    const flow = group.flow();
    handshake(flow, rx);
    const seg = group.data(7, bytesFrom('x', 64));
    for (let bit = 0; bit < seg.length * 8; bit++) expect(rx.read(flipBit(seg, bit))).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/^(malformed|unauthenticated)$/) });
    const ack = rx.ack(7, ACK_STATUS.ack);
    for (let bit = 0; bit < ack.length * 8; bit++) expect(flow.read(flipBit(ack, bit)).kind).toBe('ignored');
    expect(flow.read(encodeAck(7))).toEqual({ kind: 'ignored', reason: 'other-mode' });
  });

  it('an ACK the sender predicted while idle is accepted as is, and any one bit flipped of it still is not', () => {
    const group = new KeyGroupWire(PSK, bytesFrom('ns', 16));
    const rx = new KeyReceiverWire(PSK, bytesFrom('cr', 16));
    const flow = group.flow();
    handshake(flow, rx);
    for (let seq = 0; seq < 5; seq++) {
      flow.prepare(seq);
      rx.prepare(seq, ACK_STATUS.ack);
      const ack = rx.ack(seq, ACK_STATUS.ack);
      for (let bit = 0; bit < ack.length * 8; bit++) expect(flow.read(flipBit(ack, bit)).kind).toBe('ignored');
      expect(flow.read(ack)).toEqual({ kind: 'ack', seq, status: ACK_STATUS.ack });
    }
    // A prediction that misses (the receiver skipped a counter value) falls back to opening the ACK.
    flow.prepare(5);
    rx.prepare(99, ACK_STATUS.ack);
    expect(flow.read(rx.ack(5, ACK_STATUS.ack))).toEqual({ kind: 'ack', seq: 5, status: ACK_STATUS.ack });
  });

  it('a receiver tells the other mode apart from garbage', () => {
    const rx = new KeyReceiverWire(PSK, bytesFrom('cr', 16));
    expect(rx.read(encodeData(0, new Uint8Array([1])))).toEqual({ kind: 'ignored', reason: 'other-mode', mode: 'classic' });
    expect(rx.read(new VerifyGroupWire().data(0, new Uint8Array([1])))).toEqual({ kind: 'ignored', reason: 'other-mode', mode: 'verify' });
    expect(rx.read(new Uint8Array([1, 2, 3]))).toEqual({ kind: 'ignored', reason: 'malformed', mode: undefined });
  });
});

describe('--verify conversation', () => {
  it('data, END and ACKs go through; any flipped bit is a bad checksum; --key segments are the other mode', () => {
    const group = new VerifyGroupWire();
    const rx = new VerifyReceiverWire();
    const flow = group.flow();
    expect(flow.handshake()).toBeUndefined();
    const seg = group.data(3, bytesFrom('v', 100));
    expect(rx.read(seg)).toEqual({ kind: 'data', seq: 3, payload: bytesFrom('v', 100) });
    expect(flow.read(rx.ack(3, ACK_STATUS.ack))).toEqual({ kind: 'ack', seq: 3, status: ACK_STATUS.ack });
    // A flipped bit is a bad checksum, or, in the type field, malformed: never data, never "the other mode".
    for (let bit = 0; bit < seg.length * 8; bit++) {
      const got = rx.read(flipBit(seg, bit));
      expect(got).toMatchObject({ kind: 'ignored', reason: bit >= 48 && bit < 64 ? expect.stringMatching(/^(malformed|bad-checksum)$/) : 'bad-checksum' });
    }
    expect(rx.read(new KeyGroupWire(PSK, bytesFrom('ns', 16)).hello)).toEqual({ kind: 'ignored', reason: 'other-mode', mode: 'key' });
    expect(rx.read(rx.ack(3, 0))).toEqual({ kind: 'ignored', reason: 'not-data', mode: 'verify' });
  });
});
