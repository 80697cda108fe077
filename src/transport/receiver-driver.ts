// p2mpserver's receiver: the ReceiverLoop over a UDP socket into an output file. Plumbing only: the
// machine decides. Output is atomic (src/transport/atomic-output.ts): an interrupted transfer never leaves
// a truncated FILE and never damages an existing one.

import type { WireMode } from '../core/extension.js';
import { ReceiverMachine, type ReceiverStats } from '../core/receiver.js';
import type { ReceiverWire } from '../core/receiver-wire.js';
import { AtomicOutput, checkOutput } from './atomic-output.js';
import { describeError } from './fs-errors.js';
import { ReceiverLoop, type Sink } from './receiver-loop.js';
import { UdpReceiverTransport } from './udp.js';
import { UdpMulticastReceiverTransport } from './udp-multicast.js';
import { shownName } from './user-text.js';

/** 1024 segments: a window of up to 1024 recovers any single loss in one round trip; at most 2 MiB held (MSS 2048). */
export const DEFAULT_REORDER_SEGMENTS = 1024;
/** 4 MiB: see BENCHMARKS.md ("socket receive buffer"); Linux's default 208 KiB overflows under a 64-segment window of 2 KB. */
export const DEFAULT_RCVBUF_BYTES = 4096 * 1024;

export interface ReceiverOptions {
  port: number;
  bind: string | undefined;
  file: string;
  lossRate: number;
  random: () => number;
  idleTimeoutMs: number;
  lingerMs: number;
  /** Reorder buffer capacity in segments (0: discard out-of-order segments, as the classic receiver). */
  reorderSegments?: number;
  /** Answer with SACKs while holding segments (for a --sack sender only). */
  sack?: boolean;
  /** The socket's receive buffer (SO_RCVBUF) in bytes; undefined: the system default. */
  recvBufferBytes?: number;
  /** Called for each segment dropped by the loss service (the classic "Packet loss" line). */
  onLoss: (seq: number) => void;
  /** --sender HOST: only datagrams this accepts (an address:port key) may deliver a file. */
  acceptFrom?: (from: string) => boolean;
  /** --verify / --key. */
  wire?: ReceiverWire;
  /** The first datagram of another wire mode from `from` (once per mode). */
  onOtherMode?: (mode: WireMode, from: string) => void;
  /** --key: the first handshake that does not authenticate, from `from` (once). */
  onBadMac?: (from: string) => void;
  onListening: (address: string, port: number) => void;
  /** Called for the first lone FIN ignored by the stale-FIN rule (FILE already holds data). */
  onStaleFin?: () => void;
  /** The transfer started: the receiver is locked to this sender (address:port). */
  onStart?: (peer: string) => void;
  /** Where the data goes instead of an atomic FILE (p2mpserver's FILE -: stdout); FILE then only names it. */
  sink?: OutputSink;
  /**
   * --multicast GROUP: also take DATA sent to GROUP:port, joined on `bind` (udp-multicast.ts). `bind` then names
   * the interface too; without it the kernel picks one and answers from its routed address (the 0.0.0.0 pitfall).
   */
  multicastGroup?: string;
}

/** A Sink that can also drop what it wrote (a failed transfer). */
export interface OutputSink extends Sink {
  discard(): void;
}

export type ReceiveOutcome =
  | { ok: true; stats: ReceiverStats; peer: string; elapsedMs: number; sha256: string }
  | { ok: false; reason: 'idle-timeout' | 'write-error' | 'interrupted' | 'socket-error' | 'cannot-listen' | 'digest-mismatch'; message: string; stats: ReceiverStats };

export interface ReceiveRun {
  done: Promise<ReceiveOutcome>;
  /** Stop now (Ctrl-C): the temporary file is removed, FILE is untouched; once FILE is written, the run ends ok. */
  interrupt(): void;
  /** The counters so far and the sender once the transfer started (the live line). */
  stats(): { stats: Readonly<ReceiverStats>; peer: string | undefined };
}

export function startReceiver(o: ReceiverOptions): ReceiveRun {
  // FILE '-' (a given sink) replaces nothing, so neither checkOutput nor the stale-FIN rule applies to it.
  const sink = o.sink ?? new AtomicOutput(checkOutput(o.file));
  // Stale-FIN rule (see ReceiverConfig.acceptLoneFin): a lone FIN may create an empty FILE, never replace data.
  const acceptLoneFin = !(sink instanceof AtomicOutput && sink.target.holdsData);
  const machine = new ReceiverMachine({
    lossRate: o.lossRate,
    random: o.random,
    idleTimeoutMs: o.idleTimeoutMs,
    lingerMs: o.lingerMs,
    acceptLoneFin,
    acceptFrom: o.acceptFrom,
    wire: o.wire,
    reorderSegments: o.reorderSegments,
    sack: o.sack,
  });
  const transport =
    o.multicastGroup === undefined
      ? new UdpReceiverTransport(o.port, o.bind, o.recvBufferBytes)
      : new UdpMulticastReceiverTransport({ group: o.multicastGroup, port: o.port, address: o.bind, recvBufferBytes: o.recvBufferBytes });
  let started = false;
  let settle: (r: ReceiveOutcome) => void = () => {};
  const done = new Promise<ReceiveOutcome>((resolve) => (settle = resolve));
  let over = false;
  let listening = false;
  let committed = false;
  let mismatch = '';
  let staleFinSeen = false;

  const loop = new ReceiverLoop(machine, transport, sink, {
    onEvent(ev) {
      if (ev.kind === 'lost') o.onLoss(ev.seq);
      else if (ev.kind === 'delivered') {
        if (!started) o.onStart?.(machine.peer ?? '');
        started = true;
        if (ev.complete) committed = true;
      } else if (ev.kind === 'ignored' && ev.reason === 'stale-fin' && !staleFinSeen) {
        staleFinSeen = true;
        o.onStaleFin?.();
      } else if (ev.kind === 'other-mode') o.onOtherMode?.(ev.mode, ev.from);
      else if (ev.kind === 'bad-mac') o.onBadMac?.(ev.from);
      else if (ev.kind === 'digest-mismatch') {
        mismatch = `digest mismatch: the received bytes have SHA-256 ${ev.received}, the sender's file ${ev.announced}`;
        sink.discard(); // at once: no moment with a wrong temporary file beside FILE
      }
    },
    onFinished(end) {
      over = true;
      const stats = { ...machine.stats };
      if (end.ok) {
        settle({ ok: true, stats, peer: machine.peer ?? '', elapsedMs: (machine.completedAt ?? 0) - (machine.startedAt ?? 0), sha256: machine.sha256 ?? '' });
        return;
      }
      sink.discard();
      if (end.reason === 'write-error') {
        const target = committed || !(sink instanceof AtomicOutput) ? o.file : sink.tempPath;
        settle({ ok: false, reason: end.reason, stats, message: `cannot write ${shownName(target)}: ${describeError(end.error)}` });
      } else if (end.reason === 'digest-mismatch') {
        settle({ ok: false, reason: end.reason, stats, message: mismatch });
      } else if (end.reason === 'idle-timeout') {
        settle({ ok: false, reason: end.reason, stats, message: `transfer stalled: no valid segment from ${machine.peer} for ${o.idleTimeoutMs / 1000} s` });
      } else settle({ ok: false, reason: end.reason === 'socket-error' && !listening ? 'cannot-listen' : end.reason, stats, message: String(end.error) });
    },
  });
  loop.open(() => {
    if (over) return;
    listening = true;
    const a = transport.address();
    o.onListening(a.address, a.port);
  });

  return { done, interrupt: () => loop.interrupt(), stats: () => ({ stats: machine.stats, peer: machine.peer }) };
}
