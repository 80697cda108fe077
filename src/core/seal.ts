// The --key wire (README, "Wire extensions"): HKDF-SHA256 key schedule, the HMAC'd handshake that gives the
// receiver freshness (its challenge Cr) and AES-256-GCM sealing of DATA, END and ACK with deterministic
// nonces. Everything cryptographic is node:crypto; this module only lays out bytes. It draws no randomness
// (Ns and Cr come from the caller, so the simulator stays deterministic) and opening never throws.

import type { KeyObject } from 'node:crypto';
import { crypto } from './builtins.js';
import { allocSegment, HEADER_BYTES, writeHeader } from './codec.js';
import { checkRangeCount, isRangeCount, RANGE_BYTES, readRanges, writeRanges, type SeqRange } from './sack.js';
import {
  ACK_STATUS,
  DIGEST_BYTES,
  readHeader,
  TYPE_KACK,
  TYPE_KCHALLENGE,
  TYPE_KDATA,
  TYPE_KEND,
  TYPE_KHELLO,
  TYPE_KRESPONSE,
  TYPE_KSACK,
  TRAILER_BYTES,
  readU32,
  writeU32,
  type AckStatus,
} from './extension.js';

export const KEY_BYTES = 32;
/** Ns (the sender's per-transfer nonce) and Cr (a receiver's challenge). */
export const NONCE_SEED_BYTES = 16;
export const TAG_BYTES = TRAILER_BYTES.key;
export const MAC_BYTES = 16;
export const HELLO_BYTES = HEADER_BYTES + NONCE_SEED_BYTES + MAC_BYTES;
export const CHALLENGE_BYTES = HEADER_BYTES + 2 * NONCE_SEED_BYTES + MAC_BYTES;
export const SEALED_ACK_BYTES = HEADER_BYTES + 8 + TAG_BYTES;
/** The seq is the data nonce: one transfer seals at most 2^32 segments (END included). */
export const MAX_SEALED_SEGMENTS = 2 ** 32;

export type SealedSegment = { kind: 'data'; seq: number; payload: Uint8Array } | { kind: 'end'; seq: number; digest: Uint8Array };

function hkdf(psk: Uint8Array, salt: Uint8Array, info: string): KeyObject {
  if (psk.length !== KEY_BYTES) throw new RangeError(`the pre-shared key must be ${KEY_BYTES} bytes`);
  return crypto().createSecretKey(Buffer.from(crypto().hkdfSync('sha256', psk, salt, info, KEY_BYTES)));
}

/** Kh: the handshake MAC key (the same for every transfer with this pre-shared key). */
export const handshakeKey = (psk: Uint8Array): KeyObject => hkdf(psk, new Uint8Array(0), 'p2mp-ftp v1 handshake');
/** Kd: seals DATA and END of the transfer Ns, for every receiver (one sealed copy serves all). */
export const dataKey = (psk: Uint8Array, ns: Uint8Array): KeyObject => hkdf(psk, ns, 'p2mp-ftp v1 data');
/** Ka: seals the ACKs of one receiver (challenge Cr) in the transfer Ns. */
export const ackKey = (psk: Uint8Array, ns: Uint8Array, cr: Uint8Array): KeyObject => hkdf(psk, concat(ns, cr), 'p2mp-ftp v1 ack');

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * 96-bit GCM nonce: 32 zero bits, then n as u64. Distinct n under one key means distinct nonces. One scratch
 * buffer serves every operation: createCipheriv/createDecipheriv copy the IV before returning, and nothing
 * here is asynchronous, so no operation can see another's nonce.
 */
const ivScratch = new Uint8Array(12);
function nonce(n: number): Uint8Array {
  writeU64(ivScratch, 4, n);
  return ivScratch;
}

function writeU64(out: Uint8Array, at: number, n: number): void {
  writeU32(out, at, Math.floor(n / 2 ** 32));
  writeU32(out, at + 4, n >>> 0);
}

function readU64(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at) * 2 ** 32 + readU32(bytes, at + 4);
}

// ---------------------------------------------------------------------------------------------------------
// Handshake: HELLO(Ns) -> CHALLENGE(Ns, Cr) -> RESPONSE(Ns, Cr), each with a truncated HMAC-SHA256 under Kh.

export type Handshake =
  | { kind: 'hello'; ns: Uint8Array }
  | { kind: 'challenge'; ns: Uint8Array; cr: Uint8Array }
  | { kind: 'response'; ns: Uint8Array; cr: Uint8Array };

/** 'unauthenticated': forged, corrupted, replayed from another transfer or meant for another receiver. */
export type OpenError = 'short' | 'wrong-type' | 'malformed' | 'unauthenticated';

const HANDSHAKE_TYPE = { hello: TYPE_KHELLO, challenge: TYPE_KCHALLENGE, response: TYPE_KRESPONSE } as const;

function mac(kh: KeyObject, bytes: Uint8Array): Buffer {
  return crypto().createHmac('sha256', kh).update(bytes).digest().subarray(0, MAC_BYTES);
}

export function encodeHandshake(kh: KeyObject, msg: Handshake): Uint8Array {
  const seeds = msg.kind === 'hello' ? [msg.ns] : [msg.ns, msg.cr];
  if (seeds.some((s) => s.length !== NONCE_SEED_BYTES)) throw new RangeError(`Ns and Cr must be ${NONCE_SEED_BYTES} bytes`);
  const body = HEADER_BYTES + seeds.length * NONCE_SEED_BYTES;
  const out = new Uint8Array(body + MAC_BYTES);
  writeHeader(out, 0, 0, HANDSHAKE_TYPE[msg.kind]);
  seeds.forEach((s, i) => out.set(s, HEADER_BYTES + i * NONCE_SEED_BYTES));
  out.set(mac(kh, out.subarray(0, body)), body);
  return out;
}

export function openHandshake(kh: KeyObject, bytes: Uint8Array): { ok: true; msg: Handshake } | { ok: false; error: OpenError } {
  const h = readHeader(bytes);
  if (h === undefined) return { ok: false, error: 'short' };
  const kind = h.type === TYPE_KHELLO ? 'hello' : h.type === TYPE_KCHALLENGE ? 'challenge' : h.type === TYPE_KRESPONSE ? 'response' : undefined;
  if (kind === undefined) return { ok: false, error: 'wrong-type' };
  if (bytes.length !== (kind === 'hello' ? HELLO_BYTES : CHALLENGE_BYTES) || h.seq !== 0 || h.field !== 0) return { ok: false, error: 'malformed' };
  const body = bytes.length - MAC_BYTES;
  if (!crypto().timingSafeEqual(mac(kh, bytes.subarray(0, body)), bytes.subarray(body))) return { ok: false, error: 'unauthenticated' };
  // Copies: the caller may keep Ns/Cr beyond the life of the datagram's buffer.
  const ns = bytes.slice(HEADER_BYTES, HEADER_BYTES + NONCE_SEED_BYTES);
  if (kind === 'hello') return { ok: true, msg: { kind, ns } };
  return { ok: true, msg: { kind, ns, cr: bytes.slice(HEADER_BYTES + NONCE_SEED_BYTES, body) } };
}

// ---------------------------------------------------------------------------------------------------------
// DATA and END: AES-256-GCM under Kd, nonce(seq), the 8-byte header as additional data.

/**
 * Seal in place: `out` holds the additional data in [0, aadBytes) and the plaintext is `plain`; the
 * ciphertext and the tag are written after the additional data, filling `out` exactly. `out` comes from the
 * codec's slabs (as classic segments do): one off-heap allocation the fewer per datagram, GCM's own output
 * being the other one node:crypto cannot avoid.
 */
function seal(key: KeyObject, iv: Uint8Array, out: Uint8Array, aadBytes: number, plain: Uint8Array): Uint8Array {
  const cipher = crypto().createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(out.subarray(0, aadBytes));
  if (plain.length > 0) out.set(cipher.update(plain), aadBytes); // an ACK has none: skip the call
  cipher.final(); // GCM emits no further ciphertext
  out.set(cipher.getAuthTag(), aadBytes + plain.length);
  return out;
}

const EMPTY = new Uint8Array(0);

/** The plaintext, or undefined when the tag does not verify (forged, corrupted, or another key's). */
function open(key: KeyObject, iv: Uint8Array, aadBytes: number, bytes: Uint8Array): Uint8Array | undefined {
  const tagAt = bytes.length - TAG_BYTES;
  const decipher = crypto().createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(bytes.subarray(0, aadBytes));
  decipher.setAuthTag(bytes.subarray(tagAt));
  const plain = tagAt > aadBytes ? decipher.update(bytes.subarray(aadBytes, tagAt)) : undefined;
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plain === undefined ? EMPTY : new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
}

function sealWithHeader(kd: KeyObject, seq: number, type: number, plain: Uint8Array): Uint8Array {
  const out = allocSegment(HEADER_BYTES + plain.length + TAG_BYTES);
  writeHeader(out, seq, plain.length, type);
  return seal(kd, nonce(seq >>> 0), out, HEADER_BYTES, plain);
}

export function sealData(kd: KeyObject, seq: number, payload: Uint8Array): Uint8Array {
  if (payload.length === 0 || payload.length > 0xffff) throw new RangeError('KDATA payload must be 1..65535 bytes');
  return sealWithHeader(kd, seq, TYPE_KDATA, payload);
}

export function sealEnd(kd: KeyObject, seq: number, digest: Uint8Array): Uint8Array {
  if (digest.length !== DIGEST_BYTES) throw new RangeError(`digest must be ${DIGEST_BYTES} bytes`);
  return sealWithHeader(kd, seq, TYPE_KEND, digest);
}

export function openSealed(kd: KeyObject, bytes: Uint8Array): { ok: true; segment: SealedSegment } | { ok: false; error: OpenError } {
  const h = readHeader(bytes);
  if (h === undefined || bytes.length < HEADER_BYTES + TAG_BYTES) return { ok: false, error: 'short' };
  if (h.type !== TYPE_KDATA && h.type !== TYPE_KEND) return { ok: false, error: 'wrong-type' };
  const len = bytes.length - HEADER_BYTES - TAG_BYTES;
  if (h.field !== len || (h.type === TYPE_KEND ? len !== DIGEST_BYTES : len === 0)) return { ok: false, error: 'malformed' };
  const plain = open(kd, nonce(h.seq), HEADER_BYTES, bytes);
  if (plain === undefined) return { ok: false, error: 'unauthenticated' };
  return { ok: true, segment: h.type === TYPE_KEND ? { kind: 'end', seq: h.seq, digest: plain } : { kind: 'data', seq: h.seq, payload: plain } };
}

// ---------------------------------------------------------------------------------------------------------
// ACK: GCM with no plaintext under Ka, nonce(counter), header + counter as additional data.

export interface SealedAck {
  seq: number;
  status: AckStatus;
  counter: number;
}

const STATUSES: ReadonlySet<number> = new Set(Object.values(ACK_STATUS));

/** `counter` must grow with every ACK one receiver sends in one transfer (re-ACKs included): it is the nonce. */
export function sealAck(ka: KeyObject, seq: number, status: AckStatus, counter: number): Uint8Array {
  checkCounter(counter);
  const out = allocSegment(SEALED_ACK_BYTES);
  writeHeader(out, seq, status, TYPE_KACK);
  writeU64(out, HEADER_BYTES, counter);
  return seal(ka, nonce(counter), out, HEADER_BYTES + 8, EMPTY);
}

export interface SealedSack {
  /** The last in-sequence segment (an ACK of it, status ACK). */
  cum: number;
  ranges: SeqRange[];
  counter: number;
}

function checkCounter(counter: number): void {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('ACK counter must be a non-negative safe integer');
}

/**
 * KSACK: like a KACK of `cum` (status ACK) under Ka and nonce(counter), with the ranges held beyond cum in the
 * additional data too. `counter` is the receiver's one ACK counter, shared with its KACKs: no nonce repeats under Ka.
 */
export function sealSack(ka: KeyObject, cum: number, ranges: readonly SeqRange[], counter: number): Uint8Array {
  checkCounter(counter);
  checkRangeCount('KSACK', ranges);
  const aadBytes = HEADER_BYTES + 8 + ranges.length * RANGE_BYTES;
  const out = allocSegment(aadBytes + TAG_BYTES);
  writeHeader(out, cum, ranges.length, TYPE_KSACK);
  writeU64(out, HEADER_BYTES, counter);
  writeRanges(out, HEADER_BYTES + 8, ranges);
  return seal(ka, nonce(counter), out, aadBytes, EMPTY);
}

export function openSack(ka: KeyObject, bytes: Uint8Array): { ok: true; sack: SealedSack } | { ok: false; error: OpenError } {
  const h = readHeader(bytes);
  if (h === undefined) return { ok: false, error: 'short' };
  if (h.type !== TYPE_KSACK) return { ok: false, error: 'wrong-type' };
  if (!isRangeCount(h.field) || bytes.length !== SEALED_ACK_BYTES + h.field * RANGE_BYTES) return { ok: false, error: 'malformed' };
  const counter = readU64(bytes, HEADER_BYTES);
  if (!Number.isSafeInteger(counter)) return { ok: false, error: 'malformed' };
  if (open(ka, nonce(counter), bytes.length - TAG_BYTES, bytes) === undefined) return { ok: false, error: 'unauthenticated' };
  // After the tag: only a future version's (or a broken) authentic SACK can carry ranges this one refuses.
  const ranges = readRanges(bytes, HEADER_BYTES + 8, h.field, h.seq);
  if (ranges === undefined) return { ok: false, error: 'malformed' };
  return { ok: true, sack: { cum: h.seq, ranges, counter } };
}

export function openAck(ka: KeyObject, bytes: Uint8Array): { ok: true; ack: SealedAck } | { ok: false; error: OpenError } {
  const h = readHeader(bytes);
  if (h === undefined) return { ok: false, error: 'short' };
  if (h.type !== TYPE_KACK) return { ok: false, error: 'wrong-type' };
  if (bytes.length !== SEALED_ACK_BYTES) return { ok: false, error: 'malformed' };
  const counter = readU64(bytes, HEADER_BYTES);
  if (!Number.isSafeInteger(counter)) return { ok: false, error: 'malformed' };
  if (open(ka, nonce(counter), HEADER_BYTES + 8, bytes) === undefined) return { ok: false, error: 'unauthenticated' };
  // After the tag: only a future version's authentic ACK can carry a status this one does not know.
  if (!STATUSES.has(h.field)) return { ok: false, error: 'malformed' };
  return { ok: true, ack: { seq: h.seq, status: h.field as AckStatus, counter } };
}
