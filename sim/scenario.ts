// One simulated transfer: the production sender loop (GroupLoop over one GroupSender, as a worker thread
// runs it) and a production ReceiverLoop per receiver, over simulated transports: two links per receiver,
// one event queue in virtual time. This file only wires them up, moves events and reports; every protocol
// decision is made in src/core, and every loop decision in src/transport.

import { Buffer } from 'node:buffer';
import { crypto } from '../src/core/builtins.js';
import { KeyReceiverWire, VerifyReceiverWire } from '../src/core/receiver-wire.js';
import { KEY_BYTES, NONCE_SEED_BYTES } from '../src/core/seal.js';
import { GROUP_PEER, GroupSender, type MulticastStats } from '../src/core/group.js';
import type { FailReason, SenderStatus } from '../src/core/flow.js';
import { ReceiverMachine, type ReceiverStatus } from '../src/core/receiver.js';
import { ReceiverLoop } from '../src/transport/receiver-loop.js';
import { GroupLoop } from '../src/transport/sender-loop.js';
import { livenessDeadlineMs } from './bounds.js';
import { Link } from './network.js';
import { Observer, type SenderView, type Violation } from './observer.js';
import { pathDelayMs, resolveOptions, type ScenarioInput, type ScenarioOptions } from './options.js';
import { seededBytes, stream } from './prng.js';
import { Kind, SimNet, type SimEvent, type SimWatch } from './transport.js';

/** What the simulation learned about one receiver. */
export interface SimReceiverResult {
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
  /** How far into the file the receiver wrote (bytes; the whole file length once complete). */
  writtenBytes: number;
  /** The bytes the receiver wrote, in file order (undefined when runScenario was asked not to keep them). */
  received: Uint8Array | undefined;
  /** The receiver committed its file (renamed it onto FILE, in a real run). */
  committed: boolean;
  fileMatches: boolean;
}

export interface WireStats {
  /** DATA/FIN datagrams the senders transmitted (one to the multicast group counts once). */
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
  receivers: SimReceiverResult[];
  /** Time the last sender finished (done or failed); undefined if the run was cut short. */
  completionMs: number | undefined;
  endMs: number;
  stoppedBy: StopReason;
  deadlineMs: number;
  /**
   * The run terminated (stoppedBy 'all-terminal'), at least one receiver did not crash, and every receiver that
   * did not crash is done (its sender accepted the last ACK, it wrote the end of file, its file is byte-identical).
   * Crashed receivers are not asked about (their senders give up on them); so a run where every receiver crashed,
   * or one cut short by the deadline or the event budget, is not complete. violationCount is separate.
   */
  allComplete: boolean;
  wire: WireStats;
  /** Multicast: the sender's group sends and repairs by kind; null for unicast. */
  multicast: MulticastStats | null;
  eventsProcessed: number;
  violations: Violation[];
  violationCount: number;
  /** FNV-1a over every processed event (kind, receiver, time): equal hashes mean identical runs. */
  traceHash: string;
}

/** --key: the pre-shared key and the transfer's Ns, drawn from the seed (each receiver draws its challenge too). */
function wireKeys(o: ScenarioOptions): { psk: Uint8Array; ns: Uint8Array } | undefined {
  if (o.wireMode !== 'key') return undefined;
  return { psk: seededBytes(stream(o.seed, 'key/psk'), KEY_BYTES), ns: seededBytes(stream(o.seed, 'key/ns'), NONCE_SEED_BYTES) };
}

export function runScenario(input: ScenarioInput = {}, keepReceived = true): ScenarioResult {
  const o = resolveOptions(input);
  const n = o.receivers;
  const file = seededBytes(stream(o.seed, 'workload'), o.fileBytes);
  const deadlineMs = livenessDeadlineMs(o);
  const rto = { ...o.rto, fixedMs: o.rto.fixedMs ?? undefined };
  const keys = wireKeys(o);
  const group = new GroupSender({
    receivers: n,
    file,
    mss: o.mss,
    eof: o.eof,
    mode: o.mode,
    rto,
    giveUpMs: o.giveUpMs,
    initialSeq: o.initialSeq,
    window: { window: o.window, sack: o.sack, cc: o.cc },
    rateBitsPerSec: o.rateBitsPerSec ?? undefined,
    wire: o.wireMode === 'classic' ? undefined : { mode: o.wireMode, digest: crypto().createHash('sha256').update(file).digest(), key: keys },
    multicast: o.multicast ? { repairGroupFraction: o.repairGroupFraction } : undefined,
  });
  const total = group.total;
  const crashAt = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  for (const c of o.crashes) crashAt[c.receiver] = Math.min(crashAt[c.receiver]!, c.atMs);
  const faultUntil = o.faultUntilMs ?? Number.POSITIVE_INFINITY;
  // Keeping every receiver's bytes costs a fresh buffer per receiver (page faults dominate for big runs); the
  // observer checks each write against the file either way.
  const disks = keepReceived ? Array.from({ length: n }, () => new Uint8Array(o.fileBytes)) : undefined;
  const view: SenderView = { acked: (q) => group.flows[q]!.acked, live: (q) => group.flows[q]!.status !== 'failed' };
  const observer = new Observer(n, file, group.segments.payloadBytes, total, o.initialSeq, o.mode === 'lockstep' || o.multicast, view, disks, o.window, o.multicast);
  const committed = new Array<boolean>(n).fill(false);

  const watch: SimWatch = { livelock: (which, r, now) => observer.onTimerLivelock(which, r, now) };

  let dataSent = 0;
  let acksSent = 0;
  let lostToCrash = 0;
  const net = new SimNet({
    receivers: n,
    link: (r, dir, deliver) => new Link({ ...o[dir], delayMs: pathDelayMs(o, r, dir) }, stream(o.seed, `net/${r}/${dir}`), faultUntil, o.corruptScope, deliver),
    watch,
    onSend(r, dir, bytes) {
      if (dir === 'up') acksSent++;
      else {
        if (r === GROUP_PEER) observer.onGroupTransmit(queue.now, bytes);
        else observer.onTransmit(r, queue.now, bytes);
        dataSent++;
      }
    },
  });
  const queue = net.queue;
  // The arrival being handled, so a receiver's write can be checked against the datagram it came from.
  let current: SimEvent | undefined;
  let unsentBefore = 0;
  net.beforeArrival = (ev) => {
    current = ev;
    if (ev.kind === Kind.ArriveAtSender) {
      unsentBefore = group.flows[ev.r]!.stats.ackForUnsent;
      if (!ev.corrupted) observer.onAckArrival(ev.r, ev.bytes!);
      return true;
    }
    if (queue.now >= crashAt[ev.r]!) {
      lostToCrash++;
      return false;
    }
    observer.onArrival(ev.r, queue.now, ev.bytes!, ev.corrupted, n);
    return true;
  };

  const doneAt = new Array<number | undefined>(n).fill(undefined);
  const senderLoop = new GroupLoop(group, net.sender, {
    onEvent(ev) {
      if (ev.type === 'acked') observer.onAcked(ev.receiver, queue.now, ev.index);
      else if (ev.type === 'done' || ev.type === 'failed') doneAt[ev.receiver] = queue.now;
    },
    onFinished: () => {},
  });
  const receivers: ReceiverMachine[] = [];
  for (let r = 0; r < n; r++) {
    const rx = new ReceiverMachine({
      lossRate: o.lossRate,
      random: stream(o.seed, `loss/${r}`),
      idleTimeoutMs: o.idleTimeoutMs,
      lingerMs: o.lingerMs,
      initialSeq: o.initialSeq,
      reorderSegments: o.reorderSegments,
      // A multicast sender reads SACK whatever --sack says (both ends are this project's).
      sack: o.sack || o.multicast,
      hashCopy: false,
      wire: o.wireMode === 'verify' ? new VerifyReceiverWire() : keys && new KeyReceiverWire(keys.psk, seededBytes(stream(o.seed, `key/challenge/${r}`), NONCE_SEED_BYTES)),
    });
    receivers.push(rx);
    // The observer writes each delivery to the simulated disk (checking it against the file first).
    const loop = new ReceiverLoop(rx, net.receivers[r]!, { write: () => {}, commit: () => (committed[r] = true) }, {
      onEvent(ev) {
        if (ev.kind === 'delivered') observer.onWrite(r, queue.now, current!.bytes!, current!.corrupted, ev.seq, ev.payload);
      },
      onFinished: () => {},
    });
    loop.open();
  }
  senderLoop.start();

  let hash = 0x811c9dc5;
  let stoppedBy: StopReason = 'all-terminal';
  while (!group.finished) {
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
    const ev = net.step()!;
    hash = Math.imul(hash ^ (ev.kind | ((ev.r + 1) << 2)), 0x01000193);
    hash = Math.imul(hash ^ Math.round(ev.key * 1000), 0x01000193);
    if (ev.kind === Kind.ArriveAtSender && !ev.corrupted && group.flows[ev.r]!.stats.ackForUnsent !== unsentBefore) {
      observer.onAckForUnsent(ev.r, queue.now);
    }
  }

  const results: SimReceiverResult[] = group.flows.map((s, r) => {
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
      writtenBytes: observer.writtenBytes[r]!,
      received,
      committed: committed[r]!,
      fileMatches: observer.wroteWholeFile(r) && (received === undefined || Buffer.compare(received, file) === 0),
    };
  });
  const linkTotal = (key: 'sent' | 'dropped' | 'duplicated' | 'corrupted'): number =>
    net.downs.reduce((a, l) => a + l.stats[key], 0) + net.ups.reduce((a, l) => a + l.stats[key], 0);
  // Not vacuous: an all-crashed run, or one stopped with a crashed receiver's sender still sending, is not complete.
  const allComplete =
    stoppedBy === 'all-terminal' &&
    results.some((x) => !x.crashed) &&
    results.every((x) => x.crashed || (x.senderStatus === 'done' && x.completedAtMs !== undefined && x.fileMatches));
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
    multicast: group.multicastStats === undefined ? null : { ...group.multicastStats },
    eventsProcessed: queue.processed,
    violations: observer.violations,
    violationCount: observer.count,
    traceHash: (hash >>> 0).toString(16).padStart(8, '0'),
  };
}
