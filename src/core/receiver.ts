// The receiver's state machine (sans-I/O), in the same handle*/poll* shape as the group sender. Each
// datagram yields one event saying what happened (what to write) and at most one reply. The driver drains
// pollEvent() (writing payloads) BEFORE pollTransmit(), so an ACK always means "on disk"; if a write fails,
// it sends nothing. The loss service's randomness is injected (a seeded PRNG from the driver), never
// Math.random.
//
// While the sender pipelines, an in-order delivery is acknowledged once per batch: the driver calls flush() when
// the datagrams read together are all handled, and the one ACK then names the last of them (cumulative, the
// classic meaning). A windowed sender's burst thus costs one ACK (one seal with --key) instead of one per
// segment; a stop-and-wait sender's segment is answered at once, as the classic receiver does. Every other
// reply (a duplicate, a held segment, the end of file) goes at once.

import type { Hash } from 'node:crypto';
import { crypto } from './builtins.js';
import { checksumMatches, decode, encodeAck, encodeFin, peekSeq } from './codec.js';
import { ACK_STATUS, type AckStatus, type WireMode } from './extension.js';
import type { ReceiverWire, WireIgnore } from './receiver-wire.js';
import { Fifo } from './queue.js';
import { ReorderBuffer } from './reorder.js';
import { encodeSack, SACK_MAX_RANGES } from './sack.js';

export interface ReceiverConfig {
  /** Classic loss service: each arriving segment from the sender is dropped with this probability. */
  lossRate: number;
  /** Uniform [0, 1) draws for the loss service. */
  random: () => number;
  /** A started transfer with no valid segment for this long gives up. */
  idleTimeoutMs: number;
  /** After end of file, keep re-acknowledging a retransmitted end-of-file for this long (its ACK may be lost). */
  lingerMs: number;
  /** Sequence number of segment 0 (0 in the classic protocol). */
  initialSeq?: number;
  /**
   * Hold up to this many out-of-order segments (reorder.ts) once the transfer has started, and write them when
   * the gap fills; 0 or absent: discard them, as the classic receiver does. A classic (stop-and-wait) sender
   * never sends ahead, so it sees exactly the classic receiver either way.
   */
  reorderSegments?: number;
  /** Answer with a SACK (sack.ts) while holding segments beyond the cumulative point. Only for a --sack sender. */
  sack?: boolean;
  /**
   * Stale-FIN rule. A FIN carries no sequence number, so a FIN arriving before any data is either a whole
   * zero-byte transfer (a classic sender in the fin convention) or the retransmitted end of an earlier transfer
   * whose receiver has exited (its echo was lost). When false, such a lone FIN is ignored (reason 'stale-fin',
   * not answered); the driver sets it false when FILE already holds data, so a stale FIN can never replace it.
   * Default true (classic).
   */
  acceptLoneFin?: boolean;
  /** --sender HOST: datagrams from any other source (an address:port key) are foreign, whatever they hold. */
  acceptFrom?: (from: string) => boolean;
  /** --verify / --key (README, "Wire extensions"): the wire's reader and ACK writer; undefined: classic. */
  wire?: ReceiverWire;
  /**
   * Hash the copy (`sha256`, the receiver's summary); default true. The simulator turns it off on the classic
   * wire: it checks every write against the file itself, and hashing was a tenth of its time. --verify/--key
   * hash regardless (their END check needs it).
   */
  hashCopy?: boolean;
}

/** The reply field of a delivery whose answer is the run's one reply (see handleDatagram). */
const NO_REPLY = new Uint8Array(0);
/** The reply field of a delivery acknowledged at the end of its batch (flush). */
const DEFERRED = new Uint8Array(0);

/** Why a datagram changed nothing. */
export type IgnoreReason = 'malformed' | 'not-data' | 'foreign' | 'not-started' | 'stale-fin' | 'unauthenticated' | 'other-mode';

/** Why a datagram changed nothing. */
export type ReceiverEvent =
  | { kind: 'ignored'; reason: IgnoreReason }
  | { kind: 'lost'; seq: number }
  | { kind: 'bad-checksum'; seq: number }
  /** In-sequence data to append to the file; `complete`: this was the end of file (commit the file). */
  | { kind: 'delivered'; seq: number; payload: Uint8Array; complete: boolean }
  | { kind: 'duplicate'; seq: number }
  /** An out-of-order segment held in the reorder buffer (written once the gap before it fills). */
  | { kind: 'held'; seq: number }
  /** The linger after the end of file ran out: the transfer is over. */
  | { kind: 'done' }
  /** --verify/--key: a --key handshake step was answered (nothing to write). */
  | { kind: 'handshake' }
  /** --verify/--key: the first datagram of the other mode (or classic) from `from`; later ones are just ignored. */
  | { kind: 'other-mode'; mode: WireMode; from: string }
  /** --key: the first handshake whose MAC fails, from `from` (another key, most likely); later ones are just ignored. */
  | { kind: 'bad-mac'; from: string }
  /** --verify/--key: the END's SHA-256 is not that of the bytes received (hex); the file must not be committed. */
  | { kind: 'digest-mismatch'; seq: number; received: string; announced: string }
  /** The linger after a digest mismatch ran out: the transfer failed. */
  | { kind: 'rejected' }
  /** A started transfer saw no valid segment for the idle timeout. */
  | { kind: 'stalled' };

export interface ReceiverTransmit {
  /** The peer key the datagram came from (the driver's address:port). */
  to: string;
  bytes: Uint8Array;
}

/** One datagram's outcome before it is queued: the event plus the reply, if any. */
type Verdict =
  | { kind: 'ignored'; reason: IgnoreReason }
  | { kind: 'lost'; seq: number }
  | { kind: 'bad-checksum'; seq: number }
  | { kind: 'delivered'; seq: number; payload: Uint8Array; reply: Uint8Array; complete: boolean }
  | { kind: 'duplicate'; seq: number; reply: Uint8Array | undefined }
  | { kind: 'held'; seq: number; reply: Uint8Array }
  | { kind: 'handshake'; reply: Uint8Array }
  | { kind: 'other-mode'; mode: WireMode; from: string }
  | { kind: 'bad-mac'; from: string }
  | { kind: 'digest-mismatch'; seq: number; received: string; announced: string; reply: Uint8Array };

export type ReceiverStatus = 'waiting' | 'receiving' | 'lingering' | 'done' | 'failed';

export interface ReceiverStats {
  bytes: number;
  segments: number;
  drops: number;
  badChecksums: number;
  duplicates: number;
  /** Datagrams ignored: malformed, ACK-typed, from a second sender, or mid-transfer before a start. */
  ignored: number;
  foreign: number;
}

export class ReceiverMachine {
  status: ReceiverStatus = 'waiting';
  /** The sender this transfer is locked to (the driver's address:port key). */
  peer: string | undefined;
  readonly stats: ReceiverStats = { bytes: 0, segments: 0, drops: 0, badChecksums: 0, duplicates: 0, ignored: 0, foreign: 0 };
  startedAt: number | undefined;
  completedAt: number | undefined;

  private expected: number;
  private lastValidAt = 0;
  private lingerUntil = 0;
  /** The answer to the end-of-file segment, repeated while lingering (a fresh datagram each time with --key). */
  private eofReply: (() => Uint8Array) | undefined;
  /** SHA-256 of everything delivered, in order (every mode: the copy's hash, and --verify/--key's END check). */
  private readonly hash: Hash | undefined;
  /** The SHA-256 (hex) of the delivered file, once its end has arrived. */
  sha256: string | undefined;
  /** --verify/--key: whether the END failed to match the hash. */
  private rejected = false;
  /** Modes already reported by an 'other-mode' event (said once each). */
  private readonly noticed = new Set<WireMode>();
  private badMacSeen = false;

  private readonly events = new Fifo<ReceiverEvent>();
  private reply: ReceiverTransmit | undefined;
  /** Where the batch's one ACK goes at flush(), when its in-order deliveries have not been answered yet. */
  private deferredTo: string | undefined;
  /** In-order segments delivered in the batch so far (ended by flush()). */
  private batchDelivered = 0;
  /**
   * Whether the last batch delivered more than one in-order segment: the sender pipelines, so its bursts are
   * acknowledged once each. A stop-and-wait sender's batch is its one segment: answered at once, as classic
   * receivers do (deferring to the batch's end would only add a turn of the event loop to every round trip).
   */
  private pipelined = true;
  private readonly reorder: ReorderBuffer | undefined;

  constructor(private readonly cfg: ReceiverConfig) {
    this.expected = (cfg.initialSeq ?? 0) >>> 0;
    this.hash = cfg.hashCopy !== false || cfg.wire !== undefined ? crypto().createHash('sha256') : undefined;
    this.reorder = (cfg.reorderSegments ?? 0) > 0 ? new ReorderBuffer(cfg.reorderSegments!) : undefined;
  }

  /** A datagram from `from` (an address:port key). */
  handleDatagram(now: number, bytes: Uint8Array, from: string): void {
    const v = this.judge(now, bytes, from);
    // The verdict is the event (its reply field rides along unread): one allocation per datagram, not two.
    this.events.push(v);
    if (v.kind === 'delivered') this.batchDelivered++;
    if (v.kind === 'delivered' && v.reply === DEFERRED) {
      this.deferredTo = from;
      return;
    }
    // Any answer but a handshake's carries the cumulative point, so it stands for the batch's ACK too; a datagram
    // with no answer (lost, ignored) changes nothing.
    if ('reply' in v && v.reply !== undefined && v.kind !== 'handshake' && from === this.deferredTo) this.deferredTo = undefined;
    if (v.kind === 'delivered' && this.reorder !== undefined && !v.complete && this.reorder.size > 0) {
      // Segments held beyond this one now follow it, in order; the one reply then covers the whole run.
      const run = this.reorder.release(this.expected);
      // Each held segment's own ACK is never sent (the one reply below covers the run): none is built.
      for (const h of run) this.events.push(this.deliver(now, from, h.seq, h.payload, NO_REPLY, h.eof));
      this.reply = { to: from, bytes: run.length === 0 ? v.reply : this.status === 'lingering' ? this.eofReply!() : this.cumulativeReply() };
      return;
    }
    if ('reply' in v && v.reply !== undefined) this.reply = { to: from, bytes: v.reply };
  }

  /** A datagram the driver cannot answer (source port 0, which only a raw socket can send): counted, never a start. */
  ignoreUnanswerable(): void {
    this.ignore('malformed');
  }

  pollEvent(): ReceiverEvent | undefined {
    return this.events.shift();
  }

  /** The datagrams read together are all handled: queue the one ACK of the in-order run they delivered, if unanswered (true). */
  flush(): boolean {
    this.pipelined = this.batchDelivered > 1;
    this.batchDelivered = 0;
    const to = this.deferredTo;
    if (to === undefined) return false;
    this.deferredTo = undefined;
    if (this.status !== 'receiving') return false;
    this.reply = { to, bytes: this.cumulativeReply() };
    return true;
  }

  /** The reply to the last datagram, once (drain pollEvent first: an ACK promises the data is written). */
  pollTransmit(): ReceiverTransmit | undefined {
    const r = this.reply;
    this.reply = undefined;
    return r;
  }

  private judge(now: number, bytes: Uint8Array, from: string): Verdict {
    if (this.cfg.acceptFrom !== undefined && !this.cfg.acceptFrom(from)) {
      this.stats.foreign++;
      return this.ignore('foreign');
    }
    if (this.cfg.wire !== undefined) return this.judgeWire(now, bytes, from, this.cfg.wire);
    const decoded = decode(bytes);
    if (!decoded.ok) return this.ignore('malformed');
    const seg = decoded.segment;
    if (seg.kind === 'ack') return this.ignore('not-data');
    if (this.peer !== undefined && from !== this.peer) {
      this.stats.foreign++;
      return this.ignore('foreign');
    }
    if (this.status === 'done' || this.status === 'failed') return this.ignore('not-started');

    const seq = seg.kind === 'fin' ? 0 : seg.seq;
    // Classic loss service: the segment is dropped before any other processing.
    if (this.cfg.lossRate > 0 && this.cfg.random() < this.cfg.lossRate) {
      this.stats.drops++;
      return { kind: 'lost', seq };
    }
    if (seg.kind === 'data' && !checksumMatches(seg.payload, seg.checksum)) {
      this.stats.badChecksums++;
      return { kind: 'bad-checksum', seq };
    }

    if (this.status === 'lingering') {
      this.lastValidAt = now;
      this.lingerUntil = now + this.cfg.lingerMs;
      return this.duplicate(seq, this.eofReply?.());
    }

    if (seg.kind === 'fin') {
      if (this.status === 'waiting' && this.cfg.acceptLoneFin === false) return this.ignore('stale-fin');
      return this.deliver(now, from, 0, new Uint8Array(0), encodeFin(), true);
    }
    const eof = seg.payload.length === 0 || seg.last;
    if (seg.seq === this.expected) {
      // The end of file is answered at once (it ends the transfer); other in-order segments as the batch rule says.
      return this.deliver(now, from, seg.seq, seg.payload, !eof && this.defers() ? DEFERRED : encodeAck(seg.seq), eof);
    }
    // Nothing in sequence yet: there is nothing to acknowledge, and no transfer to lock onto (nor anything to buffer).
    if (this.status === 'waiting') return this.ignore('not-started');
    this.lastValidAt = now;
    return this.outOfSequence(seg.seq, seg.payload, eof);
  }

  /**
   * Whether an in-order segment's ACK waits for the batch's end: when the sender pipelines, and unless held
   * segments follow it (then handleDatagram answers for the run at once).
   */
  private defers(): boolean {
    return this.pipelined && (this.reorder === undefined || this.reorder.size === 0);
  }

  /**
   * A segment out of sequence once locked on, on either wire: held when the reorder buffer takes it (ahead,
   * within bounds, not held yet), else a duplicate (a retransmission, or anything else) that re-ACKs the last
   * in-sequence segment. `payload` undefined: nothing to hold (an END of the --verify or --key wire ahead of the data).
   */
  private outOfSequence(seq: number, payload: Uint8Array | undefined, eof: boolean): Verdict {
    if (this.reorder !== undefined && payload !== undefined && this.reorder.offer(this.expected, seq, payload, eof) === 'held') {
      return { kind: 'held', seq, reply: this.cumulativeReply() };
    }
    return this.duplicate(seq, this.cumulativeReply());
  }

  /** The re-ACK of the last in-sequence segment (in the wire's form), or with --sack a SACK while segments are held. */
  private cumulativeReply(): Uint8Array {
    const cum = (this.expected - 1) >>> 0;
    const holding = this.cfg.sack === true && this.reorder !== undefined && this.reorder.size > 0;
    const wire = this.cfg.wire;
    if (wire !== undefined) return holding ? wire.sack(cum, this.reorder!.ranges(this.expected, SACK_MAX_RANGES)) : wire.ack(cum, ACK_STATUS.ack);
    if (!holding) return encodeAck(cum);
    return encodeSack(cum, this.reorder!.ranges(this.expected, SACK_MAX_RANGES));
  }

  /**
   * --verify/--key, in the classic order where it applies: the wire checks integrity and authenticity first
   * (so nothing forged can draw on the loss service or print a loss line), then the loss service, then the
   * sequence rules. With --key the session, not the address, identifies the sender: a valid copy from
   * elsewhere is only a duplicate.
   */
  private judgeWire(now: number, bytes: Uint8Array, from: string, wire: ReceiverWire): Verdict {
    const got = wire.read(bytes);
    if (got.kind === 'ignored') return this.ignoreWire(got.reason, got.mode, bytes, from);
    if (this.status === 'done' || this.status === 'failed') return this.ignore('not-started');
    if (got.kind === 'handshake') {
      // Once a session is open (and while it lingers), another sender's HELLO gets no challenge: it could never
      // open a session here, and a next sender (--count) that took this one's challenge would answer it in vain
      // instead of asking the next receiver again.
      if (this.peer !== undefined && from !== this.peer) {
        this.stats.foreign++;
        return this.ignore('foreign');
      }
      if (got.opened) this.begin(now, from);
      return { kind: 'handshake', reply: got.reply };
    }
    if (wire.mode === 'verify' && this.peer !== undefined && from !== this.peer) {
      this.stats.foreign++;
      return this.ignore('foreign');
    }
    if (this.cfg.lossRate > 0 && this.cfg.random() < this.cfg.lossRate) {
      this.stats.drops++;
      return { kind: 'lost', seq: got.seq };
    }
    if (this.status === 'lingering') {
      this.lastValidAt = now;
      this.lingerUntil = now + this.cfg.lingerMs;
      return this.duplicate(got.seq, this.eofReply?.());
    }
    const ack = (seq: number, status: AckStatus) => () => wire.ack(seq, status);
    if (got.seq === this.expected) {
      if (got.kind === 'data') {
        const reply = this.defers() ? DEFERRED : wire.ack(got.seq, ACK_STATUS.ack);
        return this.deliver(now, from, got.seq, got.payload, reply, false);
      }
      const received = this.finishHash();
      if (Buffer.compare(received, got.digest) === 0) {
        const v = this.deliver(now, from, got.seq, new Uint8Array(0), wire.ack(got.seq, ACK_STATUS.committed), true);
        this.eofReply = ack(got.seq, ACK_STATUS.committed);
        return v;
      }
      // Not committed: linger answering MISMATCH (the sender must learn it), then fail.
      this.rejected = true;
      this.begin(now, from);
      this.linger(now, ack(got.seq, ACK_STATUS.mismatch));
      return { kind: 'digest-mismatch', seq: got.seq, received: received.toString('hex'), announced: Buffer.from(got.digest).toString('hex'), reply: this.eofReply!() };
    }
    if (this.status === 'waiting') return this.ignore('not-started');
    this.lastValidAt = now;
    // Held only once locked on: after segment 0 (--verify), or in the session the handshake opened (--key).
    return this.outOfSequence(got.seq, got.kind === 'data' ? got.payload : undefined, false);
  }

  private ignoreWire(reason: WireIgnore, mode: WireMode | undefined, bytes: Uint8Array, from: string): Verdict {
    switch (reason) {
      case 'bad-checksum':
        this.stats.badChecksums++;
        return { kind: 'bad-checksum', seq: peekSeq(bytes) };
      case 'other-mode':
        if (mode !== undefined && !this.noticed.has(mode)) {
          this.noticed.add(mode);
          this.stats.ignored++;
          return { kind: 'other-mode', mode, from };
        }
        return this.ignore('other-mode');
      case 'bad-mac':
        if (this.badMacSeen) return this.ignore('unauthenticated');
        this.badMacSeen = true;
        this.stats.ignored++;
        return { kind: 'bad-mac', from };
      case 'foreign':
        this.stats.foreign++;
        return this.ignore('foreign');
      default:
        return this.ignore(reason);
    }
  }

  private ignore(reason: IgnoreReason): Verdict {
    this.stats.ignored++;
    return { kind: 'ignored', reason };
  }

  private duplicate(seq: number, reply: Uint8Array | undefined): Verdict {
    this.stats.duplicates++;
    return { kind: 'duplicate', seq, reply };
  }

  /** A valid segment: the first one starts the transfer and names its sender. */
  private begin(now: number, from: string): void {
    if (this.status === 'waiting') {
      this.status = 'receiving';
      this.peer = from;
      this.startedAt = now;
    }
    this.lastValidAt = now;
  }

  private deliver(now: number, from: string, seq: number, payload: Uint8Array, reply: Uint8Array, eof: boolean): Verdict {
    this.begin(now, from);
    this.expected = (seq + 1) >>> 0;
    this.stats.bytes += payload.length;
    this.stats.segments++;
    // The wire's END closed the hash already (to check its digest) and carries no data.
    if (this.sha256 === undefined && this.hash !== undefined) {
      this.hash.update(payload);
      if (eof) this.finishHash();
    }
    if (eof) this.linger(now, () => reply);
    return { kind: 'delivered', seq, payload, reply, complete: eof };
  }

  /** Close the hash of what was delivered (once: at the end of file). */
  private finishHash(): Buffer {
    const d = this.hash!.digest();
    this.sha256 = d.toString('hex');
    return d;
  }

  private linger(now: number, answer: () => Uint8Array): void {
    this.status = 'lingering';
    this.completedAt = now;
    this.lingerUntil = now + this.cfg.lingerMs;
    this.eofReply = answer;
  }

  handleTimeout(now: number): void {
    if (this.status === 'lingering' && now >= this.lingerUntil) {
      this.status = this.rejected ? 'failed' : 'done';
      this.events.push({ kind: this.rejected ? 'rejected' : 'done' });
    }
    // Compared exactly as pollTimeout() computes it, so a wake-up at that instant always fires (no float rounding gap).
    else if (this.status === 'receiving' && now >= this.lastValidAt + this.cfg.idleTimeoutMs) {
      this.status = 'failed';
      this.events.push({ kind: 'stalled' });
    }
  }

  /**
   * Work that can wait until the reply is on the wire: with --key, seal the ACK the next segment will need
   * (not in the middle of a batch: its ACK will name a later segment).
   */
  prepare(): void {
    if (this.status === 'receiving' && this.deferredTo === undefined) this.cfg.wire?.prepare(this.expected, ACK_STATUS.ack);
  }

  /** Linger end, or the idle deadline of a started transfer; a receiver waiting for its first sender waits forever. */
  pollTimeout(): number | undefined {
    if (this.status === 'lingering') return this.lingerUntil;
    if (this.status === 'receiving') return this.lastValidAt + this.cfg.idleTimeoutMs;
    return undefined;
  }
}

/** One datagram in, its event and reply out: for callers that step the machine by hand (tests, fuzzers). */
export type Step = ReceiverEvent & { reply?: Uint8Array };

export function step(rx: ReceiverMachine, now: number, bytes: Uint8Array, from: string): Step {
  rx.handleDatagram(now, bytes, from);
  rx.flush(); // one datagram is its own batch
  // The datagram's event is the last one queued (a timer handled before it may have queued 'done' or 'stalled').
  let ev = rx.pollEvent()!;
  for (let e = rx.pollEvent(); e !== undefined; e = rx.pollEvent()) ev = e;
  const reply = rx.pollTransmit();
  return reply === undefined ? ev : { ...ev, reply: reply.bytes };
}
