import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encodeAck, encodeData, encodeFin } from '../src/core/codec.js';
import { standaloneFlow, type SenderEvent, type SenderFlow } from '../src/core/flow.js';
import type { Flow } from '../src/core/group.js';
import { EOF_MODES, type EofMode } from '../src/core/options.js';
import { RtoEstimator, type RtoConfig } from '../src/core/rto.js';
import { segmentCount, sendableSegments } from '../src/core/segments.js';
import { standaloneWindowFlow } from '../src/core/window.js';
import { runScenario } from '../sim/scenario.js';
import { fileBytes } from '../harness/files.js';
import { concat, hex, specSegments, utf8 } from './support.js';

type FlowOptions = Parameters<typeof standaloneFlow>[0];

const FIN_HEX = '000000000000ffff';
const RTO: RtoConfig = { minMs: 5, maxMs: 2000, initialMs: 100, granularityMs: 1 };

function sender(over: Partial<FlowOptions> = {}): SenderFlow {
  return standaloneFlow({ mss: 12, file: utf8('0123456789abcdef'), eof: 'empty', rto: RTO, giveUpMs: 60_000, ...over });
}

function drain(s: SenderFlow): SenderEvent[] {
  const out: SenderEvent[] = [];
  for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) out.push(e);
  return out;
}

/** The ACK an honest receiver sends for this datagram (the FIN is answered with itself). */
function ackFor(segment: Uint8Array): Uint8Array {
  const d = decode(segment);
  if (!d.ok) throw new Error('sender emitted an undecodable datagram');
  if (d.segment.kind === 'fin') return encodeFin();
  if (d.segment.kind !== 'data') throw new Error('sender emitted an ACK');
  return encodeAck(d.segment.seq);
}

/** Runs a sender against an ideal receiver (every segment ACKed after `rttMs`) and returns what it transmitted. */
function runIdeal(s: Flow, rttMs = 0): Uint8Array[] {
  const sent: Uint8Array[] = [];
  let now = 0;
  for (let b = s.pollTransmit(now); b !== undefined; b = s.pollTransmit(now)) {
    sent.push(b);
    now += rttMs;
    s.handleDatagram(now, ackFor(b));
  }
  return sent;
}

describe('sender: segmentation', () => {
  it('each DATA segment carries exactly MSS-8 bytes except possibly the last', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 5000 }),
        fc.nat(),
        fc.integer({ min: 9, max: 2048 }),
        fc.constantFrom(...EOF_MODES),
        fc.integer({ min: 0, max: 0xffffffff }),
        (size, fileSeed, mss, eof, initialSeq) => {
          const file = fileBytes(size, fileSeed);
          const s = sender({ file, mss, eof, initialSeq });
          const sent = runIdeal(s);
          const data = sent.map((b) => decode(b)).flatMap((d) => (d.ok && d.segment.kind === 'data' ? [d.segment] : []));
          const carrying = data.filter((d) => d.payload.length > 0);
          carrying.forEach((d, i) => {
            if (i < carrying.length - 1) expect(d.payload.length).toBe(mss - 8);
            else expect(d.payload.length).toBeLessThanOrEqual(mss - 8);
          });
          expect(hex(concat(data.map((d) => d.payload)))).toBe(hex(file));
          // Byte for byte what the spec prescribes, and nothing else.
          expect(sent.map(hex)).toEqual(specSegments(file, mss, eof, initialSeq).map((x) => hex(x.bytes)));
          expect(s.status).toBe('done');
          expect(s.stats).toMatchObject({ segmentsSent: sent.length, retransmissions: 0, segmentsAcked: s.total, bytesAcked: size });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('segment count for k full segments / zero-byte file per eof mode', () => {
    for (const mss of [9, 100, 2048]) {
      for (let k = 0; k <= 4; k++) {
        const file = fileBytes(k * (mss - 8), k);
        const expected: Record<EofMode, number> = { empty: k + 1, fin: k + 1, last: Math.max(1, k) };
        for (const eof of EOF_MODES) {
          expect(segmentCount(file.length, mss, eof), `${eof} k=${k} mss=${mss}`).toBe(expected[eof]);
          const s = sender({ file, mss, eof, initialSeq: 5 });
          expect(s.total).toBe(expected[eof]);
          const sent = runIdeal(s);
          expect(sent).toHaveLength(expected[eof]);
          const last = hex(sent[sent.length - 1]!);
          if (eof === 'empty') expect(last).toBe(`${(5 + k).toString(16).padStart(8, '0')}ffff5555`);
          if (eof === 'fin') expect(last).toBe(FIN_HEX);
          if (eof === 'last') expect(last.slice(12, 16)).toBe('5557');
          if (eof === 'last' && k > 0) expect(sent[sent.length - 1]!.length).toBe(mss); // the marker rides on a full segment
        }
        // One byte more needs one more segment in every mode.
        for (const eof of EOF_MODES) expect(segmentCount(file.length + 1, mss, eof)).toBe(expected[eof] + (eof === 'last' && k === 0 ? 0 : 1));
      }
    }
    // A zero-byte file: just the end-of-file segment, with the first seq.
    const zero: Record<EofMode, string> = { empty: '00000007ffff5555', fin: FIN_HEX, last: '00000007ffff5557' };
    for (const eof of EOF_MODES) expect(runIdeal(sender({ file: new Uint8Array(0), eof, initialSeq: 7 })).map(hex)).toEqual([zero[eof]]);
  });

  it('rejects an MSS that leaves no room for payload', () => {
    expect(() => sender({ mss: 8 })).toThrow(RangeError);
    expect(() => sender({ mss: 9 })).not.toThrow();
  });
});

describe('sender: stop-and-wait', () => {
  it('never more than one unacknowledged segment', () => {
    type Action =
      | { t: 'poll' }
      | { t: 'ackLast' }
      | { t: 'ack'; seq: number }
      | { t: 'fin' }
      | { t: 'wait'; ms: number };
    const action: fc.Arbitrary<Action> = fc.oneof(
      fc.constant<Action>({ t: 'poll' }),
      fc.constant<Action>({ t: 'ackLast' }),
      fc.integer({ min: 0, max: 0xffffffff }).map<Action>((seq) => ({ t: 'ack', seq })),
      fc.constant<Action>({ t: 'fin' }),
      fc.integer({ min: 0, max: 400 }).map<Action>((ms) => ({ t: 'wait', ms })),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: 200 }),
        fc.integer({ min: 9, max: 40 }),
        fc.constantFrom(...EOF_MODES),
        fc.oneof(fc.constant(0), fc.integer({ min: 0xfffffff8, max: 0xffffffff })),
        fc.array(action, { maxLength: 150 }),
        (size, mss, eof, initialSeq, actions) => {
          const file = fileBytes(size, size);
          const spec = specSegments(file, mss, eof, initialSeq);
          const s = sender({ file, mss, eof, initialSeq, giveUpMs: 5000 });
          let now = 0;
          let last: Uint8Array | undefined;
          let lastIndex = -1;
          let ackedEvents = 0;
          for (const a of actions) {
            if (a.t === 'poll') {
              const b = s.pollTransmit(now);
              if (b !== undefined) {
                // Whatever goes out is the segment at index `acked`: the only one not yet acknowledged.
                expect(hex(b)).toBe(hex(spec[s.acked]!.bytes));
                if (lastIndex === s.acked) expect(hex(b)).toBe(hex(last!));
                last = b;
                lastIndex = s.acked;
              }
            } else if (a.t === 'ackLast') {
              if (last !== undefined) s.handleDatagram(now, ackFor(last));
            } else if (a.t === 'ack') s.handleDatagram(now, encodeAck(a.seq));
            else if (a.t === 'fin') s.handleDatagram(now, encodeFin());
            else {
              now += a.ms;
              s.handleTimeout(now);
            }
            for (const e of drain(s)) {
              if (e.type !== 'acked') continue;
              // Only the one segment that was transmitted can be acknowledged, in order.
              expect(e.index).toBe(ackedEvents++);
              expect(e.index).toBe(lastIndex);
            }
            expect(s.acked).toBe(ackedEvents);
            // Transmitted and not acknowledged: at most the segment at index `acked`.
            expect(lastIndex).toBeLessThanOrEqual(s.acked);
            expect(s.inFlight).toBe(s.status === 'sending' && lastIndex === s.acked);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a second pollTransmit without an ACK or a timeout sends nothing', () => {
    const s = sender();
    expect(s.pollTransmit(0)).toBeDefined();
    for (const t of [0, 1, 50, 99]) expect(s.pollTransmit(t)).toBeUndefined();
    expect(s.stats.segmentsSent).toBe(1);
  });

  it('timeout retransmits the same bytes and emits timeout with the seq', () => {
    const s = sender({ initialSeq: 41 });
    const first = s.pollTransmit(0)!;
    expect(s.pollTimeout()).toBe(100);
    s.handleTimeout(99); // early: nothing
    expect(drain(s)).toEqual([]);
    expect(s.pollTransmit(99)).toBeUndefined();
    s.handleTimeout(100);
    expect(drain(s)).toEqual([{ type: 'timeout', receiver: 0, seq: 41, index: 0, lateMs: 0 }]);
    expect(hex(s.pollTransmit(100)!)).toBe(hex(first));
    expect(s.pollTransmit(100)).toBeUndefined();
    expect(s.stats).toMatchObject({ segmentsSent: 2, retransmissions: 1, timeouts: 1 });
    expect(s.pollTimeout()).toBe(300); // backed off: 2 x 100
    s.handleTimeout(305);
    expect(drain(s)).toEqual([{ type: 'timeout', receiver: 0, seq: 41, index: 0, lateMs: 5 }]); // handled 5 ms after its deadline
    expect(hex(s.pollTransmit(305)!)).toBe(hex(first));
    s.handleDatagram(310, encodeAck(41));
    expect(drain(s)).toEqual([{ type: 'acked', receiver: 0, index: 0, rttMs: undefined }]);
    // The next segment times out with its own seq.
    s.pollTransmit(310);
    s.handleTimeout(s.pollTimeout()!);
    expect(drain(s)).toEqual([{ type: 'timeout', receiver: 0, seq: 42, index: 1, lateMs: 0 }]);
  });

  it('timeout seq wraps with the sequence space', () => {
    const s = sender({ initialSeq: 0xffffffff });
    expect(runIdeal(s).map((b) => hex(b).slice(0, 8))).toEqual(['ffffffff', '00000000', '00000001', '00000002', '00000003']);
    const t = sender({ initialSeq: 0xffffffff });
    t.pollTransmit(0);
    t.handleDatagram(1, encodeAck(0xffffffff));
    t.pollTransmit(1);
    t.handleTimeout(t.pollTimeout()!);
    expect(drain(t).filter((e) => e.type === 'timeout')).toEqual([{ type: 'timeout', receiver: 0, seq: 0, index: 1, lateMs: 0 }]);
    expect(s.status).toBe('done');
  });

  it('an ACK for a segment never sent is counted and ignored', () => {
    const s = sender({ initialSeq: 1000 });
    // Before anything is sent, even the first segment's ACK is for an unsent segment.
    s.handleDatagram(0, encodeAck(1000));
    expect(s.stats.ackForUnsent).toBe(1);
    expect(s.acked).toBe(0);
    const seg0 = s.pollTransmit(0)!;
    expect(hex(seg0)).toBe(hex(encodeData(1000, utf8('0123'))));
    for (const seq of [1001, 1002, 5000, 999, 0, 0xffffffff]) s.handleDatagram(1, encodeAck(seq));
    s.handleDatagram(1, encodeFin()); // a FIN answer while the 'empty' convention is in use
    expect(s.stats.ackForUnsent).toBe(8);
    expect(s.acked).toBe(0);
    expect(s.inFlight).toBe(true);
    expect(drain(s)).toEqual([]);
    expect(s.pollTransmit(1)).toBeUndefined(); // not advanced, not retransmitted
    // The real ACK still works, and a repeat of it is a duplicate, not an ACK for an unsent segment.
    s.handleDatagram(2, encodeAck(1000));
    expect(s.acked).toBe(1);
    s.handleDatagram(3, encodeAck(1000));
    expect(s.stats).toMatchObject({ duplicateAcks: 1, ackForUnsent: 8 });
    // DATA and garbage sent to the sender are ignored (not ACKs at all).
    s.handleDatagram(4, encodeData(1000, utf8('x')));
    s.handleDatagram(4, new Uint8Array(5));
    expect(s.stats).toMatchObject({ ignored: 2, ackForUnsent: 8, duplicateAcks: 1 });
    // A segment held at a lockstep barrier has not been sent either.
    s.setLimit(1);
    s.pollTransmit(5);
    s.handleDatagram(6, encodeAck(1001));
    s.setLimit(1); // (still 1) index 2 is held
    expect(s.pollTransmit(7)).toBeUndefined();
    s.handleDatagram(8, encodeAck(1002));
    expect(s.stats.ackForUnsent).toBe(9);
    expect(s.acked).toBe(2);
  });

  it('in FIN mode only the FIN answers the FIN, and a late FIN after completion is a duplicate', () => {
    const s = sender({ file: utf8('abcd'), eof: 'fin' }); // one data segment, then the FIN
    const seg0 = s.pollTransmit(0)!;
    s.handleDatagram(1, encodeFin()); // FIN not sent yet
    expect(s.stats.ackForUnsent).toBe(1);
    s.handleDatagram(1, ackFor(seg0));
    const fin = s.pollTransmit(1)!;
    expect(hex(fin)).toBe(FIN_HEX);
    s.handleDatagram(2, encodeAck(1)); // an ACK with the FIN's "next seq" is not the FIN's answer
    expect(s.acked).toBe(1);
    s.handleDatagram(2, encodeFin());
    expect(s.status).toBe('done');
    s.handleDatagram(3, encodeFin());
    expect(s.stats).toMatchObject({ ackForUnsent: 2, duplicateAcks: 1 });
  });
});

describe('sender: retransmission timeout', () => {
  it('Karn: RTT is not sampled from retransmitted segments', () => {
    const s = sender();
    s.pollTransmit(0);
    s.handleTimeout(100);
    s.pollTransmit(100);
    s.handleDatagram(150, encodeAck(0)); // ambiguous: 150 after the first copy or 50 after the second
    expect(drain(s)).toContainEqual({ type: 'acked', receiver: 0, index: 0, rttMs: undefined });
    expect(s.srttMs).toBeUndefined();
    // The backed-off RTO stays until a valid sample arrives.
    expect(s.rtoMs).toBe(200);
    s.pollTransmit(150);
    expect(s.pollTimeout()).toBe(350);
    s.handleDatagram(170, encodeAck(1)); // sent once: a valid 20 ms sample
    expect(drain(s)).toContainEqual({ type: 'acked', receiver: 0, index: 1, rttMs: 20 });
    expect(s.srttMs).toBe(20);
    expect(s.rtoMs).toBe(20 + 4 * 10); // SRTT + 4 * RTTVAR, RTTVAR = R / 2
  });

  it('RFC 6298 backoff doubles the RTO, clamped; fixed RTO never backs off', () => {
    const e = new RtoEstimator({ minMs: 5, maxMs: 2000, initialMs: 1000, granularityMs: 1 });
    expect(e.rtoMs).toBe(1000);
    e.sample(40); // SRTT 40, RTTVAR 20
    expect(e.rtoMs).toBe(120);
    e.sample(60); // RTTVAR = 3/4 * 20 + 1/4 * 20 = 20; SRTT = 7/8 * 40 + 1/8 * 60 = 42.5
    expect(e.srttMs).toBe(42.5);
    expect(e.rtoMs).toBe(122.5);
    const backedOff = [245, 490, 980, 1960, 2000, 2000, 2000];
    for (const want of backedOff) {
      e.onTimeout();
      expect(e.rtoMs).toBe(want);
    }
    e.sample(42.5); // a valid sample collapses the backoff
    expect(e.rtoMs).toBeCloseTo(42.5 + 4 * (0.75 * 20 + 0.25 * 0), 10);

    // The floor applies before doubling; G bounds the variance term.
    const tiny = new RtoEstimator({ minMs: 5, maxMs: 2000, initialMs: 1000, granularityMs: 1 });
    tiny.sample(0.5);
    expect(tiny.rtoMs).toBe(5);
    tiny.onTimeout();
    expect(tiny.rtoMs).toBe(10);
    const coarse = new RtoEstimator({ minMs: 1, maxMs: 2000, initialMs: 1000, granularityMs: 50 });
    coarse.sample(10);
    expect(coarse.rtoMs).toBe(60); // 10 + max(G = 50, 4 * 5)

    // Fixed: samples are observed (SRTT is still reported) but never move the RTO, and timeouts never double it.
    const fixed = new RtoEstimator({ fixedMs: 300, minMs: 5, maxMs: 2000, initialMs: 1000, granularityMs: 1 });
    expect(fixed.rtoMs).toBe(300);
    fixed.sample(1000);
    for (let i = 0; i < 20; i++) fixed.onTimeout();
    expect(fixed.rtoMs).toBe(300);
    expect(fixed.srttMs).toBe(1000);

    // Through the sender: timeouts fire at 100, 300, 700, ... with backoff; every 300 ms with --timeout 300.
    const timeoutsAt = (s: SenderFlow, n: number) => {
      const at: number[] = [];
      s.pollTransmit(0);
      for (let i = 0; i < n; i++) {
        const t = s.pollTimeout()!;
        s.handleTimeout(t);
        at.push(t);
        expect(s.pollTransmit(t)).toBeDefined();
      }
      return at;
    };
    expect(timeoutsAt(sender({ rto: { ...RTO, maxMs: 1000 } }), 6)).toEqual([100, 300, 700, 1500, 2500, 3500]);
    expect(timeoutsAt(sender({ rto: { ...RTO, fixedMs: 300 } }), 6)).toEqual([300, 600, 900, 1200, 1500, 1800]);
  });

  it('the estimator follows RFC 6298 for any sequence of samples and timeouts (reference model)', () => {
    type Op = { sample: number } | 'timeout';
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 100, max: 5000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.oneof(fc.double({ min: 0, max: 3000, noNaN: true }).map((sample): Op => ({ sample })), fc.constant<Op>('timeout')), {
          maxLength: 60,
        }),
        (minMs, maxMs, G, ops) => {
          const cfg: RtoConfig = { minMs, maxMs, initialMs: 300, granularityMs: G };
          const e = new RtoEstimator(cfg);
          let srtt: number | undefined;
          let rttvar = 0;
          let rto = 300; // unclamped RTO before backoff
          let backoffs = 0;
          const clampedRto = () => Math.min(maxMs, Math.max(minMs, rto) * 2 ** Math.min(backoffs, 16));
          for (const op of ops) {
            const before = e.rtoMs;
            if (op === 'timeout') {
              e.onTimeout();
              backoffs++;
              expect(e.rtoMs).toBe(Math.min(maxMs, 2 * before)); // doubles, clamped
            } else {
              const r = op.sample;
              if (srtt === undefined) {
                srtt = r;
                rttvar = r / 2;
              } else {
                rttvar = 0.75 * rttvar + 0.25 * Math.abs(srtt - r);
                srtt = 0.875 * srtt + 0.125 * r;
              }
              rto = srtt + Math.max(G, 4 * rttvar);
              backoffs = 0;
              e.sample(r);
            }
            expect(e.rtoMs).toBeCloseTo(clampedRto(), 6);
            expect(e.rtoMs).toBeGreaterThanOrEqual(Math.min(minMs, maxMs));
            expect(e.rtoMs).toBeLessThanOrEqual(maxMs);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('sender: giving up', () => {
  it('gives up after giveUpMs without an ACK', () => {
    const s = sender({ rto: { ...RTO, fixedMs: 300 }, giveUpMs: 1000 });
    let now = 0;
    s.pollTransmit(now);
    const seen: [number, SenderEvent][] = [];
    for (let guard = 0; guard < 100; guard++) {
      const t = s.pollTimeout();
      if (t === undefined) break;
      now = t;
      s.handleTimeout(now);
      while (s.pollTransmit(now) !== undefined);
      for (const e of drain(s)) seen.push([now, e]);
    }
    expect(seen).toEqual([
      [300, { type: 'timeout', receiver: 0, seq: 0, index: 0, lateMs: 0 }],
      [600, { type: 'timeout', receiver: 0, seq: 0, index: 0, lateMs: 0 }],
      [900, { type: 'timeout', receiver: 0, seq: 0, index: 0, lateMs: 0 }],
      [1000, { type: 'failed', receiver: 0, reason: 'no-answer' }],
    ]);
    expect(s.status).toBe('failed');
    expect(s.failReason).toBe('no-answer');
    expect(s.pollTimeout()).toBeUndefined();
    expect(s.pollTransmit(5000)).toBeUndefined();
    expect(s.stats.segmentsSent).toBe(4);
    // A late ACK for the segment that was in flight changes nothing and is not "unsent".
    s.handleDatagram(5000, encodeAck(0));
    expect(s.status).toBe('failed');
    expect(s.stats).toMatchObject({ duplicateAcks: 1, ackForUnsent: 0 });
  });

  it('the give-up clock restarts with each acknowledged segment and ignores time held at a lockstep barrier', () => {
    const s = sender({ rto: { ...RTO, fixedMs: 300 }, giveUpMs: 1000 });
    s.pollTransmit(0);
    s.handleTimeout(300);
    s.pollTransmit(300);
    s.handleDatagram(950, encodeAck(0)); // progress at 950: segment 1 gets its own 1000 ms
    s.setLimit(0); // held at the barrier for a long time
    expect(s.pollTransmit(950)).toBeUndefined();
    s.handleTimeout(100_000);
    expect(s.status).toBe('sending');
    s.setLimit(Number.POSITIVE_INFINITY);
    s.pollTransmit(100_000);
    expect(s.pollTimeout()).toBe(100_300);
    s.handleTimeout(100_300);
    s.pollTransmit(100_300);
    s.handleTimeout(100_999);
    expect(s.status).toBe('sending');
    s.handleTimeout(101_000);
    expect(s.status).toBe('failed');
  });

  it('time the sender could not run is not silence: woken long after its deadline, it retransmits before giving up, and takes no RTT sample across the stall', () => {
    const s = sender({ rto: { ...RTO, fixedMs: 300 }, giveUpMs: 1000 });
    s.pollTransmit(0);
    s.handleTimeout(10_000); // suspended from 0 to 10 s: deadline 300 and give-up 1000 long past
    expect(s.status).toBe('sending');
    expect(s.pollTransmit(10_000)).toBeDefined(); // retry first
    // Silence after the stall does count: still no answer a give-up later, and the receiver fails.
    for (let t = s.pollTimeout(); t !== undefined && s.status === 'sending'; t = s.pollTimeout()) {
      s.handleTimeout(t);
      while (s.pollTransmit(t) !== undefined);
    }
    expect(s.failReason).toBe('no-answer');
    // An ACK handled long after a deadline nobody handled: accepted, but no RTT sample from it.
    const a = sender({ giveUpMs: 1000 });
    a.pollTransmit(0);
    a.handleDatagram(10_000, encodeAck(0));
    expect(a.acked).toBe(1);
    expect(a.srttMs).toBeUndefined();
  });

  it('what the flow knows refines the failure: end of file unconfirmed, ACKs from another address', () => {
    // All data acknowledged, only the empty end-of-file segment not: 'eof-unconfirmed', also on ICMP.
    for (const reason of ['no-answer', 'port-unreachable'] as const) {
      const s = sender();
      for (let t = 0; s.acked < s.total - 1; t++) s.handleDatagram(t, ackFor(s.pollTransmit(t)!));
      s.pollTransmit(10);
      s.fail(reason);
      expect(s.failReason).toBe('eof-unconfirmed');
    }
    // 'last' puts data in the final segment: that one unacknowledged is not "all data acknowledged".
    const l = sender({ eof: 'last' });
    for (let t = 0; l.acked < l.total - 1; t++) l.handleDatagram(t, ackFor(l.pollTransmit(t)!));
    l.pollTransmit(10);
    l.fail('no-answer');
    expect(l.failReason).toBe('no-answer');
    // ACKs for its own segments arriving from another address (handleStray) are counted, never accepted.
    const w = sender({ giveUpMs: 1000 });
    const seg = w.pollTransmit(0)!;
    w.handleStray(ackFor(seg));
    w.handleStray(encodeAck(77)); // not a segment it sent: not counted
    w.handleStray(encodeData(0, utf8('x'))); // not an ACK
    expect(w.acked).toBe(0);
    expect(w.stats.misaddressedAcks).toBe(1);
    w.fail('no-answer');
    expect(w.failReason).toBe('wrong-address');
  });

  it('fail() from the transport (port unreachable) stops everything once', () => {
    const s = sender();
    s.pollTransmit(0);
    s.fail('port-unreachable');
    s.fail('aborted');
    expect(drain(s)).toEqual([{ type: 'failed', receiver: 0, reason: 'port-unreachable' }]);
    expect(s.pollTransmit(1000)).toBeUndefined();
    expect(s.pollTimeout()).toBeUndefined();
  });
});

// The same wait for both flows (one StartWait): a windowed sender sends only segment 0 until it is acknowledged.
const waitingFlows: Array<[string, (over: Partial<FlowOptions>) => Flow]> = [
  ['stop-and-wait', sender],
  ['--window 8', (over) => standaloneWindowFlow({ mss: 12, file: utf8('0123456789abcdef'), eof: 'empty', rto: RTO, giveUpMs: 60_000, ...over, window: 8, sack: false, cc: 'none' })],
];

describe.each(waitingFlows)('sender (%s): a receiver that is not listening yet (waitMs)', (_name, sender) => {
  it('port unreachable before the first ACK is retried within the wait window, and the receiver then completes', () => {
    const s = sender({ rto: { ...RTO, fixedMs: 300 }, giveUpMs: 1000, waitMs: 2000 });
    s.pollTransmit(0);
    s.handleUnreachable(1); // nobody listening yet
    for (const t of [300, 600, 900, 1200]) {
      s.handleTimeout(t);
      expect(s.pollTransmit(t), `retransmission at ${t}`).toBeDefined();
      s.handleUnreachable(t + 1);
    }
    // The give-up time alone (1000 ms) has passed; the wait window (2000 ms) has not.
    expect(s.status).toBe('sending');
    s.handleTimeout(1500);
    const seg = s.pollTransmit(1500)!;
    s.handleDatagram(1501, ackFor(seg)); // the receiver is up
    expect(s.acked).toBe(1);
    expect(s.stats.unreachable).toBe(5);
    expect(runIdeal(s).length).toBeGreaterThan(0);
    expect(s.status).toBe('done');
  });

  it('port unreachable after the wait window fails the receiver as port-unreachable', () => {
    const s = sender({ rto: { ...RTO, fixedMs: 300 }, giveUpMs: 60_000, waitMs: 1000 });
    s.pollTransmit(0);
    s.handleUnreachable(1);
    s.handleTimeout(900);
    s.pollTransmit(900);
    s.handleUnreachable(901);
    expect(s.status).toBe('sending');
    s.handleTimeout(1200);
    s.pollTransmit(1200);
    s.handleUnreachable(1201);
    expect(s.status).toBe('failed');
    expect(s.failReason).toBe('port-unreachable');
  });

  it('a receiver that answers nothing but port unreachable fails at the end of the window as port-unreachable', () => {
    const s = sender({ rto: { ...RTO, fixedMs: 700 }, giveUpMs: 500, waitMs: 1000 });
    s.pollTransmit(0);
    s.handleUnreachable(1);
    expect(s.pollTimeout()).toBe(700);
    s.handleTimeout(700);
    s.pollTransmit(700);
    expect(s.pollTimeout()).toBe(1000); // the give-up deadline moved to the window's end
    s.handleTimeout(1000);
    expect(s.failReason).toBe('port-unreachable');
  });

  it('port unreachable after the first ACK fails at once, whatever the wait window', () => {
    const s = sender({ waitMs: 60_000 });
    const seg = s.pollTransmit(0)!;
    s.handleDatagram(1, ackFor(seg));
    s.pollTransmit(1);
    s.handleUnreachable(2);
    expect(s.status).toBe('failed');
    expect(s.failReason).toBe('port-unreachable');
  });

  it('without a wait window (waitMs 0) port unreachable fails at once', () => {
    const s = sender({ waitMs: 0 });
    s.pollTransmit(0);
    s.handleUnreachable(1);
    expect(s.failReason).toBe('port-unreachable');
  });
});

describe('sender: a streamed input of unknown size', () => {
  it('sends only published whole segments, then the end of file once the length is known', () => {
    const bytes = fileBytes(25, 9);
    let length = Number.POSITIVE_INFINITY;
    const file = { get length() { return length; }, subarray: (a: number, b: number) => bytes.subarray(a, Math.min(b, length, bytes.length)) };
    const s = standaloneFlow({ mss: 18, file, eof: 'empty', rto: RTO, giveUpMs: 60_000 }); // 10 data bytes a segment
    expect(s.total).toBe(Number.POSITIVE_INFINITY);
    s.setLimit(sendableSegments(25, 18, 'empty', false) - 1); // 2 whole segments read so far
    const sent = runIdeal(s);
    expect(sent.map((d) => hex(d.subarray(8)))).toEqual([hex(bytes.subarray(0, 10)), hex(bytes.subarray(10, 20))]);
    expect(s.status).toBe('sending');
    length = 25;
    s.setLimit(sendableSegments(25, 18, 'empty', true) - 1);
    const rest = runIdeal(s);
    expect(rest.map((d) => d.length)).toEqual([8 + 5, 8]); // the short last segment, then the empty end of file
    expect(s.status).toBe('done');
    expect(s.total).toBe(4);
  });

  it("under 'last' the newest whole segment waits until the end is known (it may be the one to carry the mark)", () => {
    expect(sendableSegments(30, 18, 'last', false)).toBe(2);
    expect(sendableSegments(30, 18, 'empty', false)).toBe(3);
    expect(sendableSegments(9, 18, 'empty', false)).toBe(0);
    expect(sendableSegments(30, 18, 'last', true)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('sender: lockstep', () => {
  it('lockstep limit holds segment i+1 until setLimit', () => {
    const s = sender({ file: fileBytes(30, 3), mss: 18 }); // 3 data segments of 10 bytes + empty end of file
    s.setLimit(0);
    const seg0 = s.pollTransmit(0)!;
    s.handleDatagram(10, ackFor(seg0));
    expect(s.acked).toBe(1);
    expect(s.pollTransmit(10)).toBeUndefined();
    expect(s.inFlight).toBe(false);
    expect(s.pollTimeout()).toBeUndefined();
    s.setLimit(1);
    const seg1 = s.pollTransmit(20)!;
    expect(hex(seg1)).toBe(hex(encodeData(1, fileBytes(30, 3).subarray(10, 20))));
    s.handleDatagram(30, ackFor(seg1));
    expect(s.pollTransmit(30)).toBeUndefined();
    s.setLimit(3);
    const rest = [s.pollTransmit(40)!];
    s.handleDatagram(41, ackFor(rest[0]!));
    rest.push(s.pollTransmit(42)!);
    s.handleDatagram(43, ackFor(rest[1]!));
    expect(rest.map(hex)).toEqual(specSegments(fileBytes(30, 3), 18, 'empty').slice(2).map((x) => hex(x.bytes)));
    expect(s.status).toBe('done');
  });
});

// ---------------------------------------------------------------------------------------------------------
// The whole protocol end to end in the simulator: the production loops and machines over seeded links.

describe('sender + receiver through the simulator', () => {
  it('one receiver (fast-check over file size 0..20000, mss 9..2048, P 0..0.5, all eof modes, initialSeq incl. near 2^32, rough links) ends with a byte-identical file', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.nat(),
          size: fc.nat({ max: 20000 }),
          mss: fc.integer({ min: 9, max: 2048 }),
          // fc.double is heavily biased towards tiny values; an integer scale spreads P over [0, 0.5].
          P: fc.oneof(
            { arbitrary: fc.constantFrom(0, 0.5), weight: 1 },
            { arbitrary: fc.integer({ min: 0, max: 500 }).map((x) => x / 1000), weight: 4 },
          ),
          eof: fc.constantFrom(...EOF_MODES),
          initialSeq: fc.oneof(fc.constant(0), fc.integer({ min: 0xffffff00, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })),
          fixedRto: fc.option(fc.integer({ min: 5, max: 200 }), { nil: undefined }),
          rough: fc.boolean(),
        }),
        (p) => {
          const r = runScenario({
            seed: p.seed,
            receivers: 1,
            fileBytes: p.size,
            mss: p.mss,
            eof: p.eof,
            initialSeq: p.initialSeq,
            lossRate: p.P,
            rto: { minMs: 5, maxMs: 400, initialMs: 50, granularityMs: 1, fixedMs: p.fixedRto ?? null },
            giveUpMs: 1e12,
            idleTimeoutMs: 1e12,
            lingerMs: 20_000,
            down: { delayMs: p.rough ? 1 : 5, jitterMs: p.rough ? 29 : 0, corrupt: p.rough ? 0.02 : 0, duplicate: p.rough ? 0.05 : 0 },
            up: { delayMs: p.rough ? 1 : 5, jitterMs: p.rough ? 29 : 0, loss: p.rough ? p.P / 2 : 0, duplicate: p.rough ? 0.05 : 0 },
          });
          const x = r.receivers[0]!;
          expect(r.violations, `seed ${p.seed}`).toEqual([]);
          expect(x.fileMatches).toBe(true);
          expect(hex(x.received!)).toBe(hex(r.file));
          expect(x.senderStatus).toBe('done');
          expect(x.ackForUnsent).toBe(0);
          if (p.P === 0 && !p.rough && p.fixedRto === undefined) expect(x.retransmissions).toBe(0);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('lockstep and independent modes: live receivers get byte-identical files, a dead receiver fails alone', () => {
    const SEED = 424242;
    for (const mode of ['lockstep', 'independent'] as const) {
      const r = runScenario({
        seed: SEED,
        receivers: 3,
        mode,
        fileBytes: 30_000,
        mss: 500,
        lossRate: 0.1,
        rto: { minMs: 5, maxMs: 400, initialMs: 50, granularityMs: 1 },
        giveUpMs: 5000,
        crashes: [{ receiver: 2, atMs: 0 }],
        down: { delayMs: 1, jitterMs: 9, corrupt: 0.01, duplicate: 0.02 },
        up: { delayMs: 1, jitterMs: 9, loss: 0.05, duplicate: 0.02 },
      });
      expect(r.receivers.map((x) => x.senderStatus), `${mode} seed=${SEED}`).toEqual(['done', 'done', 'failed']);
      expect(r.receivers[2]!.failReason).toBe('no-answer');
      expect(r.receivers.slice(0, 2).every((x) => x.fileMatches)).toBe(true);
      expect(r.receivers[2]!.received!.length).toBe(0);
      expect(r.receivers.map((x) => x.completedAtMs !== undefined)).toEqual([true, true, false]);
      expect(r.receivers[2]!.receiverStatus).toBe('waiting');
      expect(r.violations).toEqual([]);
      expect(r.receivers.every((x) => x.ackForUnsent === 0)).toBe(true);
    }
  });

  it('lockstep over 1..4 receivers with random loss keeps the barrier and delivers every file (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat({ max: 3000 }),
        fc.integer({ min: 9, max: 300 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 400 }).map((x) => x / 1000),
        fc.constantFrom(...EOF_MODES),
        (seed, size, mss, receivers, P, eof) => {
          const r = runScenario({
            seed,
            receivers,
            mode: 'lockstep',
            fileBytes: size,
            mss,
            eof,
            lossRate: P,
            initialSeq: 0xfffffff0,
            rto: { minMs: 5, maxMs: 200, initialMs: 50, granularityMs: 1 },
            giveUpMs: 1e12,
            idleTimeoutMs: 1e12,
            lingerMs: 20_000,
            down: { delayMs: 1, jitterMs: 14, corrupt: 0.01, duplicate: 0.02 },
            up: { delayMs: 1, jitterMs: 14, loss: 0.05, duplicate: 0.02 },
          });
          expect(r.violations, `seed ${seed}`).toEqual([]);
          expect(r.allComplete).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
