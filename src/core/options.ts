// The sender's protocol options, as one value from the CLI (or the library, or the simulator) to the group:
// the programs parse and validate them, every layer below passes them on unchanged.

import type { RtoConfig } from './rto.js';
import type { WindowOptions } from './window.js';

/** How several receivers are coordinated. */
export type Mode = 'independent' | 'lockstep';
export const MODES: readonly Mode[] = ['independent', 'lockstep'];

/** End-of-file convention the sender emits (see README, wire format). */
export type EofMode = 'empty' | 'fin' | 'last';

/** A receiver's idle timeout by default (p2mpserver --idle-timeout): a started transfer silent this long is given up. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
export const EOF_MODES: readonly EofMode[] = ['empty', 'fin', 'last'];

export interface SenderOptions {
  /** Whole segment size, header included (see payloadBytes). */
  mss: number;
  eof: EofMode;
  mode: Mode;
  rto: RtoConfig;
  /** No ACK progress for this long while a segment is outstanding: that receiver is declared failed. */
  giveUpMs: number;
  /**
   * A receiver not listening yet (port unreachable before its first ACK) is retried, not failed, until this
   * long after its first segment was sent (receivers started after the sender; 0: fail at once).
   */
  waitMs?: number;
  /** Sequence number of segment 0 (the classic protocol uses 0; tests start near 2^32 to cross the wrap). */
  initialSeq?: number;
  /** The sliding window (window.ts); absent or CLASSIC_WINDOW: the classic stop-and-wait flow. */
  window?: WindowOptions;
  /** Pacing: the sender's total rate over all receivers, bits per second (pacer.ts); absent: unpaced. */
  rateBitsPerSec?: number;
  /** --verify or --key (README, "Wire extensions"); absent: the classic wire. */
  wire?: WireOptions;
  /** IP multicast data path (multicast.ts); absent: every segment goes by unicast to each receiver. */
  multicast?: MulticastOptions;
}

/**
 * --multicast: new segments go once to the group (Transmit.receiver === GROUP_PEER), repairs by unicast to
 * those who miss them, or once to the group when more than `repairGroupFraction` of the live receivers do.
 * Implies lockstep, the window flow (SACK read) for every receiver; the receivers should answer with SACK.
 */
export interface MulticastOptions {
  /** A repair goes to the group when more than this fraction of the live receivers need it (0..1). */
  repairGroupFraction: number;
}

export interface WireOptions {
  mode: 'verify' | 'key';
  /** SHA-256 of the whole file: the END segment carries it, the receiver commits only on a match. */
  digest: Uint8Array;
  /** --key: the pre-shared key, and this transfer's fresh random nonce Ns (never reused: it keys the data). */
  key?: { psk: Uint8Array; ns: Uint8Array };
}
