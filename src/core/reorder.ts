// The receiver's bounded reorder buffer: segments that arrive ahead of the next expected one are held (up to
// `capacity` sequence numbers ahead) so that one lost segment costs one retransmission, not the whole window.
// It never writes or acknowledges anything: the receiver still writes strictly in order (release() hands out
// the in-order run that an arrival completes) and still ACKs only what is on disk.
//
// Memory bound: at most `capacity` segments, i.e. capacity x (MSS - 8) payload bytes plus one small record each
// (capacity 64 at MSS 2048: 128 KiB). The buffer copies each payload it holds (a transport may reuse the buffer
// a datagram came in), and only those: under multicast most arrivals out of order are duplicates. What may be
// buffered at all is the caller's rule: nothing before the receiver has locked onto its sender (segment 0
// delivered), nothing from another sender.

import type { SeqRange } from './sack.js';

export interface Held {
  seq: number;
  payload: Uint8Array;
  /** The segment ends the file (empty payload or the LAST marker). */
  eof: boolean;
}

export type OfferResult = 'held' | 'already-held' | 'beyond';

export class ReorderBuffer {
  // Keyed by sequence number: seq mod capacity would collide across the 2^32 wrap unless capacity divides 2^32.
  private readonly held = new Map<number, Held>();
  /** The furthest sequence number held (bounds the range scan); meaningful while something is held. */
  private furthestSeq = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('reorder capacity must be a positive integer');
  }

  get size(): number {
    return this.held.size;
  }

  /** Distance of `seq` ahead of `expected` (mod 2^32): 0 is the expected segment itself. */
  private static ahead(seq: number, expected: number): number {
    return (seq - expected) >>> 0;
  }

  /**
   * Hold (a copy of) a segment that arrived ahead of `expected` (1 <= distance <= capacity). 'beyond': outside
   * the bound (or not ahead at all), not held; the caller treats it as the classic receiver does (re-ACK).
   */
  offer(expected: number, seq: number, payload: Uint8Array, eof: boolean): OfferResult {
    const d = ReorderBuffer.ahead(seq, expected);
    if (d < 1 || d > this.capacity) return 'beyond';
    if (this.held.has(seq)) return 'already-held';
    this.held.set(seq, { seq, payload: payload.slice(), eof });
    if (this.held.size === 1 || d > ReorderBuffer.ahead(this.furthestSeq, expected)) this.furthestSeq = seq;
    return 'held';
  }

  /** Remove and return the held run that starts at `expected` (in order), if any. */
  release(expected: number): Held[] {
    const out: Held[] = [];
    let seq = expected >>> 0;
    for (;;) {
      const h = this.held.get(seq);
      if (h === undefined) break;
      this.held.delete(seq);
      out.push(h);
      if (h.eof) break;
      seq = (seq + 1) >>> 0;
    }
    return out;
  }

  /** The held runs beyond `expected` as [start, end) ranges, ascending, at most `max` of them (for a SACK). */
  ranges(expected: number, max: number): SeqRange[] {
    const out: SeqRange[] = [];
    let start = -1;
    const furthest = this.held.size > 0 ? Math.min(this.capacity, ReorderBuffer.ahead(this.furthestSeq, expected)) : 0;
    for (let d = 1; d <= furthest + 1 && out.length < max; d++) {
      const seq = (expected + d) >>> 0;
      const held = d <= furthest && this.held.has(seq);
      if (held && start < 0) start = seq;
      else if (!held && start >= 0) {
        out.push({ start, end: seq });
        start = -1;
      }
    }
    return out;
  }

  clear(): void {
    this.held.clear();
  }
}
