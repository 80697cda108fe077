// Simulated links. Each receiver has two independent one-way links (sender->receiver carries DATA, the reverse
// carries ACKs), each with its own PRNG stream. A packet draws its own delay (minimum + uniform jitter), so
// reordering emerges; loss, duplication and single-bit corruption apply only during the faulty phase
// (send time < faultUntilMs) so that liveness can be asserted afterwards.

import { HEADER_BYTES, peekType, TYPE_ACK, TYPE_DATA, TYPE_FIN, TYPE_LAST } from '../src/core/codec.js';
import { TYPE_SACK } from '../src/core/sack.js';
import { randomInt, type Random } from './prng.js';

/**
 * Which bits corruption may flip. 'checked': only bits covered by an integrity check of the protocol (DATA payload
 * and checksum field, ACK's zero field, FIN's zero fields); the classic header's seq and type fields are not
 * checksummed, and on a real network UDP's own checksum would drop such datagrams. 'any': every bit.
 */
export type CorruptScope = 'checked' | 'any';

export interface LinkOptions {
  /** Minimum one-way delay. */
  delayMs: number;
  /** Extra delay drawn uniformly from [0, jitterMs) per packet. */
  jitterMs: number;
  /** Probability that a packet is dropped. */
  loss: number;
  /** Probability that a packet is delivered twice (each copy draws its own delay). */
  duplicate: number;
  /** Probability that a delivered copy has one bit flipped. */
  corrupt: number;
  /** Serialization rate in Mbit/s; 0 means unlimited (no serialization delay, no queueing). */
  bandwidthMbps: number;
  /**
   * Drop-tail bound of a rate-limited link's queue, in packets (the one being serialized included); 0 =
   * unbounded. Applies for the whole run, faulty phase or not, as a router's buffer would.
   */
  queuePackets: number;
}

/** IPv4 + UDP headers, counted when serializing a datagram onto a rate-limited link. */
export const UDP_IP_OVERHEAD_BYTES = 28;

/** Receives each copy a link delivers; `corrupted` lets the observer tell a damaged datagram from an honest one. */
export type Deliver = (atMs: number, bytes: Uint8Array, corrupted: boolean) => void;

export interface LinkStats {
  /** Datagrams handed to the link. */
  sent: number;
  dropped: number;
  /** Of `dropped`, packets refused by a full queue (drop-tail). */
  queueDrops: number;
  /** Extra copies created. */
  duplicated: number;
  corrupted: number;
}

/** Serialization time of `bytes` on a link of `mbps` (0 = unlimited). */
export function serializationMs(bytes: number, mbps: number): number {
  return mbps > 0 ? ((bytes + UDP_IP_OVERHEAD_BYTES) * 8) / (mbps * 1000) : 0;
}

/** Byte ranges [start, end) whose bits a 'checked' corruption may flip, by datagram type. */
function checkedRanges(bytes: Uint8Array): ReadonlyArray<readonly [number, number]> {
  switch (peekType(bytes)) {
    case TYPE_DATA:
    case TYPE_LAST:
      return [
        [4, 6],
        [HEADER_BYTES, bytes.length],
      ];
    case TYPE_ACK:
      return [[4, 6]];
    case TYPE_SACK:
      return [
        [0, 6],
        [HEADER_BYTES, bytes.length],
      ];
    case TYPE_FIN:
      return [[0, 6]];
    default:
      return [[0, bytes.length]];
  }
}

/** A copy of `bytes` with one bit flipped, chosen uniformly within the scope; undefined for an empty datagram. */
export function flipBit(bytes: Uint8Array, random: Random, scope: CorruptScope): Uint8Array | undefined {
  const ranges = scope === 'any' ? [[0, bytes.length] as const] : checkedRanges(bytes);
  let bits = 0;
  for (const [s, e] of ranges) bits += (e - s) * 8;
  if (bits === 0) return undefined;
  let pick = randomInt(random, bits);
  const out = bytes.slice();
  for (const [s, e] of ranges) {
    const span = (e - s) * 8;
    if (pick < span) {
      const at = s + (pick >> 3);
      out[at] = out[at]! ^ (1 << (pick & 7));
      return out;
    }
    pick -= span;
  }
  return undefined;
}

export class Link {
  readonly stats: LinkStats = { sent: 0, dropped: 0, queueDrops: 0, duplicated: 0, corrupted: 0 };
  /** When the link finishes serializing what is queued (rate-limited links only). */
  private busyUntil = 0;
  /** Departure times of the packets queued on a bounded link, oldest first (a ring of queuePackets). */
  private readonly departures: Float64Array;
  private queueHead = 0;
  private queued = 0;

  constructor(
    readonly options: LinkOptions,
    private readonly random: Random,
    /** Faults apply to packets sent before this virtual time; afterwards the link only delays. */
    private readonly faultUntilMs: number,
    private readonly scope: CorruptScope,
    private readonly deliver: Deliver,
  ) {
    this.departures = new Float64Array(options.bandwidthMbps > 0 ? options.queuePackets : 0);
  }

  /** Drop-tail: whether a bounded queue has room at `now` (packets whose serialization ended have left). */
  private queueAccepts(now: number): boolean {
    const q = this.departures;
    if (q.length === 0) return true;
    while (this.queued > 0 && q[this.queueHead]! <= now) {
      this.queueHead = (this.queueHead + 1) % q.length;
      this.queued--;
    }
    return this.queued < q.length;
  }

  private enqueue(departs: number): void {
    const q = this.departures;
    if (q.length === 0) return;
    q[(this.queueHead + this.queued) % q.length] = departs;
    this.queued++;
  }

  send(now: number, bytes: Uint8Array): void {
    const o = this.options;
    const faulty = now < this.faultUntilMs;
    this.stats.sent++;
    // Draw only for enabled faults: cheaper, and the stream is still a pure function of seed and options.
    if (faulty && o.loss > 0 && this.random() < o.loss) {
      this.stats.dropped++;
      return;
    }
    const copies = faulty && o.duplicate > 0 && this.random() < o.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      let out = bytes;
      let corrupted = false;
      if (faulty && o.corrupt > 0 && this.random() < o.corrupt) {
        const flipped = flipBit(bytes, this.random, this.scope);
        if (flipped !== undefined) {
          out = flipped;
          corrupted = true;
          this.stats.corrupted++;
        }
      }
      let departs = now;
      if (o.bandwidthMbps > 0) {
        if (!this.queueAccepts(now)) {
          this.stats.dropped++;
          this.stats.queueDrops++;
          continue;
        }
        this.busyUntil = Math.max(now, this.busyUntil) + serializationMs(out.length, o.bandwidthMbps);
        departs = this.busyUntil;
        this.enqueue(departs);
      }
      const jitter = o.jitterMs > 0 ? this.random() * o.jitterMs : 0;
      this.deliver(departs + o.delayMs + jitter, out, corrupted);
    }
  }
}
