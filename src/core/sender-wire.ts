// What a sender in --verify or --key mode puts on the wire for one receiver, and what it accepts back
// (README, "Wire extensions"). Pure and without randomness: Ns comes from the caller. The group part (the
// sealed data, one copy for every receiver) is shared; each receiver's flow holds its own handshake state.

import { ACK_STATUS, TYPE_KACK, TYPE_KCHALLENGE, TYPE_KSACK, type AckStatus, type WireMode } from './extension.js';
import type { SeqRange } from './sack.js';
import { crypto } from './builtins.js';
import { ackKey, dataKey, encodeHandshake, handshakeKey, NONCE_SEED_BYTES, openAck, openHandshake, openSack, sealAck, sealData, sealEnd } from './seal.js';
import { otherModeOf } from './receiver-wire.js';
import { decodeVerified, encodeVerifiedData, encodeVerifiedEnd } from './verify.js';
import type { KeyObject } from 'node:crypto';
import type { WireOptions } from './options.js';

export type AckIgnore = 'malformed' | 'not-ack' | 'bad-checksum' | 'unauthenticated' | 'other-mode';

export type AckIn =
  /** `ranges`: what a SACK form (VSACK, KSACK: status ACK) reports held beyond seq; none in a plain ACK. */
  | { kind: 'ack'; seq: number; status: AckStatus; ranges?: readonly SeqRange[] }
  /** The handshake moved on (--key): the flow has a new segment to send (KRESPONSE) or may now send data. */
  | { kind: 'handshake' }
  | { kind: 'ignored'; reason: AckIgnore };

/** The segments of one transfer: the same bytes for every receiver. */
export interface GroupWire {
  readonly mode: Exclude<WireMode, 'classic'>;
  data(seq: number, payload: Uint8Array): Uint8Array;
  end(seq: number, digest: Uint8Array): Uint8Array;
  flow(): FlowWire;
}

/** The group's wire for `o`. */
export function groupWire(o: WireOptions): GroupWire {
  if (o.mode === 'verify') return new VerifyGroupWire();
  if (o.key === undefined) throw new RangeError('--key needs the pre-shared key and Ns');
  return new KeyGroupWire(o.key.psk, o.key.ns);
}

/** One receiver's side of the conversation. */
export interface FlowWire {
  readonly mode: Exclude<WireMode, 'classic'>;
  /** The handshake segment to send (or resend) now; undefined once data may flow. */
  handshake(): Uint8Array | undefined;
  read(bytes: Uint8Array): AckIn;
  /** While idle: get ready to accept the ACK of `seq` quickly (with --key, compute the ACK expected next). */
  prepare(seq: number): void;
}

const ignored = (reason: AckIgnore): AckIn => ({ kind: 'ignored', reason });

function otherMode(bytes: Uint8Array, mine: WireMode): AckIn | undefined {
  const other = otherModeOf(bytes, mine);
  if (other === undefined) return undefined;
  return ignored(other === 'malformed' ? 'malformed' : 'other-mode');
}

class VerifyFlow implements FlowWire {
  readonly mode = 'verify';

  prepare(): void {} // a CRC costs next to nothing

  handshake(): undefined {
    return undefined;
  }

  read(bytes: Uint8Array): AckIn {
    const other = otherMode(bytes, 'verify');
    if (other) return other;
    const d = decodeVerified(bytes);
    if (!d.ok) return ignored(d.error === 'bad-crc' ? 'bad-checksum' : 'malformed');
    const s = d.segment;
    if (s.kind === 'sack') return { kind: 'ack', seq: s.seq, status: ACK_STATUS.ack, ranges: s.ranges };
    if (s.kind !== 'ack') return ignored('not-ack');
    return s;
  }
}

export class VerifyGroupWire implements GroupWire {
  readonly mode = 'verify';
  data(seq: number, payload: Uint8Array): Uint8Array {
    return encodeVerifiedData(seq, payload);
  }
  end(seq: number, digest: Uint8Array): Uint8Array {
    return encodeVerifiedEnd(seq, digest);
  }
  flow(): FlowWire {
    return new VerifyFlow();
  }
}

/**
 * --key: `ns` is this transfer's fresh random nonce (it keys the data: never reuse it). The seq is the data
 * nonce, so a transfer holds at most MAX_SEALED_SEGMENTS segments (the segment source enforces it).
 */
export class KeyGroupWire implements GroupWire {
  readonly mode = 'key';
  readonly hello: Uint8Array;
  private readonly kh: KeyObject;
  private readonly kd: KeyObject;

  constructor(
    private readonly psk: Uint8Array,
    readonly ns: Uint8Array,
  ) {
    if (ns.length !== NONCE_SEED_BYTES) throw new RangeError(`Ns must be ${NONCE_SEED_BYTES} bytes`);
    this.kh = handshakeKey(psk);
    this.kd = dataKey(psk, ns);
    this.hello = encodeHandshake(this.kh, { kind: 'hello', ns });
  }

  data(seq: number, payload: Uint8Array): Uint8Array {
    return sealData(this.kd, seq, payload);
  }
  end(seq: number, digest: Uint8Array): Uint8Array {
    return sealEnd(this.kd, seq, digest);
  }
  flow(): FlowWire {
    return new KeyFlow(this.psk, this.kh, this.ns, this.hello);
  }
}

class KeyFlow implements FlowWire {
  readonly mode = 'key';
  private state: 'hello' | 'response' | 'open' = 'hello';
  private response: Uint8Array | undefined;
  private ka: KeyObject | undefined;
  /** Highest ACK counter seen: the receiver's next ACK most likely carries the one after it. */
  private counter = -1;
  /** The exact ACK the receiver will most likely send next, sealed while idle (GCM is deterministic). */
  private expected: { bytes: Uint8Array; seq: number; counter: number } | undefined;

  constructor(
    private readonly psk: Uint8Array,
    private readonly kh: KeyObject,
    private readonly ns: Uint8Array,
    private readonly hello: Uint8Array,
  ) {}

  handshake(): Uint8Array | undefined {
    return this.state === 'hello' ? this.hello : this.state === 'response' ? this.response : undefined;
  }

  read(bytes: Uint8Array): AckIn {
    const other = otherMode(bytes, 'key');
    if (other) return other;
    const type = (bytes[6]! << 8) | bytes[7]!;
    if (type === TYPE_KCHALLENGE) return this.challenge(bytes);
    if (type === TYPE_KSACK) return this.sack(bytes);
    if (type !== TYPE_KACK) return ignored('not-ack');
    if (this.ka === undefined) return ignored('unauthenticated');
    // The predicted ACK, byte for byte (compared in constant time: it holds a valid tag), needs no decryption.
    const e = this.expected;
    if (e !== undefined && this.state === 'open' && bytes.length === e.bytes.length && crypto().timingSafeEqual(bytes, e.bytes)) {
      this.expected = undefined;
      this.counter = Math.max(this.counter, e.counter);
      return { kind: 'ack', seq: e.seq, status: ACK_STATUS.ack };
    }
    const o = openAck(this.ka, bytes);
    if (!o.ok) return ignored(o.error === 'unauthenticated' ? 'unauthenticated' : 'malformed');
    this.counter = Math.max(this.counter, o.ack.counter);
    if (o.ack.status === ACK_STATUS.open) {
      if (this.state !== 'response') return ignored('not-ack'); // a late repeat: the session is already open
      this.state = 'open';
      return { kind: 'handshake' };
    }
    // Data ACKs before OPEN cannot be authentic (the receiver seals none before the session opens).
    return this.state === 'open' ? { kind: 'ack', seq: o.ack.seq, status: o.ack.status } : ignored('unauthenticated');
  }

  private sack(bytes: Uint8Array): AckIn {
    if (this.ka === undefined) return ignored('unauthenticated');
    const o = openSack(this.ka, bytes);
    if (!o.ok) return ignored(o.error === 'unauthenticated' ? 'unauthenticated' : 'malformed');
    this.counter = Math.max(this.counter, o.sack.counter);
    // As with KACK: the receiver seals none before the session opens.
    return this.state === 'open' ? { kind: 'ack', seq: o.sack.cum, status: ACK_STATUS.ack, ranges: o.sack.ranges } : ignored('unauthenticated');
  }

  prepare(seq: number): void {
    if (this.state !== 'open' || this.ka === undefined || this.expected?.seq === seq) return;
    this.expected = { seq, counter: this.counter + 1, bytes: sealAck(this.ka, seq, ACK_STATUS.ack, this.counter + 1) };
  }

  private challenge(bytes: Uint8Array): AckIn {
    const h = openHandshake(this.kh, bytes);
    if (!h.ok) return ignored(h.error === 'unauthenticated' ? 'unauthenticated' : 'malformed');
    if (h.msg.kind !== 'challenge' || Buffer.compare(h.msg.ns, this.ns) !== 0) return ignored('unauthenticated');
    // The first challenge for our Ns fixes the receiver (its Cr); later copies change nothing.
    if (this.state !== 'hello') return ignored('not-ack');
    this.response = encodeHandshake(this.kh, { kind: 'response', ns: this.ns, cr: h.msg.cr });
    this.ka = ackKey(this.psk, this.ns, h.msg.cr);
    this.state = 'response';
    return { kind: 'handshake' };
  }
}
