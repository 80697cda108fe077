// The receiver's loop over a scripted transport: a batch of in-order segments is written in one call, always
// before the ACK that acknowledges it leaves, and what a rejected transfer delivered is never written.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReceiverMachine } from '../src/core/receiver.js';
import { VerifyReceiverWire } from '../src/core/receiver-wire.js';
import { encodeVerifiedData, encodeVerifiedEnd } from '../src/core/verify.js';
import type { DatagramHandlers, DatagramTransport } from '../src/transport/datagram.js';
import { ReceiverLoop, type LoopEnd } from '../src/transport/receiver-loop.js';

const SENDER = '127.0.0.1:5000';

/** Everything the loop did, in order: writes (their payloads' first bytes) and sends. */
function scripted(): { transport: DatagramTransport<string>; handlers: () => DatagramHandlers<string>; log: string[] } {
  const log: string[] = [];
  let h: DatagramHandlers<string> | undefined;
  const transport: DatagramTransport<string> = {
    open: (handlers) => (h = handlers),
    now: () => 0,
    send: () => log.push('send'),
    setTimer: () => {},
    close: () => {},
  };
  return { transport, handlers: () => h!, log };
}

function loopOver(log: string[], transport: DatagramTransport<string>): { loop: ReceiverLoop; ended: () => LoopEnd | undefined } {
  const machine = new ReceiverMachine({ lossRate: 0, random: () => 1, idleTimeoutMs: 10_000, lingerMs: 1_000, acceptLoneFin: true, wire: new VerifyReceiverWire() });
  let end: LoopEnd | undefined;
  const sink = { write: (payloads: readonly Uint8Array[]) => log.push(`write ${payloads.map((p) => p[0]).join(',')}`), commit: () => log.push('commit') };
  const loop = new ReceiverLoop(machine, transport, sink, { onFinished: (e) => (end = e) });
  loop.open();
  return { loop, ended: () => end };
}

describe('the receiver loop writes a batch at once, and before its ACK', () => {
  it('a pipelined burst: one write of every payload in order, then the one ACK', () => {
    const { transport, handlers, log } = scripted();
    loopOver(log, transport);
    const h = handlers();
    for (let i = 0; i < 4; i++) h.datagram(SENDER, encodeVerifiedData(i, Uint8Array.of(10 + i, 0)));
    expect(log).toEqual([]); // nothing acknowledged yet, so nothing needs to be on disk yet
    h.idle!();
    expect(log).toEqual(['write 10,11,12,13', 'send']);
  });

  it('the end of file: its batch is written, then committed, then acknowledged', () => {
    const { transport, handlers, log } = scripted();
    loopOver(log, transport);
    const h = handlers();
    const payloads = [Uint8Array.of(1, 2), Uint8Array.of(3, 4)];
    payloads.forEach((p, i) => h.datagram(SENDER, encodeVerifiedData(i, p)));
    h.datagram(SENDER, encodeVerifiedEnd(2, createHash('sha256').update(Uint8Array.of(1, 2, 3, 4)).digest()));
    expect(log).toEqual(['write 1,3', 'commit', 'send']);
  });

  it('an END whose digest does not match, in the same batch as data: nothing of it is written, and Ctrl-C then is a failure', () => {
    const { transport, handlers, log } = scripted();
    const { loop, ended } = loopOver(log, transport);
    const h = handlers();
    h.datagram(SENDER, encodeVerifiedData(0, Uint8Array.of(1, 2)));
    h.datagram(SENDER, encodeVerifiedData(1, Uint8Array.of(3, 4)));
    h.datagram(SENDER, encodeVerifiedEnd(2, createHash('sha256').update('something else').digest()));
    expect(log).toEqual(['send']); // the mismatch answer only
    loop.interrupt();
    expect(ended()).toEqual({ ok: false, reason: 'digest-mismatch', error: undefined });
  });
});
