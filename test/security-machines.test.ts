// The machines in --sender, --verify and --key mode, without sockets: who may start a transfer, what commits
// a file, what ends a flow. (Real sockets: test/reliability/security.test.ts; the simulator:
// test/sim.security.test.ts and the corrupt-any properties.)

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeData, encodeFin } from '../src/core/codec.js';
import { ACK_STATUS } from '../src/core/extension.js';
import { standaloneFlow, type SenderFlow } from '../src/core/flow.js';
import type { WireOptions } from '../src/core/options.js';
import { ReceiverMachine, step, type ReceiverConfig } from '../src/core/receiver.js';
import { KeyReceiverWire, VerifyReceiverWire, type ReceiverWire } from '../src/core/receiver-wire.js';
import { RTO_DEFAULTS } from '../src/core/rto.js';
import { KeyGroupWire, VerifyGroupWire, type GroupWire } from '../src/core/sender-wire.js';
import { decodeVerified, encodeVerifiedAck, encodeVerifiedData, encodeVerifiedEnd } from '../src/core/verify.js';
import { fileBytes } from '../harness/files.js';
import { flipBit, seeded } from './support.js';

const SENDER = '192.0.2.1:40000';
const STRANGER = '192.0.2.9:40000';
const bytes = (seed: string, n: number): Uint8Array => {
  const r = seeded(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
};
const PSK = bytes('psk', 32);
const sha = (b: Uint8Array): Uint8Array => createHash('sha256').update(b).digest();

function receiver(cfg: Partial<ReceiverConfig> = {}): ReceiverMachine {
  return new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 10_000, lingerMs: 1_000, ...cfg });
}

/** Run a flow against a receiver, datagram by datagram, with no loss; returns what the receiver wrote. */
function transfer(flow: SenderFlow, rx: ReceiverMachine, from = SENDER, start = 0): { written: Uint8Array[]; committed: boolean } {
  const written: Uint8Array[] = [];
  let committed = false;
  for (let now = start, guard = 0; flow.status === 'sending' && guard < 100_000; guard++, now++) {
    const out = flow.pollTransmit(now);
    if (out === undefined) break;
    const v = step(rx, now, out, from);
    if (v.kind === 'delivered') {
      written.push(v.payload.slice());
      committed ||= v.complete;
    }
    if (v.reply !== undefined) flow.handleDatagram(now, v.reply);
  }
  return { written, committed };
}

const concatAll = (xs: Uint8Array[]): Uint8Array => Buffer.concat(xs);

/** Let the flow's timers run, deadline after deadline, with nothing answering, until it gives up. */
function silence(flow: SenderFlow): void {
  for (let t = flow.pollTimeout(), n = 0; t !== undefined && flow.status === 'sending' && n < 10_000; t = flow.pollTimeout(), n++) {
    flow.handleTimeout(t);
    flow.pollTransmit(t);
  }
}

function flowFor(file: Uint8Array, wire: WireOptions | undefined, mss = 200): SenderFlow {
  return standaloneFlow({ file, mss, eof: 'empty', rto: RTO_DEFAULTS, giveUpMs: 1_000, wire });
}

describe('--sender HOST: a decision the receiver machine is given', () => {
  it("a stranger's FIN before the real sender is foreign and starts nothing; the real sender's transfer then completes", () => {
    const rx = receiver({ acceptFrom: (from) => from.startsWith('192.0.2.1:') });
    expect(step(rx, 0, encodeFin(), STRANGER)).toEqual({ kind: 'ignored', reason: 'foreign' });
    expect(step(rx, 0, encodeData(0, new Uint8Array(0)), STRANGER)).toEqual({ kind: 'ignored', reason: 'foreign' });
    expect(rx.status).toBe('waiting');
    expect(rx.stats.foreign).toBe(2);
    const file = fileBytes(1000, 1);
    const r = transfer(flowFor(file, undefined), rx, '192.0.2.1:5555'); // any port of that host
    expect(r.committed).toBe(true);
    expect(concatAll(r.written)).toEqual(Buffer.from(file));
  });
});

describe('--verify machines', () => {
  const file = fileBytes(3000, 2);
  const wire: WireOptions = { mode: 'verify', digest: sha(file) };

  it('a transfer ends with END, answered COMMITTED; the file is the input', () => {
    const rx = receiver({ wire: new VerifyReceiverWire() });
    const flow = flowFor(file, wire);
    const r = transfer(flow, rx);
    expect(flow.status).toBe('done');
    expect(r.committed).toBe(true);
    expect(concatAll(r.written)).toEqual(Buffer.from(file));
  });

  it('an END whose digest does not match what arrived is never committed: MISMATCH, repeated while lingering, then the receiver fails and the sender reports it', () => {
    const rx = receiver({ wire: new VerifyReceiverWire() });
    expect(step(rx, 0, encodeVerifiedData(0, new Uint8Array([1, 2, 3])), SENDER).kind).toBe('delivered');
    const v = step(rx, 1, encodeVerifiedEnd(1, sha(new Uint8Array([9]))), SENDER);
    expect(v.kind).toBe('digest-mismatch');
    expect(v.reply && decodeVerified(v.reply)).toEqual({ ok: true, segment: { kind: 'ack', seq: 1, status: ACK_STATUS.mismatch } });
    const again = step(rx, 2, encodeVerifiedEnd(1, sha(new Uint8Array([9]))), SENDER);
    expect(again.reply && decodeVerified(again.reply)).toMatchObject({ ok: true, segment: { status: ACK_STATUS.mismatch } });
    rx.handleTimeout(5_000);
    expect(rx.pollEvent()).toEqual({ kind: 'rejected' });
    expect(rx.status).toBe('failed');

    const flow = flowFor(new Uint8Array([1, 2, 3]), { mode: 'verify', digest: sha(new Uint8Array([1, 2, 3])) });
    flow.handleDatagram(0, encodeVerifiedAck(0, 0)); // nothing in flight yet: not an ACK of anything sent
    flow.pollTransmit(0);
    flow.handleDatagram(1, encodeVerifiedAck(0, ACK_STATUS.ack));
    flow.pollTransmit(1);
    flow.handleDatagram(2, encodeVerifiedAck(1, ACK_STATUS.mismatch));
    expect(flow.status).toBe('failed');
    expect(flow.failReason).toBe('digest-mismatch');
  });

  it('a plain ACK for the END is not "committed": only COMMITTED completes a transfer', () => {
    const flow = flowFor(new Uint8Array(0), { mode: 'verify', digest: sha(new Uint8Array(0)) });
    flow.pollTransmit(0);
    flow.handleDatagram(1, encodeVerifiedAck(0, ACK_STATUS.ack));
    expect(flow.status).toBe('sending');
    flow.handleDatagram(2, encodeVerifiedAck(0, ACK_STATUS.committed));
    expect(flow.status).toBe('done');
  });

  it('classic datagrams are reported once (the other mode), then only counted', () => {
    const rx = receiver({ wire: new VerifyReceiverWire() });
    expect(step(rx, 0, encodeFin(), STRANGER)).toEqual({ kind: 'other-mode', mode: 'classic', from: STRANGER });
    expect(step(rx, 0, encodeFin(), STRANGER)).toEqual({ kind: 'ignored', reason: 'other-mode' });
    expect(step(rx, 0, encodeData(0, new Uint8Array(0)), SENDER)).toEqual({ kind: 'ignored', reason: 'other-mode' });
    expect(rx.stats.ignored).toBe(3);
    expect(rx.status).toBe('waiting');
  });

  it('a sender that never hears a --verify answer names the cause: no-valid-answer, not no-answer', () => {
    const flow = flowFor(file, wire);
    flow.pollTransmit(0);
    flow.handleDatagram(1, encodeFin()); // a classic peer's datagram is no answer
    silence(flow);
    expect(flow.failReason).toBe('no-valid-answer');
  });
});

describe('--key machines', () => {
  const file = fileBytes(5000, 3);
  const keyWire = (ns: string): WireOptions => ({ mode: 'key', digest: sha(file), key: { psk: PSK, ns: bytes(ns, 16) } });
  const keyRx = (cr: string): ReceiverWire => new KeyReceiverWire(PSK, bytes(cr, 16));

  it('handshake, data, END: the file is the input, and the receiver starts only once the handshake completes', () => {
    const rx = receiver({ wire: keyRx('cr') });
    const flow = flowFor(file, keyWire('ns'));
    const challenge = step(rx, 0, flow.pollTransmit(0)!, SENDER);
    expect(challenge.kind).toBe('handshake');
    expect(rx.status).toBe('waiting'); // a HELLO opens nothing
    flow.handleDatagram(0, challenge.reply!);
    const r = transfer(flow, rx);
    expect(flow.status).toBe('done');
    expect(r.committed).toBe(true);
    expect(concatAll(r.written)).toEqual(Buffer.from(file));
  });

  it('a receiver with an open session (here: lingering after its file, as before the next --count transfer) gives another sender\'s HELLO no challenge, so that sender asks again and reaches the next receiver', () => {
    const rx = receiver({ wire: keyRx('cr') });
    const flow = flowFor(file, keyWire('ns'));
    expect(transfer(flow, rx).committed).toBe(true);
    expect(rx.status).toBe('lingering');
    const next = flowFor(file, keyWire('ns-next'));
    expect(step(rx, 0, next.pollTransmit(0)!, STRANGER)).toEqual({ kind: 'ignored', reason: 'foreign' });
    expect(rx.stats.foreign).toBe(1);
    // Unanswered, the HELLO is retransmitted; the next receiver (a fresh machine, a fresh challenge) answers it.
    const t = next.pollTimeout()!;
    next.handleTimeout(t);
    const fresh = receiver({ wire: keyRx('cr-next') });
    expect(concatAll(transfer(next, fresh, STRANGER, t).written)).toEqual(Buffer.from(file));
    expect(next.status).toBe('done');
  });

  it('a handshake under another key is reported once (the likely cause), then only counted; it opens nothing', () => {
    const rx = receiver({ wire: keyRx('cr') });
    const other = flowFor(file, { mode: 'key', digest: sha(file), key: { psk: bytes('other', 32), ns: bytes('ns', 16) } });
    const hello = other.pollTransmit(0)!;
    expect(step(rx, 0, hello, STRANGER)).toEqual({ kind: 'bad-mac', from: STRANGER });
    expect(step(rx, 1, hello, STRANGER)).toEqual({ kind: 'ignored', reason: 'unauthenticated' });
    expect(rx.stats.ignored).toBe(2);
    expect(rx.status).toBe('waiting');
  });

  it('an ICMP port unreachable (forgeable by anyone) does not end a --key flow; silence does, naming the mode', () => {
    const flow = flowFor(file, keyWire('ns'));
    flow.pollTransmit(0);
    flow.fail('port-unreachable');
    expect(flow.status).toBe('sending');
    silence(flow);
    expect(flow.failReason).toBe('no-valid-answer');
  });

  it('a --key flow whose receiver only ever answers "port unreachable" (nothing listens there) still gives up, at the give-up time, naming the mode', () => {
    const flow = flowFor(file, keyWire('ns'));
    flow.pollTransmit(0);
    // The ICMP input itself, before and after the wait window (SenderOptions.waitMs): counted, never an end.
    for (const now of [1, 10, 1e6]) flow.handleUnreachable(now);
    expect(flow.stats.unreachable).toBe(3);
    expect(flow.status).toBe('sending');
    silence(flow);
    expect(flow.status).toBe('failed');
    expect(flow.failReason).toBe('no-valid-answer');
  });

  it('a recorded transfer replayed at a new receiver writes nothing; the real sender then completes', () => {
    const old = receiver({ wire: keyRx('cr-old') });
    const recorded: Uint8Array[] = [];
    const oldFlow = flowFor(file, keyWire('ns-old'));
    for (let now = 0; oldFlow.status === 'sending'; now++) {
      const out = oldFlow.pollTransmit(now);
      if (out === undefined) break;
      recorded.push(out);
      const v = step(old, now, out, SENDER);
      if (v.reply) oldFlow.handleDatagram(now, v.reply);
    }
    const rx = receiver({ wire: keyRx('cr-new') });
    for (const d of recorded) expect(step(rx, 0, d, SENDER).kind).not.toBe('delivered');
    expect(rx.status).toBe('waiting');
    const r = transfer(flowFor(file, keyWire('ns-new')), rx);
    expect(concatAll(r.written)).toEqual(Buffer.from(file));
  });

  it('with --key the session names the sender, not the address: a valid copy from elsewhere is a duplicate, never a second write', () => {
    const rx = receiver({ wire: keyRx('cr') });
    const flow = flowFor(file, keyWire('ns'));
    let seg: Uint8Array | undefined;
    for (let now = 0; now < 10; now++) {
      const out = flow.pollTransmit(now);
      if (out === undefined) break;
      const v = step(rx, now, out, SENDER);
      if (v.kind === 'delivered') seg = out;
      if (v.reply) flow.handleDatagram(now, v.reply);
      if (seg) break;
    }
    expect(step(rx, 20, seg!, STRANGER).kind).toBe('duplicate');
  });
});

describe('nothing but genuine segments is ever written (fast-check)', () => {
  for (const mode of ['verify', 'key'] as const) {
    it(`--${mode}: random datagrams, and genuine segments with one bit flipped or bytes cut off, never deliver; a genuine one still does`, () => {
      const group: GroupWire = mode === 'verify' ? new VerifyGroupWire() : new KeyGroupWire(PSK, bytes('ns', 16));
      const segs = [0, 1, 2, 3].map((seq) => group.data(seq, bytes(`p${seq}`, 90)));
      /** A receiver ready for data: with --key, the handshake done. */
      const ready = (): ReceiverMachine => {
        const rx = receiver({ wire: mode === 'verify' ? new VerifyReceiverWire() : new KeyReceiverWire(PSK, bytes('cr', 16)) });
        const flow = group.flow();
        for (let out = flow.handshake(), n = 0; out !== undefined && n < 4; out = flow.handshake(), n++) flow.read(step(rx, 0, out, SENDER).reply!);
        return rx;
      };
      const junk = fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.record({ i: fc.nat({ max: 3 }), bit: fc.nat() }).map(({ i, bit }) => flipBit(segs[i]!, bit % (segs[i]!.length * 8))),
        fc.record({ i: fc.nat({ max: 3 }), cut: fc.integer({ min: 1, max: 30 }) }).map(({ i, cut }) => segs[i]!.subarray(0, segs[i]!.length - cut)),
      );
      fc.assert(
        fc.property(fc.array(junk, { maxLength: 30 }), (datagrams) => {
          const rx = ready();
          for (const d of datagrams) expect(step(rx, 0, d, SENDER).kind).not.toBe('delivered');
          expect(step(rx, 0, segs[0]!, SENDER)).toMatchObject({ kind: 'delivered', seq: 0 });
        }),
        { numRuns: 200 },
      );
    });
  }
});
