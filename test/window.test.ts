import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encodeAck, TYPE_FIN, TYPE_LAST } from '../src/core/codec.js';
import { encodeSack } from '../src/core/sack.js';
import { standaloneFlow } from '../src/core/flow.js';
import { EOF_MODES, type EofMode } from '../src/core/options.js';
import type { RtoConfig } from '../src/core/rto.js';
import { standaloneWindowFlow, windowLockstepLimit, type WindowFlow, type WindowOptions } from '../src/core/window.js';
import type { FileSource } from '../src/core/segments.js';
import { bufferingReceiver, classicReceiver, runFlow, wireReceiver, writtenBytes, type NetOptions, type Receiver } from './flow-harness.js';
import { createHash } from 'node:crypto';
import { TYPE_KEND, TYPE_VEND } from '../src/core/extension.js';
import type { WireOptions } from '../src/core/options.js';
import { KeyReceiverWire, VerifyReceiverWire, type ReceiverWire } from '../src/core/receiver-wire.js';
import { fileBytes } from '../harness/files.js';
import { hex } from './support.js';

const RTO: RtoConfig = { minMs: 5, maxMs: 2000, initialMs: 100, granularityMs: 1 };

type Over = Partial<WindowOptions & { mss: number; eof: EofMode; initialSeq: number; rto: RtoConfig }> & { file: FileSource };

function flow(over: Over): WindowFlow {
  return standaloneWindowFlow({ mss: 108, eof: 'empty', rto: RTO, giveUpMs: 1e9, window: 8, sack: false, cc: 'none', ...over });
}

const netArb: fc.Arbitrary<NetOptions> = fc.record({
  seed: fc.nat(),
  delayMs: fc.integer({ min: 0, max: 20 }),
  jitterMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 15 })),
  loss: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.4, noNaN: true })),
  ackLoss: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.3, noNaN: true })),
  duplicate: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.3, noNaN: true })),
});

const rtoArb: fc.Arbitrary<RtoConfig> = fc.oneof(
  fc.constant(RTO),
  fc.record({ fixedMs: fc.integer({ min: 10, max: 200 }), minMs: fc.constant(5), maxMs: fc.constant(2000), initialMs: fc.constant(100), granularityMs: fc.constant(1) }),
);

const seqArb = fc.oneof(fc.constant(0), fc.integer({ min: 0xffffffff - 40, max: 0xffffffff }));

/** Whether a datagram is the end-of-file segment of a transfer of `total` segments. */
function isEof(bytes: Uint8Array, total: number, index: number): boolean {
  const type = (bytes[6]! << 8) | bytes[7]!;
  return type === TYPE_FIN || type === TYPE_LAST || (bytes.length === 8 && index === total - 1);
}

describe('window flow: N = 1 is the classic stop-and-wait', () => {
  it('sends the same segments in the same order at the same times, with the same timeouts, as SenderMachine', () => {
    fc.assert(
      fc.property(fc.nat({ max: 6000 }), fc.integer({ min: 9, max: 600 }), fc.constantFrom(...EOF_MODES), seqArb, rtoArb, netArb, (size, mss, eof, initialSeq, rto, net) => {
        const file = fileBytes(size, size ^ mss);
        expectStopAndWaitAtOne({ mss, file, eof, rto, giveUpMs: 1e9, initialSeq }, () => classicReceiver(initialSeq), net);
      }),
      { numRuns: 150 },
    );
  });
});

/**
 * At N = 1 the window flow is the stop-and-wait flow: run both over the same network against twin receivers and
 * expect the same datagrams at the same times, the same events, problems, stats (no fast retransmit, nothing
 * SACKed) and RTO state. Returns the stop-and-wait flow and its run.
 */
function expectStopAndWaitAtOne(cfg: Parameters<typeof standaloneFlow>[0], receiver: () => Receiver, net: NetOptions): { classic: ReturnType<typeof standaloneFlow>; trace: ReturnType<typeof runFlow> } {
  const classic = standaloneFlow({ ...cfg, instrument: true });
  const windowed = standaloneWindowFlow({ ...cfg, window: 1, sack: false, cc: 'none', instrument: true });
  const a = runFlow(classic, receiver(), net);
  const b = runFlow(windowed, receiver(), net);
  expect(b.sends).toEqual(a.sends);
  expect(b.events).toEqual(a.events);
  expect(b.problems).toEqual(a.problems);
  const { fastRetransmits, sacked, ...stats } = windowed.stats;
  expect(stats).toEqual(classic.stats);
  expect(fastRetransmits + sacked).toBe(0);
  expect(windowed.rtoMs).toBe(classic.rtoMs);
  expect(windowed.srttMs).toBe(classic.srttMs);
  return { classic, trace: a };
}

/** A --verify or --key wire for `file`: the sender's options and a fresh receiver side (its own challenge). */
function wireFor(mode: 'verify' | 'key', file: Uint8Array, seed: number): { wire: WireOptions; receiver: () => ReceiverWire } {
  const digest = createHash('sha256').update(file).digest();
  if (mode === 'verify') return { wire: { mode, digest }, receiver: () => new VerifyReceiverWire() };
  const bytes = (n: number, tag: string) => createHash('sha256').update(`${tag}-${seed}`).digest().subarray(0, n);
  const psk = bytes(32, 'psk');
  return { wire: { mode, digest, key: { psk, ns: bytes(16, 'ns') } }, receiver: () => new KeyReceiverWire(psk, bytes(16, 'cr')) };
}

const RX_KINDS = ['discards', 'buffers', 'buffers + SACK'] as const;

interface WireCase {
  size: number;
  mss: number;
  initialSeq: number;
  window: number;
  aimd: boolean;
  rxKind: (typeof RX_KINDS)[number];
  rto: RtoConfig;
  net: NetOptions;
}

/** One windowed transfer on the --verify/--key wire: the committed file is identical, at most N unacknowledged, END after every data ACK. */
function windowOnWire(mode: 'verify' | 'key', c: WireCase): WindowFlow {
  const file = fileBytes(c.size, c.size ^ c.mss);
  const { wire, receiver } = wireFor(mode, file, c.size);
  const sack = c.rxKind === 'buffers + SACK';
  const f = standaloneWindowFlow({ mss: c.mss, file, eof: 'empty', rto: c.rto, giveUpMs: 1e9, initialSeq: c.initialSeq, window: c.window, sack, cc: c.aimd ? 'aimd' : 'none', wire });
  const rx = wireReceiver(receiver(), c.rxKind === 'discards' ? 0 : c.window, c.initialSeq, sack);
  const problems: string[] = [];
  const trace = runFlow(f, rx, c.net, 1e7, (_now, bytes) => {
    if (f.unacked > c.window) problems.push(`${f.unacked} unacknowledged > N = ${c.window}`);
    const type = (bytes[6]! << 8) | bytes[7]!;
    if ((type === TYPE_VEND || type === TYPE_KEND) && f.acked < f.total - 1) problems.push(`END sent with ${f.acked} of ${f.total - 1} data segments acknowledged`);
  });
  expect([...trace.problems, ...problems]).toEqual([]);
  expect(f.status).toBe('done');
  expect(rx.complete).toBe(true);
  expect(hex(writtenBytes(rx))).toBe(hex(file));
  expect(f.stats.ackForUnsent).toBe(0);
  return f;
}

describe('window flow on the --verify and --key wires', () => {
  for (const mode of ['verify', 'key'] as const) {
    it(`--${mode}, N = 1: the same datagrams, events and timeouts as SenderFlow (handshake included)`, () => {
      fc.assert(
        fc.property(fc.nat({ max: 6000 }), fc.integer({ min: 40, max: 600 }), seqArb, rtoArb, netArb, (size, mss, initialSeq, rto, net) => {
          const file = fileBytes(size, size ^ mss);
          const { wire, receiver } = wireFor(mode, file, size);
          const { classic, trace } = expectStopAndWaitAtOne({ mss, file, eof: 'empty', rto, giveUpMs: 1e9, initialSeq, wire }, () => wireReceiver(receiver(), 0, initialSeq), net);
          expect(trace.problems).toEqual([]);
          expect(classic.status).toBe('done');
        }),
        { numRuns: mode === 'key' ? 60 : 120 },
      );
    });

    it(`--${mode}, N up to 64, receivers that buffer or discard, SACK or not: the committed file is identical, at most N unacknowledged, END after every data ACK`, () => {
      fc.assert(
        fc.property(fc.nat({ max: 20_000 }), fc.integer({ min: 40, max: 600 }), seqArb, fc.integer({ min: 1, max: 64 }), fc.boolean(), fc.constantFrom(...RX_KINDS), rtoArb, netArb, (size, mss, initialSeq, window, aimd, rxKind, rto, net) => {
          windowOnWire(mode, { size, mss, initialSeq, window, aimd, rxKind, rto, net });
        }),
        { numRuns: mode === 'key' ? 40 : 80 },
      );
    });

    it(`--${mode} with SACK: the receiver's SACK form is read (segments beyond a hole are learned of as held, not resent)`, () => {
      const f = windowOnWire(mode, { size: 20_000, mss: 500, initialSeq: 0, window: 32, aimd: false, rxKind: 'buffers + SACK', rto: RTO, net: { seed: 7, delayMs: 5, jitterMs: 0, loss: 0.2, ackLoss: 0, duplicate: 0 } });
      expect(f.stats.sacked).toBeGreaterThan(0);
    });
  }
});

describe('window flow: every receiver ends with a byte-identical file', () => {
  const receivers = ['classic (discards out-of-order)', 'buffering', 'buffering + SACK'] as const;
  for (const kind of receivers) {
    it(`against a ${kind} receiver: at most N unacknowledged, end of file only after every data ACK`, () => {
      fc.assert(
        fc.property(fc.nat({ max: 20_000 }), fc.integer({ min: 9, max: 600 }), fc.constantFrom(...EOF_MODES), seqArb, fc.integer({ min: 1, max: 64 }), fc.boolean(), rtoArb, netArb, (size, mss, eof, initialSeq, window, aimd, rto, net) => {
          const file = fileBytes(size, size ^ mss);
          const sack = kind === 'buffering + SACK';
          const f = standaloneWindowFlow({ mss, file, eof, rto, giveUpMs: 1e9, initialSeq, window, sack, cc: aimd ? 'aimd' : 'none' });
          const rx = kind.startsWith('classic') ? classicReceiver(initialSeq) : bufferingReceiver(window, sack, initialSeq);
          const problems: string[] = [];
          const trace = runFlow(f, rx, net, 1e7, (_now, bytes) => {
            if (f.unacked > window) problems.push(`${f.unacked} unacknowledged > N = ${window}`);
            const d = decode(bytes);
            const index = d.ok && d.segment.kind === 'data' ? (d.segment.seq - initialSeq) >>> 0 : f.total - 1;
            if (isEof(bytes, f.total, index) && f.acked < f.total - 1) problems.push(`end of file sent with ${f.acked} of ${f.total - 1} data segments acknowledged`);
          });
          expect([...trace.problems, ...problems]).toEqual([]);
          expect(f.status).toBe('done');
          expect(rx.complete).toBe(true);
          expect(hex(writtenBytes(rx))).toBe(hex(file));
          expect(f.stats.ackForUnsent).toBe(0);
        }),
        { numRuns: 120 },
      );
    });
  }

  it('with a window far beyond the file (up to 10^9 segments for a few KB): the copy is identical, and nothing is sized by N', () => {
    fc.assert(
      fc.property(fc.nat({ max: 6_000 }), fc.integer({ min: 100, max: 600 }), seqArb, fc.integer({ min: 1_000, max: 1e9 }), fc.boolean(), netArb, (size, mss, initialSeq, window, sack, net) => {
        const file = fileBytes(size, size ^ mss);
        // Before the slots were sized by the file, one flow allocated N of them: 10^9 ran out of memory.
        const f = standaloneWindowFlow({ mss, file, eof: 'empty', rto: RTO, giveUpMs: 1e9, initialSeq, window, sack, cc: 'none' });
        const rx = bufferingReceiver(64, sack, initialSeq);
        const trace = runFlow(f, rx, net);
        expect(trace.problems).toEqual([]);
        expect(f.status).toBe('done');
        expect(hex(writtenBytes(rx))).toBe(hex(file));
      }),
      { numRuns: 60 },
    );
  });
});

/** Everything the flow may send at `now`. */
function sendAll(f: WindowFlow, now: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let b = f.pollTransmit(now); b; b = f.pollTransmit(now)) out.push(b);
  return out;
}

const seqOfSegment = (b: Uint8Array): number => {
  const d = decode(b);
  if (!d.ok || d.segment.kind !== 'data') throw new Error('not DATA');
  return d.segment.seq;
};

/**
 * Send segment 0 and deliver its ACK (through `rx` when given): the window opens only once the receiver has
 * locked on, so every hand-driven case starts here.
 */
function opened(f: WindowFlow, rx?: Receiver, rttMs = 0): void {
  const [zero] = sendAll(f, 0);
  expect(sendAll(f, 0)).toEqual([]); // nothing else before segment 0 is acknowledged
  const replies = rx ? rx.handle(0, zero!) : [encodeAck(f.seqOf(0))];
  for (const r of replies) f.handleDatagram(rttMs, r);
}

/** Deliver each of `segments` except those whose seq is in `drop`, feeding every reply back. */
function deliver(f: WindowFlow, rx: Receiver, segments: Uint8Array[], now: number, drop: number[] = []): void {
  for (const b of segments) if (!drop.includes(seqOfSegment(b))) for (const reply of rx.handle(now, b)) f.handleDatagram(now, reply);
}

describe('window flow: loss recovery', () => {
  it('the third duplicate ACK retransmits the hole before any timeout, and no Timeout event is emitted', () => {
    const f = flow({ file: fileBytes(100 * 10, 1) });
    const rx = classicReceiver();
    opened(f, rx);
    const first = sendAll(f, 0);
    expect(first.map(seqOfSegment)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    deliver(f, rx, first, 1, [3]);
    const again = sendAll(f, 2);
    expect(again.map(seqOfSegment)[0]).toBe(3);
    expect(f.stats.fastRetransmits).toBeGreaterThanOrEqual(1);
    expect(f.stats.timeouts).toBe(0);
    const events: string[] = [];
    for (let e = f.pollEvent(); e; e = f.pollEvent()) events.push(e.type);
    expect(events).not.toContain('timeout');
  });

  it('with a receiver that discards out-of-order segments, everything after a hole is resent, one per ACK (go-back-N)', () => {
    const f = flow({ file: fileBytes(100 * 10, 2) });
    const rx = classicReceiver();
    opened(f, rx);
    deliver(f, rx, sendAll(f, 0), 1, [3]);
    let next = sendAll(f, 2);
    expect(next.map(seqOfSegment)[0]).toBe(3);
    // Each retransmission's ACK covers only itself (the receiver kept nothing after the hole): it names the next.
    let now = 2;
    for (const expected of [4, 5, 6, 7, 8]) {
      now += 1; // a round trip
      deliver(f, rx, next.slice(0, 1), now);
      next = sendAll(f, now);
      expect(next.map(seqOfSegment)[0]).toBe(expected);
    }
    expect(f.stats.timeouts).toBe(0);
  });

  it('with a receiver that buffers, one lost segment costs one retransmission', () => {
    const f = flow({ file: fileBytes(100 * 10, 2) });
    const rx = bufferingReceiver(16, false);
    opened(f, rx);
    deliver(f, rx, sendAll(f, 0), 1, [3]);
    const retx = sendAll(f, 2); // the hole, then new data the window now allows
    expect(retx.map(seqOfSegment)).toEqual([3, 9]);
    deliver(f, rx, retx, 3);
    expect(f.acked).toBe(10);
    expect(f.stats.retransmissions).toBe(1);
  });

  it('with SACK only the holes are retransmitted', () => {
    const g = flow({ file: fileBytes(100 * 12, 3), window: 16, sack: true });
    const rx = bufferingReceiver(16, true);
    opened(g, rx);
    deliver(g, rx, sendAll(g, 0), 1, [3, 6]);
    expect(sendAll(g, 2).map(seqOfSegment)).toEqual([3, 6]);
    expect(g.stats.timeouts).toBe(0);
  });

  it('a timer expiry retransmits only the oldest segment and emits Timeout with its sequence number', () => {
    const f = flow({ file: fileBytes(100 * 10, 4), initialSeq: 7 });
    opened(f);
    sendAll(f, 0);
    const deadline = f.pollTimeout()!;
    f.handleTimeout(deadline);
    const events: unknown[] = [];
    for (let e = f.pollEvent(); e; e = f.pollEvent()) if (e.type === 'timeout') events.push(e);
    expect(events).toEqual([{ type: 'timeout', receiver: 0, seq: 8, index: 1, lateMs: 0 }]);
    expect(sendAll(f, deadline).map(seqOfSegment)).toEqual([8]);
  });

  it('ACK progress in recovery resets the backoff, and an ACK over a repaired hole is no RTT sample', () => {
    const f = flow({ file: fileBytes(100 * 20, 5) });
    opened(f, undefined, 10); // a sample of 10 ms
    const srtt = f.srttMs;
    const base = f.rtoMs;
    sendAll(f, 10);
    f.handleTimeout(f.pollTimeout()!);
    expect(f.rtoMs).toBe(Math.min(2000, base * 2));
    sendAll(f, 200);
    f.handleDatagram(201, encodeAck(3)); // covers the resent segment 1: progress without a sample
    expect(f.srttMs).toBe(srtt);
    expect(f.rtoMs).toBe(base);
  });
});

describe('window flow: end of file and limits', () => {
  it.each(EOF_MODES as EofMode[])('the end of file (%s) waits for every data ACK', (eof) => {
    const f = flow({ file: fileBytes(100 * 3, 6), eof, window: 8 });
    opened(f);
    const sent = sendAll(f, 0);
    expect(sent.length).toBe(eof === 'last' ? 1 : 2);
  });

  it('never sends beyond setLimit (lockstep barrier, file buffer)', () => {
    const f = flow({ file: fileBytes(100 * 20, 7), window: 8 });
    f.setLimit(2);
    opened(f);
    expect(sendAll(f, 0).map(seqOfSegment)).toEqual([1, 2]);
  });

  it('lockstep with a window: j = slowest + N - 1 is the highest allowed (N = 1: the classic rule)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1000 }), fc.integer({ min: 1, max: 64 }), (slowest, n) => {
        const limit = windowLockstepLimit(slowest, n);
        // Segment `limit` needs every live receiver to have acknowledged limit - N, i.e. an acked count of limit - N + 1.
        expect(limit - n + 1).toBe(slowest);
        if (n === 1) expect(limit).toBe(slowest);
      }),
    );
  });

  it('with --cc aimd the window starts at min(N, 10), grows in slow start, and never exceeds N', () => {
    const f = flow({ file: fileBytes(100 * 40, 8), window: 32, cc: 'aimd' });
    opened(f);
    // Initial window 10; slow start: segment 0's ACK grew it by one.
    expect(sendAll(f, 0).length).toBe(11);
    const g = flow({ file: fileBytes(100 * 40, 8), window: 4, cc: 'aimd' });
    opened(g);
    expect(sendAll(g, 0).length).toBe(4);
  });
});

describe('window flow: hostile datagrams', () => {
  it('never throws, never exceeds N, and never accepts an ACK or SACK for a segment it did not send', () => {
    const datagram = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.nat({ max: 80 }).map((d) => ({ ack: d })),
      fc.tuple(fc.nat({ max: 80 }), fc.array(fc.tuple(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 20 })), { minLength: 1, maxLength: 4 })).map(([cum, rs]) => ({ cum, rs })),
      fc.constant('timeout' as const),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.boolean(), seqArb, fc.array(datagram, { maxLength: 120 }), (window, sack, initialSeq, inputs) => {
        const f = flow({ file: fileBytes(100 * 30, 9), window, sack, initialSeq });
        let now = 0;
        let sent = 0;
        const drain = (): void => {
          for (let b = f.pollTransmit(now); b; b = f.pollTransmit(now)) {
            const d = decode(b);
            if (d.ok && d.segment.kind === 'data') sent = Math.max(sent, ((d.segment.seq - initialSeq) >>> 0) + 1);
            expect(f.unacked).toBeLessThanOrEqual(window);
          }
        };
        drain();
        for (const x of inputs) {
          now += 1;
          if (x === 'timeout') f.handleTimeout(f.pollTimeout() ?? now);
          else if (x instanceof Uint8Array) f.handleDatagram(now, x);
          else if ('ack' in x) f.handleDatagram(now, encodeAck((initialSeq + x.ack) >>> 0));
          else {
            let at = x.cum + 1;
            const ranges = x.rs.map(([gap, len]) => {
              const start = (initialSeq + at + gap) >>> 0;
              at += gap + len;
              return { start, end: (initialSeq + at) >>> 0 };
            });
            f.handleDatagram(now, encodeSack((initialSeq + x.cum) >>> 0, ranges));
          }
          expect(f.acked).toBeLessThanOrEqual(sent);
          drain();
        }
      }),
      { numRuns: 300 },
    );
  });
});
