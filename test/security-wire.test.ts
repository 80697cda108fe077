// The --verify and --key wire (README, "Wire extensions") against vectors computed by an independent
// implementation (test/fixtures/gen-security-vectors.py: Python zlib, hashlib, hmac, python3-cryptography),
// and the rules for bad datagrams: every damaged, forged, replayed or misplaced datagram is a value, never
// an exception and never accepted.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksum, decode, encodeAck, encodeData, encodeFin, payloadBytes } from '../src/core/codec.js';
import { ACK_STATUS, modeOf, TRAILER_BYTES, TYPE_KACK, TYPE_KDATA, TYPE_VDATA, type AckStatus } from '../src/core/extension.js';
import {
  ackKey,
  dataKey,
  encodeHandshake,
  handshakeKey,
  openAck,
  openHandshake,
  openSack,
  openSealed,
  sealAck,
  sealData,
  sealEnd,
  sealSack,
} from '../src/core/seal.js';
import type { SeqRange } from '../src/core/sack.js';
import { decodeVerified, encodeVerifiedAck, encodeVerifiedData, encodeVerifiedEnd, encodeVerifiedSack } from '../src/core/verify.js';
import { flipBit, fromHex, hex } from './support.js';

interface Vectors {
  verify: {
    crc32: { hex: string; crc32: number }[];
    data: { seq: number; payloadHex: string; hex: string }[];
    end: { seq: number; fileHex: string; digestHex: string; hex: string };
    ack: { seq: number; status: AckStatus; hex: string }[];
    sack: { cum: number; ranges: [number, number][]; hex: string }[];
  };
  key: {
    keyHex: string;
    nsHex: string;
    crHex: string;
    handshakeKeyHex: string;
    dataKeyHex: string;
    ackKeyHex: string;
    hello: string;
    challenge: string;
    response: string;
    data: { seq: number; payloadHex: string; hex: string }[];
    end: { seq: number; digestHex: string; hex: string };
    ack: { seq: number; status: AckStatus; counter: number; hex: string }[];
    sack: { cum: number; ranges: [number, number][]; counter: number; hex: string }[];
  };
}
const rangesOf = (v: { ranges: [number, number][] }): SeqRange[] => v.ranges.map(([start, end]) => ({ start, end }));
const vectors = JSON.parse(readFileSync(new URL('./fixtures/security-vectors.json', import.meta.url), 'utf8')) as Vectors;
const V = vectors.verify;
const K = vectors.key;
const psk = fromHex(K.keyHex);
const ns = fromHex(K.nsHex);
const cr = fromHex(K.crHex);
const kh = handshakeKey(psk);
const kd = dataKey(psk, ns);
const ka = ackKey(psk, ns, cr);

/** Every single-bit flip of a datagram (bounded: long datagrams are sampled every 7th bit, header in full). */
function flips(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let bit = 0; bit < bytes.length * 8; bit += bit < 64 || bytes.length < 200 ? 1 : 7) out.push(flipBit(bytes, bit));
  return out;
}

describe('every extension segment is ignored by a classic peer', () => {
  const samples = [
    ...V.data.map((v) => v.hex),
    V.end.hex,
    ...V.ack.map((v) => v.hex),
    ...V.sack.map((v) => v.hex),
    K.hello,
    K.challenge,
    K.response,
    ...K.data.map((v) => v.hex),
    K.end.hex,
    ...K.ack.map((v) => v.hex),
    ...K.sack.map((v) => v.hex),
  ];
  for (const h of samples) {
    it(`${h.slice(12, 16)} (${h.length / 2} bytes): classic decode() says unknown-type, so nothing is written`, () => {
      expect(decode(fromHex(h))).toEqual({ ok: false, error: 'unknown-type' });
    });
  }

  it('classic segments are classic, extension segments name their mode', () => {
    expect(modeOf(encodeData(3, new Uint8Array([1])))).toBe('classic');
    expect(modeOf(encodeAck(3))).toBe('classic');
    expect(modeOf(encodeFin())).toBe('classic');
    expect(modeOf(fromHex(V.data[0]!.hex))).toBe('verify');
    expect(modeOf(fromHex(K.hello))).toBe('key');
    expect(modeOf(fromHex(K.ack[0]!.hex))).toBe('key');
    expect(modeOf(fromHex(V.sack[0]!.hex))).toBe('verify');
    expect(modeOf(fromHex(K.sack[0]!.hex))).toBe('key');
    expect(modeOf(new Uint8Array(7))).toBeUndefined();
    expect(modeOf(fromHex('0000000000001234'))).toBeUndefined();
  });

  it('a data segment loses 8 bytes to the header in classic mode, 12 with --verify, 24 with --key', () => {
    expect([payloadBytes(2048, TRAILER_BYTES.classic), payloadBytes(2048, TRAILER_BYTES.verify), payloadBytes(2048, TRAILER_BYTES.key)]).toEqual([2040, 2036, 2024]);
    expect(fromHex(V.data[2]!.hex).length - V.data[2]!.payloadHex.length / 2).toBe(12);
    expect(fromHex(K.data[2]!.hex).length - K.data[2]!.payloadHex.length / 2).toBe(24);
  });
});

describe('--verify wire: vectors', () => {
  for (const v of V.data) {
    it(`VDATA seq ${v.seq}, ${v.payloadHex.length / 2} bytes: encodes to the vector and decodes back`, () => {
      expect(hex(encodeVerifiedData(v.seq, fromHex(v.payloadHex)))).toBe(v.hex);
      const d = decodeVerified(fromHex(v.hex));
      expect(d).toEqual({ ok: true, segment: { kind: 'data', seq: v.seq, payload: fromHex(v.payloadHex) } });
    });
  }
  it('VEND carries the SHA-256 of the whole file', () => {
    expect(hex(encodeVerifiedEnd(V.end.seq, fromHex(V.end.digestHex)))).toBe(V.end.hex);
    expect(decodeVerified(fromHex(V.end.hex))).toEqual({ ok: true, segment: { kind: 'end', seq: V.end.seq, digest: fromHex(V.end.digestHex) } });
  });
  for (const v of V.ack) {
    it(`VACK seq ${v.seq} status ${v.status}`, () => {
      expect(hex(encodeVerifiedAck(v.seq, v.status))).toBe(v.hex);
      expect(decodeVerified(fromHex(v.hex))).toEqual({ ok: true, segment: { kind: 'ack', seq: v.seq, status: v.status } });
    });
  }
  for (const v of V.sack) {
    it(`VSACK cum ${v.cum}, ${v.ranges.length} range(s)`, () => {
      expect(hex(encodeVerifiedSack(v.cum, rangesOf(v)))).toBe(v.hex);
      expect(decodeVerified(fromHex(v.hex))).toEqual({ ok: true, segment: { kind: 'sack', seq: v.cum, ranges: rangesOf(v) } });
    });
  }
  it('the CRC is the standard CRC-32 (check value of "123456789" is 0xCBF43926)', () => {
    expect(V.crc32.find((c) => c.hex === '313233343536373839')?.crc32).toBe(0xcbf43926);
  });
});

describe('--verify wire: bad datagrams', () => {
  const all = [...V.data.map((v) => v.hex), V.end.hex, ...V.ack.map((v) => v.hex), ...V.sack.map((v) => v.hex)].map(fromHex);

  it('every single-bit flip, header included, is caught (bad-crc, never a segment)', () => {
    for (const seg of all) for (const bad of flips(seg)) expect(decodeVerified(bad).ok).toBe(false);
  });

  it('the damage RFC 1071 cannot see is caught: swapped 16-bit words, opposite flips in one column, trailing bytes cut or added', () => {
    const seg = encodeVerifiedData(5, new Uint8Array([1, 2, 3, 4, 0, 0, 0, 0, 9, 9]));
    const swapped = seg.slice();
    swapped.set(seg.subarray(10, 12), 8);
    swapped.set(seg.subarray(8, 10), 10);
    // Payload bytes 0 and 4 are both high bytes of a 16-bit word: 0x01 -> 0x00 there, 0x00 -> 0x01 here.
    const opposite = flipBit(flipBit(seg, 8 * 8 + 7), 12 * 8 + 7);
    const payloadOf = (b: Uint8Array): Uint8Array => b.subarray(8, b.length - 4);
    // The classic sum sees neither change ...
    expect(checksum(payloadOf(swapped))).toBe(checksum(payloadOf(seg)));
    expect(checksum(payloadOf(opposite))).toBe(checksum(payloadOf(seg)));
    // ... the CRC sees both.
    expect(decodeVerified(swapped)).toEqual({ ok: false, error: 'bad-crc' });
    expect(decodeVerified(opposite)).toEqual({ ok: false, error: 'bad-crc' });
    expect(decodeVerified(seg.subarray(0, seg.length - 2)).ok).toBe(false);
    expect(decodeVerified(new Uint8Array([...seg, 0, 0])).ok).toBe(false);
  });

  it('a header with a len that is not the payload present, an unknown status, or a VEND without 32 digest bytes is malformed even with a right CRC', async () => {
    const { crc32 } = await import('node:zlib');
    const recrc = (b: Uint8Array): Uint8Array => {
      const out = b.slice();
      new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)));
      return out;
    };
    const data = encodeVerifiedData(1, new Uint8Array([7, 7, 7]));
    const wrongLen = data.slice();
    wrongLen[5] = 4;
    expect(decodeVerified(recrc(wrongLen))).toEqual({ ok: false, error: 'malformed' });
    const ack = encodeVerifiedAck(1, ACK_STATUS.ack);
    ack[5] = 9;
    expect(decodeVerified(recrc(ack))).toEqual({ ok: false, error: 'malformed' });
    const end = fromHex(V.end.hex);
    expect(decodeVerified(recrc(new Uint8Array([...end.subarray(0, 20), 0, 0, 0, 0])))).toEqual({ ok: false, error: 'malformed' });
  });

  it('short datagrams, classic segments and --key segments are not --verify segments', () => {
    for (let n = 0; n < 12; n++) expect(decodeVerified(new Uint8Array(n)).ok).toBe(false);
    expect(decodeVerified(encodeData(0, new Uint8Array([1, 2, 3, 4, 5])))).toEqual({ ok: false, error: 'not-verify' });
    expect(decodeVerified(fromHex(K.data[0]!.hex))).toEqual({ ok: false, error: 'not-verify' });
  });

  it('decoding arbitrary bytes never throws (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(TYPE_VDATA, 0x5a02, 0xa501, 0x5555), (bytes, type) => {
        const b = bytes.length >= 8 ? bytes.slice() : bytes;
        if (b.length >= 8) new DataView(b.buffer).setUint16(6, type);
        expect(() => decodeVerified(b)).not.toThrow();
      }),
    );
  });
});

describe('--key wire: vectors', () => {
  it('HKDF-SHA256 gives the handshake, data and ACK keys', () => {
    expect(hex(kh.export())).toBe(K.handshakeKeyHex);
    expect(hex(kd.export())).toBe(K.dataKeyHex);
    expect(hex(ka.export())).toBe(K.ackKeyHex);
  });
  it('HELLO, CHALLENGE and RESPONSE encode to the vectors and open with their fields', () => {
    expect(hex(encodeHandshake(kh, { kind: 'hello', ns }))).toBe(K.hello);
    expect(hex(encodeHandshake(kh, { kind: 'challenge', ns, cr }))).toBe(K.challenge);
    expect(hex(encodeHandshake(kh, { kind: 'response', ns, cr }))).toBe(K.response);
    expect(openHandshake(kh, fromHex(K.hello))).toEqual({ ok: true, msg: { kind: 'hello', ns } });
    expect(openHandshake(kh, fromHex(K.challenge))).toEqual({ ok: true, msg: { kind: 'challenge', ns, cr } });
    expect(openHandshake(kh, fromHex(K.response))).toEqual({ ok: true, msg: { kind: 'response', ns, cr } });
  });
  for (const v of K.data) {
    it(`KDATA seq ${v.seq}, ${v.payloadHex.length / 2} bytes: seals to the vector and opens back`, () => {
      expect(hex(sealData(kd, v.seq, fromHex(v.payloadHex)))).toBe(v.hex);
      const o = openSealed(kd, fromHex(v.hex));
      expect(o.ok && o.segment).toEqual({ kind: 'data', seq: v.seq, payload: fromHex(v.payloadHex) });
    });
  }
  it('KEND seals the digest', () => {
    expect(hex(sealEnd(kd, K.end.seq, fromHex(K.end.digestHex)))).toBe(K.end.hex);
    const o = openSealed(kd, fromHex(K.end.hex));
    expect(o.ok && o.segment).toEqual({ kind: 'end', seq: K.end.seq, digest: fromHex(K.end.digestHex) });
  });
  for (const v of K.ack) {
    it(`KACK seq ${v.seq} status ${v.status} counter ${v.counter}`, () => {
      expect(hex(sealAck(ka, v.seq, v.status, v.counter))).toBe(v.hex);
      expect(openAck(ka, fromHex(v.hex))).toEqual({ ok: true, ack: { seq: v.seq, status: v.status, counter: v.counter } });
    });
  }
  for (const v of K.sack) {
    it(`KSACK cum ${v.cum}, ${v.ranges.length} range(s), counter ${v.counter}`, () => {
      expect(hex(sealSack(ka, v.cum, rangesOf(v), v.counter))).toBe(v.hex);
      expect(openSack(ka, fromHex(v.hex))).toEqual({ ok: true, sack: { cum: v.cum, ranges: rangesOf(v), counter: v.counter } });
    });
  }
  it('the payload is encrypted: no vector carries its plaintext', () => {
    for (const v of K.data.filter((d) => d.payloadHex.length >= 32)) expect(v.hex).not.toContain(v.payloadHex.slice(0, 32));
  });
});

describe('--key wire: bad datagrams are never accepted', () => {
  const otherKey = fromHex('ff'.repeat(32));

  it('every single-bit flip of every sealed segment, ACK and handshake fails (header included)', () => {
    for (const v of K.data) for (const bad of flips(fromHex(v.hex))) expect(openSealed(kd, bad).ok).toBe(false);
    for (const bad of flips(fromHex(K.end.hex))) expect(openSealed(kd, bad).ok).toBe(false);
    for (const v of K.ack) for (const bad of flips(fromHex(v.hex))) expect(openAck(ka, bad).ok).toBe(false);
    for (const v of K.sack) for (const bad of flips(fromHex(v.hex))) expect(openSack(ka, bad).ok).toBe(false);
    for (const h of [K.hello, K.challenge, K.response]) for (const bad of flips(fromHex(h))) expect(openHandshake(kh, bad).ok).toBe(false);
  });

  it('a header moved onto another segment (seq 0 and seq 1 swapped) is rejected: the header is authenticated', () => {
    const a = fromHex(K.data[0]!.hex);
    const b = sealData(kd, 1, new Uint8Array([0x41]));
    const moved = new Uint8Array([...b.subarray(0, 8), ...a.subarray(8)]);
    expect(openSealed(kd, moved)).toEqual({ ok: false, error: 'unauthenticated' });
  });

  it('a segment of another transfer (another Ns) or under another key does not open: a replay of yesterday is rejected', () => {
    const yesterday = dataKey(psk, fromHex('0f'.repeat(16)));
    for (const v of K.data) expect(openSealed(yesterday, fromHex(v.hex))).toEqual({ ok: false, error: 'unauthenticated' });
    expect(openSealed(dataKey(otherKey, ns), fromHex(K.end.hex))).toEqual({ ok: false, error: 'unauthenticated' });
    expect(openHandshake(handshakeKey(otherKey), fromHex(K.response))).toEqual({ ok: false, error: 'unauthenticated' });
  });

  it("an ACK of one receiver does not open under another receiver's key (another Cr)", () => {
    const other = ackKey(psk, ns, fromHex('11'.repeat(16)));
    for (const v of K.ack) expect(openAck(other, fromHex(v.hex))).toEqual({ ok: false, error: 'unauthenticated' });
  });

  it('a CHALLENGE reflected back as a RESPONSE fails: the type is under the MAC', () => {
    const reflected = fromHex(K.challenge);
    reflected[6] = 0x5a;
    reflected[7] = 0x11;
    expect(openHandshake(kh, reflected)).toEqual({ ok: false, error: 'unauthenticated' });
  });

  it('truncated or extended datagrams, classic and --verify segments are refused before any decryption', () => {
    const d = fromHex(K.data[1]!.hex);
    expect(openSealed(kd, d.subarray(0, d.length - 1))).toEqual({ ok: false, error: 'malformed' });
    expect(openSealed(kd, new Uint8Array([...d, 0]))).toEqual({ ok: false, error: 'malformed' });
    expect(openSealed(kd, encodeData(0, new Uint8Array(40)))).toEqual({ ok: false, error: 'wrong-type' });
    expect(openAck(ka, encodeVerifiedAck(0, 0))).toEqual({ ok: false, error: 'wrong-type' });
    for (let n = 0; n < 24; n++) expect(openSealed(kd, new Uint8Array(n)).ok).toBe(false);
  });

  it('opening arbitrary bytes never throws and never succeeds (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 200 }), fc.constantFrom(TYPE_KDATA, 0x5a13, TYPE_KACK, 0x5a10, 0xa510, 0x5a11), (bytes, type) => {
        const b = bytes.slice();
        new DataView(b.buffer).setUint16(6, type);
        if (type === TYPE_KDATA || type === 0x5a13) new DataView(b.buffer).setUint16(4, Math.max(0, b.length - 24));
        expect(openSealed(kd, b).ok).toBe(false);
        expect(openAck(ka, b).ok).toBe(false);
        expect(openHandshake(kh, b).ok).toBe(false);
      }),
    );
  });
});
