import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checksum,
  checksumExcept,
  checksumMatches,
  decode,
  encodeAck,
  encodeData,
  encodeFin,
  HEADER_BYTES,
  lowPadChecksum,
  type Segment,
} from '../src/core/codec.js';
import { flipBit, fromHex, hex, utf8 } from './support.js';

interface Vectors {
  rfc1071Example: { payloadHex: string; checksum: number };
  checksums: { payloadHex: string; checksum: number; lowPadChecksum: number }[];
  packets: { what: string; hex: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('./fixtures/wire-vectors.json', import.meta.url), 'utf8')) as Vectors;

/** Independent reference: sum every 16-bit word without intermediate folding, then fold and complement. */
function referenceChecksum(payload: Uint8Array, lowPad: boolean): number {
  let sum = 0;
  for (let i = 0; i + 1 < payload.length; i += 2) sum += payload[i]! * 256 + payload[i + 1]!;
  if (payload.length % 2 === 1) sum += lowPad ? payload[payload.length - 1]! : payload[payload.length - 1]! * 256;
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return 0xffff - sum;
}

describe('checksum vectors (test/fixtures/wire-vectors.json)', () => {
  it('has vectors for the empty payload, odd lengths and even lengths', () => {
    const lengths = vectors.checksums.map((v) => v.payloadHex.length / 2);
    expect(lengths).toContain(0);
    expect(lengths.some((n) => n % 2 === 1)).toBe(true);
    expect(lengths.some((n) => n > 0 && n % 2 === 0)).toBe(true);
  });

  it('the RFC 1071 section 3 example sums to 0x220d', () => {
    expect(vectors.rfc1071Example.checksum).toBe(0x220d);
    expect(checksum(fromHex(vectors.rfc1071Example.payloadHex))).toBe(0x220d);
  });

  for (const v of vectors.checksums) {
    const n = v.payloadHex.length / 2;
    const label = n <= 17 ? `"${v.payloadHex}"` : `${v.payloadHex.slice(0, 16)}...`;
    it(`payload ${label} (${n} bytes): checksum ${v.checksum}, lowPadChecksum ${v.lowPadChecksum}`, () => {
      const payload = fromHex(v.payloadHex);
      expect(checksum(payload)).toBe(v.checksum);
      expect(lowPadChecksum(payload)).toBe(v.lowPadChecksum);
      expect(checksumMatches(payload, v.checksum)).toBe(true);
      // The low-pad form is accepted exactly when the length is odd (for even lengths it IS the RFC sum).
      expect(checksumMatches(payload, v.lowPadChecksum)).toBe(n % 2 === 1 || v.lowPadChecksum === v.checksum);
      // A payload must not verify against a neighbouring sum.
      if (n % 2 === 0) expect(checksumMatches(payload, v.checksum ^ 1)).toBe(false);
    });
  }
});

describe('checksumExcept', () => {
  it('is the checksum of the bytes with the span left out, concatenated (any length, odd or even)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(100), fc.nat(100), (bytes, a, b) => {
        const from = Math.min(a, bytes.length) & ~1;
        const to = Math.min(from + b, bytes.length);
        const rest = new Uint8Array([...bytes.subarray(0, from), ...bytes.subarray(to)]);
        expect(checksumExcept(bytes, from, to)).toBe(checksum(rest));
        // A view into a larger buffer (a slab, a socket's pool) sums the same.
        const padded = new Uint8Array(bytes.length + 3);
        padded.set(bytes, 3);
        expect(checksumExcept(padded.subarray(3), from, to)).toBe(checksum(rest));
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});

describe('packet vectors: encode produces exactly the hex, decode parses it back', () => {
  // What each fixture packet describes, as the inputs to the encoder and the segment decode must return.
  const expected: Record<string, { encode: () => Uint8Array; segment: Segment }> = {
    "DATA seq 0, payload 'Hello, P2MP-FTP!'": {
      encode: () => encodeData(0, utf8('Hello, P2MP-FTP!')),
      segment: { kind: 'data', seq: 0, checksum: 0xa2c1, payload: utf8('Hello, P2MP-FTP!'), last: false },
    },
    'DATA seq 7, odd payload 01 02 03': {
      encode: () => encodeData(7, fromHex('010203')),
      segment: { kind: 'data', seq: 7, checksum: 0xfbfd, payload: fromHex('010203'), last: false },
    },
    'DATA seq 4294967295 (largest), payload ff': {
      encode: () => encodeData(4294967295, fromHex('ff')),
      segment: { kind: 'data', seq: 4294967295, checksum: 0x00ff, payload: fromHex('ff'), last: false },
    },
    'end of file: empty DATA, seq 42': {
      encode: () => encodeData(42, new Uint8Array(0)),
      segment: { kind: 'data', seq: 42, checksum: 0xffff, payload: new Uint8Array(0), last: false },
    },
    'ACK seq 0': { encode: () => encodeAck(0), segment: { kind: 'ack', seq: 0 } },
    'ACK seq 305419896': { encode: () => encodeAck(305419896), segment: { kind: 'ack', seq: 305419896 } },
    'FIN of type 0xFFFF (accepted as end of file; answered with the same 8 bytes)': {
      encode: () => encodeFin(),
      segment: { kind: 'fin' },
    },
    "last-segment marker 0x5557, seq 3, payload 'end'": {
      encode: () => encodeData(3, utf8('end'), true),
      segment: { kind: 'data', seq: 3, checksum: 0x3691, payload: utf8('end'), last: true },
    },
  };

  it('every fixture packet is covered by this table, and nothing else', () => {
    expect(vectors.packets.map((p) => p.what).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const p of vectors.packets) {
    it(p.what, () => {
      const e = expected[p.what];
      expect(e, `no table entry for fixture packet "${p.what}"`).toBeDefined();
      expect(hex(e!.encode())).toBe(p.hex);
      const d = decode(fromHex(p.hex));
      expect(d).toEqual({ ok: true, segment: e!.segment });
      if (d.ok && d.segment.kind === 'data') expect(checksumMatches(d.segment.payload, d.segment.checksum)).toBe(true);
    });
  }
});

describe('decode rejects malformed datagrams with a value, never an exception', () => {
  const cases: [string, string, string][] = [
    ['empty datagram', '', 'short'],
    ['7 bytes', '00000000ffff55', 'short'],
    ['unknown type 0x1234', '0000000000001234', 'unknown-type'],
    ['LAST type byte-swapped (0x5755)', '0000000000005755', 'unknown-type'],
    ['ACK with a payload', '000000010000aaaa00', 'ack-with-payload'],
    ['ACK with a non-zero middle field', '000000010001aaaa', 'ack-bad-zero-field'],
    ['FIN with a seq', '000000010000ffff', 'fin-malformed'],
    ['FIN with a non-zero middle field', '000000000001ffff', 'fin-malformed'],
    ['FIN with a payload', '000000000000ffff00', 'fin-malformed'],
  ];
  for (const [what, h, error] of cases) {
    it(`${what} -> ${error}`, () => expect(decode(fromHex(h))).toEqual({ ok: false, error }));
  }

  it('decodes a datagram that is a view into a larger buffer (as node:dgram may deliver)', () => {
    const pool = new Uint8Array(64).fill(0xee);
    const seg = encodeData(0x01020304, utf8('abc'));
    pool.set(seg, 13);
    const d = decode(pool.subarray(13, 13 + seg.length));
    expect(d).toEqual({ ok: true, segment: { kind: 'data', seq: 0x01020304, checksum: checksum(utf8('abc')), payload: utf8('abc'), last: false } });
  });
});

describe('codec properties', () => {
  const header = fc.record({
    seq: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
    field: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
    type: fc.oneof(fc.constantFrom(0x5555, 0x5557, 0xaaaa, 0xffff), fc.integer({ min: 0, max: 0xffff })),
  });
  const datagram = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.tuple(header, fc.uint8Array({ maxLength: 24 }), fc.nat(16)).map(([h, tail, offset]) => {
      // Sometimes a view at a non-zero offset of a bigger buffer.
      const buf = new Uint8Array(offset + 8 + tail.length);
      const v = new DataView(buf.buffer, offset);
      v.setUint32(0, h.seq);
      v.setUint16(4, h.field);
      v.setUint16(6, h.type);
      buf.set(tail, offset + 8);
      return buf.subarray(offset);
    }),
  );

  it('decode never throws on arbitrary bytes, and a success is consistent with the header', () => {
    fc.assert(
      fc.property(datagram, (bytes) => {
        const d = decode(bytes);
        if (!d.ok) return;
        const type = (bytes[6]! << 8) | bytes[7]!;
        if (d.segment.kind === 'data') {
          expect([0x5555, 0x5557]).toContain(type);
          expect(d.segment.payload.length).toBe(bytes.length - HEADER_BYTES);
        } else if (d.segment.kind === 'ack') {
          expect(type).toBe(0xaaaa);
          expect(bytes.length).toBe(HEADER_BYTES);
        } else {
          expect(hex(bytes)).toBe('000000000000ffff');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('encode/decode round-trips any seq (u32), payload and last flag', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 2040 }), fc.boolean(), (seq, payload, last) => {
        const bytes = encodeData(seq, payload, last);
        expect(bytes.length).toBe(HEADER_BYTES + payload.length);
        expect(decode(bytes)).toEqual({ ok: true, segment: { kind: 'data', seq, checksum: checksum(payload), payload, last } });
        expect(decode(encodeAck(seq))).toEqual({ ok: true, segment: { kind: 'ack', seq } });
      }),
    );
  });

  it('seq is taken mod 2^32 on encode', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -3, max: 3 }), (seq, wraps) => {
        const d = decode(encodeData(seq + wraps * 2 ** 32, new Uint8Array(0)));
        expect(d.ok && d.segment.kind === 'data' && d.segment.seq).toBe(seq);
        expect(hex(encodeAck(seq + wraps * 2 ** 32))).toBe(hex(encodeAck(seq)));
      }),
    );
  });

  it('checksum and lowPadChecksum agree with a naive reference, including payloads long enough to need folding', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 60000, maxLength: 66000 })), (payload) => {
        expect(checksum(payload)).toBe(referenceChecksum(payload, false));
        expect(lowPadChecksum(payload)).toBe(referenceChecksum(payload, true));
      }),
      { numRuns: 30 },
    );
    // All 0xff: the one's-complement sum is 0xffff ("negative zero"), so the checksum is 0.
    expect(checksum(new Uint8Array(65000).fill(0xff))).toBe(0);
  });

  it('a payload has the same checksum wherever it sits in a buffer shared with others, summed in any order', () => {
    // The sum keeps a view of the last buffer it read (segments share slabs): a view into the wrong buffer, or an
    // offset lost, would sum the wrong bytes.
    fc.assert(
      fc.property(
        fc.array(fc.record({ shared: fc.boolean(), at: fc.nat({ max: 300 }), payload: fc.uint8Array({ maxLength: 200 }) }), { minLength: 1, maxLength: 12 }),
        (placements) => {
          const slab = new Uint8Array(512);
          for (const { shared, at, payload } of placements) {
            const host = shared ? slab : new Uint8Array(at + payload.length + 3);
            host.set(payload, at);
            const view = host.subarray(at, at + payload.length);
            expect(checksum(view)).toBe(referenceChecksum(payload, false));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a payload followed by its RFC 1071 checksum word verifies to zero (padded to an even length first)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (payload) => {
        const padded = new Uint8Array(payload.length + (payload.length & 1) + 2);
        padded.set(payload);
        const c = checksum(payload);
        padded[padded.length - 2] = c >> 8;
        padded[padded.length - 1] = c & 0xff;
        expect(checksum(padded)).toBe(0);
      }),
    );
  });

  it('checksumMatches accepts the low-pad variant only for odd lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 0xffff }), (payload, sum) => {
        const odd = payload.length % 2 === 1;
        expect(checksumMatches(payload, sum)).toBe(sum === checksum(payload) || (odd && sum === lowPadChecksum(payload)));
        expect(checksumMatches(payload, checksum(payload))).toBe(true);
        if (odd) expect(checksumMatches(payload, lowPadChecksum(payload))).toBe(true);
        else expect(lowPadChecksum(payload)).toBe(checksum(payload));
      }),
      { numRuns: 500 },
    );
    // The variant really differs for odd lengths whose last byte is non-zero, so the acceptance is not vacuous.
    expect(lowPadChecksum(fromHex('010203'))).not.toBe(checksum(fromHex('010203')));
  });

  it('a single-bit flip in a payload is always detected by the RFC 1071 checksum (and by checksumMatches)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2040 }),
        fc.nat(),
        (payload, bit) => {
          const flipped = flipBit(payload, bit % (payload.length * 8));
          expect(checksum(flipped)).not.toBe(checksum(payload));
          // Not even the low-pad variant of the damaged payload can equal the sum the sender put in the header.
          expect(checksumMatches(flipped, checksum(payload))).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
