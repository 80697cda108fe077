// Wire format of P2MP-FTP (the classic header; all integers big-endian):
//   DATA: seq:u32 | checksum:u16 | 0x5555:u16 | payload
//   LAST: seq:u32 | checksum:u16 | 0x5557:u16 | payload   (a "last segment" marker, accepted as end of file)
//   ACK:  seq:u32 | 0x0000:u16   | 0xAAAA:u16
//   FIN:  0x00000000 | 0x0000    | 0xFFFF:u16             (accepted as end of file, echoed back as its ACK)
// Decoding never throws: bytes from the network are untrusted, so every failure is a value.

export const HEADER_BYTES = 8;
/** Bytes an extension may append after the payload (none in the classic wire); counted inside MSS. */
export const CLASSIC_TRAILER_BYTES = 0;
/** MSS counts the whole segment, header included: 8 < MSS <= 2048. */
export const MSS_MIN_EXCLUSIVE = HEADER_BYTES;
export const MSS_MAX = 2048;
export const TYPE_DATA = 0x5555;
export const TYPE_LAST = 0x5557;
export const TYPE_ACK = 0xaaaa;
export const TYPE_FIN = 0xffff;
/** Largest UDP payload over IPv4; anything longer cannot have come from a real datagram. */
export const MAX_DATAGRAM_BYTES = 65507;

export type Segment =
  | { kind: 'data'; seq: number; checksum: number; payload: Uint8Array; last: boolean }
  | { kind: 'ack'; seq: number }
  | { kind: 'fin' };

export type DecodeError = 'short' | 'unknown-type' | 'ack-with-payload' | 'ack-bad-zero-field' | 'fin-malformed';
export type Decoded = { ok: true; segment: Segment } | { ok: false; error: DecodeError };

/**
 * The DataView of the last buffer summed. The sender's payloads are views of one file buffer and its segments
 * are carved out of shared slabs (allocSegment), so most sums reuse it: constructing a DataView is a call into
 * V8's runtime, which per segment cost the simulator about a seventh of its instruction-cache misses (BENCHMARKS.md).
 */
let viewed: ArrayBufferLike | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * The 16-bit one's-complement sum of the big-endian words of bytes [start, end), without folding in an odd last
 * byte (the caller adds it, high or low). Reads 8 bytes per step through a DataView (about twice as fast as
 * assembling words byte by byte: this runs once per segment on both sides).
 */
function evenWordsSum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const n = end - start;
  let sum = 0;
  let i = start;
  if (n >= 8) {
    const buffer = bytes.buffer;
    if (buffer !== viewed) {
      viewed = buffer;
      view = new DataView(buffer);
    }
    const base = bytes.byteOffset + start;
    let k = base;
    for (const stop = base + (n & ~7); k < stop; k += 8) {
      const a = view.getUint32(k);
      const b = view.getUint32(k + 4);
      sum += (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff);
      // Fold often enough that the sum stays a small integer (no float precision loss on large payloads).
      if (sum > 0xffffff) sum = (sum & 0xffff) + (sum >>> 16);
    }
    i += k - base;
  }
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The 16-bit one's-complement sum of big-endian words; an odd last byte is the high byte of a final word (RFC 1071). */
function onesComplementSum(bytes: Uint8Array, lowPadOddByte: boolean): number {
  let sum = evenWordsSum(bytes);
  if ((bytes.length & 1) === 1) {
    const odd = bytes[bytes.length - 1]!;
    sum += lowPadOddByte ? odd : odd << 8;
  }
  return fold(sum);
}

/** Internet checksum (RFC 1071) of a payload, as UDP computes it. */
export function checksum(payload: Uint8Array): number {
  return ~onesComplementSum(payload, false) & 0xffff;
}

/**
 * The Internet checksum (RFC 1071) of `bytes` with the span [skipFrom, skipTo) left out (skipFrom even), as if
 * the rest were one buffer: a header's own checksum and type fields are not covered (sack.ts), with no copy.
 */
export function checksumExcept(bytes: Uint8Array, skipFrom: number, skipTo: number): number {
  let sum = evenWordsSum(bytes, 0, skipFrom) + evenWordsSum(bytes, skipTo, bytes.length);
  if (((bytes.length - skipTo) & 1) === 1) sum += bytes[bytes.length - 1]! << 8;
  return ~fold(sum) & 0xffff;
}

/** The variant some classic implementations compute: an odd last byte added as the low byte of the last word. */
export function lowPadChecksum(payload: Uint8Array): number {
  return ~onesComplementSum(payload, true) & 0xffff;
}

/** True when `sum` is the payload's checksum in the RFC 1071 form or, for odd lengths only, the low-pad variant. */
export function checksumMatches(payload: Uint8Array, sum: number): boolean {
  // One pass over the even part serves both forms.
  const even = evenWordsSum(payload);
  if ((payload.length & 1) === 0) return (~fold(even) & 0xffff) === sum;
  const odd = payload[payload.length - 1]!;
  return (~fold(even + (odd << 8)) & 0xffff) === sum || (~fold(even + odd) & 0xffff) === sum;
}

/** The 8-byte header, written byte by byte (big-endian; no DataView allocated per segment). */
export function writeHeader(out: Uint8Array, seq: number, field: number, type: number): void {
  out[0] = seq >>> 24;
  out[1] = seq >>> 16;
  out[2] = seq >>> 8;
  out[3] = seq;
  out[4] = field >>> 8;
  out[5] = field;
  out[6] = type >>> 8;
  out[7] = type;
}

// Segments are carved out of 64 KiB slabs: a fresh `new Uint8Array(MSS)` costs an off-heap allocation
// (several hundred ns, and work for the GC) for every segment sent, a view into a slab about a tenth of
// that. Each segment still gets bytes of its own (a slab region is never handed out twice), but its
// `.buffer` is the shared slab: use byteOffset/length, as every view-aware API does.
const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

export function allocSegment(bytes: number): Uint8Array {
  if (bytes > SLAB_BYTES / 4) return new Uint8Array(bytes);
  if (slabUsed + bytes > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + bytes);
  slabUsed += (bytes + 7) & ~7; // keep every segment 8-byte aligned
  return out;
}

/** Data bytes one segment of `mss` carries: the one place the header (and any trailer) is subtracted. */
export function payloadBytes(mss: number, trailerBytes = CLASSIC_TRAILER_BYTES): number {
  return mss - HEADER_BYTES - trailerBytes;
}

/** The seq field of a datagram of at least HEADER_BYTES (no validation: for observers and tools). */
export function peekSeq(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** The type field of a datagram, or undefined when it is shorter than a header. */
export function peekType(bytes: Uint8Array): number | undefined {
  return bytes.length < HEADER_BYTES ? undefined : (bytes[6]! << 8) | bytes[7]!;
}

/** Write a DATA (or LAST-marker) segment into `out` (at least HEADER_BYTES + payload bytes); returns its length. */
export function encodeDataInto(out: Uint8Array, seq: number, payload: Uint8Array, last = false): number {
  writeHeader(out, seq, checksum(payload), last ? TYPE_LAST : TYPE_DATA);
  out.set(payload, HEADER_BYTES);
  return HEADER_BYTES + payload.length;
}

/** A DATA (or LAST-marker) segment. `seq` is taken mod 2^32. */
export function encodeData(seq: number, payload: Uint8Array, last = false): Uint8Array {
  const out = allocSegment(HEADER_BYTES + payload.length);
  encodeDataInto(out, seq, payload, last);
  return out;
}

export function encodeAck(seq: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  writeHeader(out, seq, 0, TYPE_ACK);
  return out;
}

export function encodeFin(): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  writeHeader(out, 0, 0, TYPE_FIN);
  return out;
}

export function decode(bytes: Uint8Array): Decoded {
  if (bytes.length < HEADER_BYTES) return { ok: false, error: 'short' };
  const seq = peekSeq(bytes);
  const field = (bytes[4]! << 8) | bytes[5]!;
  const type = (bytes[6]! << 8) | bytes[7]!;
  switch (type) {
    case TYPE_DATA:
    case TYPE_LAST:
      return {
        ok: true,
        segment: { kind: 'data', seq, checksum: field, payload: bytes.subarray(HEADER_BYTES), last: type === TYPE_LAST },
      };
    case TYPE_ACK:
      if (bytes.length !== HEADER_BYTES) return { ok: false, error: 'ack-with-payload' };
      if (field !== 0) return { ok: false, error: 'ack-bad-zero-field' };
      return { ok: true, segment: { kind: 'ack', seq } };
    case TYPE_FIN:
      if (bytes.length !== HEADER_BYTES || seq !== 0 || field !== 0) return { ok: false, error: 'fin-malformed' };
      return { ok: true, segment: { kind: 'fin' } };
    default:
      return { ok: false, error: 'unknown-type' };
  }
}
