// The receiver's event loop: drives one ReceiverMachine over any DatagramTransport into a Sink. Plumbing
// only — the machine decides. The program runs it over UDP into an atomic file (receiver-driver.ts); the
// simulator runs the same loop over simulated links into memory.

import type { ReceiverEvent, ReceiverMachine } from '../core/receiver.js';
import type { DatagramTransport } from './datagram.js';

/** Where delivered data goes. Both may throw (disk full): the loop then fails and sends no ACK. */
export interface Sink {
  /** Append these payloads, in order (one system call for a whole batch: a pipelining sender's burst). */
  write(payloads: readonly Uint8Array[]): void;
  /** The end of file arrived: make the file whole (atomically, for a real file). */
  commit(): void;
}

export type LoopEnd =
  | { ok: true }
  | { ok: false; reason: 'idle-timeout' | 'write-error' | 'socket-error' | 'interrupted' | 'digest-mismatch'; error: unknown };

export interface ReceiverHooks {
  onEvent?(ev: ReceiverEvent): void;
  /** The transfer is over (the transport is closed). */
  onFinished(end: LoopEnd): void;
}

export class ReceiverLoop {
  private finished = false;
  /**
   * Payloads delivered but not yet written: they are written together just before the next reply or commit
   * (an ACK still means written), so a pipelining sender's batch, answered by one ACK, costs one write.
   */
  private unwritten: Uint8Array[] = [];
  /** --verify/--key: the END's digest did not match; the linger that follows is a failure's. */
  private rejected = false;

  constructor(
    private readonly machine: ReceiverMachine,
    private readonly transport: DatagramTransport<string>,
    private readonly sink: Sink,
    private readonly hooks: ReceiverHooks,
  ) {}

  /** Open the transport; `onReady` once datagrams can arrive (the program's "listening" line). */
  open(onReady: () => void = () => {}): void {
    const m = this.machine;
    const t = this.transport;
    t.open({
      ready: onReady,
      datagram: (from, bytes) => {
        if (this.finished) return;
        m.handleDatagram(t.now(), bytes, from);
        this.drain();
      },
      unreachable: () => {}, // the receiver answers whoever wrote; a vanished sender is the idle timeout's job
      error: (_peer, message) => this.finish({ ok: false, reason: 'socket-error', error: message }),
      unanswerable: () => m.ignoreUnanswerable(),
      timer: () => {
        if (this.finished) return;
        m.handleTimeout(t.now());
        this.drain();
      },
      idle: () => !this.finished && m.flush() && this.drain(),
    });
  }

  /** Stop now. Once the end of file is committed (lingering), the transfer is complete: that ends ok; a rejected one (lingering too) failed. */
  interrupt(): void {
    if (this.rejected) this.finish({ ok: false, reason: 'digest-mismatch', error: undefined });
    else this.finish(this.machine.status === 'lingering' ? { ok: true } : { ok: false, reason: 'interrupted', error: 'interrupted' });
  }

  /** Events first (write, commit), then the reply: an ACK promises the data is written. */
  private drain(): void {
    const m = this.machine;
    let reply;
    try {
      for (let ev = m.pollEvent(); ev !== undefined; ev = m.pollEvent()) {
        this.hooks.onEvent?.(ev);
        if (ev.kind === 'digest-mismatch') {
          // The file is rejected (and discarded by the driver): what this batch delivered is never written.
          this.rejected = true;
          this.unwritten = [];
        } else if (ev.kind === 'delivered') {
          if (ev.payload.length > 0) this.unwritten.push(ev.payload);
          if (ev.complete) {
            this.write();
            this.sink.commit();
          }
        } else if (ev.kind === 'done') return this.finish({ ok: true });
        else if (ev.kind === 'stalled') return this.finish({ ok: false, reason: 'idle-timeout', error: undefined });
        else if (ev.kind === 'rejected') return this.finish({ ok: false, reason: 'digest-mismatch', error: undefined });
      }
      reply = m.pollTransmit();
      if (reply !== undefined) this.write();
    } catch (error) {
      this.finish({ ok: false, reason: 'write-error', error });
      return;
    }
    if (reply !== undefined) this.transport.send(reply.to, reply.bytes);
    m.prepare();
    this.transport.setTimer(m.pollTimeout());
  }

  private write(): void {
    if (this.unwritten.length === 0) return;
    const batch = this.unwritten;
    this.unwritten = []; // cheaper than truncating in place (a runtime call)
    this.sink.write(batch);
  }

  private finish(end: LoopEnd): void {
    if (this.finished) return;
    this.finished = true;
    this.transport.setTimer(undefined);
    this.transport.close();
    this.hooks.onFinished(end);
  }
}
