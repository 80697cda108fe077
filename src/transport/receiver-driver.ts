// p2mpserver's receiver: the ReceiverLoop over a UDP socket into an output file. Plumbing only: the
// machine decides. Output is atomic: data goes to a temporary file beside FILE (created when the transfer starts) and is
// renamed onto FILE only once the transfer is complete, so an interrupted transfer never leaves a
// truncated FILE and never damages an existing one.

import fs from 'node:fs';
import path from 'node:path';
import { ReceiverMachine, type ReceiverStats } from '../core/receiver.js';
import { ReceiverLoop, type Sink } from './receiver-loop.js';
import { UdpReceiverTransport } from './udp.js';

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

/** The temporary file beside FILE, opened at the first data, fsynced and renamed onto FILE at the end. */
class AtomicFileSink implements Sink {
  private fd: number | undefined;

  constructor(
    readonly file: string,
    readonly tmp: string,
  ) {}

  write(payload: Uint8Array): void {
    this.fd ??= fs.openSync(this.tmp, 'wx', 0o644);
    writeAll(this.fd, payload);
  }

  /** Make the completed temporary file FILE: flush it to disk, then rename (atomic on one filesystem). */
  commit(): void {
    const f = this.fd ?? fs.openSync(this.tmp, 'wx', 0o644); // a zero-byte file never opened one
    this.fd = f;
    fs.fsyncSync(f);
    fs.closeSync(f);
    this.fd = undefined;
    fs.renameSync(this.tmp, this.file);
  }

  /** Remove an unfinished temporary file; FILE is never touched. */
  discard(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already failing; the unlink below is what matters */
      }
      this.fd = undefined;
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

export function startReceiver(o: ReceiverOptions): ReceiveRun {
  const machine = new ReceiverMachine({
    lossRate: o.lossRate,
    random: o.random,
    idleTimeoutMs: o.idleTimeoutMs,
    lingerMs: o.lingerMs,
    reorderSegments: o.reorderSegments,
    sack: o.sack,
  });
  const transport = new UdpReceiverTransport(o.port, o.bind, o.recvBufferBytes);
  const sink = new AtomicFileSink(o.file, tempPathFor(o.file));
  removeStaleTemps(o.file);
  let settle: (r: ReceiveOutcome) => void = () => {};
  const done = new Promise<ReceiveOutcome>((resolve) => (settle = resolve));
  let over = false;
  let committed = false;

  const loop = new ReceiverLoop(machine, transport, sink, {
    onEvent(ev) {
      if (ev.kind === 'lost') o.onLoss(ev.seq);
      else if (ev.kind === 'delivered' && ev.complete) committed = true;
    },
    onFinished(end) {
      over = true;
      const stats = { ...machine.stats };
      if (end.ok) {
        settle({ ok: true, stats, peer: machine.peer ?? '', elapsedMs: (machine.completedAt ?? 0) - (machine.startedAt ?? 0) });
        return;
      }
      sink.discard();
      if (end.reason === 'write-error') {
        settle({ ok: false, reason: end.reason, stats, message: `cannot write ${committed ? o.file : sink.tmp}: ${describeError(end.error)}` });
      } else if (end.reason === 'idle-timeout') {
        settle({ ok: false, reason: end.reason, stats, message: `transfer stalled: no valid segment from ${machine.peer} for ${o.idleTimeoutMs / 1000} s` });
      } else settle({ ok: false, reason: end.reason, stats, message: String(end.error) });
    },
  });
  loop.open(() => {
    if (over) return;
    const a = transport.address();
    o.onListening(a.address, a.port);
  });

  return { done, interrupt: () => loop.interrupt() };
}
