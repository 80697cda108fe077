// The sender's stop-and-wait ARQ for ONE receiver (sans-I/O: no sockets, clocks or randomness). The group
// (group.ts) owns one flow per receiver, feeds it that receiver's datagrams and the time, and drains
// pollTransmit()/pollEvent()/pollTimeout(). Segment bytes come from the group's SegmentSource, encoded
// once for every flow.

import { decode } from './codec.js';
import { giveUpReason, ignoresUnreachable, statusMeaning } from './answers.js';
import type { FlowWire } from './sender-wire.js';
import { Fifo } from './queue.js';
import { RtoEstimator, type RtoConfig } from './rto.js';
import type { SenderOptions } from './options.js';
import { SegmentSource, type FileSource } from './segments.js';
import { StartWait } from './start-wait.js';

export interface FlowConfig {
  segments: SegmentSource;
  rto: RtoConfig;
  /** No ACK progress for this long while a segment is outstanding: the receiver is declared failed. */
  giveUpMs: number;
  /** Port unreachable before the first ACK is retried, not failed, this long after the first transmission (SenderOptions.waitMs). */
  waitMs?: number;
  /** Also emit the instrumentation events ('sent', 'rtt'): for benchmarks and the simulator's observer. */
  instrument?: boolean;
  /** This flow's receiver index in its group (carried by every event; 0 alone). */
  receiver?: number;
  /** Where events go: the group's queue (no copying per event), or the flow's own for pollEvent(). */
  events?: Fifo<SenderEvent>;
}

/**
 * Why a receiver failed. 'no-answer' (silence for the give-up time) and 'port-unreachable' (ICMP) become
 * 'eof-unconfirmed' when every data segment was acknowledged and only the end-of-file marker was not, and
 * 'no-answer' becomes 'wrong-address' when ACKs for this flow came from another address (handleStray).
 * With --verify/--key, 'no-valid-answer': nothing valid of that mode ever came back (a classic receiver, the
 * other mode, another key); 'digest-mismatch': the receiver's copy failed the file's SHA-256, not committed.
 * 'never-registered' (multicast): the receiver never acknowledged its first segment, so it was left out.
 */
export type FailReason = 'never-registered' | 'no-answer' | 'no-valid-answer' | 'digest-mismatch' | 'port-unreachable' | 'eof-unconfirmed' | 'wrong-address' | 'socket-error' | 'aborted';

/**
 * A wake-up this much later than its deadline means the sender itself was not running (suspended by SIGSTOP,
 * a blocked event loop): that time is not the receiver's silence, so it does not count towards the give-up.
 */
const STALL_MS = 500;

/** How long past its deadline `due` (by more than STALL_MS) a flow is handled at `now`, or 0: time the sender did not run. */
export function stalledBy(now: number, due: number | undefined): number {
  return due !== undefined && now - due > STALL_MS ? now - due : 0;
}

/** Every event names its receiver (the flow's index in its group). */
export type SenderEvent =
  /** A retransmission timer expired (`lateMs`: how long after its deadline it was handled). */
  | { type: 'timeout'; receiver: number; seq: number; index: number; lateMs: number }
  | { type: 'acked'; receiver: number; index: number; rttMs: number | undefined }
  | { type: 'done'; receiver: number }
  | { type: 'failed'; receiver: number; reason: FailReason }
  /** Instrumentation: a segment put on the wire (first copy or retransmission). */
  | { type: 'sent'; receiver: number; index: number; retransmission: boolean }
  /** Instrumentation: an RTT sample taken (Karn: first transmissions only). */
  | { type: 'rtt'; receiver: number; index: number; rttMs: number };

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
  /** ICMP port unreachable reports (retried while the receiver may still be starting, see waitMs). */
  unreachable: number;
  /** ACKs for this flow's segments that came from another address than the receiver's (see handleStray). */
  misaddressedAcks: number;
}

/** Every counter at 0 (SenderFlow's; WindowFlow's start with these). */
export const newSenderStats = (): SenderStats => ({
  segmentsSent: 0,
  retransmissions: 0,
  timeouts: 0,
  segmentsAcked: 0,
  bytesAcked: 0,
  duplicateAcks: 0,
  ackForUnsent: 0,
  ignored: 0,
  unreachable: 0,
  misaddressedAcks: 0,
});

export type SenderStatus = 'sending' | 'done' | 'failed';

export class SenderFlow {
  readonly stats: SenderStats = newSenderStats();
  status: SenderStatus = 'sending';
  failReason: FailReason | undefined;

  private readonly segments: SegmentSource;
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
  /** The wait window for a receiver that is not listening yet (from the first transmission). */
  private readonly startWait: StartWait;
  private readonly events: Fifo<SenderEvent>;
  private readonly receiver: number;
  /** --verify/--key: this receiver's side of the wire; undefined: classic. */
  private readonly wire: FlowWire | undefined;
  /** The segment in flight is a --key handshake step (sent before segment 0; not a segment of the file). */
  private handshaking = false;
  /** A valid answer of the wire's mode has arrived (so silence is "no answer", not "wrong mode"). */
  private answered = false;

  constructor(private readonly cfg: FlowConfig) {
    this.segments = cfg.segments;
    this.receiver = cfg.receiver ?? 0;
    this.events = cfg.events ?? new Fifo<SenderEvent>();
    this.rto = new RtoEstimator(cfg.rto);
    this.wire = cfg.segments.flowWire();
    this.startWait = new StartWait(cfg.waitMs);
  }

  /** Segments in the transfer (Infinity while a streamed input's end is unknown). */
  get total(): number {
    return this.segments.total;
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
    return this.segments.seqOf(index);
  }

  /** The group's gate (lockstep barrier, loaded file buffer): segments with index > `index` wait. */
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
    if (this.current !== undefined) return undefined;
    const step = this.wire?.handshake();
    this.handshaking = step !== undefined;
    if (step === undefined && (this.nextIndex >= this.total || this.nextIndex > this.limit)) return undefined;
    this.current = step ?? this.segments.segment(this.nextIndex);
    this.retransmitted = false;
    this.waitingSince = now;
    this.startWait.sent(now);
    return this.transmit(now);
  }

  private transmit(now: number): Uint8Array {
    this.sentAt = now;
    this.deadline = now + this.rto.rtoMs;
    this.stats.segmentsSent++;
    if (this.cfg.instrument && !this.handshaking) this.events.push({ type: 'sent', receiver: this.receiver, index: this.nextIndex, retransmission: this.retransmitted });
    return this.current!;
  }

  handleDatagram(now: number, bytes: Uint8Array): void {
    if (this.wire !== undefined) {
      this.handleWire(now, this.wire, bytes);
      return;
    }
    const decoded = decode(bytes);
    if (!decoded.ok || decoded.segment.kind === 'data') {
      this.stats.ignored++;
      return;
    }
    const seg = decoded.segment;
    const matchesCurrent = this.matchesCurrent(seg);
    if (matchesCurrent && this.current !== undefined && this.status === 'sending') {
      this.onAck(now);
      return;
    }
    // A late ACK for the segment in flight when the machine failed is not "unsent" either.
    if (this.isEarlierAck(seg) || (matchesCurrent && this.current !== undefined)) this.stats.duplicateAcks++;
    else this.stats.ackForUnsent++;
  }

  /** --verify/--key: the wire judges the datagram; a valid answer moves the handshake or acknowledges a segment. */
  private handleWire(now: number, wire: FlowWire, bytes: Uint8Array): void {
    const a = wire.read(bytes);
    if (a.kind === 'ignored') {
      this.stats.ignored++;
      return;
    }
    this.answered = true;
    const sending = this.current !== undefined && this.status === 'sending';
    if (a.kind === 'handshake') {
      if (sending && this.handshaking) this.advance(now);
      return;
    }
    const matchesCurrent = !this.handshaking && a.seq === this.seqOf(this.nextIndex);
    if (matchesCurrent && sending) {
      const meaning = statusMeaning(a.status, this.nextIndex === this.total - 1);
      if (meaning === 'mismatch') return this.fail('digest-mismatch');
      if (meaning === 'progress') return this.onAck(now);
    }
    if (this.isEarlierAck(a) || (matchesCurrent && this.current !== undefined)) this.stats.duplicateAcks++;
    else this.stats.ackForUnsent++;
  }

  /** The next segment this flow will send for the first time once the one in flight is acknowledged (to seal ahead). */
  get nextNew(): number {
    return this.nextIndex + 1;
  }

  /** While idle (the datagram in flight is on the wire): let the wire get ready for its ACK. */
  prepare(): void {
    if (this.current !== undefined && !this.handshaking) this.wire?.prepare(this.seqOf(this.nextIndex));
  }

  /** The segment (or handshake step) in flight was answered: sample the RTT (Karn) and stop its timer. */
  private advance(now: number): number | undefined {
    // Karn: no sample from a retransmitted segment; nor across a stall (an ACK handled long after a deadline
    // that was never handled: the sender was not running, so the time measured is not the network's).
    const rttMs = this.retransmitted || this.stalledAt(now) > 0 ? undefined : now - this.sentAt;
    if (rttMs !== undefined) this.rto.sample(rttMs);
    this.transmitPending = false;
    this.deadline = undefined;
    this.current = undefined;
    this.handshaking = false;
    return rttMs;
  }

  /**
   * A datagram that reached this flow's local port from another address than its receiver's, but from the
   * receiver's port (the transport cannot deliver it as an answer: it is not from the address written to).
   * Never an answer; an ACK for a segment this flow has sent is counted, as the sign of a receiver bound to
   * 0.0.0.0 on a host with several addresses, answering from another one.
   */
  handleStray(bytes: Uint8Array): void {
    const decoded = decode(bytes);
    if (!decoded.ok || decoded.segment.kind === 'data') return;
    const seg = decoded.segment;
    if ((this.matchesCurrent(seg) && this.current !== undefined) || this.isEarlierAck(seg)) this.stats.misaddressedAcks++;
  }

  private matchesCurrent(seg: { kind: 'ack'; seq: number } | { kind: 'fin' }): boolean {
    const currentIsFin = this.nextIndex === this.segments.finIndex;
    return seg.kind === 'fin' ? currentIsFin : !currentIsFin && seg.seq === this.seqOf(this.nextIndex);
  }

  /** An ACK for a segment already acknowledged (a re-ACK of a retransmission, or a delayed copy). */
  private isEarlierAck(seg: { kind: 'ack'; seq: number } | { kind: 'fin' }): boolean {
    if (seg.kind === 'fin') return this.status === 'done' && this.segments.finIndex >= 0;
    const behind = (this.seqOf(this.nextIndex) - seg.seq) >>> 0;
    return behind >= 1 && behind <= Math.min(this.nextIndex, 0xffffffff);
  }

  private onAck(now: number): void {
    const index = this.nextIndex;
    const rttMs = this.advance(now);
    if (rttMs !== undefined && this.cfg.instrument) this.events.push({ type: 'rtt', receiver: this.receiver, index, rttMs });
    this.stats.segmentsAcked++;
    this.stats.bytesAcked += this.segments.bytesOf(index);
    this.nextIndex++;
    this.events.push({ type: 'acked', receiver: this.receiver, index, rttMs });
    if (this.nextIndex >= this.total) {
      this.status = 'done';
      this.events.push({ type: 'done', receiver: this.receiver });
    }
  }

  handleTimeout(now: number): void {
    if (!this.inFlight) return;
    const late = this.stalledAt(now);
    if (late > 0) {
      // Woken long after the deadline: the sender was not running meanwhile, and answers may be waiting unread.
      // That time is not the receiver's silence: credit it, and retransmit at least once more before giving up.
      this.waitingSince = Math.max(this.waitingSince + late, now + this.rto.rtoMs - this.cfg.giveUpMs);
    }
    // Same expression as pollTimeout(): `now - since >= giveUp` can be false at exactly since + giveUp (rounding),
    // and a driver woken at pollTimeout() would then spin at that instant forever.
    if (now >= this.giveUpAt()) {
      // Why (answers.ts): it never listened, it is likely in another mode, or it fell silent.
      this.fail(giveUpReason(this.wire, this.answered, this.nextIndex, this.stats.unreachable));
      return;
    }
    if (this.deadline === undefined || now < this.deadline) return;
    this.stats.timeouts++;
    this.events.push({ type: 'timeout', receiver: this.receiver, seq: this.seqOf(this.nextIndex), index: this.nextIndex, lateMs: now - this.deadline });
    this.rto.onTimeout();
    this.retransmitted = true;
    this.transmitPending = true;
    this.deadline = undefined;
  }

  /** A receiver that said "port unreachable" before its first ACK may still be starting: it is given the whole wait window. */
  private giveUpAt(): number {
    return this.startWait.giveUpAt(this.waitingSince + this.cfg.giveUpMs, this.nextIndex, this.stats.unreachable);
  }

  /**
   * ICMP port unreachable from the transport. Before the first ACK and within the wait window the receiver
   * is taken to be still starting: the retransmission timer retries it. Otherwise it has failed.
   */
  handleUnreachable(now: number): void {
    if (this.status === 'sending' && this.startWait.unreachable(now, this.nextIndex, this.stats)) this.fail('port-unreachable');
  }

  private stalledAt(now: number): number {
    return stalledBy(now, this.pollTimeout());
  }

  /** Declare the receiver failed (give-up; ICMP port unreachable or a socket error from the transport; user abort). */
  fail(reason: FailReason): void {
    if (this.status !== 'sending') return;
    if (ignoresUnreachable(this.wire, reason)) {
      this.stats.ignored++;
      return;
    }
    this.status = 'failed';
    this.failReason = refineFailure(reason, this.nextIndex, this.segments, this.stats.misaddressedAcks);
    this.transmitPending = false;
    this.deadline = undefined;
    this.events.push({ type: 'failed', receiver: this.receiver, reason: this.failReason });
  }

  /** Earliest time handleTimeout() has work to do: the retransmission deadline or the give-up time. */
  pollTimeout(): number | undefined {
    if (!this.inFlight) return undefined;
    const giveUpAt = this.giveUpAt();
    if (this.transmitPending || this.deadline === undefined) return giveUpAt;
    return Math.min(this.deadline, giveUpAt);
  }

  pollEvent(): SenderEvent | undefined {
    return this.events.shift();
  }
}

/**
 * What a flow (SenderFlow, WindowFlow) knows beyond the transport's reason, from `acked` (segments acknowledged
 * in sequence): how far the receiver got, and where its ACKs came from.
 */
export function refineFailure(reason: FailReason, acked: number, segments: SegmentSource, misaddressedAcks: number): FailReason {
  if (reason !== 'no-answer' && reason !== 'port-unreachable') return reason;
  // Every data segment acknowledged, only the end-of-file marker (which carries no data) is not.
  if (acked > 0 && acked === segments.total - 1 && segments.bytesOf(acked) === 0) return 'eof-unconfirmed';
  if (reason === 'no-answer' && misaddressedAcks > 0) return 'wrong-address';
  return reason;
}

/** A flow with segments of its own: one receiver outside a group (tests, fuzzers, micro-benchmarks). */
export function standaloneFlow(o: Omit<SenderOptions, 'mode'> & { file: FileSource; instrument?: boolean }): SenderFlow {
  return new SenderFlow({ segments: new SegmentSource(o.file, o.mss, o.eof, o.initialSeq, o.wire), rto: o.rto, giveUpMs: o.giveUpMs, waitMs: o.waitMs, instrument: o.instrument });
}
