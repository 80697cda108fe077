import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode } from '../src/core/codec.js';
import { ReorderBuffer } from '../src/core/reorder.js';
import { decodeSack, encodeSack, SACK_MAX_RANGES, TYPE_SACK, type SeqRange } from '../src/core/sack.js';
import { hex } from './support.js';

/** Ascending, disjoint, non-adjacent ranges beyond cum + 1, as a receiver reports them. */
const rangesArb = (cum: number): fc.Arbitrary<SeqRange[]> =>
  fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 })), { minLength: 1, maxLength: SACK_MAX_RANGES }).map((steps) => {
    let at = 1;
    return steps.map(([gap, len]) => {
      const start = (cum + at + gap) >>> 0;
      at += gap + len;
      return { start, end: (cum + at) >>> 0 };
    });
  });

describe('SACK codec', () => {
  it('round-trips every valid SACK, across the sequence wrap', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0xffffffff - 100, max: 0xffffffff })).chain((cum) => fc.tuple(fc.constant(cum), rangesArb(cum))), ([cum, ranges]) => {
        const bytes = encodeSack(cum, ranges);
        expect(bytes.length).toBe(8 + 8 * ranges.length);
        const d = decodeSack(bytes);
        expect(d).toEqual({ ok: true, sack: { cum, ranges } });
      }),
    );
  });

  it('is a type a classic peer does not know: codec.decode reports unknown-type', () => {
    const bytes = encodeSack(5, [{ start: 7, end: 9 }]);
    expect(((bytes[6]! << 8) | bytes[7]!)).toBe(TYPE_SACK);
    expect(decode(bytes)).toEqual({ ok: false, error: 'unknown-type' });
  });

  it('the documented byte layout', () => {
    expect(hex(encodeSack(0x01020304, [{ start: 0x01020306, end: 0x01020308 }]))).toMatch(/^01020304[0-9a-f]{4}aaab0102030601020308$/);
  });

  it('any single flipped bit outside the type field is detected (never a wrong SACK believed)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }).chain((cum) => fc.tuple(fc.constant(cum), rangesArb(cum))), fc.nat(), ([cum, ranges], pick) => {
        const bytes = encodeSack(cum, ranges);
        const bits = (bytes.length - 2) * 8;
        let bit = pick % bits;
        if (bit >= 48) bit += 16; // skip bytes 6-7 (the type)
        bytes[bit >> 3]! ^= 1 << (bit & 7);
        expect(decodeSack(bytes).ok).toBe(false);
      }),
    );
  });

  it('refuses malformed SACKs with a reason, never throws', () => {
    expect(decodeSack(new Uint8Array(8)).ok).toBe(false);
    const good = encodeSack(1, [{ start: 3, end: 4 }]);
    expect(decodeSack(good.subarray(0, 12))).toEqual({ ok: false, error: 'bad-length' });
    expect(decodeSack(good.subarray(0, 8))).toEqual({ ok: false, error: 'bad-length' });
    expect(() => encodeSack(1, [])).toThrow(RangeError);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void decodeSack(b)));
    // Ranges that touch cum + 1 (the missing segment itself) or overlap are refused, even with a good checksum.
    expect(decodeSack(encodeSack(1, [{ start: 2, end: 4 }]))).toEqual({ ok: false, error: 'bad-ranges' });
    expect(decodeSack(encodeSack(1, [{ start: 3, end: 6 }, { start: 6, end: 8 }]))).toEqual({ ok: false, error: 'bad-ranges' });
  });
});

describe('reorder buffer', () => {
  it('holds within the bound, releases in-order runs, and reports exactly what it holds as SACK ranges', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.oneof(fc.constant(0), fc.integer({ min: 0xffffffff - 40, max: 0xffffffff })), fc.array(fc.nat({ max: 40 }), { maxLength: 200 }), (capacity, initial, arrivals) => {
        const buf = new ReorderBuffer(capacity);
        let expected = initial >>> 0;
        const written: number[] = [];
        for (const a of arrivals) {
          const seq = (initial + a) >>> 0;
          const ahead = (seq - expected) >>> 0;
          if (ahead === 0) {
            written.push(seq);
            expected = (seq + 1) >>> 0;
            for (const h of buf.release(expected)) {
              written.push(h.seq);
              expected = (h.seq + 1) >>> 0;
            }
          } else {
            const r = buf.offer(expected, seq, new Uint8Array([a & 0xff]), false);
            expect(r).toBe(ahead <= capacity ? (r === 'already-held' ? 'already-held' : 'held') : 'beyond');
          }
          expect(buf.size).toBeLessThanOrEqual(capacity);
          // Ranges: ascending, beyond expected, and each seq in them is held.
          let floor = 0;
          for (const rg of buf.ranges(expected, 64)) {
            const s = (rg.start - expected) >>> 0;
            const e = (rg.end - expected) >>> 0;
            expect(s).toBeGreaterThan(floor);
            expect(e).toBeGreaterThan(s);
            floor = e;
          }
        }
        // Written strictly in order, each once.
        written.forEach((seq, i) => expect(seq).toBe((initial + i) >>> 0));
      }),
    );
  });

  it('ranges count exactly the held segments', () => {
    const buf = new ReorderBuffer(16);
    for (const s of [3, 4, 5, 8, 10, 11]) buf.offer(1, s, new Uint8Array(0), false);
    expect(buf.ranges(1, 16)).toEqual([
      { start: 3, end: 6 },
      { start: 8, end: 9 },
      { start: 10, end: 12 },
    ]);
    expect(buf.ranges(1, 2)).toHaveLength(2);
    expect(buf.release(2)).toEqual([]);
    expect(buf.release(3).map((h) => h.seq)).toEqual([3, 4, 5]);
  });

  it('stops a released run at the end of file', () => {
    const buf = new ReorderBuffer(8);
    buf.offer(0, 1, new Uint8Array(0), true);
    buf.offer(0, 2, new Uint8Array(1), false);
    expect(buf.release(1).map((h) => h.seq)).toEqual([1]);
  });
});
