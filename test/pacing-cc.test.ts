import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aimd } from '../src/core/cc.js';
import { PACER_OVERHEAD_BYTES, Pacer, parseRate } from '../src/core/pacer.js';

describe('--rate parsing', () => {
  it('reads bits per second with k/M/G suffixes', () => {
    expect(parseRate('100M')).toBe(100e6);
    expect(parseRate('1.5G')).toBe(1.5e9);
    expect(parseRate('800k')).toBe(800e3);
    expect(parseRate('2000000')).toBe(2e6);
    expect(parseRate('10Mbit/s')).toBe(10e6);
  });
  it.each(['', 'fast', '-5M', '0', '10 T', '1e9', 'M'])('refuses %j', (t) => expect(parseRate(t)).toBeUndefined());
});

describe('pacer', () => {
  it('over any send pattern, never lets more than rate x time + burst go', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1e5, max: 1e10 }), fc.integer({ min: 0, max: 20_000 }), fc.array(fc.tuple(fc.double({ min: 0, max: 5, noNaN: true }), fc.integer({ min: 8, max: 2048 })), { maxLength: 300 }), (rate, burst, sends) => {
        const p = new Pacer(rate, burst);
        let now = 0;
        let bytes = 0;
        let first: number | undefined;
        for (const [wait, size] of sends) {
          now = p.nextSendTime(now + wait);
          expect(p.mayAt(now)).toBe(true);
          first ??= now;
          p.sent(now, size);
          bytes += size + PACER_OVERHEAD_BYTES;
          // Everything sent by now, minus one datagram, fits the rate over the elapsed time plus the burst.
          expect((bytes - size - PACER_OVERHEAD_BYTES) * 8).toBeLessThanOrEqual(((now - first) * rate) / 1000 + burst * 8 + 1e-6 * rate);
        }
      }),
    );
  });

  it('spaces back-to-back datagrams at the rate once the burst is spent', () => {
    const p = new Pacer(8e6, 0); // 1 byte per microsecond
    p.sent(0, 972);
    expect(p.nextSendTime(0)).toBeCloseTo(1, 9);
    expect(p.mayAt(0.5)).toBe(false);
  });
});

describe('AIMD', () => {
  it('halves on a loss event, grows by one segment per round trip after it, never exceeds N or drops below 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2048 }), fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 100 })), { maxLength: 300 }), (max, ops) => {
        const cc = new Aimd({ max });
        for (const op of ops) {
          const before = cc.window;
          if (op < 0) {
            cc.onLoss();
            // The window is the floor of a fractional cwnd in [before, before + 1): half of that, floored.
            expect(cc.window).toBeGreaterThanOrEqual(Math.max(1, Math.floor(before / 2)));
            expect(cc.window).toBeLessThanOrEqual(Math.max(1, Math.ceil(before / 2)));
          } else cc.onAcked(op);
          expect(cc.window).toBeGreaterThanOrEqual(1);
          expect(cc.window).toBeLessThanOrEqual(max);
        }
      }),
    );
  });

  it('after a loss, a round trip of ACKs (one window) adds about one segment', () => {
    const cc = new Aimd({ max: 1000, initial: 40 });
    cc.onLoss();
    expect(cc.window).toBe(20);
    // A window's worth of ACKs (cwnd += 1/cwnd each) adds just under one segment; a few more complete it.
    for (let i = 0; i < 19; i++) cc.onAcked(1);
    expect(cc.window).toBe(20);
    for (let i = 0; i < 3; i++) cc.onAcked(1);
    expect(cc.window).toBe(21);
  });
});
