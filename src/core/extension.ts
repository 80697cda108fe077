// The opt-in wire extensions (README, "Wire extensions"): their type codes, the ACK status codes they share,
// per-segment overhead, and which mode a datagram belongs to. Every extension type differs from the four
// classic ones, so a classic peer's decode() rejects them as 'unknown-type' and never writes them.

import { CLASSIC_TRAILER_BYTES, HEADER_BYTES, peekSeq, TYPE_ACK, TYPE_DATA, TYPE_FIN, TYPE_LAST } from './codec.js';

export type WireMode = 'classic' | 'verify' | 'key';

// 0x5A.. travel from the sender to receivers, 0xA5.. back; the low byte's high nibble is the mode.
export const TYPE_VDATA = 0x5a01;
export const TYPE_VEND = 0x5a02;
export const TYPE_VACK = 0xa501;
/** The authenticated SACK forms (README, "Wire extensions"): a cumulative ACK plus the ranges held beyond it. */
export const TYPE_VSACK = 0xa503;
export const TYPE_KHELLO = 0x5a10;
export const TYPE_KRESPONSE = 0x5a11;
export const TYPE_KDATA = 0x5a12;
export const TYPE_KEND = 0x5a13;
export const TYPE_KCHALLENGE = 0xa510;
export const TYPE_KACK = 0xa512;
export const TYPE_KSACK = 0xa513;

/** What an extension ACK says (its 16-bit middle field). */
export const ACK_STATUS = { ack: 0, committed: 1, mismatch: 2, open: 3 } as const;
export type AckStatus = (typeof ACK_STATUS)[keyof typeof ACK_STATUS];

/** The END segment carries the file's SHA-256. */
export const DIGEST_BYTES = 32;

/** What a data segment carries after its payload (crc32 or GCM tag): payloadBytes(mss, TRAILER_BYTES[mode]). */
export const TRAILER_BYTES: Readonly<Record<WireMode, number>> = { classic: CLASSIC_TRAILER_BYTES, verify: 4, key: 16 };

const MODE_OF_TYPE = new Map<number, WireMode>([
  [TYPE_DATA, 'classic'],
  [TYPE_LAST, 'classic'],
  [TYPE_ACK, 'classic'],
  [TYPE_FIN, 'classic'],
  [TYPE_VDATA, 'verify'],
  [TYPE_VEND, 'verify'],
  [TYPE_VACK, 'verify'],
  [TYPE_VSACK, 'verify'],
  [TYPE_KHELLO, 'key'],
  [TYPE_KRESPONSE, 'key'],
  [TYPE_KDATA, 'key'],
  [TYPE_KEND, 'key'],
  [TYPE_KCHALLENGE, 'key'],
  [TYPE_KACK, 'key'],
  [TYPE_KSACK, 'key'],
]);

export interface Header {
  seq: number;
  field: number;
  type: number;
}

/** The classic 8-byte header layout every extension segment keeps; undefined for a shorter datagram. */
export function readHeader(bytes: Uint8Array): Header | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  return {
    seq: peekSeq(bytes),
    field: (bytes[4]! << 8) | bytes[5]!,
    type: (bytes[6]! << 8) | bytes[7]!,
  };
}

/** The mode whose type code a datagram carries; undefined when it is too short or the type is nobody's. */
export function modeOf(bytes: Uint8Array): WireMode | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  return MODE_OF_TYPE.get((bytes[6]! << 8) | bytes[7]!);
}

export function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
