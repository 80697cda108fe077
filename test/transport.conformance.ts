// One acceptance suite for every implementation of the datagram seam (src/transport/datagram.ts), after
// automerge-repo's runNetworkAdapterTests: the UDP transports and the simulator's both run it, so the
// protocol loops cannot tell them apart.

import { describe, expect, it } from 'vitest';
import type { DatagramHandlers, DatagramTransport } from '../src/transport/datagram.js';

export interface TransportPair {
  /** The sender's side: peer 0 is `receiver` below, peer 1 is an address where nothing listens. */
  sender: DatagramTransport<number>;
  receiver: DatagramTransport<string>;
  /** Let up to `ms` of the transports' time pass, or until `until()` holds (real time for UDP, virtual for the simulator). */
  run(ms: number, until?: () => boolean): Promise<void>;
  /** Whether sending to peer 1 is reported as unreachable (UDP: ICMP port unreachable). */
  reportsUnreachable: boolean;
  dispose(): Promise<void>;
}

/** Handlers that record everything, for assertions. */
export function recorder<P>() {
  const log = {
    ready: 0,
    datagrams: [] as Array<{ from: P; bytes: Uint8Array; at: number }>,
    unreachable: [] as P[],
    errors: [] as string[],
    timers: [] as number[],
    /** At each idle(): how many datagrams had arrived by then. */
    idles: [] as number[],
  };
  const handlers = (t: DatagramTransport<P>): DatagramHandlers<P> => ({
    ready: () => log.ready++,
    datagram: (from, bytes) => log.datagrams.push({ from, bytes: Uint8Array.from(bytes), at: t.now() }),
    unreachable: (p) => log.unreachable.push(p),
    error: (_p, message) => log.errors.push(message),
    unanswerable: () => {},
    timer: () => log.timers.push(t.now()),
    idle: () => log.idles.push(log.datagrams.length),
  });
  return { log, handlers };
}

export function runTransportConformance(name: string, setup: () => Promise<TransportPair>): void {
  describe(`datagram seam conformance: ${name}`, () => {
    async function opened() {
      const pair = await setup();
      const s = recorder<number>();
      const r = recorder<string>();
      pair.receiver.open(r.handlers(pair.receiver));
      pair.sender.open(s.handlers(pair.sender));
      await pair.run(2000, () => s.log.ready === 1 && r.log.ready === 1);
      return { pair, s: s.log, r: r.log };
    }

    it('signals ready once; a datagram arrives intact and its answer comes back from the same peer', async () => {
      const { pair, s, r } = await opened();
      try {
        expect([s.ready, r.ready]).toEqual([1, 1]);
        const payload = Uint8Array.from([0, 1, 2, 0xff, 0x55, 0x55, 9, 8, 7]);
        pair.sender.send(0, payload);
        await pair.run(2000, () => r.datagrams.length === 1);
        expect(r.datagrams).toHaveLength(1);
        expect(Array.from(r.datagrams[0]!.bytes)).toEqual(Array.from(payload));
        pair.receiver.send(r.datagrams[0]!.from, Uint8Array.from([0xaa, 0xaa]));
        await pair.run(2000, () => s.datagrams.length === 1);
        expect(s.datagrams.map((d) => [d.from, Array.from(d.bytes)])).toEqual([[0, [0xaa, 0xaa]]]);
        expect([s.errors, r.errors]).toEqual([[], []]);
      } finally {
        await pair.dispose();
      }
    });

    it('a receiver is told idle once the datagrams that arrived are handed over: after each batch, never without a new datagram', async () => {
      const { pair, r } = await opened();
      try {
        for (let i = 0; i < 5; i++) pair.sender.send(0, Uint8Array.from([i]));
        await pair.run(2000, () => r.idles.at(-1) === 5);
        expect(r.datagrams.map((d) => d.bytes[0]).sort()).toEqual([0, 1, 2, 3, 4]); // a jittered link may reorder
        expect(r.idles.at(-1)).toBe(5); // the last datagram is followed by an idle
        expect(r.idles[0]).toBeGreaterThanOrEqual(1);
        for (let i = 1; i < r.idles.length; i++) expect(r.idles[i]).toBeGreaterThan(r.idles[i - 1]!);
      } finally {
        await pair.dispose();
      }
    });

    it('the timer fires no earlier than its deadline; an earlier deadline replaces a later one; undefined cancels', async () => {
      const { pair, s } = await opened();
      try {
        const t = pair.sender;
        const start = t.now();
        t.setTimer(start + 40);
        t.setTimer(start + 10);
        await pair.run(500, () => s.timers.length >= 1);
        expect(s.timers.length).toBeGreaterThanOrEqual(1);
        expect(s.timers[0]!).toBeGreaterThanOrEqual(start + 10);
        const fired = s.timers.length;
        t.setTimer(t.now() + 5);
        t.setTimer(undefined);
        await pair.run(60);
        expect(s.timers.length).toBe(fired);
      } finally {
        await pair.dispose();
      }
    });

    it('the clock never runs backwards', async () => {
      const { pair } = await opened();
      try {
        let last = pair.sender.now();
        for (let i = 0; i < 20; i++) {
          await pair.run(1);
          const now = pair.sender.now();
          expect(now).toBeGreaterThanOrEqual(last);
          last = now;
        }
      } finally {
        await pair.dispose();
      }
    });

    it('after close() no handler is called', async () => {
      const { pair, s, r } = await opened();
      try {
        pair.sender.send(0, Uint8Array.from([1, 2, 3]));
        pair.receiver.close();
        pair.sender.setTimer(pair.sender.now() + 5);
        pair.sender.close();
        await pair.run(60);
        expect(r.datagrams).toEqual([]);
        expect(s.timers).toEqual([]);
      } finally {
        await pair.dispose();
      }
    });

    it('a peer where nothing listens is reported unreachable, and only that peer', async () => {
      const { pair, s } = await opened();
      try {
        if (!pair.reportsUnreachable) {
          expect(pair.reportsUnreachable).toBe(false); // this transport cannot tell; the give-up time covers it
          return;
        }
        // UDP learns of ICMP port unreachable on a later send (as a retransmission would be), so keep sending.
        for (let i = 0; i < 100 && s.unreachable.length === 0; i++) {
          pair.sender.send(1, Uint8Array.from([i]));
          await pair.run(20, () => s.unreachable.length > 0);
        }
        expect(new Set(s.unreachable)).toEqual(new Set([1]));
      } finally {
        await pair.dispose();
      }
    });
  });
}
