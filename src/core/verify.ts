// The --verify wire (README, "Wire extensions"): every segment ends in a CRC-32 over all the bytes before
// it, header included, and the end of the transfer (VEND) carries the whole file's SHA-256. Integrity
// against accidents only: anyone can compute both (--key is the protection against an attacker).
// Decoding never throws: bytes from the network are untrusted.

import { zlib } from './builtins.js';
import { HEADER_BYTES, writeHeader } from './codec.js';
import { ACK_STATUS, DIGEST_BYTES, readHeader, readU32, TYPE_VACK, TYPE_VDATA, TYPE_VEND, TYPE_VSACK, TRAILER_BYTES, writeU32, type AckStatus } from './extension.js';
import { checkRangeCount, isRangeCount, RANGE_BYTES, readRanges, writeRanges, type SeqRange } from './sack.js';

export const CRC_BYTES = TRAILER_BYTES.verify;
/** Largest payload the 16-bit len field can describe (well above MSS_MAX - 12). */
const MAX_LEN = 0xffff;

export type VerifiedSegment =
  | { kind: 'data'; seq: number; payload: Uint8Array }
  | { kind: 'end'; seq: number; digest: Uint8Array }
  | { kind: 'ack'; seq: number; status: AckStatus }
  /** VSACK: the cumulative ACK of `seq` (status ACK) and the ranges held beyond it. */
  | { kind: 'sack'; seq: number; ranges: SeqRange[] };

/** 'bad-crc': damaged in transit (count it like a bad checksum); the rest can only be malformed or foreign. */
export type VerifyError = 'short' | 'not-verify' | 'bad-crc' | 'malformed';
export type VerifiedDecoded = { ok: true; segment: VerifiedSegment } | { ok: false; error: VerifyError };

function withCrc(seq: number, field: number, type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length + CRC_BYTES);
  writeHeader(out, seq, field, type);
  out.set(body, HEADER_BYTES);
  writeU32(out, out.length - CRC_BYTES, zlib().crc32(out.subarray(0, out.length - CRC_BYTES)));
  return out;
}

/** VDATA: one non-empty piece of the file (an empty payload is not an end of file here: VEND is). */
export function encodeVerifiedData(seq: number, payload: Uint8Array): Uint8Array {
  if (payload.length === 0 || payload.length > MAX_LEN) throw new RangeError(`VDATA payload must be 1..${MAX_LEN} bytes`);
  return withCrc(seq, payload.length, TYPE_VDATA, payload);
}

/** VEND: the end of the transfer, carrying the file's SHA-256; its ACK (COMMITTED or MISMATCH) is the verdict. */
export function encodeVerifiedEnd(seq: number, digest: Uint8Array): Uint8Array {
  if (digest.length !== DIGEST_BYTES) throw new RangeError(`digest must be ${DIGEST_BYTES} bytes`);
  return withCrc(seq, DIGEST_BYTES, TYPE_VEND, digest);
}

export function encodeVerifiedAck(seq: number, status: AckStatus): Uint8Array {
  return withCrc(seq, status, TYPE_VACK, new Uint8Array(0));
}

/** VSACK: the ACK of `cum` (the last in-sequence segment) with the 1..SACK_MAX_RANGES ranges held beyond it. */
export function encodeVerifiedSack(cum: number, ranges: readonly SeqRange[]): Uint8Array {
  checkRangeCount('VSACK', ranges);
  const body = new Uint8Array(ranges.length * RANGE_BYTES);
  writeRanges(body, 0, ranges);
  return withCrc(cum, ranges.length, TYPE_VSACK, body);
}

export function decodeVerified(bytes: Uint8Array): VerifiedDecoded {
  const h = readHeader(bytes);
  if (h === undefined || bytes.length < HEADER_BYTES + CRC_BYTES) return { ok: false, error: 'short' };
  if (h.type !== TYPE_VDATA && h.type !== TYPE_VEND && h.type !== TYPE_VACK && h.type !== TYPE_VSACK) return { ok: false, error: 'not-verify' };
  const end = bytes.length - CRC_BYTES;
  if (zlib().crc32(bytes.subarray(0, end)) !== readU32(bytes, end)) return { ok: false, error: 'bad-crc' };
  const body = bytes.subarray(HEADER_BYTES, end);
  switch (h.type) {
    case TYPE_VDATA:
      if (body.length === 0 || h.field !== body.length) return { ok: false, error: 'malformed' };
      return { ok: true, segment: { kind: 'data', seq: h.seq, payload: body } };
    case TYPE_VEND:
      if (h.field !== DIGEST_BYTES || body.length !== DIGEST_BYTES) return { ok: false, error: 'malformed' };
      return { ok: true, segment: { kind: 'end', seq: h.seq, digest: body } };
    case TYPE_VSACK: {
      if (!isRangeCount(h.field) || body.length !== h.field * RANGE_BYTES) return { ok: false, error: 'malformed' };
      const ranges = readRanges(body, 0, h.field, h.seq);
      return ranges === undefined ? { ok: false, error: 'malformed' } : { ok: true, segment: { kind: 'sack', seq: h.seq, ranges } };
    }
    default:
      if (body.length !== 0) return { ok: false, error: 'malformed' };
      if (h.field !== ACK_STATUS.ack && h.field !== ACK_STATUS.committed && h.field !== ACK_STATUS.mismatch) return { ok: false, error: 'malformed' };
      return { ok: true, segment: { kind: 'ack', seq: h.seq, status: h.field } };
  }
}
