// Helpers shared by the protocol-core tests. Nothing here imports the machines under test: the expected
// segment list is derived from the spec (issue 2) independently of src/core (flow.ts, segments.ts).

import seedrandom from 'seedrandom';
import { encodeData, encodeFin } from '../src/core/codec.js';
import type { EofMode } from '../src/core/options.js';


export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A seeded uniform [0, 1) source. The seed is part of every failure message that uses it. */
export function seeded(seed: string | number): () => number {
  return seedrandom(String(seed));
}

export interface SpecSegment {
  /** The datagram exactly as the spec says the sender emits it. */
  bytes: Uint8Array;
  /** Wire seq (0 for the FIN, which carries none). */
  seq: number;
  /** File bytes this segment carries. */
  payload: Uint8Array;
  eof: boolean;
}

/**
 * The segments a sender emits for `file`, straight from the spec: every DATA segment carries exactly mss - 8
 * bytes except possibly the last; then the end-of-file convention (empty DATA with the next seq, the FIN
 * 00000000 0000FFFF, or the 0x5557 marker on the final data segment). A zero-byte file is just the end of file.
 */
export function specSegments(file: Uint8Array, mss: number, eof: EofMode, initialSeq = 0): SpecSegment[] {
  const size = mss - 8;
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < file.length; at += size) chunks.push(file.subarray(at, at + size));
  const seqOf = (i: number) => (initialSeq + i) >>> 0;
  const out: SpecSegment[] = [];
  if (eof === 'last') {
    if (chunks.length === 0) chunks.push(new Uint8Array(0));
    chunks.forEach((c, i) => {
      const last = i === chunks.length - 1;
      out.push({ bytes: encodeData(seqOf(i), c, last), seq: seqOf(i), payload: c, eof: last });
    });
    return out;
  }
  chunks.forEach((c, i) => out.push({ bytes: encodeData(seqOf(i), c), seq: seqOf(i), payload: c, eof: false }));
  const n = chunks.length;
  if (eof === 'empty') out.push({ bytes: encodeData(seqOf(n), new Uint8Array(0)), seq: seqOf(n), payload: new Uint8Array(0), eof: true });
  else out.push({ bytes: encodeFin(), seq: 0, payload: new Uint8Array(0), eof: true });
  return out;
}

/** A copy of `bytes` with one bit flipped (bit index counted from the first byte's most significant bit). */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  const i = Math.floor(bit / 8);
  out[i] = out[i]! ^ (0x80 >> bit % 8);
  return out;
}

/**
 * A corrupted copy of a DATA segment that no checksum variant can accept: a payload bit flipped, or for an
 * empty payload a bit of the checksum field flipped (an empty payload is even, so only the RFC 1071 sum counts).
 */
export function corruptData(segment: Uint8Array, bit: number): Uint8Array {
  const payloadBits = (segment.length - 8) * 8;
  if (payloadBits > 0) return flipBit(segment, 64 + (bit % payloadBits));
  return flipBit(segment, 32 + (bit % 16));
}
