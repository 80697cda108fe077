// Drives one receiver's SenderMachine over a connected UDP socket and a real timer. This is plumbing only:
// every protocol decision is the machine's. Runs inside a piscina worker (workers/send-task.ts).
//
// ACK matching: the socket is connect()ed to HOST:PORT, so the kernel delivers to it only datagrams from
// exactly that address and port (strangers never reach the machine) and reports ICMP port unreachable as
// ECONNREFUSED. A receiver bound to 0.0.0.0 on a host with several addresses answers from the address the
// kernel routes by; if that is not the one we addressed, its ACKs are filtered and it is reported failed.
// Receivers sharing a machine therefore use `p2mpserver --bind ADDR` (which sharing a port needs anyway).

import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { SenderMachine, type EofMode, type FailReason, type FileSource, type SenderStats } from '../core/sender.js';
import type { RtoConfig } from '../core/rto.js';
import { DeadlineTimer } from './deadline-timer.js';
import { SharedState, Slot, Status } from './shared-state.js';

export type Mode = 'independent' | 'lockstep';

export interface LoopOptions {
  index: number;
  host: string;
  address: string;
  port: number;
  mss: number;
  eof: EofMode;
  rto: RtoConfig;
  giveUpMs: number;
  mode: Mode;
  file: FileSource;
  state: SharedState;
  /** Print "Timeout, sequence number = Y" lines. */
  printEvents: boolean;
  /** Append the receiver's address to event lines (several receivers). */
  labelEvents: boolean;
}

export interface ReceiverResult {
  index: number;
  host: string;
  address: string;
  port: number;
  status: 'done' | 'failed';
  failReason: FailReason | 'socket-error' | undefined;
  error: string | undefined;
  stats: SenderStats;
  segmentsTotal: number;
  srttMs: number | undefined;
  rtoMs: number;
  elapsedMs: number;
}

export function runSenderLoop(o: LoopOptions): Promise<ReceiverResult> {
  const machine = new SenderMachine({ mss: o.mss, file: o.file, eof: o.eof, rto: o.rto, giveUpMs: o.giveUpMs });
  const socket = dgram.createSocket('udp4');
  const started = performance.now();
  const label = o.labelEvents ? `, receiver = ${o.address}:${o.port}` : '';
  let waitingAtBarrier = false;
  const lockstep = o.mode === 'lockstep';
  let socketError: string | undefined;
  let finished = false;

  return new Promise<ReceiverResult>((resolve) => {
    const publish = (): void => {
      const s = machine.stats;
      o.state.set(o.index, Slot.acked, machine.acked);
      o.state.set(o.index, Slot.sent, s.segmentsSent);
      o.state.set(o.index, Slot.retransmissions, s.retransmissions);
      o.state.set(o.index, Slot.timeouts, s.timeouts);
      o.state.set(o.index, Slot.ignored, s.ignored);
      o.state.set(o.index, Slot.ackForUnsent, s.ackForUnsent);
      o.state.set(o.index, Slot.srttMicros, Math.round((machine.srttMs ?? 0) * 1000));
    };

    const finish = (): void => {
      if (finished) return;
      finished = true;
      timer.cancel();
      publish();
      const done = machine.status === 'done';
      o.state.set(o.index, Slot.status, done ? Status.done : Status.failed);
      if (lockstep) o.state.advanceLimit();
      socket.close();
      resolve({
        index: o.index,
        host: o.host,
        address: o.address,
        port: o.port,
        status: done ? 'done' : 'failed',
        failReason: socketError !== undefined ? 'socket-error' : machine.failReason,
        error: socketError,
        stats: { ...machine.stats },
        segmentsTotal: machine.total,
        srttMs: machine.srttMs,
        rtoMs: machine.rtoMs,
        elapsedMs: performance.now() - started,
      });
    };

    const timer = new DeadlineTimer(() => {
      machine.handleTimeout(performance.now());
      pump();
    });

    // Run the machine until it has nothing more to say, then arm the timer and, in lockstep, the barrier.
    const pump = (): void => {
      if (finished) return;
      if (o.state.aborted) machine.fail('aborted');
      const now = performance.now();
      machine.setLimit(o.state.allowed(lockstep));
      let changed = false;
      let acked = false;
      for (let out = machine.pollTransmit(now); out; out = machine.pollTransmit(now)) socket.send(out);
      for (let ev = machine.pollEvent(); ev; ev = machine.pollEvent()) {
        changed = true;
        if (ev.type === 'acked') acked = true;
        else if (ev.type === 'timeout' && o.printEvents) process.stdout.write(`Timeout, sequence number = ${ev.seq}${label}\n`);
      }
      if (changed) publish();
      if (acked && lockstep) o.state.advanceLimit();
      if (machine.status !== 'sending') {
        finish();
        return;
      }
      // With nothing in flight (waiting at the lockstep barrier) there is no deadline: the timer is cancelled.
      timer.set(machine.pollTimeout(), now);
      if (!machine.inFlight && !waitingAtBarrier) {
        // Nothing in flight and not finished: the next segment waits for the lockstep barrier or the window.
        waitingAtBarrier = true;
        void o.state.waitUntilAllowed(machine.acked, lockstep).then(() => {
          waitingAtBarrier = false;
          pump();
        });
      }
    };

    socket.on('message', (msg) => {
      machine.handleDatagram(performance.now(), msg);
      pump();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') machine.fail('port-unreachable');
      else {
        socketError = `${err.code ?? 'error'}: ${err.message}`;
        machine.fail('aborted');
      }
      pump();
    });
    void o.state.waitForAbort().then(pump);

    socket.connect(o.port, o.address, () => pump());
  });
}
