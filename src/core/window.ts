// The windowed sender flow for ONE receiver (sans-I/O, the same shape as SenderFlow in flow.ts: handleDatagram,
// handleTimeout, pollTransmit, pollTimeout, pollEvent). Up to N segments unacknowledged; ACKs keep their
// classic meaning (the last in-sequence segment, cumulative), so any classic receiver works. With N = 1 it
// sends exactly what SenderFlow sends, in the same order, with the same timeouts (test/window.test.ts drives
// both with identical inputs); the group still hosts SenderFlow there.
//
// Rules, and where they come from:
// - One retransmission timer per receiver (RFC 6298 section 5): started when a segment is sent and the timer is
//   off, restarted on ACK progress and when the oldest segment is resent, stopped when nothing is outstanding;
//   on expiry only the oldest unacknowledged segment is retransmitted and the RTO backs off.
// - RTT samples (RFC 6298, Karn): only from an ACK whose newly covered segments were all transmitted once and
//   never marked lost, since a cumulative ACK that jumps over a repaired hole measures the hole, not the path.
//   ACK progress resets the backoff when N > 1 (a recovery may take no sample for several round trips).
// - Loss detection without a timer (N > 1 only: with one segment in flight a duplicate ACK can only answer a
//   duplicate): the third duplicate ACK marks the oldest segment lost (fast retransmit). In recovery each
//   partial ACK names the next hole, which is resent (NewReno); against a receiver that discards out-of-order
//   segments that resends everything after a hole, one segment per round trip (go-back-N). With SACK, every
//   transmission gets an order number and a segment whose last transmission is older than the third newest one
//   SACKed is lost (RACK-like, reordering-tolerant): only the real holes are resent. A partial ACK sooner than
//   half the minimum RTT after a resend answers an earlier copy (a spurious timeout) and marks nothing.
// - The window opens once segment 0 is acknowledged: a receiver ignores everything before it has locked on.
// - The end of file (empty DATA, FIN or LAST) is sent only once every data segment is acknowledged: a FIN must
//   never overtake a lost segment (a receiver accepts a FIN whatever it is missing).
// - Recovery: from the first loss detected until everything outstanding then is acknowledged; one loss event
//   for the congestion controller per recovery (and one per timeout).
// - --verify/--key (README, "Wire extensions"): the same rules over the flow's wire (sender-wire.ts), whose
//   answers mean what they mean to SenderFlow (answers.ts). With --key the handshake steps go first, one at a
//   time, each retransmitted on its timer as SenderFlow does (at N = 1 the two send the same datagrams).

import { decode } from './codec.js';
import { giveUpReason, ignoresUnreachable, statusMeaning } from './answers.js';
import { Aimd } from './cc.js';
import { newSenderStats, refineFailure, stalledBy, type FailReason, type FlowConfig, type SenderEvent, type SenderStats, type SenderStatus } from './flow.js';
import { Fifo } from './queue.js';
import type { SenderOptions } from './options.js';
import { RtoEstimator } from './rto.js';
import { decodeSack, isSack, type SeqRange } from './sack.js';
import { SegmentSource, type FileSource } from './segments.js';
import type { AckIn, FlowWire } from './sender-wire.js';
import { StartWait } from './start-wait.js';

export type CcMode = 'none' | 'aimd';
export const CC_MODES: readonly CcMode[] = ['none', 'aimd'];
/** Duplicate ACKs (or later segments SACKed) before a segment counts as lost rather than reordered (RFC 5681). */
export const DUP_THRESH = 3;

/** The sliding-window options (the classic stop-and-wait: window 1, no SACK, no cc). */
export interface WindowOptions {
  /** N: at most this many unacknowledged segments per receiver (1 = the classic stop-and-wait). */
  window: number;
  /** Read the SACK extension (src/core/sack.ts) from the receiver. */
  sack: boolean;
  cc: CcMode;
}

export const CLASSIC_WINDOW: WindowOptions = { window: 1, sack: false, cc: 'none' };

export type WindowConfig = FlowConfig & WindowOptions & {
  /**
   * Driven by the multicast group (multicast.ts): a receiver silent before its first ACK 'never-registered',
   * and waited for that long as one that may still be starting (the group's socket hears no port unreachable).
   */
  multicast?: boolean;
};

export interface WindowStats extends SenderStats {
  /** Retransmissions decided without the timer (duplicate ACKs, later segments delivered, SACK holes). */
  fastRetransmits: number;
  /** Segments first learned of as held through a SACK. */
  sacked: number;
}

/**
 * Lockstep with a window: segment j goes to nobody until every live receiver has acknowledged j - N, i.e. the
 * highest index allowed is the slowest live receiver's acknowledged count + N - 1 (N = 1: the classic rule).
 */
export function windowLockstepLimit(slowestAcked: number, window: number): number {
  return slowestAcked + window - 1;
}

interface Slot {
  index: number;
  bytes: Uint8Array | undefined;
  /** Transmissions so far. */
  sends: number;
  firstSentAt: number;
  lastSentAt: number;
  /** Order number of the last transmission. */
  order: number;
  /** Marked lost at least once (Karn: no sample even if the original copy is what gets ACKed). */
  everLost: boolean;
  /** Queued for retransmission. */
  lost: boolean;
  sacked: boolean;
}

/** A FIFO of transmissions in send order, popped from the front as delivery evidence overtakes them. */
class Transmissions {
  private index: number[] = [];
  private order: number[] = [];
  private head = 0;

  push(index: number, order: number): void {
    this.index.push(index);
    this.order.push(order);
  }

  /** Pop from the front while `pop(index, order)` says so (it may act on the entry: mark it lost). */
  popWhile(pop: (index: number, order: number) => boolean): void {
    while (this.head < this.order.length && pop(this.index[this.head]!, this.order[this.head]!)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.index = this.index.slice(this.head);
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}

export class WindowFlow {
  readonly stats: WindowStats = { ...newSenderStats(), fastRetransmits: 0, sacked: 0 };
  status: SenderStatus = 'sending';
  failReason: FailReason | undefined;

  private readonly n: number;
  private readonly segments: SegmentSource;
  private readonly receiver: number;
  private readonly rto: RtoEstimator;
  private readonly cc: Aimd | undefined;
  private readonly slots: Slot[];
  /** Segments [0, base) are acknowledged. */
  private base = 0;
  /** Segments [0, highSent) have been sent at least once. */
  private highSent = 0;
  private limit = Number.POSITIVE_INFINITY;
  private deadline: number | undefined;
  /** Since when no ACK progress was made while something is outstanding (give-up counts from here). */
  private waitingSince = 0;
  private dupAcks = 0;
  /** Duplicate ACKs that came too late to answer anything sent before the oldest segment's last transmission. */
  private lateDupAcks = 0;
  private inRecovery = false;
  private recoverPoint = 0;
  private nextOrder = 0;
  private readonly sent = new Transmissions();
  private readonly lostQueue: number[] = [];
  /** The shortest RTT sampled (Infinity until the first sample: no partial-ACK inference before one). */
  private minRttMs = Number.POSITIVE_INFINITY;
  /** Orders of the three newest transmissions a SACK reported, descending. */
  private readonly sackNewest = [-1, -1, -1];
  private readonly events: Fifo<SenderEvent>;
  /** The wait window for a receiver that is not listening yet (from the first transmission). */
  private readonly startWait: StartWait;
  /** --verify/--key: this receiver's side of the wire; undefined: classic. */
  private readonly wire: FlowWire | undefined;
  /** --key: the handshake step on the wire (before segment 0, not a segment of the file) until it is answered. */
  private step: { bytes: Uint8Array; sentAt: number; resent: boolean; due: boolean } | undefined;
  /** A valid answer of the wire's mode has arrived (so silence is "no answer", not "wrong mode"). */
  private answered = false;

  constructor(private readonly cfg: WindowConfig) {
    if (!(Number.isInteger(cfg.window) && cfg.window >= 1)) throw new RangeError('window must be a positive integer');
    this.n = cfg.window;
    this.segments = cfg.segments;
    this.startWait = new StartWait(cfg.waitMs, cfg.multicast === true);
    this.receiver = cfg.receiver ?? 0;
    this.events = cfg.events ?? new Fifo<SenderEvent>();
    this.rto = new RtoEstimator(cfg.rto);
    this.wire = cfg.segments.flowWire();
    this.cc = cfg.cc === 'aimd' ? new Aimd({ max: cfg.window }) : undefined;
    // No more than the file's segments can be outstanding: a window far beyond the file (--window 100000000 for a
    // 3 KB file) must not allocate a slot per unusable position. A streamed input's total is unknown here; its
    // window is bounded by the file buffer (the CLI clamps it).
    const total = this.total;
    this.slots = Array.from({ length: Number.isFinite(total) ? Math.max(1, Math.min(this.n, total)) : this.n }, () => ({ index: -1, bytes: undefined, sends: 0, firstSentAt: 0, lastSentAt: 0, order: -1, everLost: false, lost: false, sacked: false }));
  }

  /** Segments in the transfer (Infinity while a streamed input's end is unknown). */
  get total(): number {
    return this.segments.total;
  }

  /** Segments acknowledged so far (cumulatively). */
  get acked(): number {
    return this.base;
  }

  /** Segments sent and not yet acknowledged (never above the window). */
  get unacked(): number {
    return this.highSent - this.base;
  }

  get srttMs(): number | undefined {
    return this.rto.srttMs;
  }

  get rtoMs(): number {
    return this.rto.rtoMs;
  }

  /** The window new segments may fill now: N, or the congestion window when --cc is on. */
  get window(): number {
    return this.cc ? this.cc.window : this.n;
  }

  /** Whether anything awaits an answer: a segment, or a --key handshake step. */
  get inFlight(): boolean {
    return (this.highSent > this.base || this.step !== undefined) && this.status === 'sending';
  }

  /** --key: the handshake is not done yet (a step is on the wire or still to be sent); no segment goes before it. */
  get opening(): boolean {
    return this.highSent === 0 && this.wire?.handshake() !== undefined;
  }

  /** The next segment this flow will send for the first time (to seal ahead). */
  get nextNew(): number {
    return this.highSent;
  }

  seqOf(index: number): number {
    return this.segments.seqOf(index);
  }

  /** Lockstep barrier or file-buffer bound: segments with index > `index` wait. */
  setLimit(index: number): void {
    this.limit = index;
  }

  private slot(index: number): Slot {
    return this.slots[index % this.slots.length]!;
  }

  pollTransmit(now: number): Uint8Array | undefined {
    if (this.status !== 'sending') return undefined;
    if (this.opening) return this.sendStep(now, this.wire!.handshake()!);
    while (this.lostQueue.length > 0) {
      const index = this.lostQueue.shift()!;
      const s = this.slot(index);
      if (index < this.base || s.index !== index || !s.lost || s.sacked) continue;
      s.lost = false;
      this.stats.retransmissions++;
      return this.transmit(now, s);
    }
    const i = this.highSent;
    // Until segment 0 is acknowledged only it is sent: a receiver ignores everything before it has locked on, so
    // a window sent ahead would be wasted if segment 0 were lost; and its ACK gives the first RTT sample early.
    // Until that first sample is taken, one segment at a time: had segment 0 to be resent (Karn: no sample), a
    // window opened at once would keep a hole outstanding from then on, no ACK would measure the path, and the
    // RTO would stay at its initial value with no shortest round trip for the inferences below.
    const window = this.base === 0 || this.minRttMs === Number.POSITIVE_INFINITY ? 1 : this.window;
    if (i >= this.total || i > this.limit || i >= this.base + window) return undefined;
    if (i === this.total - 1 && this.base < i) return undefined; // the end of file waits for every data ACK
    return this.transmitNew(now, i);
  }

  /**
   * A --key handshake step, as SenderFlow sends it: once, then again only when its timer expired. Give-up counts
   * from its first transmission; an answer to a step sent once is an RTT sample (stepAnswered).
   */
  private sendStep(now: number, bytes: Uint8Array): Uint8Array | undefined {
    const s = this.step;
    if (s !== undefined && s.bytes === bytes) {
      if (!s.due) return undefined;
      s.due = false;
      s.resent = true;
      this.stats.retransmissions++;
    } else {
      this.step = { bytes, sentAt: now, resent: false, due: false };
      this.waitingSince = now;
      this.startWait.sent(now);
    }
    this.step!.sentAt = now;
    this.deadline = now + this.rto.rtoMs;
    this.stats.segmentsSent++;
    return bytes;
  }

  /** The handshake step on the wire was answered: sample the RTT (Karn, and not across a stall) and stop its timer. */
  private stepAnswered(now: number, s: { sentAt: number; resent: boolean }): void {
    if (!s.resent && this.stalledAt(now) === 0) {
      const rttMs = now - s.sentAt;
      this.rto.sample(rttMs);
      if (rttMs < this.minRttMs) this.minRttMs = rttMs;
    }
    this.step = undefined;
    this.deadline = undefined;
  }

  /** First transmission of segment i (= highSent). */
  private transmitNew(now: number, i: number): Uint8Array {
    const s = this.slot(i);
    s.index = i;
    s.bytes = this.segments.segment(i);
    s.sends = 0;
    s.everLost = false;
    s.lost = false;
    s.sacked = false;
    s.firstSentAt = now;
    this.highSent++;
    return this.transmit(now, s);
  }

  private transmit(now: number, s: Slot): Uint8Array {
    // A flight starts: give-up counts from here (time spent at a lockstep barrier is not silence).
    if (this.highSent - this.base === 1 && s.index === this.base && s.sends === 0) this.waitingSince = now;
    this.startWait.sent(now);
    s.sends++;
    s.lastSentAt = now;
    s.order = this.nextOrder++;
    if (s.index === this.base) this.lateDupAcks = 0;
    this.sent.push(s.index, s.order);
    // RFC 6298 5.1; and a resent oldest segment gets a whole RTO (as Linux re-arms it), or the timer started at
    // the last ACK would expire before the resent copy could be acknowledged (a spurious timeout).
    if (this.deadline === undefined || (s.index === this.base && s.sends > 1)) this.deadline = now + this.rto.rtoMs;
    this.stats.segmentsSent++;
    if (this.cfg.instrument) this.events.push({ type: 'sent', receiver: this.receiver, index: s.index, retransmission: s.sends > 1 });
    return s.bytes!;
  }

  handleDatagram(now: number, bytes: Uint8Array): void {
    if (this.wire !== undefined) {
      this.handleAnswer(now, this.wire.read(bytes));
      return;
    }
    if (this.cfg.sack && isSack(bytes)) {
      const d = decodeSack(bytes);
      if (!d.ok) {
        this.stats.ignored++;
        return;
      }
      this.onAck(now, d.sack.cum, d.sack.ranges);
      return;
    }
    const decoded = decode(bytes);
    if (!decoded.ok || decoded.segment.kind === 'data') {
      this.stats.ignored++;
      return;
    }
    const seg = decoded.segment;
    if (seg.kind === 'fin') this.onFinAck(now);
    else this.onAck(now, seg.seq, []);
  }

  /** --verify/--key: the wire judged the datagram; an authentic answer moves the handshake or acknowledges. */
  private handleAnswer(now: number, a: AckIn): void {
    if (a.kind === 'ignored') {
      this.stats.ignored++;
      return;
    }
    this.answered = true;
    if (a.kind === 'handshake') {
      if (this.step !== undefined && this.status === 'sending') this.stepAnswered(now, this.step);
      return;
    }
    // The segment the ACK names, if it was sent (the END is the last segment: no FIN on these wires).
    const ahead = (a.seq - this.seqOf(this.base)) >>> 0;
    const named = ahead < this.highSent - this.base ? this.base + ahead : -1;
    const meaning = statusMeaning(a.status, named === this.total - 1);
    if (meaning === 'progress') this.onAck(now, a.seq, this.cfg.sack ? (a.ranges ?? []) : []);
    else if (meaning === 'mismatch' && this.status === 'sending') this.fail('digest-mismatch');
    else {
      // A status that does not fit (or the verdict on a transfer already over): it names a segment sent, or is late.
      const behind = (this.seqOf(this.base) - a.seq) >>> 0;
      if (named >= 0 || (behind >= 1 && behind <= this.base)) this.stats.duplicateAcks++;
      else this.stats.ackForUnsent++;
    }
  }

  /** Whether the FIN (the last segment in --eof fin) has been sent. */
  private get finSent(): boolean {
    return this.segments.finIndex >= 0 && this.highSent === this.total;
  }

  private onFinAck(now: number): void {
    if (this.status === 'sending' && this.finSent && this.base === this.total - 1) {
      this.progress(now, this.total);
      return;
    }
    const finAlreadyAcked = this.status === 'done' && this.segments.finIndex >= 0;
    if (finAlreadyAcked || (this.finSent && this.base === this.total - 1)) this.stats.duplicateAcks++;
    else this.stats.ackForUnsent++;
  }

  /**
   * A datagram from another address than the receiver's, from its port (see SenderFlow.handleStray): never an
   * answer; an ACK for a segment this flow has sent is counted (a receiver answering from another address).
   */
  handleStray(bytes: Uint8Array): void {
    const decoded = decode(bytes);
    if (!decoded.ok || decoded.segment.kind === 'data') return;
    const seg = decoded.segment;
    if (seg.kind === 'fin') {
      if (this.finSent) this.stats.misaddressedAcks++;
      return;
    }
    const ackable = this.highSent - (this.finSent ? 1 : 0) - this.base;
    const behind = (this.seqOf(this.base) - seg.seq) >>> 0;
    if (((seg.seq - this.seqOf(this.base)) >>> 0) < ackable || (behind >= 1 && behind <= this.base)) this.stats.misaddressedAcks++;
  }

  private onAck(now: number, seq: number, ranges: readonly SeqRange[]): void {
    // Segments a sequence number can acknowledge: those sent, except the FIN (it carries no number).
    const ackable = this.highSent - (this.finSent ? 1 : 0) - this.base;
    const ahead = (seq - this.seqOf(this.base)) >>> 0;
    const behind = (this.seqOf(this.base) - seq) >>> 0;
    if (ahead < ackable) {
      if (this.status === 'sending') this.progress(now, this.base + ahead + 1);
      else this.stats.duplicateAcks++;
    } else if (behind >= 1 && behind <= this.base) {
      this.stats.duplicateAcks++;
      if (behind === 1 && this.inFlight) this.onDupAck(now);
    } else {
      this.stats.ackForUnsent++;
      return;
    }
    if (ranges.length > 0 && this.status === 'sending') this.onSackRanges(ranges);
    if (this.status === 'sending') this.detectLosses();
  }

  private onDupAck(now: number): void {
    this.dupAcks++;
    if (this.n === 1) return;
    const s = this.slot(this.base);
    if (this.dupAcks === DUP_THRESH && !this.inRecovery) {
      this.markLost(this.base, false);
      return;
    }
    if (this.cfg.sack || s.lost || s.index !== this.base) return;
    // A duplicate ACK arriving at least the shortest round trip after the oldest segment's last transmission may
    // answer something sent after it (one sent before it is answered sooner, unless the path got slower): that
    // segment (or its retransmission: recovery ignores the plain count) is lost once as many such duplicates came
    // as segments were sent after it, up to DUP_THRESH. This repairs a lost retransmission in one round trip
    // instead of an RTO, and a loss among the last segments (fewer than DUP_THRESH after it: RFC 5827's early
    // retransmit) without the timer.
    if (now - s.lastSentAt < this.minRttMs) return;
    this.lateDupAcks++;
    const sentAfter = this.nextOrder - 1 - s.order;
    if (sentAfter >= 1 && this.lateDupAcks >= Math.min(DUP_THRESH, sentAfter)) this.markLost(this.base, false);
  }

  private onSackRanges(ranges: readonly SeqRange[]): void {
    const top = this.sackNewest;
    for (const r of ranges) {
      const from = (r.start - this.seqOf(this.base)) >>> 0;
      const to = Math.min((r.end - this.seqOf(this.base)) >>> 0, this.highSent - this.base);
      for (let d = from; d < to; d++) {
        const s = this.slot(this.base + d);
        if (s.index !== this.base + d || s.sacked) continue;
        s.sacked = true;
        this.stats.sacked++;
        const o = s.order;
        if (o > top[0]!) top.splice(0, 0, o), top.pop();
        else if (o > top[1]!) top.splice(1, 0, o), top.pop();
        else if (o > top[2]!) top[2] = o;
      }
    }
  }

  /** Mark lost every transmission that something sent after it has overtaken (see the header). */
  private detectLosses(): void {
    if (this.n === 1) return;
    const threshold = this.sackNewest[DUP_THRESH - 1]!;
    this.sent.popWhile((index, order) => {
      const s = this.slot(index);
      // Entries of acknowledged segments and of superseded transmissions are dropped whatever the threshold.
      if (index < this.base || s.index !== index || s.order !== order || s.sacked) return true;
      if (order >= threshold) return false;
      if (!s.lost) this.markLost(index, false);
      return true;
    });
  }

  private markLost(index: number, byTimer: boolean): void {
    const s = this.slot(index);
    s.lost = true;
    s.everLost = true;
    if (byTimer) this.lostQueue.unshift(index);
    else {
      this.lostQueue.push(index);
      this.stats.fastRetransmits++;
    }
    if (!this.inRecovery || byTimer) {
      this.inRecovery = true;
      this.recoverPoint = this.highSent;
      this.cc?.onLoss();
    }
  }

  private progress(now: number, newBase: number): void {
    const named = this.slot(newBase - 1);
    // Karn, and more: only an ACK that covers no repaired hole measures the path (one that jumps over a resent
    // segment measures the hole). Recovery as such does not stop samples: at P = 0.1 a window of 64 is in
    // recovery nearly all the time, and the RTO would never leave its initial value.
    // Nor across a stall (see SenderFlow): the time measured is not the network's.
    let clean = this.stalledAt(now) === 0;
    for (let i = this.base; i < newBase && clean; i++) clean = this.slot(i).sends === 1 && !this.slot(i).everLost;
    const rttMs = clean ? now - named.firstSentAt : undefined;
    if (rttMs !== undefined) {
      this.rto.sample(rttMs);
      if (rttMs < this.minRttMs) this.minRttMs = rttMs;
      if (this.cfg.instrument) this.events.push({ type: 'rtt', receiver: this.receiver, index: newBase - 1, rttMs });
    } else if (this.n > 1) this.rto.resetBackoff();
    const newly = newBase - this.base;
    // An ACK produced by a resent hole that stops short of what was sent before that resend names the next hole:
    // resend it. In recovery that is NewReno's partial ACK; the ACK that ends a recovery does the same and starts
    // the next one at once (waiting for three duplicates costs a round trip). Against a receiver that discards
    // out-of-order segments every ACK in recovery is such a partial ACK, so what followed a hole is resent one
    // segment per round trip (go-back-N, paced by the ACKs: resending the whole window at once turned burst
    // losses, such as a receive buffer overflowing, into retransmission storms). With SACK the receiver says
    // where the holes are (detectLosses); this inference is for classic ACKs.
    let nextHoleLost = false;
    if (newBase < this.highSent && this.n > 1 && !this.cfg.sack) {
      // The transmission that produced this ACK: the newest one it covers (a retransmitted hole, typically).
      let newest: Slot | undefined;
      for (let i = this.base; i < newBase; i++) if (newest === undefined || this.slot(i).order > newest.order) newest = this.slot(i);
      // An ACK sooner after a resend than half the shortest round trip seen answers an earlier copy (a spurious
      // timeout, under load): it says nothing about what was sent after that resend. (The minimum, not SRTT: a
      // loaded host inflates SRTT far above what an answer can take.)
      const answersResend = newest!.sends === 1 || now - newest!.lastSentAt >= this.minRttMs / 2;
      const hole = this.slot(newBase);
      nextHoleLost = answersResend && hole.index === newBase && hole.order < newest!.order && !hole.sacked && !hole.lost;
    }
    for (let i = this.base; i < newBase; i++) {
      const s = this.slot(i);
      this.stats.segmentsAcked++;
      this.stats.bytesAcked += this.segments.bytesOf(i);
      s.bytes = undefined;
      s.lost = false;
      this.events.push({ type: 'acked', receiver: this.receiver, index: i, rttMs: i === newBase - 1 ? rttMs : undefined });
    }
    this.base = newBase;
    this.dupAcks = 0;
    this.lateDupAcks = 0;
    if (this.inRecovery && this.base >= this.recoverPoint) this.inRecovery = false;
    else if (!this.inRecovery) this.cc?.onAcked(newly);
    this.waitingSince = now;
    this.deadline = this.base === this.highSent ? undefined : now + this.rto.rtoMs;
    if (this.base >= this.total) {
      this.status = 'done';
      this.deadline = undefined;
      this.events.push({ type: 'done', receiver: this.receiver });
    }
    // After the recovery bookkeeping: a hole named by the ACK that ended a recovery starts a new one.
    if (nextHoleLost) this.markLost(newBase, false);
  }

  handleTimeout(now: number): void {
    if (!this.inFlight) return;
    const late = this.stalledAt(now);
    // Woken long after the deadline: the sender was not running (see SenderFlow); credit that time.
    if (late > 0) this.waitingSince = Math.max(this.waitingSince + late, now + this.rto.rtoMs - this.cfg.giveUpMs);
    // Same expression as pollTimeout(), so a wake-up at that instant always acts (see SenderMachine).
    if (now >= this.giveUpAt()) {
      // Why (answers.ts), or under multicast one that never acknowledged its first segment never registered.
      const reason = giveUpReason(this.wire, this.answered, this.base, this.stats.unreachable);
      this.fail(reason !== 'port-unreachable' && this.base === 0 && this.cfg.multicast === true ? 'never-registered' : reason);
      return;
    }
    if (this.deadline === undefined || now < this.deadline) return;
    this.stats.timeouts++;
    this.events.push({ type: 'timeout', receiver: this.receiver, seq: this.seqOf(this.base), index: this.base, lateMs: now - this.deadline });
    this.rto.onTimeout();
    this.deadline = undefined;
    if (this.step !== undefined) this.step.due = true;
    else this.markLost(this.base, true);
  }

  /** As SenderFlow.giveUpAt: a receiver that said "port unreachable" before its first ACK gets the whole wait window. */
  private giveUpAt(): number {
    return this.startWait.giveUpAt(this.waitingSince + this.cfg.giveUpMs, this.base, this.stats.unreachable);
  }

  /** ICMP port unreachable from the transport: retried while the receiver may still be starting (see SenderFlow). */
  handleUnreachable(now: number): void {
    if (this.status === 'sending' && this.startWait.unreachable(now, this.base, this.stats)) this.fail('port-unreachable');
  }

  /** While idle: let the wire get ready for the ACK most likely next (the oldest outstanding segment's, with --key). */
  prepare(): void {
    if (this.step === undefined && this.highSent > this.base && this.status === 'sending') this.wire?.prepare(this.seqOf(this.base));
  }

  private stalledAt(now: number): number {
    return stalledBy(now, this.pollTimeout());
  }

  /** Declare the receiver failed (give-up, ICMP port unreachable from the transport, or user abort). */
  fail(reason: FailReason): void {
    if (this.status !== 'sending') return;
    if (ignoresUnreachable(this.wire, reason)) {
      this.stats.ignored++;
      return;
    }
    this.status = 'failed';
    this.failReason = refineFailure(reason, this.base, this.segments, this.stats.misaddressedAcks);
    this.deadline = undefined;
    this.lostQueue.length = 0;
    this.events.push({ type: 'failed', receiver: this.receiver, reason: this.failReason });
  }

  /** Earliest time handleTimeout() has work to do: the retransmission deadline or the give-up time. */
  pollTimeout(): number | undefined {
    if (!this.inFlight) return undefined;
    const giveUpAt = this.giveUpAt();
    if (this.deadline === undefined) return giveUpAt;
    return Math.min(this.deadline, giveUpAt);
  }

  pollEvent(): SenderEvent | undefined {
    return this.events.shift();
  }

  // ---- multicast: the group sends for this flow (group.ts, multicast.ts) ----

  /** Whether segment `index` is sent and, as far as the sender knows, not held by the receiver (not acknowledged, not SACKed). */
  needs(index: number): boolean {
    if (this.status !== 'sending' || index < this.base || index >= this.highSent) return false;
    const s = this.slot(index);
    return s.index === index && !s.sacked;
  }

  /** The next segment this flow found lost and still needs, for the group to repair (undefined: none). */
  takeRepair(): number | undefined {
    for (let index = this.lostQueue.shift(); index !== undefined; index = this.lostQueue.shift()) {
      if (this.needs(index) && this.slot(index).lost) return index;
    }
    return undefined;
  }

  /**
   * The group put segment `index` on the wire for this receiver at `now` (to the group, or a unicast repair):
   * the next new segment, or a copy of one it needs. Booked as this flow's own transmission, so the timer and
   * Karn's rule see every copy the receiver may answer. Returns the bytes; undefined: not for this flow.
   */
  sendCopy(now: number, index: number): Uint8Array | undefined {
    // With --key nothing of the file goes to a receiver before its session is open (it could not open it).
    if (this.status !== 'sending' || this.opening) return undefined;
    if (index === this.highSent && index < this.total) return this.transmitNew(now, index);
    if (!this.needs(index)) return undefined;
    const s = this.slot(index);
    s.lost = false;
    this.stats.retransmissions++;
    return this.transmit(now, s);
  }
}

/** A windowed flow with segments of its own: one receiver outside a group (tests, fuzzers). */
export function standaloneWindowFlow(o: Omit<SenderOptions, 'mode' | 'window' | 'rateBitsPerSec'> & WindowOptions & { file: FileSource; instrument?: boolean }): WindowFlow {
  return new WindowFlow({
    segments: new SegmentSource(o.file, o.mss, o.eof, o.initialSeq, o.wire),
    rto: o.rto,
    giveUpMs: o.giveUpMs,
    waitMs: o.waitMs,
    instrument: o.instrument,
    window: o.window,
    sack: o.sack,
    cc: o.cc,
  });
}
