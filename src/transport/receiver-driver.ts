// Drives a ReceiverMachine over a UDP socket and an output file. Plumbing only: the machine decides.
// Output is atomic: data goes to a temporary file beside FILE (created when the transfer starts) and is
// renamed onto FILE only once the transfer is complete, so an interrupted transfer never leaves a
// truncated FILE and never damages an existing one.

import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ReceiverMachine, type ReceiverStats } from '../core/receiver.js';
import { DeadlineTimer } from './deadline-timer.js';

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
}

export type ReceiveOutcome =
  | { ok: true; stats: ReceiverStats; peer: string; elapsedMs: number }
  | { ok: false; reason: 'idle-timeout' | 'write-error' | 'interrupted' | 'socket-error'; message: string; stats: ReceiverStats };

export interface ReceiveRun {
  done: Promise<ReceiveOutcome>;
  /** Stop now (Ctrl-C): the temporary file is removed, FILE is untouched. */
  interrupt(): void;
}

export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.part`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * A receiver killed outright (SIGKILL, power loss) cannot remove its temporary file; the next receiver
 * for the same FILE removes those whose process no longer exists.
 */
function removeStaleTemps(file: string): void {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // the directory was checked at start-up; nothing to clean if it cannot be listed
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.part')) continue;
    const pid = Number(name.slice(prefix.length, -'.part'.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/**
 * write(2) may write fewer bytes than asked without failing — a filesystem filling up mid-buffer does exactly
 * that — so loop until the whole payload is written; the next write then reports the error (ENOSPC).
 */
function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) {
    const n = fs.writeSync(fd, data, off, data.length - off);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    off += n;
  }
}

/** "ENOSPC (no space left on device)" from a Node fs error, or the error's text. */
function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string') return String(err);
  const text = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message ?? '')?.[1];
  return text ? `${text} (${e.code})` : e.code;
}

export function startReceiver(o: ReceiverOptions): ReceiveRun {
  const machine = new ReceiverMachine({ lossRate: o.lossRate, random: o.random, idleTimeoutMs: o.idleTimeoutMs, lingerMs: o.lingerMs });
  const socket = dgram.createSocket('udp4');
  const tmp = tempPathFor(o.file);
  removeStaleTemps(o.file);
  let fd: number | undefined;
  let settle: (r: ReceiveOutcome) => void = () => {};
  const done = new Promise<ReceiveOutcome>((resolve) => (settle = resolve));
  let finished = false;

  const discard = (): void => {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing; the unlink below is what matters */
      }
      fd = undefined;
    }
    fs.rmSync(tmp, { force: true });
  };

  const finish = (r: ReceiveOutcome): void => {
    if (finished) return;
    finished = true;
    timer.cancel();
    try {
      socket.close();
    } catch {
      /* a socket that failed to bind is not running */
    }
    if (!r.ok) discard();
    settle(r);
  };

  const fail = (reason: 'idle-timeout' | 'write-error' | 'interrupted' | 'socket-error', message: string): void =>
    finish({ ok: false, reason, message, stats: { ...machine.stats } });

  /** Make the completed temporary file FILE: flush it to disk, then rename (atomic on one filesystem). */
  const commit = (): void => {
    const f = fd ?? fs.openSync(tmp, 'wx', 0o644); // a zero-byte file never opened one
    fs.fsyncSync(f);
    fs.closeSync(f);
    fd = undefined;
    fs.renameSync(tmp, o.file);
  };

  const armTimer = (): void => timer.set(machine.pollTimeout(), performance.now());
  const timer = new DeadlineTimer(() => {
    machine.handleTimeout(performance.now());
    if (machine.status === 'done') {
      finish({ ok: true, stats: { ...machine.stats }, peer: machine.peer ?? '', elapsedMs: (machine.completedAt ?? 0) - (machine.startedAt ?? 0) });
    } else if (machine.status === 'failed') {
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
      else if (v.kind === 'delivered') {
        // Write first: an ACK promises the data is in the file.
        if (fd === undefined && (v.payload.length > 0 || !v.complete)) fd = fs.openSync(tmp, 'wx', 0o644);
        if (v.payload.length > 0) writeAll(fd!, v.payload);
        if (v.complete) commit();
      }
    } catch (err) {
      fail('write-error', `cannot write ${v.kind === 'delivered' && v.complete ? o.file : tmp}: ${describeError(err)}`);
      return;
    }
    if ((v.kind === 'delivered' || v.kind === 'duplicate') && v.reply) socket.send(v.reply, rinfo.port, rinfo.address);
    armTimer();
  });

  socket.on('error', (err) => fail('socket-error', `socket error: ${err.message}`));
  socket.bind({ port: o.port, address: o.bind, exclusive: true }, () => {
    const a = socket.address();
    o.onListening(a.address, a.port);
  });

  return { done, interrupt: () => fail('interrupted', 'interrupted') };
}
