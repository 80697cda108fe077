// Drives a ReceiverMachine over a UDP socket and an output file. Plumbing only: the machine decides.
// Output is atomic (src/transport/atomic-output.ts): an interrupted transfer never leaves a truncated FILE
// and never damages an existing one.

import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { ReceiverMachine, type ReceiverStats } from '../core/receiver.js';
import { AtomicOutput, checkOutput } from './atomic-output.js';
import { DeadlineTimer } from './deadline-timer.js';
import { describeError } from './fs-errors.js';

export interface ReceiverOptions {
  port: number;
  bind: string | undefined;
  file: string;
  lossRate: number;
  random: () => number;
  idleTimeoutMs: number;
  lingerMs: number;
  /** Called for each segment dropped by the loss service (the classic "Packet loss" line). */
  onLoss: (seq: number) => void;
  onListening: (address: string, port: number) => void;
  /** Called for the first lone FIN ignored by the stale-FIN rule (FILE already holds data). */
  onStaleFin?: (from: string) => void;
}

export type ReceiveOutcome =
  | { ok: true; stats: ReceiverStats; peer: string; elapsedMs: number }
  | { ok: false; reason: FailReason; message: string; stats: ReceiverStats };

type FailReason = 'idle-timeout' | 'write-error' | 'interrupted' | 'socket-error' | 'port-in-use';

export interface ReceiveRun {
  done: Promise<ReceiveOutcome>;
  /** Stop now (Ctrl-C): the temporary file is removed, FILE is untouched; once FILE is written, the run ends ok. */
  interrupt(): void;
}

export function startReceiver(o: ReceiverOptions): ReceiveRun {
  const out = new AtomicOutput(checkOutput(o.file));
  // Stale-FIN rule (see ReceiverConfig.acceptLoneFin): a lone FIN may create an empty FILE, never replace data.
  const acceptLoneFin = !out.target.holdsData;
  const machine = new ReceiverMachine({ lossRate: o.lossRate, random: o.random, idleTimeoutMs: o.idleTimeoutMs, lingerMs: o.lingerMs, acceptLoneFin });
  const socket = dgram.createSocket('udp4');
  let staleFinSeen = false;
  let settle: (r: ReceiveOutcome) => void = () => {};
  const done = new Promise<ReceiveOutcome>((resolve) => (settle = resolve));
  let finished = false;

  const finish = (r: ReceiveOutcome): void => {
    if (finished) return;
    finished = true;
    timer.cancel();
    try {
      socket.close();
    } catch {
      /* a socket that failed to bind is not running */
    }
    if (!r.ok) out.discard();
    settle(r);
  };

  const fail = (reason: FailReason, message: string): void => finish({ ok: false, reason, message, stats: { ...machine.stats } });
  const succeed = (): void =>
    finish({ ok: true, stats: { ...machine.stats }, peer: machine.peer ?? '', elapsedMs: (machine.completedAt ?? 0) - (machine.startedAt ?? 0) });
  let committed = false;

  const armTimer = (): void => timer.set(machine.pollTimeout(), performance.now());
  const timer = new DeadlineTimer(() => {
    machine.handleTimeout(performance.now());
    if (machine.status === 'done') succeed();
    else if (machine.status === 'failed') {
      fail('idle-timeout', `transfer stalled: no valid segment from ${machine.peer} for ${o.idleTimeoutMs / 1000} s`);
    } else armTimer();
  });

  socket.on('message', (msg, rinfo) => {
    if (finished) return;
    // Source port 0 (only a raw socket can send it) cannot be answered — dgram refuses to send there — so such
    // a datagram can never come from a sender; counting it as ignored keeps it from starting a transfer.
    if (rinfo.port === 0) {
      machine.stats.ignored++;
      return;
    }
    const v = machine.handleDatagram(performance.now(), msg, `${rinfo.address}:${rinfo.port}`);
    try {
      if (v.kind === 'lost') o.onLoss(v.seq);
      else if (v.kind === 'ignored' && v.reason === 'stale-fin' && !staleFinSeen) {
        staleFinSeen = true;
        o.onStaleFin?.(`${rinfo.address}:${rinfo.port}`);
      } else if (v.kind === 'delivered') {
        // Write first: an ACK promises the data is in the file.
        out.write(v.payload);
        if (v.complete) {
          out.commit();
          committed = true;
        }
      }
    } catch (err) {
      fail('write-error', `cannot write ${v.kind === 'delivered' && v.complete ? o.file : out.tempPath}: ${describeError(err)}`);
      return;
    }
    if ((v.kind === 'delivered' || v.kind === 'duplicate') && v.reply) socket.send(v.reply, rinfo.port, rinfo.address);
    armTimer();
  });

  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') fail('port-in-use', `${o.bind ?? '0.0.0.0'}:${o.port} is already in use`);
    else fail('socket-error', `socket error: ${err.message}`);
  });
  socket.bind({ port: o.port, address: o.bind, exclusive: true }, () => {
    const a = socket.address();
    o.onListening(a.address, a.port);
  });

  // Interrupted while lingering, FILE is already written: that is a complete transfer.
  return { done, interrupt: () => (committed ? succeed() : fail('interrupted', 'interrupted')) };
}
