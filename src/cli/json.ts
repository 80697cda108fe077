// What both programs' --json lines share (docs/JSON.md): the schema version of the documents (not the
// package's), one vocabulary of status words, and the reasons a transfer or a receiver did not complete;
// and the receiver's document (the sender's is summary.ts's Summary).

import type { WireMode } from '../core/extension.js';
import type { ReceiverStats } from '../core/receiver.js';
import type { ReceiveOutcome } from '../transport/receiver-driver.js';
import { mbps } from './summary.js';

/** Bumped when a key changes meaning or disappears (adding keys does not bump it). */
export const JSON_SCHEMA = 1;

/** The outcome of a whole run and of each receiver. */
export type Status = 'complete' | 'failed' | 'unconfirmed' | 'interrupted';

/** Why something did not complete (null when it did). */
export type Reason =
  | 'never-registered'
  | 'no-answer'
  | 'no-valid-answer'
  | 'port-unreachable'
  | 'eof-unconfirmed'
  | 'digest-mismatch'
  | 'wrong-address'
  | 'socket-error'
  | 'read-error'
  | 'idle-timeout'
  | 'write-error'
  | 'cannot-listen'
  | 'interrupted';

/** The status a reason gives: 'unconfirmed' (all data acknowledged, the end of file not), 'interrupted', else 'failed'. */
export const statusOf = (reason: Reason): Exclude<Status, 'complete'> =>
  reason === 'eof-unconfirmed' ? 'unconfirmed' : reason === 'interrupted' ? 'interrupted' : 'failed';

/** One JSON document on one line. */
export const jsonLine = (doc: object): string => `${JSON.stringify(doc)}\n`;

/** p2mpserver --json: one per transfer (docs/JSON.md). */
export interface ReceiverReport extends Omit<ReceiverStats, 'bytes'> {
  schema: number;
  program: 'p2mpserver';
  ok: boolean;
  status: Status;
  reason: Reason | null;
  message: string | null;
  file: string;
  transfer: number;
  bytes: number;
  sha256: string | null;
  peer: string | null;
  timeMs: number | null;
  goodputMbps: number | null;
  seed: string;
  lossRate: number;
  /** classic, or the extension (--verify, --key). */
  wire: WireMode;
}

export function receiverReport(r: ReceiveOutcome, o: { file: string; transfer: number; seed: string; lossRate: number; wire: WireMode }): ReceiverReport {
  const status: Status = r.ok ? 'complete' : statusOf(r.reason);
  return {
    schema: JSON_SCHEMA,
    program: 'p2mpserver',
    ok: r.ok,
    status,
    reason: r.ok ? null : r.reason,
    message: r.ok ? null : r.message,
    file: o.file,
    transfer: o.transfer,
    bytes: r.stats.bytes,
    sha256: r.ok ? r.sha256 : null,
    peer: r.ok ? r.peer : null,
    timeMs: r.ok ? r.elapsedMs : null,
    goodputMbps: r.ok ? mbps(r.stats.bytes, r.elapsedMs) : null,
    seed: o.seed,
    lossRate: o.lossRate,
    wire: o.wire,
    segments: r.stats.segments,
    drops: r.stats.drops,
    badChecksums: r.stats.badChecksums,
    duplicates: r.stats.duplicates,
    ignored: r.stats.ignored,
    foreign: r.stats.foreign,
  };
}
