// Raw-datagram fuzzing of each machine on its own: arbitrary byte strings, near-valid segments, single-bit
// mutations and timer wake-ups at exact deadlines, checked against a small independent model of what each machine
// may do. No network, no simulator: this is the machines' input handling under hostile input.

import fc from 'fast-check';
import { checksumMatches, decode, encodeAck, encodeData, encodeFin, HEADER_BYTES, payloadBytes } from '../src/core/codec.js';
import { standaloneFlow } from '../src/core/flow.js';
import { EOF_MODES, type EofMode } from '../src/core/options.js';
import { ReceiverMachine, step } from '../src/core/receiver.js';
import { segmentCount } from '../src/core/segments.js';

const equalBytes = (a: Uint8Array | undefined, b: Uint8Array): boolean =>
  a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

function fail(message: string): never {
  throw new Error(message);
}

/** Times and timeouts are fractional on purpose: real clocks (performance.now) are, and rounding hides bugs. */
const durationMs = fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3_000_000 }).map((x) => x / 1000));
const initialSeq = fc.oneof(fc.constant(0), fc.integer({ min: 0xffffffff - 8, max: 0xffffffff }), fc.nat({ max: 0xffffffff }));
const smallBytes = fc.uint8Array({ maxLength: 24 });
/** Mostly false / null: most generated segments should be valid, or the machines never get past the start. */
const rarely = fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 });
const rareBit = (max: number): fc.Arbitrary<number | null> =>
  fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.nat({ max }), weight: 1 });

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  if (out.length === 0) return out;
  const b = bit % (out.length * 8);
  out[b >> 3] = out[b >> 3]! ^ (1 << (b & 7));
  return out;
}

// ---------------------------------------------------------------- receiver

type RxOp =
  | { t: 'garbage'; bytes: Uint8Array; foreign: boolean }
  | { t: 'data'; delta: number; payload: Uint8Array; last: boolean; badChecksum: boolean; foreign: boolean; bit: number | null }
  | { t: 'fin'; foreign: boolean; bit: number | null }
  | { t: 'ack'; delta: number }
  | { t: 'wait'; ms: number }
  | { t: 'wake' };

const rxOp: fc.Arbitrary<RxOp> = fc.oneof(
  fc.record({ t: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 40 }), foreign: fc.boolean() }),
  {
    arbitrary: fc.record({
      t: fc.constant('data' as const),
      delta: fc.integer({ min: -3, max: 3 }),
      payload: smallBytes,
      last: fc.boolean(),
      badChecksum: rarely,
      foreign: rarely,
      bit: rareBit(1000),
    }),
    weight: 6,
  },
  fc.record({ t: fc.constant('fin' as const), foreign: rarely, bit: rareBit(63) }),
  fc.record({ t: fc.constant('ack' as const), delta: fc.integer({ min: -2, max: 2 }) }),
  fc.record({ t: fc.constant('wait' as const), ms: durationMs }),
  fc.record({ t: fc.constant('wake' as const) }),
);

export interface ReceiverCase {
  initialSeq: number;
  lossRate: number;
  randomSeed: number;
  idleTimeoutMs: number;
  lingerMs: number;
  ops: RxOp[];
}

export const receiverCase: fc.Arbitrary<ReceiverCase> = fc.record({
  initialSeq,
  lossRate: fc.oneof(fc.constant(0), fc.constant(0.3)),
  randomSeed: fc.nat(),
  idleTimeoutMs: durationMs.map((x) => x + 0.5),
  lingerMs: durationMs,
  ops: fc.array(rxOp, { maxLength: 60, size: 'max' }),
});

/** A tiny deterministic PRNG for the receiver's loss service (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function checkReceiverCase(c: ReceiverCase): void {
  const rx = new ReceiverMachine({ lossRate: c.lossRate, random: mulberry32(c.randomSeed), idleTimeoutMs: c.idleTimeoutMs, lingerMs: c.lingerMs, initialSeq: c.initialSeq });
  let now = 0;
  let expected = c.initialSeq >>> 0; // model: next in-sequence seq
  let ended = false; // model: end of file written
  let peer: string | undefined;
  let bytes = 0;
  let segments = 0;
  for (const op of c.ops) {
    if (op.t === 'wait' || op.t === 'wake') {
      const due = rx.pollTimeout();
      now = op.t === 'wait' ? now + op.ms : Math.max(now, due ?? now);
      rx.handleTimeout(now);
      const again = rx.pollTimeout();
      if (due !== undefined && now >= due && again !== undefined && again <= now) fail(`receiver timer due ${due} handled at ${now} asks again for ${again}`);
      continue;
    }
    let datagram: Uint8Array;
    let from = 'sender-a';
    if (op.t === 'garbage') {
      datagram = op.bytes;
      if (op.foreign) from = 'sender-b';
    } else if (op.t === 'data') {
      const d = encodeData((expected + op.delta) >>> 0, op.payload, op.last);
      if (op.badChecksum) d[4] = d[4]! ^ 0x10;
      datagram = op.bit === null ? d : flip(d, op.bit);
      if (op.foreign) from = 'sender-b';
    } else if (op.t === 'fin') {
      datagram = op.bit === null ? encodeFin() : flip(encodeFin(), op.bit);
      if (op.foreign) from = 'sender-b';
    } else {
      datagram = encodeAck((expected + op.delta) >>> 0);
    }
    const before = rx.status;
    const v = step(rx, now, datagram, from);
    const dec = decode(datagram);
    switch (v.kind) {
      case 'delivered': {
        if (!dec.ok || dec.segment.kind === 'ack') fail(`delivered a datagram that does not decode as DATA/FIN`);
        if (ended || before === 'done' || before === 'failed' || before === 'lingering') fail(`delivered after end of file / failure (status ${before})`);
        if (peer !== undefined && from !== peer) fail(`delivered from ${from} while locked to ${peer}`);
        const seg = dec.segment;
        if (seg.kind === 'data') {
          if (!checksumMatches(seg.payload, seg.checksum)) fail('delivered a segment with a bad checksum');
          if (seg.seq !== expected) fail(`delivered seq ${seg.seq}, expected ${expected}`);
          if (!equalBytes(v.payload, seg.payload)) fail('delivered payload differs from the datagram');
          if (v.reply === undefined || !equalBytes(v.reply, encodeAck(seg.seq))) fail('reply to DATA is not its ACK');
          if (v.complete !== (seg.payload.length === 0 || seg.last)) fail('complete flag wrong');
        } else if (v.reply === undefined || !equalBytes(v.reply, encodeFin()) || !v.complete || v.payload.length !== 0) fail('FIN not delivered as an empty end of file echoed as FIN');
        peer = from;
        expected = (v.seq + 1) >>> 0;
        ended = v.complete;
        bytes += v.payload.length;
        segments++;
        break;
      }
      case 'lost':
        if (c.lossRate === 0) fail('loss service dropped a segment with lossRate 0');
        break;
      case 'bad-checksum':
        if (!dec.ok || dec.segment.kind !== 'data' || checksumMatches(dec.segment.payload, dec.segment.checksum)) fail('bad-checksum verdict for a datagram with a good checksum');
        break;
      case 'duplicate': {
        if (v.reply === undefined) break;
        const r = decode(v.reply);
        if (!r.ok || r.segment.kind === 'data') fail('duplicate reply is not an ACK/FIN');
        if (!ended && r.segment.kind === 'ack' && r.segment.seq !== ((expected - 1) >>> 0)) fail(`re-ACK of ${r.segment.seq}, last in sequence is ${(expected - 1) >>> 0}`);
        break;
      }
      case 'ignored':
        break;
    }
    if (rx.stats.bytes !== bytes || rx.stats.segments !== segments) fail(`stats bytes/segments ${rx.stats.bytes}/${rx.stats.segments}, model ${bytes}/${segments}`);
  }
}

// ---------------------------------------------------------------- sender

type TxOp =
  | { t: 'poll' }
  | { t: 'ack'; delta: number; bit: number | null }
  | { t: 'fin' }
  | { t: 'garbage'; bytes: Uint8Array }
  | { t: 'rawAck'; seq: number }
  | { t: 'wait'; ms: number }
  | { t: 'wake' }
  | { t: 'limit'; delta: number }
  | { t: 'fail' };

const txOp: fc.Arbitrary<TxOp> = fc.oneof(
  { arbitrary: fc.constant({ t: 'poll' as const }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant('ack' as const), delta: fc.integer({ min: -3, max: 3 }), bit: rareBit(63) }), weight: 6 },
  fc.constant({ t: 'fin' as const }),
  fc.record({ t: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 24 }) }),
  fc.record({ t: fc.constant('rawAck' as const), seq: fc.nat({ max: 0xffffffff }) }),
  fc.record({ t: fc.constant('wait' as const), ms: durationMs }),
  { arbitrary: fc.constant({ t: 'wake' as const }), weight: 2 },
  fc.record({ t: fc.constant('limit' as const), delta: fc.integer({ min: -2, max: 3 }) }),
  { arbitrary: fc.constant({ t: 'fail' as const }), weight: 1 },
);

export interface SenderCase {
  mss: number;
  file: Uint8Array;
  eof: EofMode;
  initialSeq: number;
  fixedRtoMs: number | null;
  giveUpMs: number;
  ops: TxOp[];
}

export const senderCase: fc.Arbitrary<SenderCase> = fc.record({
  mss: fc.integer({ min: HEADER_BYTES + 1, max: HEADER_BYTES + 12 }),
  file: fc.uint8Array({ maxLength: 60, size: 'max' }),
  eof: fc.constantFrom(...EOF_MODES),
  initialSeq,
  fixedRtoMs: fc.option(durationMs.map((x) => x + 1), { nil: null }),
  giveUpMs: durationMs.map((x) => x + 0.1),
  ops: fc.array(txOp, { maxLength: 80, size: 'max' }),
});

/** The exact bytes segment `index` must have, built independently of the machine. */
function expectedSegment(c: SenderCase, index: number, total: number): Uint8Array {
  const payload = payloadBytes(c.mss);
  const dataSegments = Math.ceil(c.file.length / payload);
  if (c.eof === 'fin' && index === dataSegments) return encodeFin();
  const chunk = c.file.subarray(Math.min(index * payload, c.file.length), (index + 1) * payload);
  return encodeData((c.initialSeq + index) >>> 0, chunk, c.eof === 'last' && index === total - 1);
}

export function checkSenderCase(c: SenderCase): void {
  const rto = { fixedMs: c.fixedRtoMs ?? undefined, minMs: 1, maxMs: 2000, initialMs: 100, granularityMs: 1 };
  const s = standaloneFlow({ mss: c.mss, file: c.file, eof: c.eof, rto, giveUpMs: c.giveUpMs, initialSeq: c.initialSeq });
  const total = segmentCount(c.file.length, c.mss, c.eof);
  if (s.total !== total) fail(`total ${s.total}, expected ${total}`);
  const finIndex = c.eof === 'fin' ? total - 1 : -1;
  let now = 0;
  let acked = 0; // model: segments acknowledged
  let limit = Number.POSITIVE_INFINITY;
  let sentUpTo = -1; // model: highest index ever transmitted
  let failed = false;
  /**
   * The segment an answer names: FIN names the FIN segment (eof 'fin' only); an ACK names the DATA segment with its
   * seq. The FIN segment has no seq of its own, so an ACK carrying "its" seq names nothing (NaN) -- but the machine
   * counts that one as unsent while the FIN is in flight and as a duplicate once done; either is harmless.
   */
  const named = (d: Uint8Array): { index: number; ofFinSeq: boolean } | undefined => {
    const dec = decode(d);
    if (!dec.ok || dec.segment.kind === 'data') return undefined;
    if (dec.segment.kind === 'fin') return { index: finIndex >= 0 ? finIndex : Number.NaN, ofFinSeq: false };
    const index = (dec.segment.seq - c.initialSeq) >>> 0;
    return index === finIndex ? { index: Number.NaN, ofFinSeq: true } : { index, ofFinSeq: false };
  };
  const drainEvents = (answer: Uint8Array | undefined): void => {
    for (let ev = s.pollEvent(); ev !== undefined; ev = s.pollEvent()) {
      if (ev.type === 'acked') {
        if (ev.index !== acked) fail(`acked ${ev.index}, model expects ${acked}`);
        if (answer === undefined || named(answer)?.index !== ev.index) fail(`acked ${ev.index} without an answer naming it`);
        if (ev.index > sentUpTo) fail(`accepted the ACK of segment ${ev.index}, never sent (sent up to ${sentUpTo})`);
        acked++;
      } else if (ev.type === 'done') {
        if (acked !== total) fail(`done after ${acked} of ${total}`);
      } else if (ev.type === 'failed') failed = true;
    }
    if (s.acked !== acked) fail(`machine acked ${s.acked}, model ${acked}`);
  };
  const feed = (d: Uint8Array): void => {
    const unsentBefore = s.stats.ackForUnsent;
    s.handleDatagram(now, d);
    drainEvents(d);
    const n = named(d);
    const counted = s.stats.ackForUnsent - unsentBefore;
    if (n === undefined) {
      if (counted !== 0) fail('a non-ACK counted as an ACK for unsent');
    } else if (!n.ofFinSeq) {
      const wasSent = Number.isFinite(n.index) && n.index <= sentUpTo;
      if (wasSent && counted !== 0) fail(`ACK of sent segment ${n.index} counted as unsent`);
      if (!wasSent && counted !== 1) fail(`ACK of never-sent ${n.index} not counted as unsent`);
    }
  };
  for (const op of c.ops) {
    switch (op.t) {
      case 'poll':
        for (let d = s.pollTransmit(now); d !== undefined; d = s.pollTransmit(now)) {
          if (failed || s.status !== 'sending') fail('transmitted after done/failed');
          if (acked > sentUpTo && acked > limit) fail(`transmitted new segment ${acked} past the lockstep limit ${limit}`);
          if (!equalBytes(d, expectedSegment(c, acked, total))) fail(`transmitted bytes are not segment ${acked} (the only unacknowledged one)`);
          sentUpTo = Math.max(sentUpTo, acked);
        }
        break;
      case 'ack': {
        const a = encodeAck((c.initialSeq + acked + op.delta) >>> 0);
        feed(op.bit === null ? a : flip(a, op.bit));
        break;
      }
      case 'fin':
        feed(encodeFin());
        break;
      case 'garbage':
        feed(op.bytes);
        break;
      case 'rawAck':
        feed(encodeAck(op.seq));
        break;
      case 'wait':
      case 'wake': {
        const due = s.pollTimeout();
        now = op.t === 'wait' ? now + op.ms : Math.max(now, due ?? now);
        s.handleTimeout(now);
        drainEvents(undefined);
        const again = s.pollTimeout();
        if (due !== undefined && now >= due && again !== undefined && again <= now) fail(`sender timer due ${due} handled at ${now} asks again for ${again}`);
        break;
      }
      case 'limit':
        limit = Math.max(0, acked + op.delta);
        s.setLimit(limit);
        break;
      case 'fail':
        s.fail('aborted');
        drainEvents(undefined);
        break;
    }
  }
}

export const receiverFuzzProperty = (): fc.IProperty<[ReceiverCase]> => fc.property(receiverCase, checkReceiverCase);
export const senderFuzzProperty = (): fc.IProperty<[SenderCase]> => fc.property(senderCase, checkSenderCase);
