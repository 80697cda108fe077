// The group sender's multicast path, driven by hand (no network): registration (the first segment to the group,
// resent to those who miss it), new segments once to
// the group within the slowest receiver's window, repairs by unicast to those who miss a segment or once to the
// group past the fraction, a silent receiver dropped while the others carry on.

import { describe, expect, it } from 'vitest';
import { decode, encodeAck } from '../src/core/codec.js';
import { GROUP_PEER, GroupSender, type GroupConfig, type GroupEvent, type Transmit } from '../src/core/group.js';
import { MULTICAST_DEFAULT_WINDOW, REPAIR_HOLD_SRTT_FRACTION } from '../src/core/multicast.js';
import { encodeSack } from '../src/core/sack.js';
import { TYPE_KDATA, TYPE_KHELLO, TYPE_KRESPONSE } from '../src/core/extension.js';
import { ReceiverMachine, step } from '../src/core/receiver.js';
import { KeyReceiverWire } from '../src/core/receiver-wire.js';
import { WindowFlow } from '../src/core/window.js';
import { fileBytes } from '../harness/files.js';

const RTO = { minMs: 5, maxMs: 2000, initialMs: 100, granularityMs: 1 };
const N = 8;

function group(over: Partial<GroupConfig> = {}): GroupSender {
  // 10 bytes per segment: a 200-byte file is 20 data segments (0..19) + the empty end of file (20).
  return new GroupSender({
    receivers: 3,
    file: fileBytes(200, 3),
    mss: 18,
    eof: 'empty',
    mode: 'independent',
    rto: RTO,
    giveUpMs: 10_000,
    window: { window: N, sack: false, cc: 'none' },
    multicast: { repairGroupFraction: 0.5 },
    instrument: true,
    ...over,
  });
}

function drain(g: GroupSender, now: number): Transmit[] {
  const out: Transmit[] = [];
  for (let t = g.pollTransmit(now); t !== undefined; t = g.pollTransmit(now)) out.push(t);
  return out;
}

function events(g: GroupSender): GroupEvent[] {
  const out: GroupEvent[] = [];
  for (let e = g.pollEvent(); e !== undefined; e = g.pollEvent()) out.push(e);
  return out;
}

const indexOf = (t: Transmit): number => {
  const d = decode(t.bytes);
  return d.ok && d.segment.kind === 'data' ? d.segment.seq : -1;
};

/** Every receiver acknowledges segment 0 at `now`: all are registered. */
function register(g: GroupSender, now: number, receivers: readonly number[]): void {
  for (const r of receivers) g.handleDatagram(now, r, encodeAck(0));
}

describe('group, multicast', () => {
  it('hosts a SACK-reading window flow per receiver, lockstep, and the default window when none is given', () => {
    const g = group({ window: undefined });
    expect(g.flows.every((f) => f instanceof WindowFlow)).toBe(true);
    const t = drain(g, 0);
    register(g, 10, [0, 1, 2]);
    expect(drain(g, 10).length).toBe(MULTICAST_DEFAULT_WINDOW);
    expect(t.length).toBe(1);
  });

  it('registration: segment 0 once to the group; nothing more until every receiver acknowledged it', () => {
    const g = group();
    const first = drain(g, 0);
    expect(first.map((t) => [t.receiver, indexOf(t)])).toEqual([[GROUP_PEER, 0]]);
    g.handleDatagram(10, 0, encodeAck(0));
    g.handleDatagram(10, 1, encodeAck(0));
    expect(drain(g, 10)).toEqual([]);
    g.handleDatagram(12, 2, encodeAck(0));
    const data = drain(g, 12);
    // N segments past the slowest's acknowledged count (1): indices 1..N, each once, to the group.
    expect(data.map((t) => t.receiver)).toEqual(new Array(N).fill(GROUP_PEER));
    expect(data.map(indexOf)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(g.datagramsSent).toBe(1 + N);
    expect(g.multicastStats).toEqual({ groupSent: 1 + N, groupRepairs: 0, unicastRepairs: 0 });
    // Each receiver's flow booked every group copy as its own.
    for (const f of g.flows) expect(f.stats.segmentsSent).toBe(1 + N);
  });

  it('a first segment some receivers miss is resent at their timeout: by unicast to a few, once to the group past the fraction', () => {
    const g = group({ receivers: 4 });
    drain(g, 0);
    register(g, 10, [0]);
    // Receivers 1, 2 and 3 never got segment 0: three of four is above the fraction (0.5), one copy to the group.
    let at = g.pollTimeout()!;
    expect(at).toBe(RTO.initialMs);
    g.handleTimeout(at);
    expect(drain(g, at).map((t) => [t.receiver, indexOf(t)])).toEqual([[GROUP_PEER, 0]]);
    register(g, at + 10, [1, 2]);
    expect(drain(g, at + 10)).toEqual([]);
    // Receiver 3 alone (one of four) is retried by unicast, its RTO backed off.
    at = g.pollTimeout()!;
    expect(at).toBe(RTO.initialMs * 3);
    g.handleTimeout(at);
    expect(drain(g, at).map((t) => [t.receiver, indexOf(t)])).toEqual([[3, 0]]);
    expect(g.multicastStats).toEqual({ groupSent: 1, groupRepairs: 1, unicastRepairs: 1 });
    register(g, at + 10, [3]);
    expect(drain(g, at + 10).map((t) => t.receiver)).toEqual(new Array(N).fill(GROUP_PEER));
  });

  it('the group never runs more than the window ahead of the slowest live receiver', () => {
    const g = group();
    drain(g, 0);
    register(g, 10, [0, 1, 2]);
    drain(g, 10);
    // Receivers 0 and 1 acknowledge everything; receiver 2 only up to segment 3.
    g.handleDatagram(20, 0, encodeAck(N));
    g.handleDatagram(20, 1, encodeAck(N));
    expect(drain(g, 20)).toEqual([]);
    g.handleDatagram(20, 2, encodeAck(3));
    const more = drain(g, 20);
    expect(more.map(indexOf)).toEqual([N + 1, N + 2, N + 3]);
    expect(g.allowed).toBe(4 + N - 1);
  });

  it('repairs: by unicast to just the receiver missing a segment; once to the group when more than the fraction miss it', () => {
    const g = group({ receivers: 4 });
    drain(g, 0);
    register(g, 10, [0, 1, 2, 3]);
    drain(g, 10); // 1..8
    // Receiver 3 misses segment 2: its SACK holds 3..8 (more than DUP_THRESH later segments), so 2 is lost.
    g.handleDatagram(20, 0, encodeAck(8));
    g.handleDatagram(20, 1, encodeAck(8));
    g.handleDatagram(20, 2, encodeAck(8));
    g.handleDatagram(20, 3, encodeSack(1, [{ start: 3, end: 9 }]));
    // The request waits the hold (a fraction of that receiver's smoothed RTT) for others to join it.
    const sent = drain(g, 20);
    expect(sent.filter((t) => indexOf(t) === 2)).toEqual([]);
    const due = g.pollTimeout()!;
    expect(due).toBeCloseTo(20 + g.flows[3]!.srttMs! * REPAIR_HOLD_SRTT_FRACTION, 9);
    g.handleTimeout(due);
    const repair = drain(g, due).filter((t) => indexOf(t) === 2);
    expect(repair.map((t) => t.receiver)).toEqual([3]);
    expect(g.multicastStats!.unicastRepairs).toBe(1);

    // Segment 10 is missed by three of the four (more than half): one copy to the group.
    const now = due + 1;
    for (const r of [0, 1, 2, 3]) g.handleDatagram(now, r, encodeAck(9));
    drain(g, now); // up to 9 + 8 = 17
    // (The driver polls after every input, as GroupLoop does: that is when the group takes the flows' requests.)
    for (const r of [0, 1, 2]) {
      g.handleDatagram(now + 10, r, encodeSack(9, [{ start: 11, end: 18 }]));
      expect(drain(g, now + 10)).toEqual([]);
    }
    g.handleDatagram(now + 10, 3, encodeAck(17));
    drain(g, now + 10);
    const at = g.pollTimeout()!;
    g.handleTimeout(at);
    const all10 = drain(g, at).filter((t) => indexOf(t) === 10);
    expect(all10.map((t) => t.receiver)).toEqual([GROUP_PEER]);
    expect(g.multicastStats!.groupRepairs).toBe(1);
    // The group copy was booked for the three that needed it, not for receiver 3, which holds it.
    expect(g.flows.map((f) => f.stats.retransmissions)).toEqual([1, 1, 1, 1]);
  });

  it('a group copy counts as sent to every receiver that needed it (Karn: its ACK gives no RTT sample)', () => {
    const g = group({ receivers: 3, multicast: { repairGroupFraction: 0 } });
    drain(g, 0);
    register(g, 10, [0, 1, 2]);
    drain(g, 10);
    // Receiver 0 misses 1 (fraction 0: any repair goes to the group); receivers 1 and 2 have not answered yet.
    g.handleDatagram(20, 0, encodeSack(0, [{ start: 2, end: 9 }]));
    expect(drain(g, 20)).toEqual([]);
    const t = g.pollTimeout()!;
    g.handleTimeout(t);
    const copy = drain(g, t);
    expect(copy.map((x) => [x.receiver, indexOf(x)])).toEqual([[GROUP_PEER, 1]]);
    // Receivers 1 and 2 had segment 1 outstanding: the copy reached them too and their flows know it.
    expect(g.flows.map((f) => f.stats.retransmissions)).toEqual([1, 1, 1]);
    events(g);
    g.handleDatagram(t + 5, 1, encodeAck(8));
    expect(events(g).filter((e) => e.type === 'rtt')).toEqual([]);
  });

  it('a receiver that never acknowledges segment 0 fails never-registered; the others then get the data', () => {
    const g = group({ giveUpMs: 1000 });
    drain(g, 0);
    register(g, 10, [0, 1]);
    expect(drain(g, 10)).toEqual([]);
    let at = g.pollTimeout()!;
    for (; g.flows[2]!.status === 'sending'; at = g.pollTimeout()!) {
      g.handleTimeout(at);
      if (g.flows[2]!.status !== 'sending') break;
      for (const t of drain(g, at)) expect([t.receiver, indexOf(t)]).toEqual([2, 0]); // retried by unicast
    }
    expect(at).toBe(1000);
    expect(g.flows[2]!.failReason).toBe('never-registered');
    expect(drain(g, at).map((t) => t.receiver)).toEqual(new Array(N).fill(GROUP_PEER));
  });

  it('a receiver is waited for its registration until --wait when that is longer than --give-up (no port unreachable to tell it is starting)', () => {
    const g = group({ giveUpMs: 1000, waitMs: 3000 });
    drain(g, 0);
    register(g, 10, [0, 1]);
    let at = g.pollTimeout()!;
    for (; g.flows[2]!.status === 'sending'; at = g.pollTimeout()!) {
      g.handleTimeout(at);
      if (g.flows[2]!.status !== 'sending') break;
      for (const t of drain(g, at)) expect([t.receiver, indexOf(t)]).toEqual([2, 0]);
    }
    expect(at).toBe(3000);
    expect(g.flows[2]!.failReason).toBe('never-registered');
    // Once registered, a receiver is given up on after --give-up of silence as before.
    expect(g.flows[0]!.status).toBe('sending');
  });

  it('a receiver that falls silent mid-transfer is dropped at --give-up; the others finish', () => {
    const g = group({ giveUpMs: 1000 });
    let now = 0;
    let sent = drain(g, now);
    for (let step = 0; step < 200 && !g.finished; step++) {
      now += 10;
      // Receivers 0 and 1 acknowledge all they got; receiver 2 stops after segment 4.
      for (const t of sent) {
        const i = indexOf(t);
        for (const r of [0, 1, 2]) {
          if (t.receiver !== GROUP_PEER && t.receiver !== r) continue;
          if (r === 2 && i > 4) continue;
          g.handleDatagram(now, r, encodeAck(i));
        }
      }
      const at = g.pollTimeout();
      if (at !== undefined && at <= now) g.handleTimeout(now);
      sent = drain(g, now);
    }
    expect(g.finished).toBe(true);
    expect(g.flows.map((f) => f.status)).toEqual(['done', 'done', 'failed']);
    expect(g.flows[2]!.failReason).toBe('no-answer');
    // Every segment, the end of file included (after every live receiver acknowledged every data segment), went once to the group.
    expect(g.multicastStats!.groupSent).toBe(21);
  });

  it('rejects --cc and a fraction outside [0, 1]', () => {
    expect(() => group({ window: { window: 8, sack: false, cc: 'aimd' } })).toThrow(RangeError);
    expect(() => group({ multicast: { repairGroupFraction: 1.5 } })).toThrow(RangeError);
  });

  it('with --key, each receiver\'s handshake goes by unicast, and segment 0 goes to the group only once every live session is open (every flow books it)', () => {
    const psk = new Uint8Array(32).fill(1);
    const g = group({ mss: 64, wire: { mode: 'key', digest: new Uint8Array(32), key: { psk, ns: new Uint8Array(16).fill(2) } } });
    const type = (t: Transmit): number => (t.bytes[6]! << 8) | t.bytes[7]!;
    const rxs = [0, 1, 2].map((r) => new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 1e9, lingerMs: 1e9, wire: new KeyReceiverWire(psk, new Uint8Array(16).fill(3 + r)) }));
    let out = drain(g, 0);
    expect(out.map((t) => t.receiver).sort()).toEqual([0, 1, 2]);
    for (const t of out) expect(type(t)).toBe(TYPE_KHELLO);
    // Receivers 0 and 1 answer every handshake step; receiver 2 stays silent: only handshake steps go out.
    let now = 1;
    for (; now < 50; now++) {
      for (const t of out) if (t.receiver !== 2) g.handleDatagram(now, t.receiver, step(rxs[t.receiver]!, now, t.bytes, 'sender').reply!);
      out = drain(g, now);
      for (const t of out) expect([TYPE_KHELLO, TYPE_KRESPONSE]).toContain(type(t));
      expect(out.some((t) => t.receiver === GROUP_PEER)).toBe(false);
    }
    expect(rxs[0]!.status).toBe('receiving');
    expect(rxs[1]!.status).toBe('receiving');
    // Receiver 2 answers its HELLO (retransmitted on its timer) and its RESPONSE: now segment 0 goes to the group.
    let zero: Transmit | undefined;
    for (; now < 5000 && zero === undefined; now += 10) {
      g.handleTimeout(now);
      for (const t of drain(g, now)) {
        if (t.receiver === GROUP_PEER) zero = t;
        else if (t.receiver === 2) g.handleDatagram(now, 2, step(rxs[2]!, now, t.bytes, 'sender').reply!);
      }
      zero ??= drain(g, now).find((t) => t.receiver === GROUP_PEER);
    }
    expect(zero && type(zero)).toBe(TYPE_KDATA);
    for (const r of [0, 1, 2]) expect((g.flows[r] as WindowFlow).unacked).toBe(1);
  });
});
