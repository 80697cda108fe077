// The selective-acknowledgement extension (opt-in: `--sack` on both sides). A receiver that holds segments
// beyond its cumulative point answers with a SACK instead of the classic ACK; a classic peer never sees one,
// since only a receiver started with --sack sends it and only a sender started with --sack reads it (codec.ts
// decodes the type as 'unknown-type', so a classic sender counts it as ignored).
//
//   SACK | cum:u32 | checksum:u16 | 0xAAAB:u16 | n x ( start:u32 | end:u32 )      1 <= n <= SACK_MAX_RANGES
//
// `cum` has the classic ACK's meaning (the last in-sequence segment, cumulative). Each range [start, end) is a
// run of sequence numbers (mod 2^32) the receiver holds beyond cum + 1, in ascending order from cum, disjoint and
// not adjacent. `checksum` is the Internet checksum (RFC 1071) over bytes 0-3 and the ranges, so a damaged SACK
// is dropped rather than believed (a false "held" would keep a hole from being repaired until the RTO).

import { checksumExcept, HEADER_BYTES } from './codec.js';

export const TYPE_SACK = 0xaaab;
/** At most this many ranges per SACK (8 + 16 x 8 = 136 bytes): the oldest holes matter most. */
export const SACK_MAX_RANGES = 16;
export const RANGE_BYTES = 8;

/** A run of held sequence numbers [start, end), mod 2^32. */
export interface SeqRange {
  start: number;
  end: number;
}

export interface Sack {
  cum: number;
  ranges: SeqRange[];
}

export type SackDecodeError = 'not-sack' | 'bad-length' | 'bad-checksum' | 'bad-ranges';

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/** The SACK's checksum: over cum and the ranges (bytes 0-3 and 8 on; the checksum and type fields left out). */
function sackChecksum(bytes: Uint8Array): number {
  return checksumExcept(bytes, 4, HEADER_BYTES);
}

/** Whether a SACK form (classic, --verify, --key) may carry `n` ranges: 1..SACK_MAX_RANGES. */
export function isRangeCount(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= SACK_MAX_RANGES;
}

/** The encoders' check: a `form` (SACK, VSACK, KSACK) carries 1..SACK_MAX_RANGES ranges. */
export function checkRangeCount(form: string, ranges: readonly SeqRange[]): void {
  if (!isRangeCount(ranges.length)) throw new RangeError(`a ${form} carries 1..${SACK_MAX_RANGES} ranges`);
}

/** Whether a datagram carries the SACK type (cheap test before decodeSack). */
export function isSack(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER_BYTES && ((bytes[6]! << 8) | bytes[7]!) === TYPE_SACK;
}

export function encodeSack(cum: number, ranges: readonly SeqRange[]): Uint8Array {
  checkRangeCount('SACK', ranges);
  const out = new Uint8Array(HEADER_BYTES + ranges.length * RANGE_BYTES);
  putU32(out, 0, cum);
  out[6] = TYPE_SACK >>> 8;
  out[7] = TYPE_SACK & 0xff;
  writeRanges(out, HEADER_BYTES, ranges);
  const sum = sackChecksum(out);
  out[4] = sum >>> 8;
  out[5] = sum & 0xff;
  return out;
}

/** Never throws: a SACK comes from the network. Ranges must be ascending from cum, non-empty, disjoint. */
export function decodeSack(bytes: Uint8Array): { ok: true; sack: Sack } | { ok: false; error: SackDecodeError } {
  if (!isSack(bytes)) return { ok: false, error: 'not-sack' };
  const n = (bytes.length - HEADER_BYTES) / RANGE_BYTES;
  if (!isRangeCount(n)) return { ok: false, error: 'bad-length' };
  if (sackChecksum(bytes) !== ((bytes[4]! << 8) | bytes[5]!)) return { ok: false, error: 'bad-checksum' };
  const cum = u32(bytes, 0);
  const ranges = readRanges(bytes, HEADER_BYTES, n, cum);
  return ranges === undefined ? { ok: false, error: 'bad-ranges' } : { ok: true, sack: { cum, ranges } };
}

/** The ranges laid out at `at`, each as start:u32 | end:u32 (every SACK form: classic, --verify, --key). */
export function writeRanges(out: Uint8Array, at: number, ranges: readonly SeqRange[]): void {
  ranges.forEach((r, i) => {
    putU32(out, at + i * RANGE_BYTES, r.start);
    putU32(out, at + i * RANGE_BYTES + 4, r.end);
  });
}

/**
 * The `n` ranges at `at`, if they are what a SACK for `cum` may carry: ascending from cum, non-empty, disjoint and
 * not adjacent, starting at cum + 2 or later; undefined otherwise.
 */
export function readRanges(bytes: Uint8Array, at: number, n: number, cum: number): SeqRange[] | undefined {
  const ranges: SeqRange[] = [];
  // Distances from cum must grow strictly: each range starts beyond the previous end (a gap of at least one).
  let floor = 1;
  for (let i = 0; i < n; i++) {
    const start = u32(bytes, at + i * RANGE_BYTES);
    const end = u32(bytes, at + i * RANGE_BYTES + 4);
    const s = (start - cum) >>> 0;
    const e = (end - cum) >>> 0;
    if (s <= floor || e <= s || e > 0x80000000) return undefined;
    floor = e;
    ranges.push({ start, end });
  }
  return ranges;
}
