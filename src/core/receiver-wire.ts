// What a receiver in --verify or --key mode makes of one datagram, and how it answers (README, "Wire
// extensions"). Pure: the receiver machine keeps the sequence rules, the loss service and the file digest;
// this object owns the per-mode bytes, the --key handshake and the ACK counter (the ACK nonce).

import { checksumMatches, decode, HEADER_BYTES } from './codec.js';
import { ACK_STATUS, DIGEST_BYTES, modeOf, TYPE_KCHALLENGE, TYPE_KDATA, TYPE_KEND, TYPE_KHELLO, TYPE_KRESPONSE, TYPE_KSACK, type AckStatus, type WireMode } from './extension.js';
import { isRangeCount, RANGE_BYTES, type SeqRange } from './sack.js';
import {
  ackKey,
  CHALLENGE_BYTES,
  dataKey,
  encodeHandshake,
  handshakeKey,
  HELLO_BYTES,
  NONCE_SEED_BYTES,
  openHandshake,
  openSealed,
  sealAck,
  sealSack,
  SEALED_ACK_BYTES,
  TAG_BYTES,
} from './seal.js';
import { decodeVerified, encodeVerifiedAck, encodeVerifiedSack } from './verify.js';
import type { KeyObject } from 'node:crypto';

/**
 * Why a datagram counts for nothing. 'other-mode': a well-formed segment of a mode this receiver is not in.
 * 'bad-mac': a well-formed --key handshake whose MAC fails (most likely a sender with another key).
 */
export type WireIgnore = 'malformed' | 'not-data' | 'bad-checksum' | 'unauthenticated' | 'bad-mac' | 'other-mode' | 'foreign';

export type Incoming =
  | { kind: 'data'; seq: number; payload: Uint8Array }
  | { kind: 'end'; seq: number; digest: Uint8Array }
  /** A handshake step (--key): answer with `reply`; nothing is written. `opened`: data counts from now on. */
  | { kind: 'handshake'; reply: Uint8Array; opened: boolean }
  | { kind: 'ignored'; reason: WireIgnore; mode: WireMode | undefined };

export interface ReceiverWire {
  readonly mode: Exclude<WireMode, 'classic'>;
  read(bytes: Uint8Array): Incoming;
  /** The answer to the segment `seq` (a fresh datagram every time: in --key mode each ACK has its own nonce). */
  ack(seq: number, status: AckStatus): Uint8Array;
  /** --sack: the ACK of `cum` with the 1..SACK_MAX_RANGES ranges held beyond it (with --key: its own nonce too). */
  sack(cum: number, ranges: readonly SeqRange[]): Uint8Array;
  /** Build now, while idle, the answer ack(seq, status) is likely to be asked for next. */
  prepare(seq: number, status: AckStatus): void;
}

const ignored = (reason: WireIgnore, mode: WireMode | undefined): Incoming => ({ kind: 'ignored', reason, mode });

/**
 * The mode a datagram was honestly sent in, if it is not `mine`: its type code AND its layout must fit that
 * mode (a classic checksum or a CRC that verifies, a --key length that matches), so a corrupted segment of
 * our own mode whose type bit flipped is malformed, never taken for a peer in the other mode.
 */
export function otherModeOf(bytes: Uint8Array, mine: WireMode): WireMode | 'malformed' | undefined {
  const mode = modeOf(bytes);
  if (mode === undefined) return 'malformed';
  if (mode === mine) return undefined;
  return wellFormedAs(mode, bytes) ? mode : 'malformed';
}

function wellFormedAs(mode: WireMode, bytes: Uint8Array): boolean {
  if (mode === 'verify') return decodeVerified(bytes).ok;
  if (mode === 'classic') {
    const d = decode(bytes);
    return d.ok && (d.segment.kind !== 'data' || checksumMatches(d.segment.payload, d.segment.checksum));
  }
  const n = bytes.length;
  const field = (bytes[4]! << 8) | bytes[5]!;
  switch ((bytes[6]! << 8) | bytes[7]!) {
    case TYPE_KHELLO:
      return n === HELLO_BYTES;
    case TYPE_KRESPONSE:
    case TYPE_KCHALLENGE:
      return n === CHALLENGE_BYTES;
    case TYPE_KDATA:
      return field > 0 && field === n - HEADER_BYTES - TAG_BYTES;
    case TYPE_KEND:
      return field === DIGEST_BYTES && n === HEADER_BYTES + DIGEST_BYTES + TAG_BYTES;
    case TYPE_KSACK:
      return isRangeCount(field) && n === SEALED_ACK_BYTES + field * RANGE_BYTES;
    default:
      return n === SEALED_ACK_BYTES;
  }
}

function otherMode(bytes: Uint8Array, mine: WireMode): Incoming | undefined {
  const other = otherModeOf(bytes, mine);
  if (other === undefined) return undefined;
  return other === 'malformed' ? ignored('malformed', undefined) : ignored('other-mode', other);
}

export class VerifyReceiverWire implements ReceiverWire {
  readonly mode = 'verify';

  read(bytes: Uint8Array): Incoming {
    const other = otherMode(bytes, 'verify');
    if (other) return other;
    const d = decodeVerified(bytes);
    if (!d.ok) return ignored(d.error === 'bad-crc' ? 'bad-checksum' : 'malformed', 'verify');
    if (d.segment.kind === 'ack' || d.segment.kind === 'sack') return ignored('not-data', 'verify');
    return d.segment;
  }

  ack(seq: number, status: AckStatus): Uint8Array {
    return encodeVerifiedAck(seq, status);
  }

  sack(cum: number, ranges: readonly SeqRange[]): Uint8Array {
    return encodeVerifiedSack(cum, ranges);
  }

  prepare(): void {} // a CRC costs next to nothing
}

interface Session {
  ns: Uint8Array;
  kd: KeyObject;
  ka: KeyObject;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/**
 * --key: `challenge` (Cr) is this receiver's fresh random choice for its one transfer. Data counts only in
 * the session a KRESPONSE naming Cr opened; one session per receiver, the first one wins.
 */
export class KeyReceiverWire implements ReceiverWire {
  readonly mode = 'key';
  private readonly kh: KeyObject;
  private session: Session | undefined;
  /** Every ACK sealed under Ka takes the next value: the nonce never repeats. */
  private counter = 0;
  private prepared: { seq: number; status: AckStatus; bytes: Uint8Array } | undefined;

  constructor(
    private readonly psk: Uint8Array,
    private readonly challenge: Uint8Array,
  ) {
    if (challenge.length !== NONCE_SEED_BYTES) throw new RangeError(`the challenge must be ${NONCE_SEED_BYTES} bytes`);
    this.kh = handshakeKey(psk);
  }

  get opened(): boolean {
    return this.session !== undefined;
  }

  read(bytes: Uint8Array): Incoming {
    const other = otherMode(bytes, 'key');
    if (other) return other;
    const type = (bytes[6]! << 8) | bytes[7]!;
    if (type === TYPE_KHELLO || type === TYPE_KRESPONSE) return this.handshake(bytes);
    if (type !== TYPE_KDATA && type !== TYPE_KEND) return ignored('not-data', 'key');
    if (this.session === undefined) return ignored('unauthenticated', 'key');
    const o = openSealed(this.session.kd, bytes);
    if (!o.ok) return ignored(o.error === 'unauthenticated' ? 'unauthenticated' : 'malformed', 'key');
    return o.segment;
  }

  private handshake(bytes: Uint8Array): Incoming {
    const h = openHandshake(this.kh, bytes);
    if (!h.ok) return ignored(h.error === 'unauthenticated' ? 'bad-mac' : 'malformed', 'key');
    const m = h.msg;
    // Always the same challenge, whoever asks: a stranger's (or a replayed) HELLO cannot displace a real one.
    if (m.kind === 'hello') return { kind: 'handshake', reply: encodeHandshake(this.kh, { kind: 'challenge', ns: m.ns, cr: this.challenge }), opened: false };
    if (m.kind !== 'response' || !sameBytes(m.cr, this.challenge)) return ignored('unauthenticated', 'key');
    if (this.session === undefined) this.session = { ns: m.ns, kd: dataKey(this.psk, m.ns), ka: ackKey(this.psk, m.ns, this.challenge) };
    else if (!sameBytes(this.session.ns, m.ns)) return ignored('foreign', 'key');
    return { kind: 'handshake', reply: this.ack(0, ACK_STATUS.open), opened: true };
  }

  ack(seq: number, status: AckStatus): Uint8Array {
    const r = this.prepared;
    if (r !== undefined && r.seq === seq && r.status === status) {
      this.prepared = undefined;
      return r.bytes;
    }
    if (this.session === undefined) throw new Error('no --key session is open: nothing may be acknowledged');
    return sealAck(this.session.ka, seq, status, this.counter++);
  }

  sack(cum: number, ranges: readonly SeqRange[]): Uint8Array {
    if (this.session === undefined) throw new Error('no --key session is open: nothing may be acknowledged');
    return sealSack(this.session.ka, cum, ranges, this.counter++);
  }

  /** A prepared ACK that is never used only skips a counter value: nonces stay unique. */
  prepare(seq: number, status: AckStatus): void {
    if (this.session === undefined || (this.prepared?.seq === seq && this.prepared.status === status)) return;
    this.prepared = { seq, status, bytes: sealAck(this.session.ka, seq, status, this.counter++) };
  }
}
