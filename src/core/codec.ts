// Wire format of P2MP-FTP (the classic header; all integers big-endian):
//   DATA: seq:u32 | checksum:u16 | 0x5555:u16 | payload
//   LAST: seq:u32 | checksum:u16 | 0x5557:u16 | payload   (a "last segment" marker, accepted as end of file)
//   ACK:  seq:u32 | 0x0000:u16   | 0xAAAA:u16
//   FIN:  0x00000000 | 0x0000    | 0xFFFF:u16             (accepted as end of file, echoed back as its ACK)
// Decoding never throws: bytes from the network are untrusted, so every failure is a value.

export const HEADER_BYTES = 8;
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

/** The 16-bit one's-complement sum of big-endian words; an odd last byte is the high byte of a final word (RFC 1071). */
function onesComplementSum(bytes: Uint8Array, lowPadOddByte: boolean): number {
  let sum = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) {
    sum += (bytes[i]! << 8) | bytes[i + 1]!;
    // Fold often enough that the sum stays a small integer (no float precision loss on large payloads).
    if (sum > 0xffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (even !== bytes.length) {
    const odd = bytes[even]!;
    sum += lowPadOddByte ? odd : odd << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Internet checksum (RFC 1071) of a payload, as UDP computes it. */
export function checksum(payload: Uint8Array): number {
  return ~onesComplementSum(payload, false) & 0xffff;
}

/** The variant some classic implementations compute: an odd last byte added as the low byte of the last word. */
export function lowPadChecksum(payload: Uint8Array): number {
  return ~onesComplementSum(payload, true) & 0xffff;
}

/** True when `sum` is the payload's checksum in the RFC 1071 form or, for odd lengths only, the low-pad variant. */
export function checksumMatches(payload: Uint8Array, sum: number): boolean {
  if (checksum(payload) === sum) return true;
  return (payload.length & 1) === 1 && lowPadChecksum(payload) === sum;
}

function writeHeader(out: Uint8Array, seq: number, field: number, type: number): void {
  const view = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  view.setUint32(0, seq >>> 0);
  view.setUint16(4, field);
  view.setUint16(6, type);
}

/** A DATA (or LAST-marker) segment. `seq` is taken mod 2^32. */
export function encodeData(seq: number, payload: Uint8Array, last = false): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  writeHeader(out, seq, checksum(payload), last ? TYPE_LAST : TYPE_DATA);
  out.set(payload, HEADER_BYTES);
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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const seq = view.getUint32(0);
  const field = view.getUint16(4);
  const type = view.getUint16(6);
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
