// What a transfer sends, segment by segment: how many segments a file makes under an end-of-file convention,
// and the encoded bytes of each. The group encodes a segment once for all its receivers (lockstep sends the
// same index to everybody within one round trip; independent receivers stay close), so a small cache keyed
// by index serves every flow.

import { encodeData, encodeFin, payloadBytes } from './codec.js';
import { TRAILER_BYTES, type WireMode } from './extension.js';
import type { EofMode, WireOptions } from './options.js';
import { MAX_SEALED_SEGMENTS } from './seal.js';
import { groupWire, type FlowWire, type GroupWire } from './sender-wire.js';

/**
 * The bytes being sent. A Uint8Array is one; a bounded shared buffer over a larger file is another (it
 * maps [start, end) of one segment onto its ring; the group only lets flows read loaded segments).
 */
export interface FileSource {
  readonly length: number;
  subarray(start: number, end: number): Uint8Array;
}

/**
 * Number of segments a transfer of `fileBytes` sends, end-of-file marker included. With --verify or --key
 * (`wire`) the end is always the END segment after the data, and the trailer takes room in each segment.
 */
export function segmentCount(fileBytes: number, mss: number, eof: EofMode, wire?: WireMode): number {
  const data = Math.ceil(fileBytes / payloadBytes(mss, TRAILER_BYTES[wire ?? 'classic']));
  return eof === 'last' && wire === undefined ? Math.max(1, data) : data + 1;
}

/** Encoded segments cached per index: enough for receivers spread over a few rounds. */
const CACHE_SLOTS = 256;

export class SegmentSource {
  readonly total: number;
  readonly payloadBytes: number;
  readonly initialSeq: number;
  private readonly dataSegments: number;
  private readonly cached: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(CACHE_SLOTS);
  private readonly cachedIndex = new Float64Array(CACHE_SLOTS).fill(-1);
  /** Segments encoded (cache misses): equals `total` when every index was encoded exactly once. */
  encoded = 0;

  private readonly wire: GroupWire | undefined;
  private readonly digest: Uint8Array | undefined;

  constructor(
    private readonly file: FileSource,
    mss: number,
    private readonly eof: EofMode,
    initialSeq = 0,
    wire?: WireOptions,
  ) {
    this.payloadBytes = payloadBytes(mss, TRAILER_BYTES[wire?.mode ?? 'classic']);
    if (!(this.payloadBytes > 0)) throw new RangeError(`mss ${mss} leaves no room for data`);
    this.total = segmentCount(file.length, mss, eof, wire?.mode);
    this.dataSegments = Math.ceil(file.length / this.payloadBytes);
    this.initialSeq = initialSeq >>> 0;
    // The seq is the --key data nonce: more segments than seqs would seal two segments under one nonce.
    if (wire?.mode === 'key' && this.total > MAX_SEALED_SEGMENTS) throw new RangeError(`--key: ${this.total} segments exceed the 2^32 a transfer may seal`);
    this.wire = wire && groupWire(wire);
    this.digest = wire?.digest;
  }

  /** The group's wire (--verify, --key), whose flows hold each receiver's side; undefined: classic. */
  flowWire(): FlowWire | undefined {
    return this.wire?.flow();
  }

  seqOf(index: number): number {
    return (this.initialSeq + index) >>> 0;
  }

  /** The index of the FIN segment under the fin convention, else -1 (the FIN's seq field is always 0). */
  get finIndex(): number {
    return this.eof === 'fin' && this.wire === undefined ? this.total - 1 : -1;
  }

  /** Payload bytes of segment `index` (0 for the end-of-file marker). */
  bytesOf(index: number): number {
    return Math.max(0, Math.min(this.payloadBytes, this.file.length - index * this.payloadBytes));
  }

  /** The encoded segment `index`, built once while it stays in the cache. */
  segment(index: number): Uint8Array {
    const slot = index % CACHE_SLOTS;
    if (this.cachedIndex[slot] === index) return this.cached[slot]!;
    const bytes = this.build(index);
    this.cached[slot] = bytes;
    this.cachedIndex[slot] = index;
    this.encoded++;
    return bytes;
  }

  private build(index: number): Uint8Array {
    const start = index * this.payloadBytes;
    if (this.wire !== undefined) {
      const seq = this.seqOf(index);
      return index < this.dataSegments ? this.wire.data(seq, this.file.subarray(start, start + this.payloadBytes)) : this.wire.end(seq, this.digest!);
    }
    if (index >= this.dataSegments && this.eof === 'fin') return encodeFin();
    const payload = this.file.subarray(Math.min(start, this.file.length), start + this.payloadBytes);
    return encodeData(this.seqOf(index), payload, this.eof === 'last' && index === this.total - 1);
  }
}
