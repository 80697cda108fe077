// The group sender: every protocol decision of one transfer to several receivers, sans-I/O. It owns one
// flow per receiver (SenderFlow, or WindowFlow with --window/--sack/--cc), the multi-receiver rule (lockstep:
// segment j goes to nobody until every live receiver has acknowledged j - N, N = 1 classic; independent:
// each flow runs on its own ACKs), pacing (--rate, over all flows), the file-buffer gate
// (only loaded segments may be sent), failures, and one SegmentSource that encodes each segment once for
// all flows. With --multicast (multicast.ts) new segments go once to the group (GROUP_PEER) and repairs are
// batched into unicast or group ones; every receiver still has its own flow. Drivers (the UDP worker loop, the
// simulator) call, in the quinn-proto order:
//   handleDatagram / handleStray / handleTimeout / fail / abort / setBufferEnd / setPeerSlowest   (input)
//   pollTransmit until undefined, then pollEvent until undefined, then pollTimeout     (output)
// Time is only ever an argument; a spurious handleTimeout does nothing.

import { FlowDeadlines } from './deadlines.js';
import { Fifo } from './queue.js';
import { SenderFlow, type FailReason, type SenderEvent, type SenderStats } from './flow.js';
import { MULTICAST_DEFAULT_WINDOW, REPAIR_HOLD_SRTT_FRACTION, RepairBatcher, repairGoesToGroup } from './multicast.js';
import type { SenderOptions } from './options.js';
import { Pacer } from './pacer.js';
import { SegmentSource, type FileSource } from './segments.js';
import { CLASSIC_WINDOW, windowLockstepLimit, WindowFlow, type WindowOptions } from './window.js';

/** One receiver's flow: the classic stop-and-wait, or the sliding window (identical at N = 1, see window.ts). */
export type Flow = SenderFlow | WindowFlow;

/** Datagrams the pacer lets go back to back after an idle spell (a few keep the loop from a timer per datagram). */
const PACER_BURST_DATAGRAMS = 4;
/**
 * --key with a window: segments a flow seals ahead of the newest it sent (its window's worth, at most this; a
 * quarter of SegmentSource's cache). Sealed in a run while the burst just sent crosses the wire, a segment costs
 * less than sealed between two sends (BENCHMARKS.md, "Sealing a window ahead"). Stop-and-wait seals one.
 */
const SEAL_AHEAD = 64;

export interface GroupConfig extends SenderOptions {
  receivers: number;
  file: FileSource;
  /** Also emit instrumentation events ('sent', 'rtt', 'timer'). */
  instrument?: boolean;
}

export type GroupEvent =
  | SenderEvent
  /** Instrumentation: receiver's retransmission/give-up deadline moved (undefined: nothing timed). */
  | { type: 'timer'; receiver: number; at: number | undefined };

/** Transmit.receiver for a datagram to the multicast group; any other value is a unicast to that receiver. */
export const GROUP_PEER = -1;

export interface Transmit {
  /** A receiver's index, or GROUP_PEER (multicast: every receiver in the group). */
  receiver: number;
  bytes: Uint8Array;
}

/** --multicast: what the group sent, by kind (a group transmission counts once). */
export interface MulticastStats {
  /** New segments sent once to the group. */
  groupSent: number;
  /** Repairs sent once to the group. */
  groupRepairs: number;
  /** Repairs sent by unicast (one per receiver that needed it). */
  unicastRepairs: number;
}

interface Multicast {
  batcher: RepairBatcher;
  fraction: number;
  /** Transmits decided and not yet polled (a unicast repair to k receivers is k of them). */
  out: Fifo<Transmit>;
  /** The flows (all WindowFlow under multicast). */
  flows: WindowFlow[];
  /** Segments [0, high) have gone out once to the group as new. */
  high: number;
  stats: MulticastStats;
}

export class GroupSender {
  readonly flows: readonly Flow[];
  readonly segments: SegmentSource;
  /** Flows that are done or failed. */
  terminal = 0;
  /** Datagrams handed to the driver (DATA, FIN and handshakes; a group transmission counts once). */
  datagramsSent = 0;
  /** handleTimeout calls that found no deadline due (a timer that fired early or was superseded). */
  idleWakeups = 0;

  private readonly lockstep: boolean;
  private readonly instrument: boolean;
  /** N: lockstep lets segment j go once every live receiver has acknowledged j - N. */
  private readonly window: number;
  private readonly pacer: Pacer | undefined;
  /** The last pollTransmit was held back by the pacer: pollTimeout() includes the pacer's next send time. */
  private paced = false;
  /** Flows push their events here directly; the group adds its own. */
  private readonly events = new Fifo<GroupEvent>();
  /** Each flow's deadline as last read, and the earliest. */
  private readonly deadlines: FlowDeadlines;
  /** Flows that may have something to transmit. */
  private readonly ready: number[] = [];
  private readonly isReady: Uint8Array;
  /** Lowest acknowledged count over live flows, and how many live flows sit exactly there. */
  private slowestAcked = 0;
  private atSlowest: number;
  /** Lowest acknowledged count of live receivers outside this group (other threads), or Infinity. */
  private peerSlowest = Number.POSITIVE_INFINITY;
  /** Segments [0, bufferEnd) are loaded and may be sent. */
  private bufferEnd = Number.POSITIVE_INFINITY;
  private limit = Number.NEGATIVE_INFINITY;
  /** --key: sealing is worth moving off the round trip (see prepare); flows that sent since the last prepare. */
  private readonly sealed: boolean;
  private readonly toPrepare: number[] = [];
  private readonly sealAhead: number;
  /** Per flow: the segments below this one were sealed ahead already (the next prepare starts there). */
  private readonly sealedTo: Float64Array;
  private readonly mcast: Multicast | undefined;

  constructor(cfg: GroupConfig) {
    this.segments = new SegmentSource(cfg.file, cfg.mss, cfg.eof, cfg.initialSeq, cfg.wire);
    const m = cfg.multicast;
    // Multicast: lockstep (the group advances with its slowest live receiver) and the window flow reading SACK.
    this.lockstep = cfg.mode === 'lockstep' || m !== undefined;
    this.sealed = cfg.wire?.mode === 'key';
    this.instrument = cfg.instrument === true;
    const w: WindowOptions = m === undefined ? (cfg.window ?? CLASSIC_WINDOW) : { window: cfg.window?.window ?? MULTICAST_DEFAULT_WINDOW, sack: true, cc: cfg.window?.cc ?? 'none' };
    if (m !== undefined) {
      if (!(m.repairGroupFraction >= 0 && m.repairGroupFraction <= 1)) throw new RangeError('--repair-group must be a fraction in [0, 1]');
      if (w.cc !== 'none') throw new RangeError('--cc cannot be combined with --multicast');
    }
    const classic = m === undefined && w.window === 1 && !w.sack && w.cc === 'none';
    this.window = w.window;
    this.sealAhead = Math.min(w.window, SEAL_AHEAD);
    this.sealedTo = new Float64Array(cfg.receivers);
    this.pacer = cfg.rateBitsPerSec === undefined ? undefined : new Pacer(cfg.rateBitsPerSec, PACER_BURST_DATAGRAMS * cfg.mss);
    const flows: Flow[] = [];
    for (let r = 0; r < cfg.receivers; r++) {
      const f = { segments: this.segments, rto: cfg.rto, giveUpMs: cfg.giveUpMs, waitMs: cfg.waitMs, instrument: cfg.instrument, receiver: r, events: this.events as Fifo<SenderEvent> };
      flows.push(classic ? new SenderFlow(f) : new WindowFlow({ ...f, ...w, multicast: m !== undefined }));
    }
    this.flows = flows;
    this.mcast =
      m === undefined
        ? undefined
        : { batcher: new RepairBatcher(), fraction: m.repairGroupFraction, out: new Fifo<Transmit>(), flows: flows as WindowFlow[], high: 0, stats: { groupSent: 0, groupRepairs: 0, unicastRepairs: 0 } };
    this.deadlines = new FlowDeadlines(cfg.receivers);
    this.isReady = new Uint8Array(cfg.receivers);
    this.atSlowest = cfg.receivers;
    if (cfg.receivers === 0) this.slowestAcked = Number.POSITIVE_INFINITY;
    this.updateLimit();
  }

  /** Segments in the transfer (every flow sends the same ones; Infinity while a streamed input's end is unknown). */
  get total(): number {
    return this.segments.total;
  }

  get receivers(): number {
    return this.flows.length;
  }

  /** Every flow is done or failed. */
  get finished(): boolean {
    return this.terminal === this.flows.length;
  }

  /** Lowest acknowledged count over this group's live receivers (Infinity when none is live). */
  get slowest(): number {
    return this.slowestAcked;
  }

  /** The highest segment index any flow may send now. */
  get allowed(): number {
    return this.limit;
  }

  stats(r: number): SenderStats {
    return this.flows[r]!.stats;
  }

  /** --multicast: group sends and repairs by kind; undefined for a unicast transfer. */
  get multicastStats(): Readonly<MulticastStats> | undefined {
    return this.mcast?.stats;
  }

  // ---- input ----

  handleDatagram(now: number, r: number, bytes: Uint8Array): void {
    const flow = this.flows[r];
    if (flow === undefined) return;
    const acked = flow.acked;
    const status = flow.status;
    flow.handleDatagram(now, bytes);
    this.touch(r, acked, status);
  }

  /** A datagram for receiver r from another address on its port (see SenderFlow.handleStray); never an answer. */
  handleStray(r: number, bytes: Uint8Array): void {
    this.flows[r]?.handleStray(bytes);
  }

  /** Handle every deadline that has passed by `now` (each flow once: one that re-arms at `now` waits for the next call). */
  handleTimeout(now: number): void {
    this.paced = false;
    const due: number[] = [];
    for (let r = this.deadlines.takeDue(now); r >= 0; r = this.deadlines.takeDue(now)) due.push(r);
    const repairDue = this.mcast?.batcher.nextDue();
    if (due.length === 0 && !(repairDue !== undefined && repairDue <= now)) this.idleWakeups++;
    for (const r of due) {
      const flow = this.flows[r]!;
      const acked = flow.acked;
      const status = flow.status;
      flow.handleTimeout(now);
      this.touch(r, acked, status);
    }
  }

  /** Declare receiver r failed (ICMP port unreachable, a socket error). */
  fail(r: number, reason: FailReason): void {
    this.change(r, (flow) => flow.fail(reason));
  }

  /** ICMP port unreachable for receiver r: failed, unless it may still be starting (see SenderOptions.waitMs). */
  handleUnreachable(now: number, r: number): void {
    this.change(r, (flow) => flow.handleUnreachable(now));
  }

  /** Apply an input to receiver r's flow and move it in the group's bookkeeping (not for ACKs: no closure per ACK). */
  private change(r: number, input: (flow: Flow) => void): void {
    const flow = this.flows[r];
    if (flow === undefined) return;
    const status = flow.status;
    input(flow);
    this.touch(r, flow.acked, status);
  }

  /** Stop everything (Ctrl-C): every flow still sending fails as 'aborted'. */
  abort(): void {
    for (let r = 0; r < this.flows.length; r++) this.fail(r, 'aborted');
  }

  /** The file buffer holds segments [0, end). */
  setBufferEnd(end: number): void {
    if (end === this.bufferEnd) return;
    this.bufferEnd = end;
    this.updateLimit();
  }

  /** Lockstep across threads: the lowest acknowledged count of live receivers in the other groups. */
  setPeerSlowest(acked: number): void {
    if (acked === this.peerSlowest) return;
    this.peerSlowest = acked;
    this.updateLimit();
  }

  // ---- output ----

  pollTransmit(now: number): Transmit | undefined {
    if (this.mcast !== undefined) return this.pollMulticast(now, this.mcast);
    while (this.ready.length > 0) {
      if (this.pacer !== undefined && !this.pacer.mayAt(now)) {
        this.paced = true;
        return undefined;
      }
      const r = this.ready[this.ready.length - 1]!;
      const bytes = this.flows[r]!.pollTransmit(now);
      if (bytes !== undefined) {
        this.pacer?.sent(now, bytes.length);
        this.datagramsSent++;
        if (this.sealed) this.toPrepare.push(r);
        this.refreshDeadline(r);
        return { receiver: r, bytes };
      }
      this.ready.pop();
      this.isReady[r] = 0;
    }
    return undefined;
  }

  pollEvent(): GroupEvent | undefined {
    return this.events.shift();
  }

  /**
   * Work that can wait until the datagrams just polled are on the wire: with --key, seal the segments each
   * flow will send next for the first time (the one after the one in flight with stop-and-wait, up to a
   * window's worth after the newest sent with a window) and the ACK it expects, so sealing is off the round
   * trip (stop-and-wait would otherwise wait for it). Only loaded segments are read; the cache makes the
   * later pollTransmit a lookup.
   */
  prepare(): void {
    for (let r = this.toPrepare.pop(); r !== undefined; r = this.toPrepare.pop()) {
      const flow = this.flows[r]!;
      flow.prepare();
      const next = flow.nextNew;
      const end = Math.min(next + this.sealAhead, this.total, this.bufferEnd);
      for (let i = Math.max(next, this.sealedTo[r]!); i < end; i++) this.segments.segment(i);
      if (end > this.sealedTo[r]!) this.sealedTo[r] = end;
    }
  }

  /** The earliest deadline of any flow (retransmission or give-up), or the pacer's next send time; undefined when nothing is timed. */
  pollTimeout(): number | undefined {
    let at = this.deadlines.next();
    const repairAt = this.mcast?.batcher.nextDue();
    if (repairAt !== undefined) at = at === undefined ? repairAt : Math.min(at, repairAt);
    if (!this.paced || this.pacer === undefined) return at;
    const paceAt = this.pacer.nextSendTime(Number.NEGATIVE_INFINITY);
    return at === undefined ? paceAt : Math.min(at, paceAt);
  }

  // ---- multicast ----

  private pollMulticast(now: number, m: Multicast): Transmit | undefined {
    if (m.out.length === 0) this.gatherMulticast(now, m);
    const next = m.out.peek();
    if (next === undefined) return undefined;
    if (this.pacer !== undefined && !this.pacer.mayAt(now)) {
      this.paced = true;
      return undefined;
    }
    m.out.shift();
    this.pacer?.sent(now, next.bytes.length);
    this.datagramsSent++;
    return next;
  }

  /**
   * Decide what goes out next: the flows' repair requests into the batcher, and the batches due; then the next
   * new segment, once, to the group. The first segment is the registration: it goes to the group like any
   * other, a receiver that acknowledges it is registered, one whose timer expires first asks for it again like
   * any lost segment (so a few are retried by unicast, a whole group that is not listening yet by one group
   * copy per timeout), and one that never acknowledges it fails 'never-registered' (WindowFlow). With --key each
   * receiver's handshake goes first, by unicast (its own challenge), each step retransmitted on its flow's timer.
   */
  private gatherMulticast(now: number, m: Multicast): void {
    for (let r = this.ready.pop(); r !== undefined; r = this.ready.pop()) {
      this.isReady[r] = 0;
      const flow = m.flows[r]!;
      const step = flow.opening ? flow.pollTransmit(now) : undefined;
      if (step !== undefined) {
        m.out.push({ receiver: r, bytes: step });
        this.refreshDeadline(r);
      }
      for (let j = flow.takeRepair(); j !== undefined; j = flow.takeRepair()) m.batcher.request(now, j, r, (flow.srttMs ?? 0) * REPAIR_HOLD_SRTT_FRACTION);
    }
    for (let b = m.batcher.takeDue(now); b !== undefined; b = m.batcher.takeDue(now)) this.repair(now, m, b.index, b.receivers);
    if (m.out.length === 0) this.sendNew(now, m);
  }

  /** Resend segment `index` to the requesters that still need it: by unicast, or once to the group past the fraction. */
  private repair(now: number, m: Multicast, index: number, requesters: readonly number[]): void {
    let need = 0;
    for (const r of requesters) if (m.flows[r]!.needs(index)) need++;
    if (need === 0) return;
    if (repairGoesToGroup(need, this.flows.length - this.terminal, m.fraction)) {
      // Every receiver that needs it gets this copy, asked or not: each flow books it (timer, Karn).
      const bytes = this.copyToGroup(now, m, index);
      if (bytes === undefined) return;
      m.out.push({ receiver: GROUP_PEER, bytes });
      m.stats.groupRepairs++;
      return;
    }
    for (const r of requesters) {
      const bytes = m.flows[r]!.sendCopy(now, index);
      if (bytes === undefined) continue;
      m.out.push({ receiver: r, bytes });
      m.stats.unicastRepairs++;
      this.refreshDeadline(r);
    }
  }

  /**
   * The next new segment, once to the group, when every live receiver may have it: within the window of the
   * slowest (the lockstep limit, which also holds the file-buffer gate), the first only once no live receiver's
   * --key session is still opening (it could not open it, and it would not be booked for it), past the first
   * only once every live receiver has registered (acknowledged it), and the end of file only once every data
   * segment is acknowledged by all (see WindowFlow).
   */
  private sendNew(now: number, m: Multicast): void {
    const i = m.high;
    const eof = this.total - 1;
    const slowest = Math.min(this.slowestAcked, this.peerSlowest);
    if (i > eof || i > this.limit || (i > 0 && slowest < 1) || (i === eof && slowest < eof)) return;
    if (i === 0 && m.flows.some((f) => f.status === 'sending' && f.opening)) return;
    const bytes = this.copyToGroup(now, m, i);
    m.high++;
    if (bytes === undefined) return;
    m.out.push({ receiver: GROUP_PEER, bytes });
    m.stats.groupSent++;
  }

  /** Segment `index` goes to the group: every live flow that needs it (or has it next) books the copy. */
  private copyToGroup(now: number, m: Multicast, index: number): Uint8Array | undefined {
    let bytes: Uint8Array | undefined;
    for (let r = 0; r < m.flows.length; r++) {
      const b = m.flows[r]!.sendCopy(now, index);
      if (b === undefined) continue;
      bytes = b;
      this.refreshDeadline(r);
    }
    return bytes;
  }

  // ---- internals ----

  /** After any input to flow r (which had `acked` and `status` before it): track the slowest, re-read its deadline, let it transmit. */
  private touch(r: number, acked: number, status: Flow['status']): void {
    const flow = this.flows[r]!;
    if (flow.status !== status && status === 'sending') this.terminal++;
    // A live flow leaves the slowest count when it acknowledges past it or fails (a failed flow acknowledges nothing more).
    if (acked === this.slowestAcked && (flow.acked !== acked || flow.status === 'failed') && status !== 'failed') this.leaveSlowest();
    this.refreshDeadline(r);
    this.markReady(r);
  }

  private markReady(r: number): void {
    if (this.isReady[r] === 1) return;
    this.isReady[r] = 1;
    this.ready.push(r);
  }

  private refreshDeadline(r: number): void {
    const at = this.flows[r]!.pollTimeout();
    if (this.deadlines.set(r, at) && this.instrument) this.events.push({ type: 'timer', receiver: r, at });
  }

  /** A live flow left the slowest count (acknowledged past it, or failed): recompute once none is left there. */
  private leaveSlowest(): void {
    if (--this.atSlowest > 0) return;
    let min = Number.POSITIVE_INFINITY;
    let count = 0;
    for (const f of this.flows) {
      if (f.status === 'failed') continue;
      if (f.acked < min) {
        min = f.acked;
        count = 1;
      } else if (f.acked === min) count++;
    }
    this.slowestAcked = min;
    this.atSlowest = count;
    this.updateLimit();
  }

  private updateLimit(): void {
    const gate = this.bufferEnd - 1;
    const next = this.lockstep ? Math.min(windowLockstepLimit(Math.min(this.slowestAcked, this.peerSlowest), this.window), gate) : gate;
    if (next === this.limit) return;
    const grew = next > this.limit;
    this.limit = next;
    for (let r = 0; r < this.flows.length; r++) {
      this.flows[r]!.setLimit(next);
      if (grew) this.markReady(r);
    }
  }
}
