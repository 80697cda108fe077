// --verify and --key on both programs: one value for the wire mode, and the words both programs use when
// the two ends disagree about it (README, "Wire extensions").

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { WireMode } from '../core/extension.js';
import { KeyReceiverWire, VerifyReceiverWire, type ReceiverWire } from '../core/receiver-wire.js';
import { NONCE_SEED_BYTES } from '../core/seal.js';
import { UsageError } from './args.js';
import { loadKeyFile } from './key-file.js';

/** The wire both programs speak; --key carries its pre-shared key. */
export type WireChoice = { mode: 'classic' | 'verify' } | { mode: 'key'; psk: Uint8Array };

export interface WireFlags {
  verify?: boolean;
  key?: string;
}

/** --key implies --verify; giving both is allowed (and the same as --key alone). */
export function wireChoice(flags: WireFlags): WireChoice {
  if (flags.key !== undefined) return { mode: 'key', psk: loadKeyFile(flags.key) };
  return { mode: flags.verify === true ? 'verify' : 'classic' };
}

/** A receiver's wire: with --key, a fresh random challenge for its one transfer. */
export function receiverWire(choice: WireChoice, random: (bytes: number) => Uint8Array): ReceiverWire | undefined {
  if (choice.mode === 'verify') return new VerifyReceiverWire();
  if (choice.mode === 'key') return new KeyReceiverWire(choice.psk, random(NONCE_SEED_BYTES));
  return undefined;
}

/** The option that selects a mode, as a user types it. */
const FLAG: Readonly<Record<WireMode, string>> = { classic: 'no --verify or --key', verify: '--verify', key: '--key' };

/** The receiver's one line, said once per mode, about datagrams of a mode it is not in. */
export function otherModeNotice(mine: WireMode, theirs: WireMode, from: string): string {
  const what = theirs === 'classic' ? 'classic' : FLAG[theirs];
  const cause = theirs === 'classic' ? `running without ${FLAG[mine]}` : `running with ${FLAG[theirs]} instead of ${FLAG[mine]}`;
  return `ignoring ${what} datagrams from ${from}: is the sender ${cause}?`;
}

/** Why a sender in an extension mode never heard a valid answer: the likely cause, in words. */
export function noAnswerReason(mode: Exclude<WireMode, 'classic'>): string {
  return mode === 'key' ? 'no authenticated answer: is the receiver running with --key? (with the same key?)' : 'no verified answer: is the receiver running with --verify?';
}

/** Options that only mean something in the classic wire. */
export function checkClassicOnly(choice: WireChoice, eofGiven: boolean): void {
  if (choice.mode !== 'classic' && eofGiven) throw new UsageError(`--eof applies to the classic wire only (${FLAG[choice.mode]} always ends with the SHA-256 segment)`);
}

/** SHA-256 of a file of any size, read in 1 MiB chunks (the END segment carries it). */
export function fileSha256(file: string): Uint8Array {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest();
}
