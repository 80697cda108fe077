import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksum, encodeAck, encodeData, encodeFin, lowPadChecksum } from '../src/core/codec.js';
import { ReceiverMachine, step, type ReceiverConfig, type Step } from '../src/core/receiver.js';
import { EOF_MODES, type EofMode } from '../src/core/options.js';
import { fileBytes } from '../harness/files.js';
import { concat, corruptData, hex, seeded, specSegments, utf8, type SpecSegment } from './support.js';

const PEER = '192.0.2.1:40000';
const OTHER = '192.0.2.2:40000';
const FIN_HEX = '000000000000ffff';
const ackHex = (seq: number) => hex(encodeAck(seq));

/** A receiver plus the "disk" its driver would write: the payload of every `delivered` verdict, in order. */
function harness(cfg: Partial<ReceiverConfig> = {}) {
  const m = new ReceiverMachine({ lossRate: 0, random: () => 0, idleTimeoutMs: 10_000, lingerMs: 2_000, ...cfg });
  const disk: Uint8Array[] = [];
  const feed = (bytes: Uint8Array, now = 0, from = PEER): Step => {
    const v = step(m, now, bytes, from);
    if (v.kind === 'delivered') disk.push(v.payload.slice());
    return v;
  };
  return { m, disk, feed, written: () => hex(concat(disk)) };
}

const replyHex = (v: Step): string | undefined =>
  (v.kind === 'delivered' || v.kind === 'duplicate') && v.reply !== undefined ? hex(v.reply) : undefined;

/** The 8 bytes that answer the end-of-file segment `s`. */
const eofReplyHex = (s: SpecSegment) => (hex(s.bytes) === FIN_HEX ? FIN_HEX : ackHex(s.seq));

function withChecksumField(segment: Uint8Array, sum: number): Uint8Array {
  const out = segment.slice();
  out[4] = sum >> 8;
  out[5] = sum & 0xff;
  return out;
}

describe('receiver: in-sequence, duplicate and out-of-sequence segments', () => {
  it('an in-sequence segment is written once and ACKed', () => {
    const { m, feed, written } = harness();
    const v = feed(encodeData(0, utf8('hello')));
    expect(v).toMatchObject({ kind: 'delivered', seq: 0, complete: false });
    expect(replyHex(v)).toBe(ackHex(0));
    expect(written()).toBe(hex(utf8('hello')));
    expect(m.stats).toMatchObject({ bytes: 5, segments: 1, duplicates: 0 });
    expect(m.status).toBe('receiving');
    expect(m.peer).toBe(PEER);
  });

  it('a retransmitted duplicate is re-ACKed, never written twice', () => {
    const { m, feed, written } = harness();
    feed(encodeData(0, utf8('ab')));
    feed(encodeData(1, utf8('cd')));
    for (let i = 0; i < 3; i++) {
      const v = feed(encodeData(1, utf8('cd')));
      expect(v.kind).toBe('duplicate');
      expect(replyHex(v)).toBe(ackHex(1));
    }
    // An older one (its ACK was lost long ago) also gets the latest in-sequence ACK.
    expect(replyHex(feed(encodeData(0, utf8('ab'))))).toBe(ackHex(1));
    expect(written()).toBe(hex(utf8('abcd')));
    expect(m.stats).toMatchObject({ bytes: 4, segments: 2, duplicates: 4 });
  });

  it('out-of-sequence segment re-ACKs the last in-sequence one', () => {
    const { m, feed, written } = harness();
    feed(encodeData(0, utf8('a')));
    feed(encodeData(1, utf8('b')));
    for (const seq of [3, 7, 0xffffffff, 2 ** 31]) {
      const v = feed(encodeData(seq, utf8('zz')));
      expect(v).toMatchObject({ kind: 'duplicate', seq });
      expect(replyHex(v)).toBe(ackHex(1));
    }
    // A future segment carrying an end-of-file marker does not end anything.
    expect(replyHex(feed(encodeData(5, new Uint8Array(0))))).toBe(ackHex(1));
    expect(replyHex(feed(encodeData(5, utf8('x'), true)))).toBe(ackHex(1));
    expect(m.status).toBe('receiving');
    expect(feed(encodeData(2, utf8('c')))).toMatchObject({ kind: 'delivered', seq: 2 });
    expect(written()).toBe(hex(utf8('abc')));
  });

  it('before anything is in sequence, an out-of-sequence segment is not ACKed and locks no sender', () => {
    const { m, feed, written } = harness({ initialSeq: 10 });
    expect(feed(encodeData(11, utf8('x')), 0, OTHER)).toEqual({ kind: 'ignored', reason: 'not-started' });
    expect(m.peer).toBeUndefined();
    expect(m.status).toBe('waiting');
    expect(feed(encodeData(10, utf8('y')), 0, PEER)).toMatchObject({ kind: 'delivered', seq: 10 });
    expect(m.peer).toBe(PEER);
    expect(written()).toBe(hex(utf8('y')));
  });

  it('ACK-typed and malformed datagrams are ignored without a reply', () => {
    const { m, feed, written } = harness();
    for (const bytes of [encodeAck(0), new Uint8Array(3), new Uint8Array([0, 0, 0, 0, 0, 0, 0x12, 0x34])]) {
      const v = feed(bytes);
      expect(v.kind).toBe('ignored');
      expect(replyHex(v)).toBeUndefined();
    }
    expect(m.stats.ignored).toBe(3);
    expect(m.status).toBe('waiting');
    expect(written()).toBe('');
  });
});

describe('receiver: checksums', () => {
  it('a corrupted segment is never written', () => {
    const { m, feed, written } = harness();
    const seg0 = encodeData(0, utf8('payload'));
    expect(feed(corruptData(seg0, 3))).toEqual({ kind: 'bad-checksum', seq: 0 });
    expect(feed(withChecksumField(seg0, checksum(utf8('payload')) ^ 0x0100))).toEqual({ kind: 'bad-checksum', seq: 0 });
    expect(m.status).toBe('waiting');
    expect(feed(seg0).kind).toBe('delivered');
    // A corrupted end of file (empty DATA with a wrong sum) or last marker completes nothing.
    expect(feed(withChecksumField(encodeData(1, new Uint8Array(0)), 0))).toEqual({ kind: 'bad-checksum', seq: 1 });
    expect(feed(corruptData(encodeData(1, utf8('tail'), true), 9))).toEqual({ kind: 'bad-checksum', seq: 1 });
    expect(m.status).toBe('receiving');
    expect(m.stats.badChecksums).toBe(4);
    expect(written()).toBe(hex(utf8('payload')));
    expect(feed(encodeData(1, utf8('tail'), true))).toMatchObject({ kind: 'delivered', complete: true });
    expect(written()).toBe(hex(utf8('payloadtail')));
  });

  it('a segment with the low-pad checksum variant is accepted only for odd lengths', () => {
    // Odd length: the variant differs from RFC 1071 and is accepted.
    const odd = utf8('abc');
    expect(lowPadChecksum(odd)).not.toBe(checksum(odd));
    const a = harness();
    expect(a.feed(withChecksumField(encodeData(0, odd), lowPadChecksum(odd)))).toMatchObject({ kind: 'delivered', seq: 0 });
    expect(a.written()).toBe(hex(odd));

    // Every other header value: for odd lengths only {RFC 1071, low-pad} pass, for even lengths only RFC 1071.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 33 }), fc.integer({ min: 0, max: 0xffff }), (payload, sum) => {
        const { feed, written } = harness();
        const accepted = sum === checksum(payload) || (payload.length % 2 === 1 && sum === lowPadChecksum(payload));
        const v = feed(withChecksumField(encodeData(0, payload), sum));
        expect(v.kind).toBe(accepted ? 'delivered' : 'bad-checksum');
        expect(written()).toBe(accepted ? hex(payload) : '');
      }),
      { numRuns: 300 },
    );
    // The low-pad sum of an odd payload, put on an even payload that shares all but a final zero byte, is
    // rejected: padding with zero on the right is the only padding an even payload gets.
    const even = utf8('abc\0');
    expect(checksum(even)).toBe(checksum(odd));
    const b = harness();
    expect(b.feed(withChecksumField(encodeData(0, even), lowPadChecksum(odd))).kind).toBe('bad-checksum');
  });
});

describe('receiver: loss service', () => {
  const SEED = 'receiver-loss-7f3a'; // seedrandom seed for every draw in this block

  it(`P=1 drops every segment; P=0 never drops (seedrandom "${SEED}")`, () => {
    const file = fileBytes(3000, 1);
    for (const eof of EOF_MODES) {
      const segs = specSegments(file, 64, eof);
      const one = harness({ lossRate: 1, random: seeded(SEED) });
      for (const s of segs) {
        const v = one.feed(s.bytes);
        expect(v).toEqual({ kind: 'lost', seq: s.seq });
      }
      // Corrupted, duplicate or foreign-looking content: still dropped first, before anything else.
      expect(one.feed(corruptData(segs[0]!.bytes, 5)).kind).toBe('lost');
      expect(one.m.stats).toMatchObject({ drops: segs.length + 1, badChecksums: 0, segments: 0, bytes: 0 });
      expect(one.m.status).toBe('waiting');
      expect(one.written()).toBe('');

      const zero = harness({ lossRate: 0, random: seeded(SEED) });
      for (const s of segs) expect(zero.feed(s.bytes).kind).toBe('delivered');
      expect(zero.m.stats.drops).toBe(0);
      expect(zero.written()).toBe(hex(file));
      // Even a source that always answers 0 cannot make P=0 drop, nor one that answers just under 1 make P=1 keep.
      const never = harness({ lossRate: 0, random: () => 0 });
      const always = harness({ lossRate: 1, random: () => 1 - 2 ** -53 });
      for (const s of segs) {
        expect(never.feed(s.bytes).kind).toBe('delivered');
        expect(always.feed(s.bytes).kind).toBe('lost');
      }
    }
  });

  it(`0<P<1 drops exactly the segments whose draw is below P, and only DATA/FIN segments draw (seedrandom "${SEED}")`, () => {
    const run = () => {
      const rnd = seeded(SEED);
      const draws: number[] = [];
      const P = 0.3;
      const h = harness({ lossRate: P, random: () => (draws.push(rnd()), draws[draws.length - 1]!) });
      const segs = specSegments(fileBytes(4000, 2), 20, 'empty');
      const lostAt: number[] = [];
      let i = 0;
      let sends = 0;
      while (i < segs.length) {
        // ACKs, garbage and foreign datagrams take no draw.
        h.feed(encodeAck(i));
        h.feed(new Uint8Array(2));
        if (i > 0) h.feed(segs[i]!.bytes, 0, OTHER);
        const before = draws.length;
        const v = h.feed(segs[i]!.bytes);
        expect(draws.length).toBe(before + 1);
        expect(v.kind).toBe(draws[before]! < P ? 'lost' : 'delivered');
        if (v.kind === 'lost') lostAt.push(sends);
        else i++;
        sends++;
      }
      expect(h.written()).toBe(hex(fileBytes(4000, 2)));
      expect(h.m.stats.drops).toBe(lostAt.length);
      return { lostAt, sends };
    };
    const first = run();
    expect(first.lostAt.length / first.sends).toBeGreaterThan(0.2);
    expect(first.lostAt.length / first.sends).toBeLessThan(0.4);
    expect(run()).toEqual(first); // the same seed drops the same segments
  });
});

describe('receiver: one sender per transfer', () => {
  it('datagrams from a second sender are ignored and counted once a transfer started', () => {
    const { m, feed, written } = harness();
    feed(encodeData(0, utf8('mine')), 0, PEER);
    // The second sender's in-sequence DATA, a last marker and a FIN would all have changed the file.
    for (const bytes of [encodeData(1, utf8('evil')), encodeData(1, utf8('evil'), true), encodeData(1, new Uint8Array(0)), encodeFin()]) {
      const v = feed(bytes, 5, OTHER);
      expect(v).toEqual({ kind: 'ignored', reason: 'foreign' });
    }
    expect(m.stats.foreign).toBe(4);
    expect(m.status).toBe('receiving');
    expect(written()).toBe(hex(utf8('mine')));
    expect(feed(encodeData(1, utf8('!')), 6, PEER)).toMatchObject({ kind: 'delivered', seq: 1 });
    feed(encodeData(2, new Uint8Array(0)), 7, PEER);
    expect(m.status).toBe('lingering');
    // Still locked while lingering: the second sender gets no ACK for our end of file.
    expect(feed(encodeData(2, new Uint8Array(0)), 8, OTHER)).toEqual({ kind: 'ignored', reason: 'foreign' });
    expect(m.stats.foreign).toBe(5);
    expect(written()).toBe(hex(utf8('mine!')));
  });

  it('foreign datagrams do not keep a stalled transfer alive', () => {
    const { m, feed } = harness({ idleTimeoutMs: 1000 });
    feed(encodeData(0, utf8('a')), 0, PEER);
    feed(encodeData(1, utf8('b')), 900, OTHER);
    expect(m.pollTimeout()).toBe(1000);
    m.handleTimeout(1000);
    expect(m.status).toBe('failed');
  });
});

describe('receiver: end of file', () => {
  // "hello world!" in 5-byte payloads (MSS 13): "hello", " worl", "d!".
  const file = utf8('hello world!');

  it('each end-of-file convention completes the file: empty DATA, FIN 00000000 0000FFFF answered with the same 8 bytes, 0x5557 last marker carrying final bytes', () => {
    const expectedEof: Record<EofMode, { reply: string; lastPayload: string }> = {
      empty: { reply: ackHex(3), lastPayload: '' },
      fin: { reply: FIN_HEX, lastPayload: '' },
      last: { reply: ackHex(2), lastPayload: hex(utf8('d!')) },
    };
    for (const eof of EOF_MODES) {
      const segs = specSegments(file, 13, eof);
      const { m, feed, written } = harness();
      segs.forEach((s, i) => {
        const v = feed(s.bytes, i);
        const isEof = i === segs.length - 1;
        expect(v, `${eof} segment ${i}`).toMatchObject({ kind: 'delivered', complete: isEof });
        if (isEof) {
          expect(replyHex(v)).toBe(expectedEof[eof].reply);
          expect(v.kind === 'delivered' && hex(v.payload)).toBe(expectedEof[eof].lastPayload);
        } else {
          expect(replyHex(v)).toBe(ackHex(i));
          expect(m.status).toBe('receiving');
        }
      });
      expect(m.status).toBe('lingering');
      expect(m.completedAt).toBe(segs.length - 1);
      expect(written()).toBe(hex(file));
      expect(m.stats.bytes).toBe(file.length);
    }
  });

  it('a zero-byte file is just the end-of-file segment, in every convention', () => {
    for (const eof of EOF_MODES) {
      const segs = specSegments(new Uint8Array(0), 100, eof, 77);
      expect(segs).toHaveLength(1);
      const { m, feed, written } = harness({ initialSeq: 77 });
      const v = feed(segs[0]!.bytes, 3);
      expect(v).toMatchObject({ kind: 'delivered', complete: true });
      expect(replyHex(v)).toBe(eof === 'fin' ? FIN_HEX : ackHex(77));
      expect(m.status).toBe('lingering');
      expect(m.peer).toBe(PEER);
      expect(m.stats).toMatchObject({ bytes: 0, segments: 1 });
      expect(written()).toBe('');
    }
  });

  it('stale-FIN rule: with acceptLoneFin false a FIN before any data is ignored, unanswered, and the receiver still waits; a FIN ending data still completes', () => {
    const { m, feed, written } = harness({ acceptLoneFin: false });
    expect(feed(encodeFin())).toEqual({ kind: 'ignored', reason: 'stale-fin' });
    expect(m.status).toBe('waiting');
    expect(m.peer).toBeUndefined();
    // The real transfer that follows is served as usual, its own FIN included.
    for (const [i, s] of specSegments(file, 13, 'fin').entries()) expect(feed(s.bytes, i).kind).toBe('delivered');
    expect(m.status).toBe('lingering');
    expect(written()).toBe(hex(file));
  });

  it('lingers and re-ACKs a retransmitted end-of-file, then is done', () => {
    for (const eof of EOF_MODES) {
      const segs = specSegments(file, 13, eof);
      const last = segs[segs.length - 1]!;
      const { m, feed, written } = harness({ lingerMs: 500 });
      segs.forEach((s) => feed(s.bytes, 100));
      expect(m.pollTimeout()).toBe(600);
      // The end-of-file ACK was lost: the retransmission is answered with the very same bytes, nothing is written.
      const again = feed(last.bytes, 400);
      expect(again.kind).toBe('duplicate');
      expect(replyHex(again)).toBe(eofReplyHex(last));
      // A late copy of an earlier segment is answered with the end-of-file reply too (the sender can only be at the end).
      expect(replyHex(feed(segs[0]!.bytes, 400))).toBe(eofReplyHex(last));
      expect(written()).toBe(hex(file));
      expect(m.stats.segments).toBe(segs.length);
      // Each retransmission extends the linger.
      expect(m.pollTimeout()).toBe(900);
      m.handleTimeout(899);
      expect(m.status).toBe('lingering');
      m.handleTimeout(900);
      expect(m.status).toBe('done');
      expect(m.pollTimeout()).toBeUndefined();
      const late = feed(last.bytes, 1000);
      expect(late.kind).toBe('ignored');
      expect(replyHex(late)).toBeUndefined();
      expect(written()).toBe(hex(file));
    }
  });
});

describe('receiver: timers', () => {
  it('idle timeout fails a stalled transfer but a receiver waiting for its first sender waits forever', () => {
    const waiting = harness({ idleTimeoutMs: 1000 });
    expect(waiting.m.pollTimeout()).toBeUndefined();
    waiting.m.handleTimeout(1e12);
    expect(waiting.m.status).toBe('waiting');
    expect(waiting.feed(encodeData(0, utf8('late')), 1e12 + 1).kind).toBe('delivered');

    const { m, feed, written } = harness({ idleTimeoutMs: 1000 });
    feed(encodeData(0, utf8('a')), 0);
    expect(m.pollTimeout()).toBe(1000);
    // A duplicate from the sender shows it is alive: the deadline moves.
    feed(encodeData(0, utf8('a')), 600);
    expect(m.pollTimeout()).toBe(1600);
    // A corrupted segment is not a valid segment: it does not.
    feed(corruptData(encodeData(1, utf8('b')), 0), 1200);
    expect(m.pollTimeout()).toBe(1600);
    m.handleTimeout(1599);
    expect(m.status).toBe('receiving');
    m.handleTimeout(1600);
    expect(m.status).toBe('failed');
    expect(m.pollTimeout()).toBeUndefined();
    // A failed transfer accepts nothing more.
    const v = feed(encodeData(1, utf8('b')), 1700);
    expect(v.kind).toBe('ignored');
    expect(replyHex(v)).toBeUndefined();
    expect(written()).toBe(hex(utf8('a')));
  });

  it('handleTimeout before a deadline changes nothing', () => {
    const { m, feed } = harness({ idleTimeoutMs: 1000, lingerMs: 300 });
    feed(encodeData(0, utf8('a')), 0);
    for (const t of [0, 1, 500, 999]) m.handleTimeout(t);
    expect(m.status).toBe('receiving');
    feed(encodeData(1, new Uint8Array(0)), 999);
    for (const t of [999, 1000, 1298]) m.handleTimeout(t);
    expect(m.status).toBe('lingering');
  });
});

describe('receiver: sequence numbers wrap', () => {
  it('sequence numbers wrap past 2^32 (initialSeq near 0xFFFFFFFF)', () => {
    const { m, feed, written } = harness({ initialSeq: 0xfffffffe });
    const segs = specSegments(utf8('abcdefgh'), 10, 'empty', 0xfffffffe); // 2-byte payloads: seqs fffffffe, ffffffff, 0, 1, then eof 2
    expect(segs.map((s) => s.seq)).toEqual([0xfffffffe, 0xffffffff, 0, 1, 2]);
    expect(replyHex(feed(segs[0]!.bytes))).toBe('fffffffe0000aaaa');
    expect(replyHex(feed(segs[1]!.bytes))).toBe('ffffffff0000aaaa');
    // expected is now 0: an out-of-sequence segment must re-ACK 0xFFFFFFFF, not "-1".
    expect(replyHex(feed(segs[1]!.bytes))).toBe('ffffffff0000aaaa');
    expect(replyHex(feed(encodeData(5, utf8('??'))))).toBe('ffffffff0000aaaa');
    expect(replyHex(feed(segs[2]!.bytes))).toBe('000000000000aaaa');
    expect(replyHex(feed(segs[3]!.bytes))).toBe('000000010000aaaa');
    expect(feed(segs[4]!.bytes)).toMatchObject({ kind: 'delivered', seq: 2, complete: true });
    expect(written()).toBe(hex(utf8('abcdefgh')));
    expect(m.stats.segments).toBe(5);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Model-based: random interleavings of in-sequence, duplicate, out-of-window, corrupted, lost, foreign and
// garbage datagrams. The model is the bytes that should be on disk (plus the few counters they imply).

interface Model {
  readonly segs: readonly SpecSegment[];
  readonly initialSeq: number;
  /** Index of the next in-sequence segment. */
  next: number;
  complete: boolean;
  disk: Uint8Array[];
  badChecksums: number;
  drops: number;
  foreign: number;
}
interface Real {
  m: ReceiverMachine;
  disk: Uint8Array[];
  now: number;
  /** The next loss-service draw; the receiver runs with P = 0.5. */
  draw: number;
}

const KEEP = 0.75;
const DROP = 0.25;

function deliver(r: Real, bytes: Uint8Array, from = PEER, draw = KEEP): Step {
  r.draw = draw;
  r.now += 1;
  const v = step(r.m, r.now, bytes, from);
  if (v.kind === 'delivered') r.disk.push(v.payload.slice());
  return v;
}

/** After every command: the disk is exactly the model's bytes, and the counters and status follow from it. */
function invariant(model: Model, r: Real): void {
  const disk = concat(model.disk);
  expect(hex(concat(r.disk))).toBe(hex(disk));
  expect(r.m.stats).toMatchObject({
    segments: model.next,
    bytes: disk.length,
    badChecksums: model.badChecksums,
    drops: model.drops,
    foreign: model.foreign,
  });
  expect(r.m.status).toBe(model.complete ? 'lingering' : model.next > 0 ? 'receiving' : 'waiting');
}

/** The reply the receiver owes any non-new segment from the sender: the last in-sequence ACK, or the EOF reply. */
function lastReply(model: Model): string {
  const last = model.segs[model.next - 1]!;
  return model.complete ? eofReplyHex(last) : ackHex(last.seq);
}

const expectedSeq = (model: Model) => (model.initialSeq + model.next) >>> 0;

class InSeq implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => !m.complete;
  run(model: Model, r: Real): void {
    const s = model.segs[model.next]!;
    const v = deliver(r, s.bytes);
    expect(v).toMatchObject({ kind: 'delivered', complete: s.eof });
    expect(v.kind === 'delivered' && hex(v.payload)).toBe(hex(s.payload));
    expect(replyHex(v)).toBe(eofReplyHex(s) === FIN_HEX ? FIN_HEX : ackHex(s.seq));
    model.disk.push(s.payload);
    model.next++;
    model.complete = s.eof;
    invariant(model, r);
  }
  toString = () => 'InSeq';
}

class Duplicate implements fc.Command<Model, Real> {
  constructor(readonly k: number) {}
  check = (m: Readonly<Model>) => m.next > 0;
  run(model: Model, r: Real): void {
    const v = deliver(r, model.segs[this.k % model.next]!.bytes);
    expect(v.kind).toBe('duplicate');
    expect(replyHex(v)).toBe(lastReply(model));
    invariant(model, r);
  }
  toString = () => `Duplicate(${this.k})`;
}

class OutOfWindow implements fc.Command<Model, Real> {
  constructor(
    readonly offset: number,
    readonly payload: Uint8Array,
    readonly last: boolean,
  ) {}
  check = () => true;
  run(model: Model, r: Real): void {
    const v = deliver(r, encodeData(expectedSeq(model) + this.offset, this.payload, this.last));
    if (model.next === 0) expect(v).toEqual({ kind: 'ignored', reason: 'not-started' });
    else {
      expect(v.kind).toBe('duplicate');
      expect(replyHex(v)).toBe(lastReply(model));
    }
    invariant(model, r);
  }
  toString = () => `OutOfWindow(+${this.offset}, ${this.payload.length}B, last=${this.last})`;
}

class Corrupted implements fc.Command<Model, Real> {
  constructor(
    readonly k: number,
    readonly bit: number,
  ) {}
  check = () => true;
  run(model: Model, r: Real): void {
    const candidates = model.segs.slice(0, model.next + 1).filter((s) => hex(s.bytes) !== FIN_HEX);
    const base = candidates.length > 0 ? candidates[this.k % candidates.length]!.bytes : encodeData(expectedSeq(model), utf8('xyz'));
    const v = deliver(r, corruptData(base, this.bit));
    expect(v.kind).toBe('bad-checksum');
    model.badChecksums++;
    invariant(model, r);
  }
  toString = () => `Corrupted(${this.k}, bit ${this.bit})`;
}

class Lost implements fc.Command<Model, Real> {
  constructor(readonly k: number) {}
  check = () => true;
  run(model: Model, r: Real): void {
    const s = model.segs[this.k % (model.next + 1)] ?? model.segs[model.segs.length - 1]!;
    const v = deliver(r, s.bytes, PEER, DROP);
    expect(v.kind).toBe('lost');
    model.drops++;
    invariant(model, r);
  }
  toString = () => `Lost(${this.k})`;
}

class Foreign implements fc.Command<Model, Real> {
  constructor(readonly fin: boolean) {}
  check = (m: Readonly<Model>) => m.next > 0;
  run(model: Model, r: Real): void {
    const bytes = this.fin ? encodeFin() : (model.segs[model.next] ?? model.segs[model.next - 1]!).bytes;
    expect(deliver(r, bytes, OTHER)).toEqual({ kind: 'ignored', reason: 'foreign' });
    model.foreign++;
    invariant(model, r);
  }
  toString = () => `Foreign(${this.fin ? 'FIN' : 'in-seq DATA'})`;
}

class Garbage implements fc.Command<Model, Real> {
  constructor(readonly bytes: Uint8Array) {}
  check = () => true;
  run(model: Model, r: Real): void {
    const v = deliver(r, this.bytes);
    expect(v.kind).toBe('ignored');
    expect(replyHex(v)).toBeUndefined();
    invariant(model, r);
  }
  toString = () => `Garbage(${hex(this.bytes)})`;
}

const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 7 }),
  fc.integer({ min: 0, max: 0xffffffff }).map((seq) => encodeAck(seq)),
  fc
    .tuple(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 8 }))
    .filter(([, type]) => ![0x5555, 0x5557, 0xaaaa, 0xffff].includes(type))
    .map(([head, type, tail]) => new Uint8Array([...head, type >> 8, type & 0xff, ...tail])),
);

const commands = fc.commands(
  [
    fc.constant(new InSeq()),
    fc.constant(new InSeq()),
    fc.constant(new InSeq()),
    fc.nat().map((k) => new Duplicate(k)),
    fc
      .tuple(fc.integer({ min: 1, max: 0xffffffff }), fc.uint8Array({ maxLength: 12 }), fc.boolean())
      .map(([o, p, l]) => new OutOfWindow(o, p, l)),
    fc.tuple(fc.nat(), fc.nat()).map(([k, b]) => new Corrupted(k, b)),
    fc.nat().map((k) => new Lost(k)),
    fc.boolean().map((f) => new Foreign(f)),
    garbage.map((g) => new Garbage(g)),
  ],
  { maxCommands: 80 },
);

const transfer = fc.record({
  size: fc.nat({ max: 160 }),
  fileSeed: fc.nat(),
  mss: fc.integer({ min: 9, max: 48 }),
  eof: fc.constantFrom(...EOF_MODES),
  initialSeq: fc.oneof(fc.constant(0), fc.integer({ min: 0xfffffff0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })),
});

describe('receiver: model-based (fc.commands)', () => {
  it('whatever arrives, the disk holds exactly the in-sequence prefix of the file, and completing it yields the file', () => {
    fc.assert(
      fc.property(transfer, commands, (t, cmds) => {
        const file = fileBytes(t.size, t.fileSeed);
        const segs = specSegments(file, t.mss, t.eof, t.initialSeq);
        const real: Real = { m: undefined as unknown as ReceiverMachine, disk: [], now: 0, draw: KEEP };
        real.m = new ReceiverMachine({
          lossRate: 0.5,
          random: () => real.draw,
          idleTimeoutMs: 1e12,
          lingerMs: 1e12,
          initialSeq: t.initialSeq,
        });
        const model: Model = { segs, initialSeq: t.initialSeq, next: 0, complete: false, disk: [], badChecksums: 0, drops: 0, foreign: 0 };
        fc.modelRun(() => ({ model, real }), cmds);
        // Liveness: the rest of the transfer, delivered in order, completes the file exactly.
        while (!model.complete) {
          new InSeq().run(model, real);
        }
        expect(hex(concat(real.disk))).toBe(hex(file));
      }),
      { numRuns: 200 },
    );
  });
});
