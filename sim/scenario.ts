// One simulated transfer: N receivers, one SenderMachine per receiver (as in the real engine), a ReceiverMachine
// per receiver, two links per receiver, all driven from one event queue in virtual time. The driver here only
// moves bytes and time; every protocol decision is made by the machines in src/core.

import { Buffer } from 'node:buffer';
import { lockstepLimit } from '../src/core/lockstep.js';
import { ReceiverMachine } from '../src/core/receiver.js';
import { SenderMachine, type FailReason, type SenderStatus } from '../src/core/sender.js';
import type { ReceiverStatus } from '../src/core/receiver.js';
import { livenessDeadlineMs } from './bounds.js';
import { EventQueue, type Timed } from './events.js';
import { Link } from './network.js';
import { Observer, type SenderView, type Violation } from './observer.js';
import { pathDelayMs, resolveOptions, type ScenarioInput, type ScenarioOptions } from './options.js';
import { seededBytes, stream } from './prng.js';

const enum Kind {
  ArriveAtReceiver = 0,
  ArriveAtSender = 1,
  SenderTimer = 2,
  ReceiverTimer = 3,
}

interface SimEvent extends Timed {
  kind: Kind;
  r: number;
  /** The datagram, for arrivals (flattened into the event: one allocation per packet, not two). */
  bytes: Uint8Array | undefined;
  corrupted: boolean;
}

/** The address key every receiver sees for the (single) sender. */
const SENDER_KEY = 'sim-sender:7735';

export interface ReceiverResult {
  index: number;
  /** One-way delay of this receiver's path (ms). */
  delayMs: number;
  senderStatus: SenderStatus;
  failReason: FailReason | undefined;
  /** When the sender accepted the last ACK (the transfer to this receiver is complete). */
  doneAtMs: number | undefined;
  receiverStatus: ReceiverStatus;
  /** When the receiver wrote the end of file. */
  completedAtMs: number | undefined;
  crashed: boolean;
  segments: number;
  segmentsSent: number;
  retransmissions: number;
  timeouts: number;
  duplicateAcks: number;
  ackForUnsent: number;
  lossServiceDrops: number;
  badChecksums: number;
  receiverDuplicates: number;
  /** The bytes the receiver wrote, in file order (undefined when runScenario was asked not to keep them). */
  received: Uint8Array | undefined;
  fileMatches: boolean;
}

export interface WireStats {
  /** DATA/FIN datagrams the senders transmitted. */
  dataSent: number;
  /** ACK datagrams the receivers transmitted. */
  acksSent: number;
  /** Datagrams that travelled (sent - dropped + duplicates). */
  packetsOnWire: number;
  dropped: number;
  duplicated: number;
  corrupted: number;
  /** Datagrams that reached a crashed receiver. */
  lostToCrash: number;
}

export type StopReason = 'all-terminal' | 'deadline' | 'max-events' | 'queue-empty';

export interface ScenarioResult {
  options: ScenarioOptions;
  file: Uint8Array;
  segments: number;
  receivers: ReceiverResult[];
  /** Time the last sender finished (done or failed); undefined if the run was cut short. */
  completionMs: number | undefined;
  endMs: number;
  stoppedBy: StopReason;
  deadlineMs: number;
  /** Every non-crashed receiver's transfer is done and its file is byte-identical. */
  allComplete: boolean;
  wire: WireStats;
  eventsProcessed: number;
  violations: Violation[];
  violationCount: number;
  /** FNV-1a over every processed event (kind, receiver, time): equal hashes mean identical runs. */
  traceHash: string;
}

export function runScenario(input: ScenarioInput = {}, keepReceived = true): ScenarioResult {
  const o = resolveOptions(input);
  const n = o.receivers;
  const lockstep = o.mode === 'lockstep';
  const file = seededBytes(stream(o.seed, 'workload'), o.fileBytes);
  const queue = new EventQueue<SimEvent>();
  const deadlineMs = livenessDeadlineMs(o);

  const rto = { ...o.rto, fixedMs: o.rto.fixedMs ?? undefined };
  const senders: SenderMachine[] = [];
  const receivers: ReceiverMachine[] = [];
  const downs: Link[] = [];
  const ups: Link[] = [];
  const crashAt = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  for (const c of o.crashes) crashAt[c.receiver] = Math.min(crashAt[c.receiver]!, c.atMs);
  const faultUntil = o.faultUntilMs ?? Number.POSITIVE_INFINITY;

  for (let r = 0; r < n; r++) {
    senders.push(new SenderMachine({ mss: o.mss, file, eof: o.eof, rto, giveUpMs: o.giveUpMs, initialSeq: o.initialSeq }));
    receivers.push(
      new ReceiverMachine({
        lossRate: o.lossRate,
        random: stream(o.seed, `loss/${r}`),
        idleTimeoutMs: o.idleTimeoutMs,
        lingerMs: o.lingerMs,
        initialSeq: o.initialSeq,
      }),
    );
    const push = (kind: Kind) => (atMs: number, bytes: Uint8Array, corrupted: boolean) =>
      queue.push({ time: atMs, seq: 0, kind, r, bytes, corrupted });
    downs.push(new Link({ ...o.down, delayMs: pathDelayMs(o, r, 'down') }, stream(o.seed, `net/${r}/down`), faultUntil, o.corruptScope, push(Kind.ArriveAtReceiver)));
    ups.push(new Link({ ...o.up, delayMs: pathDelayMs(o, r, 'up') }, stream(o.seed, `net/${r}/up`), faultUntil, o.corruptScope, push(Kind.ArriveAtSender)));
  }
  const total = senders[0]!.total;
  // Keeping every receiver's bytes costs a fresh buffer per receiver (page faults dominate for big runs); the
  // observer checks each write against the file either way.
  const disks = keepReceived ? senders.map(() => new Uint8Array(o.fileBytes)) : undefined;

  // Mirrors of sender state for the lockstep barrier (lockstepLimit wants plain arrays).
  const acked = new Array<number>(n).fill(0);
  const live = new Array<boolean>(n).fill(true);
  const view: SenderView = { acked: (q) => senders[q]!.acked, live: (q) => senders[q]!.status !== 'failed' };
  const observer = new Observer(n, file, o.mss, total, o.initialSeq, lockstep, view, disks);
  const doneAt = new Array<number | undefined>(n).fill(undefined);
  // Earliest pending timer event per machine; a later deadline reuses it (firing early is a no-op for the machines).
  const senderArmed = new Array<number | undefined>(n).fill(undefined);
  const receiverArmed = new Array<number | undefined>(n).fill(undefined);
  let limit = lockstep ? 0 : Number.POSITIVE_INFINITY;
  /** Live senders whose acked count equals the limit (lockstep): the barrier lifts when this reaches 0. */
  let holdingBarrier = n;
  // Which machine's timer is being handled (to recognise a timeout that asks to fire again at once).
  let timerFiring: Kind | undefined;
  let timerFiringFor = -1;
  let terminal = 0;
  let dataSent = 0;
  let acksSent = 0;
  let lostToCrash = 0;

  const arm = (armed: Array<number | undefined>, r: number, target: number | undefined, kind: Kind): void => {
    if (target === undefined) return;
    if (target <= queue.now && timerFiring === kind && timerFiringFor === r) {
      // Handling the timeout made no progress: re-arming would spin at this instant forever. Report, do not re-arm.
      observer.onTimerLivelock(kind === Kind.SenderTimer ? 'sender' : 'receiver', r, queue.now);
      return;
    }
    const at = Math.max(target, queue.now);
    const current = armed[r];
    if (current !== undefined && current <= at) return;
    armed[r] = at;
    queue.push({ time: at, seq: 0, kind, r, bytes: undefined, corrupted: false });
  };

  const drainTransmit = (r: number): void => {
    const s = senders[r]!;
    const now = queue.now;
    for (let bytes = s.pollTransmit(now); bytes !== undefined; bytes = s.pollTransmit(now)) {
      observer.onTransmit(r, now, bytes);
      dataSent++;
      downs[r]!.send(now, bytes);
    }
    arm(senderArmed, r, s.pollTimeout(), Kind.SenderTimer);
  };

  /** After any input to sender r: handle its events, move the lockstep barrier, transmit, re-arm. */
  const serviceSender = (r: number): void => {
    const s = senders[r]!;
    const now = queue.now;
    for (let ev = s.pollEvent(); ev !== undefined; ev = s.pollEvent()) {
      if (ev.type === 'acked') {
        observer.onAcked(r, now, ev.index);
        if (acked[r] === limit) holdingBarrier--;
        acked[r] = s.acked;
      } else if (ev.type === 'failed') {
        if (live[r] && acked[r] === limit) holdingBarrier--;
        live[r] = false;
        doneAt[r] = now;
        terminal++;
      } else if (ev.type === 'done') {
        doneAt[r] = now;
        terminal++;
      }
    }
    // Live senders sit at the barrier or one past it, so the limit can only move once none is left at it; only
    // then is lockstepLimit() consulted (it is O(n): calling it on every ACK would make a round O(n^2)).
    if (lockstep && holdingBarrier === 0) {
      const next = lockstepLimit(acked, live);
      if (next !== limit) {
        limit = next;
        holdingBarrier = 0;
        for (let q = 0; q < n; q++) if (live[q] && acked[q] === limit) holdingBarrier++;
        for (let q = 0; q < n; q++) senders[q]!.setLimit(limit);
        for (let q = 0; q < n; q++) if (q !== r) drainTransmit(q);
      }
    }
    drainTransmit(r);
  };

  const arriveAtReceiver = (r: number, bytes: Uint8Array, corrupted: boolean): void => {
    const now = queue.now;
    if (now >= crashAt[r]!) {
      lostToCrash++;
      return;
    }
    observer.onArrival(r, now, bytes, corrupted, n);
    const rx = receivers[r]!;
    const verdict = rx.handleDatagram(now, bytes, SENDER_KEY);
    if (verdict.kind === 'delivered') {
      // Write before acknowledging: an ACK means "on disk".
      observer.onWrite(r, now, bytes, corrupted, verdict.seq, verdict.payload);
      acksSent++;
      ups[r]!.send(now, verdict.reply);
    } else if (verdict.kind === 'duplicate' && verdict.reply !== undefined) {
      acksSent++;
      ups[r]!.send(now, verdict.reply);
    }
    arm(receiverArmed, r, rx.pollTimeout(), Kind.ReceiverTimer);
  };

  const arriveAtSender = (r: number, bytes: Uint8Array, corrupted: boolean): void => {
    const s = senders[r]!;
    const before = s.stats.ackForUnsent;
    s.handleDatagram(queue.now, bytes);
    if (!corrupted && s.stats.ackForUnsent !== before) observer.onAckForUnsent(r, queue.now);
    serviceSender(r);
  };

  if (lockstep) for (const s of senders) s.setLimit(limit);
  for (let r = 0; r < n; r++) drainTransmit(r);

  let hash = 0x811c9dc5;
  let stoppedBy: StopReason = 'all-terminal';
  while (terminal < n) {
    const next = queue.peekTime();
    if (next === undefined) {
      stoppedBy = 'queue-empty';
      break;
    }
    if (next > deadlineMs) {
      stoppedBy = 'deadline';
      break;
    }
    if (queue.processed >= o.maxEvents) {
      stoppedBy = 'max-events';
      break;
    }
    const ev = queue.pop()!;
    hash = Math.imul(hash ^ (ev.kind | (ev.r << 2)), 0x01000193);
    hash = Math.imul(hash ^ Math.round(ev.time * 1000), 0x01000193);
    switch (ev.kind) {
      case Kind.ArriveAtReceiver:
        arriveAtReceiver(ev.r, ev.bytes!, ev.corrupted);
        break;
      case Kind.ArriveAtSender:
        arriveAtSender(ev.r, ev.bytes!, ev.corrupted);
        break;
      case Kind.SenderTimer:
        if (senderArmed[ev.r] !== ev.time) break; // superseded by an earlier deadline
        senderArmed[ev.r] = undefined;
        senders[ev.r]!.handleTimeout(ev.time);
        timerFiring = Kind.SenderTimer;
        timerFiringFor = ev.r;
        serviceSender(ev.r);
        timerFiring = undefined;
        break;
      case Kind.ReceiverTimer: {
        if (receiverArmed[ev.r] !== ev.time) break;
        receiverArmed[ev.r] = undefined;
        const rx = receivers[ev.r]!;
        rx.handleTimeout(ev.time);
        timerFiring = Kind.ReceiverTimer;
        timerFiringFor = ev.r;
        arm(receiverArmed, ev.r, rx.pollTimeout(), Kind.ReceiverTimer);
        timerFiring = undefined;
        break;
      }
    }
  }

  const results: ReceiverResult[] = senders.map((s, r) => {
    const rx = receivers[r]!;
    const received = disks?.[r]!.subarray(0, observer.writtenBytes[r]!);
    return {
      index: r,
      delayMs: pathDelayMs(o, r, 'down'),
      senderStatus: s.status,
      failReason: s.failReason,
      doneAtMs: s.status === 'done' ? doneAt[r] : undefined,
      receiverStatus: rx.status,
      completedAtMs: rx.completedAt,
      crashed: crashAt[r]! !== Number.POSITIVE_INFINITY,
      segments: s.total,
      segmentsSent: s.stats.segmentsSent,
      retransmissions: s.stats.retransmissions,
      timeouts: s.stats.timeouts,
      duplicateAcks: s.stats.duplicateAcks,
      ackForUnsent: s.stats.ackForUnsent,
      lossServiceDrops: rx.stats.drops,
      badChecksums: rx.stats.badChecksums,
      receiverDuplicates: rx.stats.duplicates,
      received,
      fileMatches: observer.wroteWholeFile(r) && (received === undefined || Buffer.compare(received, file) === 0),
    };
  });
  const linkTotal = (key: 'sent' | 'dropped' | 'duplicated' | 'corrupted'): number =>
    downs.reduce((a, l) => a + l.stats[key], 0) + ups.reduce((a, l) => a + l.stats[key], 0);
  const allComplete = results.every(
    (x) => x.crashed || (x.senderStatus === 'done' && x.completedAtMs !== undefined && x.fileMatches),
  );
  return {
    options: o,
    file,
    segments: total,
    receivers: results,
    completionMs: stoppedBy === 'all-terminal' ? Math.max(0, ...doneAt.map((t) => t ?? 0)) : undefined,
    endMs: queue.now,
    stoppedBy,
    deadlineMs,
    allComplete,
    wire: {
      dataSent,
      acksSent,
      packetsOnWire: linkTotal('sent') - linkTotal('dropped') + linkTotal('duplicated'),
      dropped: linkTotal('dropped'),
      duplicated: linkTotal('duplicated'),
      corrupted: linkTotal('corrupted'),
      lostToCrash,
    },
    eventsProcessed: queue.processed,
    violations: observer.violations,
    violationCount: observer.count,
    traceHash: (hash >>> 0).toString(16).padStart(8, '0'),
  };
}
