// The sender's stop-and-wait state machine for ONE receiver (sans-I/O: no sockets, clocks or randomness).
// The driver feeds it datagrams and the current time, drains pollTransmit()/pollEvent(), and arms a timer
// for pollTimeout(). The same machine runs over real UDP (workers/) and in the simulator (sim/).

import { decode, encodeData, encodeFin, HEADER_BYTES } from './codec.js';
import { RtoEstimator, type RtoConfig } from './rto.js';

export type EofMode = 'empty' | 'fin' | 'last';
export const EOF_MODES: readonly EofMode[] = ['empty', 'fin', 'last'];
export const MSS_MIN_EXCLUSIVE = HEADER_BYTES;
export const MSS_MAX = 2048;

/**
 * The bytes being sent. A Uint8Array is one; a bounded shared window over a larger file is another (it
 * maps [start, end) of one segment onto its ring; the driver only lets the machine read loaded segments).
 */
export interface FileSource {
  readonly length: number;
  subarray(start: number, end: number): Uint8Array;
}

export interface SenderConfig {
  /** Whole segment size, header included: each DATA segment carries mss - 8 payload bytes. */
  mss: number;
  /** The file; may be backed by a SharedArrayBuffer shared by every receiver's machine. */
  file: FileSource;
  eof: EofMode;
  rto: RtoConfig;
  /** No ACK progress for this long while a segment is outstanding: the receiver is declared failed. */
  giveUpMs: number;
  /** Sequence number of segment 0 (the classic protocol uses 0; tests start near 2^32 to cross the wrap). */
  initialSeq?: number;
}

export type FailReason = 'no-answer' | 'port-unreachable' | 'aborted';

export type SenderEvent =
  | { type: 'timeout'; seq: number }
  | { type: 'acked'; index: number; rttMs: number | undefined }
  | { type: 'done' }
  | { type: 'failed'; reason: FailReason };

export interface SenderStats {
  segmentsSent: number;
  retransmissions: number;
  timeouts: number;
  segmentsAcked: number;
  bytesAcked: number;
  duplicateAcks: number;
  /** ACKs naming a segment that was never sent: must stay 0 with an honest receiver. */
  ackForUnsent: number;
  /** Datagrams that are not ACKs (garbage, DATA sent to the sender). */
  ignored: number;
}

export type SenderStatus = 'sending' | 'done' | 'failed';

/** Number of segments a transfer of `fileBytes` sends, end-of-file marker included. */
export function segmentCount(fileBytes: number, mss: number, eof: EofMode): number {
  const data = Math.ceil(fileBytes / (mss - HEADER_BYTES));
  return eof === 'last' ? Math.max(1, data) : data + 1;
}

export class SenderMachine {
  readonly total: number;
  readonly stats: SenderStats = {
    segmentsSent: 0,
    retransmissions: 0,
    timeouts: 0,
    segmentsAcked: 0,
    bytesAcked: 0,
    duplicateAcks: 0,
    ackForUnsent: 0,
    ignored: 0,
  };
  status: SenderStatus = 'sending';
  failReason: FailReason | undefined;

  private readonly payloadBytes: number;
  private readonly initialSeq: number;
  private readonly rto: RtoEstimator;
  /** Index of the segment being sent or next to send; equals the number of segments acknowledged. */
  private nextIndex = 0;
  /** Highest index this machine may send (lockstep barrier); unlimited in independent mode. */
  private limit = Number.POSITIVE_INFINITY;
  /** The segment at nextIndex once it has been sent (kept for retransmission); undefined before. */
  private current: Uint8Array | undefined;
  private transmitPending = false;
  private retransmitted = false;
  private sentAt = 0;
  private deadline: number | undefined;
  /** When the segment in flight was first sent: give-up counts from here (time spent at a lockstep barrier is not silence). */
  private waitingSince = 0;
  private readonly events: SenderEvent[] = [];

  constructor(private readonly cfg: SenderConfig) {
    if (!(cfg.mss > HEADER_BYTES)) throw new RangeError(`mss must exceed ${HEADER_BYTES}`);
    this.payloadBytes = cfg.mss - HEADER_BYTES;
    this.total = segmentCount(cfg.file.length, cfg.mss, cfg.eof);
    this.initialSeq = (cfg.initialSeq ?? 0) >>> 0;
    this.rto = new RtoEstimator(cfg.rto);
  }

  /** Segments acknowledged so far (the index of the next segment to deliver). */
  get acked(): number {
    return this.nextIndex;
  }

  get srttMs(): number | undefined {
    return this.rto.srttMs;
  }

  get rtoMs(): number {
    return this.rto.rtoMs;
  }

  /** Whether a segment is in flight (never more than one: stop-and-wait). */
  get inFlight(): boolean {
    return this.current !== undefined && this.status === 'sending';
  }

  seqOf(index: number): number {
    return (this.initialSeq + index) >>> 0;
  }

  /** Lockstep barrier: segments with index > `index` wait. */
  setLimit(index: number): void {
    this.limit = index;
  }

  pollTransmit(now: number): Uint8Array | undefined {
    if (this.status !== 'sending') return undefined;
    if (this.transmitPending) {
      this.transmitPending = false;
      this.stats.retransmissions++;
      return this.transmit(now);
    }
    if (this.current !== undefined || this.nextIndex >= this.total || this.nextIndex > this.limit) return undefined;
    this.current = this.buildSegment(this.nextIndex);
    this.retransmitted = false;
    this.waitingSince = now;
    return this.transmit(now);
  }

  private transmit(now: number): Uint8Array {
    this.sentAt = now;
    this.deadline = now + this.rto.rtoMs;
    this.stats.segmentsSent++;
    return this.current!;
  }

  private buildSegment(index: number): Uint8Array {
    const start = index * this.payloadBytes;
    const dataSegments = Math.ceil(this.cfg.file.length / this.payloadBytes);
    if (index >= dataSegments && this.cfg.eof === 'fin') return encodeFin();
    const payload = this.cfg.file.subarray(Math.min(start, this.cfg.file.length), start + this.payloadBytes);
    return encodeData(this.seqOf(index), payload, this.cfg.eof === 'last' && index === this.total - 1);
  }

  handleDatagram(now: number, bytes: Uint8Array): void {
    const decoded = decode(bytes);
    if (!decoded.ok || decoded.segment.kind === 'data') {
      this.stats.ignored++;
      return;
    }
    const seg = decoded.segment;
    const currentIsFin = this.cfg.eof === 'fin' && this.nextIndex === this.total - 1;
    const matchesCurrent = seg.kind === 'fin' ? currentIsFin : !currentIsFin && seg.seq === this.seqOf(this.nextIndex);
    if (matchesCurrent && this.current !== undefined && this.status === 'sending') {
      this.onAck(now);
      return;
    }
    // A late ACK for the segment in flight when the machine failed is not "unsent" either.
    if (this.isEarlierAck(seg) || (matchesCurrent && this.current !== undefined)) this.stats.duplicateAcks++;
    else this.stats.ackForUnsent++;
  }

  /** An ACK for a segment already acknowledged (a re-ACK of a retransmission, or a delayed copy). */
  private isEarlierAck(seg: { kind: 'ack'; seq: number } | { kind: 'fin' }): boolean {
    if (seg.kind === 'fin') return this.status === 'done' && this.cfg.eof === 'fin';
    const behind = (this.seqOf(this.nextIndex) - seg.seq) >>> 0;
    return behind >= 1 && behind <= Math.min(this.nextIndex, 0xffffffff);
  }

  private onAck(now: number): void {
    const rttMs = this.retransmitted ? undefined : now - this.sentAt;
    if (rttMs !== undefined) this.rto.sample(rttMs);
    const index = this.nextIndex;
    this.stats.segmentsAcked++;
    this.stats.bytesAcked += Math.max(0, Math.min(this.payloadBytes, this.cfg.file.length - index * this.payloadBytes));
    this.transmitPending = false;
    this.deadline = undefined;
    this.current = undefined;
    this.nextIndex++;
    this.events.push({ type: 'acked', index, rttMs });
    if (this.nextIndex >= this.total) {
      this.status = 'done';
      this.events.push({ type: 'done' });
    }
  }

  handleTimeout(now: number): void {
    if (!this.inFlight) return;
    // Same expression as pollTimeout(): `now - since >= giveUp` can be false at exactly since + giveUp (rounding),
    // and a driver woken at pollTimeout() would then spin at that instant forever.
    if (now >= this.waitingSince + this.cfg.giveUpMs) {
      this.fail('no-answer');
      return;
    }
    if (this.deadline === undefined || now < this.deadline) return;
    this.stats.timeouts++;
    this.events.push({ type: 'timeout', seq: this.seqOf(this.nextIndex) });
    this.rto.onTimeout();
    this.retransmitted = true;
    this.transmitPending = true;
    this.deadline = undefined;
  }

  /** Declare the receiver failed (give-up, ICMP port unreachable from the transport, or user abort). */
  fail(reason: FailReason): void {
    if (this.status !== 'sending') return;
    this.status = 'failed';
    this.failReason = reason;
    this.transmitPending = false;
    this.deadline = undefined;
    this.events.push({ type: 'failed', reason });
  }

  /** Earliest time handleTimeout() has work to do: the retransmission deadline or the give-up time. */
  pollTimeout(): number | undefined {
    if (!this.inFlight) return undefined;
    const giveUpAt = this.waitingSince + this.cfg.giveUpMs;
    if (this.transmitPending || this.deadline === undefined) return giveUpAt;
    return Math.min(this.deadline, giveUpAt);
  }

  pollEvent(): SenderEvent | undefined {
    return this.events.shift();
  }
}
