// The sender's end-of-run report: one structure for --json (docs/JSON.md) and the text table, so both say
// the same thing.

import { payloadBytes } from '../core/codec.js';
import { TRAILER_BYTES } from '../core/extension.js';
import type { FailReason } from '../core/flow.js';
import { CLASSIC_WINDOW, type WindowOptions, type WindowStats } from '../core/window.js';
import { noAnswerReason } from './wire-options.js';
import type { FlowResult } from '../../workers/send-task.js';
import { JSON_SCHEMA, statusOf, type Reason, type Status } from './json.js';
import { checksumLine, shownName } from '../transport/user-text.js';

export interface SummaryInput {
  results: FlowResult[];
  elapsedMs: number;
  file: string;
  fileBytes: number;
  /** Undefined when the file could not be read to its end. */
  sha256: string | undefined;
  mss: number;
  mode: string;
  eof: string;
  port: number;
  giveUpMs: number;
  interrupted: boolean;
  /** The file failed to read mid-transfer (every receiver was stopped). */
  readError: string | undefined;
  /** --verify or --key; absent: the classic wire. */
  wire?: 'verify' | 'key';
  /** The sliding window (absent: the classic stop-and-wait). */
  window?: WindowOptions;
  /** --rate, bits per second (absent: unpaced). */
  rateBitsPerSec?: number;
  /** DATA datagrams the sender put on the wire, a group one once (absent: the sum of segmentsSent). */
  datagramsSent?: number;
  /** Datagrams from addresses that are no receiver's (multicast's unconnected socket). */
  strangers?: number;
  /** --multicast: the group and what was sent to it. */
  multicast?: MulticastSummary;
}

/** --multicast in the summary: the group's settings and the group's own counters (a group datagram counts once). */
export interface MulticastSummary {
  group: string;
  port: number;
  ttl: number;
  /** --interface, or null: the kernel's choice. */
  interface: string | null;
  repairGroupFraction: number;
  /** New segments sent once to the group. */
  groupSent: number;
  /** Repairs sent once to the group (more than repairGroupFraction of the live receivers missed them). */
  groupRepairs: number;
  /** Repairs sent by unicast, one per receiver that missed the segment. */
  unicastRepairs: number;
  /** Where the first datagram from no receiver's address came from (address:port), or null: none came. */
  firstStranger: string | null;
}

/** Whether the flows were windowed (WindowFlow: the group hosts SenderFlow for the classic stop-and-wait). */
const windowed = (w: WindowOptions): boolean => w.window > 1 || w.sack || w.cc !== 'none';

export interface ReceiverSummary {
  host: string;
  address: string;
  port: number;
  status: Status;
  reason: Reason | null;
  message: string | null;
  bytes: number;
  segmentsAcked: number;
  segmentsTotal: number;
  segmentsSent: number;
  retransmissions: number;
  timeouts: number;
  duplicateAcks: number;
  /** ACKs naming a segment never sent: must stay 0 with an honest receiver. */
  ackForUnsent: number;
  /** Retransmissions decided without the timer (duplicate ACKs, SACK holes); null in a stop-and-wait run. */
  fastRetransmits: number | null;
  /** Segments first learned of as held through a SACK; null without --sack. */
  sacked: number | null;
  ignored: number;
  srttMs: number | null;
  timeMs: number;
  goodputMbps: number;
}

type Counted = 'bytes' | 'segmentsAcked' | 'segmentsTotal' | 'segmentsSent' | 'retransmissions' | 'timeouts' | 'duplicateAcks' | 'ackForUnsent' | 'ignored';

export interface Summary {
  schema: number;
  program: 'p2mpclient';
  ok: boolean;
  status: Status;
  reason: Reason | null;
  message: string | null;
  file: string;
  bytes: number;
  sha256: string | null;
  mss: number;
  payloadBytes: number;
  mode: string;
  eof: string;
  /** classic, or the extension (--verify, --key); `eof` applies to the classic wire only. */
  wire: 'classic' | 'verify' | 'key';
  port: number;
  /** The sliding window (`window` 1, no SACK, cc none: the classic stop-and-wait). */
  window: WindowOptions;
  /** --rate (the sender's total), or null: unpaced. */
  rateBitsPerSec: number | null;
  /** --multicast, or null: unicast to each receiver. */
  multicast: MulticastSummary | null;
  receivers: ReceiverSummary[];
  total: Record<Counted, number> & {
    fastRetransmits: number | null;
    sacked: number | null;
    receivers: number;
    complete: number;
    failed: number;
    unconfirmed: number;
    interrupted: number;
    timeMs: number;
    goodputMbps: number;
    /** DATA datagrams put on the wire: a group one once (unicast: the same as segmentsSent). */
    datagramsSent: number;
    /** Datagrams from no receiver's address, ignored (multicast only: a unicast socket's kernel drops them). */
    strangers: number;
  };
}

/** Megabits per second for `bytes` in `ms` milliseconds: 0 for no time, NaN for an unknown (NaN) time. */
export const mbps = (bytes: number, ms: number): number => (ms === 0 ? 0 : (bytes * 8) / (ms * 1000));

/** The short text of each reason (event lines and logs, which know no more than the reason). */
export const REASON_TEXT: Record<Reason, string> = {
  'never-registered': 'never registered: its first segment was never acknowledged (multicast), left out',
  'no-answer': 'no answer within the give-up time',
  'no-valid-answer': 'no valid answer in the wire mode (is the receiver running with the same --verify or --key?)',
  'port-unreachable': 'port unreachable (nothing listening)',
  'eof-unconfirmed': 'all data acknowledged, end of file not confirmed',
  'digest-mismatch': 'digest mismatch: the copy failed the SHA-256 check and was not committed',
  'wrong-address': 'ACKs came from another address (start the receiver with --bind)',
  'socket-error': 'socket error',
  'read-error': 'the file could not be read',
  'idle-timeout': 'no valid segment within the idle timeout',
  'write-error': 'write error',
  'cannot-listen': 'cannot listen on the port',
  interrupted: 'interrupted',
};

/** What went wrong with one receiver, in the words of what the sender knows (the summary's `message`). */
function receiverMessage(r: FlowResult, reason: Reason, i: SummaryInput): string {
  const { giveUpMs, wire } = i;
  if (r.error !== undefined) return r.error;
  const acked = r.stats.segmentsAcked;
  const stopped = `stopped answering after ${acked} of ${r.segmentsTotal} segments`;
  const at = `${r.address}:${r.port}`;
  switch (reason) {
    case 'no-answer':
      return acked === 0 ? 'never answered (no ACK within the give-up time)' : `${stopped} (no ACK for ${giveUpMs / 1000} s)`;
    case 'port-unreachable':
      return acked === 0 ? REASON_TEXT['port-unreachable'] : `${stopped} (port unreachable: nothing listens there any more)`;
    case 'no-valid-answer':
      return noAnswerReason(wire ?? 'verify');
    case 'never-registered': {
      // The 0.0.0.0 pitfall under multicast: its ACKs left from another address of its host, so they were a stranger's.
      const stranger = i.multicast?.firstStranger ?? null;
      const samePort = stranger !== null && stranger.endsWith(`:${r.port}`);
      return samePort
        ? `${REASON_TEXT['never-registered']}; datagrams from ${stranger} were ignored: if that is this receiver answering from another address of its host, start it with --interface ${r.address}`
        : REASON_TEXT['never-registered'];
    }
    case 'digest-mismatch':
      return "digest mismatch: the receiver's copy failed the SHA-256 check and was not committed";
    case 'wrong-address':
      return (
        `${acked === 0 ? 'never answered' : stopped} from ${at}, but its ACKs came from ${r.strayFrom ?? 'another address'} instead of ${at}` +
        ` (a receiver bound to 0.0.0.0 on a host with several addresses answers from the one the kernel routes by): start it with --bind ${r.address}`
      );
    default:
      return REASON_TEXT[reason];
  }
}

function receiverReason(r: FlowResult, readError: string | undefined): Reason | null {
  if (r.status === 'done') return null;
  const reason: FailReason | undefined = r.failReason;
  if (reason === 'aborted') return readError !== undefined ? 'read-error' : 'interrupted';
  return reason ?? 'socket-error';
}

export function summarize(i: SummaryInput): Summary {
  const window = i.window ?? CLASSIC_WINDOW;
  const extended = windowed(window);
  const windowStat = (r: FlowResult, k: 'fastRetransmits' | 'sacked', applies: boolean): number | null => (applies ? ((r.stats as Partial<WindowStats>)[k] ?? 0) : null);
  const receivers = i.results.map((r): ReceiverSummary => {
    const reason = receiverReason(r, i.readError);
    return {
      host: r.host,
      address: r.address,
      port: r.port,
      status: reason === null ? 'complete' : statusOf(reason),
      reason,
      message: reason === null ? null : reason === 'read-error' ? i.readError! : receiverMessage(r, reason, i),
      bytes: r.stats.bytesAcked,
      segmentsAcked: r.stats.segmentsAcked,
      segmentsTotal: r.segmentsTotal,
      segmentsSent: r.stats.segmentsSent,
      retransmissions: r.stats.retransmissions,
      timeouts: r.stats.timeouts,
      duplicateAcks: r.stats.duplicateAcks,
      ackForUnsent: r.stats.ackForUnsent,
      fastRetransmits: windowStat(r, 'fastRetransmits', extended),
      sacked: windowStat(r, 'sacked', window.sack),
      ignored: r.stats.ignored,
      srttMs: r.srttMs ?? null,
      timeMs: r.elapsedMs,
      goodputMbps: mbps(r.stats.bytesAcked, r.elapsedMs),
    };
  });
  const sum = (k: Counted): number => receivers.reduce((a, r) => a + r[k], 0);
  const sumOrNull = (k: 'fastRetransmits' | 'sacked'): number | null => (receivers.every((r) => r[k] === null) ? null : receivers.reduce((a, r) => a + (r[k] ?? 0), 0));
  const count = (s: Status): number => receivers.filter((r) => r.status === s).length;
  const ok = receivers.every((r) => r.status === 'complete') && !i.interrupted && i.readError === undefined;
  // The run's reason: a read error or an interrupt first, then a failed receiver's over an unconfirmed one's.
  const worst = receivers.find((r) => r.status === 'failed') ?? receivers.find((r) => r.reason !== null);
  const reason: Reason | null = i.readError !== undefined ? 'read-error' : i.interrupted ? 'interrupted' : ok ? null : (worst?.reason ?? null);
  const status: Status = reason === null ? 'complete' : statusOf(reason);
  return {
    schema: JSON_SCHEMA,
    program: 'p2mpclient',
    ok,
    status,
    reason,
    message: i.readError ?? (ok ? null : i.interrupted ? REASON_TEXT.interrupted : `${receivers.length - count('complete')} of ${receivers.length} receivers did not complete`),
    file: i.file,
    bytes: i.fileBytes,
    sha256: i.sha256 ?? null,
    mss: i.mss,
    payloadBytes: payloadBytes(i.mss, TRAILER_BYTES[i.wire ?? 'classic']),
    mode: i.mode,
    eof: i.eof,
    wire: i.wire ?? 'classic',
    port: i.port,
    window,
    rateBitsPerSec: i.rateBitsPerSec ?? null,
    multicast: i.multicast ?? null,
    receivers,
    total: {
      receivers: receivers.length,
      complete: count('complete'),
      failed: count('failed'),
      unconfirmed: count('unconfirmed'),
      interrupted: count('interrupted'),
      bytes: sum('bytes'),
      segmentsAcked: sum('segmentsAcked'),
      segmentsTotal: sum('segmentsTotal'),
      segmentsSent: sum('segmentsSent'),
      retransmissions: sum('retransmissions'),
      timeouts: sum('timeouts'),
      duplicateAcks: sum('duplicateAcks'),
      ackForUnsent: sum('ackForUnsent'),
      fastRetransmits: sumOrNull('fastRetransmits'),
      sacked: sumOrNull('sacked'),
      ignored: sum('ignored'),
      timeMs: i.elapsedMs,
      goodputMbps: mbps(sum('bytes'), i.elapsedMs),
      datagramsSent: i.datagramsSent ?? sum('segmentsSent'),
      strangers: i.strangers ?? 0,
    },
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

const STATUS_WORD: Record<Status, string> = { complete: 'ok', failed: 'FAILED', unconfirmed: 'UNCONFIRMED', interrupted: 'INTERRUPTED' };

/**
 * Every column means the same in every row: the total row sums the receivers' rows (its time is the run's).
 * Narrow enough for 80 columns; the counters that are normally 0 get a line of their own below, ACKs for
 * unsent segments (which must stay 0) apart from the other ignored datagrams; the rest is in --json.
 */
export function formatSummary(s: Summary): string {
  const rows = [['receiver', 'status', 'bytes', 'segments', 'timeouts', 'srtt ms', 'time s', 'Mbit/s']];
  const counts = (r: Record<Counted, number>): string[] => [String(r.bytes), `${r.segmentsAcked}/${r.segmentsTotal}`, String(r.timeouts)];
  const names = s.receivers.map((r) => {
    // The port only where it is not the command line's PORT (HOST:PORT).
    const addr = r.port === s.port ? r.address : `${r.address}:${r.port}`;
    return r.host === r.address || r.host === `${r.address}:${r.port}` ? addr : `${r.host} (${addr})`;
  });
  s.receivers.forEach((r, i) => {
    rows.push([names[i]!, STATUS_WORD[r.status], ...counts(r), r.srttMs === null ? '-' : r.srttMs.toFixed(3), (r.timeMs / 1000).toFixed(3), r.goodputMbps.toFixed(2)]);
  });
  const t = s.total;
  rows.push(['total', `${t.complete}/${t.receivers} ok`, ...counts(t), '', (t.timeMs / 1000).toFixed(3), t.goodputMbps.toFixed(2)]);
  const which = (k: 'ignored' | 'ackForUnsent'): string => {
    const some = s.receivers.flatMap((r, i) => (r[k] > 0 ? [`${names[i]} ${r[k]}`] : []));
    return `${t[k]}${some.length > 0 ? ` (${some.join(', ')})` : ''}`;
  };
  const counters = `Ignored datagrams (not ACKs): ${which('ignored')}; ACKs for unsent segments: ${which('ackForUnsent')}\n`;
  // Windowed runs only (the classic table stays as it was): loss repairs the timer did not decide.
  const fast = t.fastRetransmits === null ? '' : `Fast retransmits: ${t.fastRetransmits}${t.sacked === null ? '' : `; segments SACKed: ${t.sacked}`}\n`;
  // What crossed the sender's link: under multicast one group datagram serves every receiver.
  const m = s.multicast;
  const sent =
    m === null
      ? `DATA datagrams sent: ${t.datagramsSent}\n`
      : `DATA datagrams sent: ${t.datagramsSent} (group ${m.group}:${m.port}, TTL ${m.ttl}: ${m.groupSent} new segments, ${m.groupRepairs} group repairs; ${m.unicastRepairs} unicast repairs)` +
        `${t.strangers > 0 ? `; ignored ${t.strangers} datagrams from strangers (first from ${m.firstStranger})` : ''}\n`;
  const failures = s.receivers
    .filter((r) => r.status !== 'complete')
    .map((r) => `${STATUS_WORD[r.status]} ${r.address}:${r.port}: ${r.message ?? r.reason}\n`)
    .join('');
  const end = s.wire === 'classic' ? `eof ${s.eof}` : `--${s.wire}`;
  const w = s.window;
  const extras =
    (windowed(w) ? `, window ${w.window}${w.sack ? ', sack' : ''}${w.cc !== 'none' ? `, cc ${w.cc}` : ''}` : '') +
    (s.rateBitsPerSec !== null ? `, rate ${s.rateBitsPerSec / 1e6} Mbit/s` : '');
  const head =
    `Sent ${shownName(s.file)}: ${s.bytes} bytes${s.status === 'interrupted' ? ' (interrupted)' : ''}\n` +
    `MSS ${s.mss} (${s.payloadBytes} data bytes per segment), mode ${s.mode}, ${end}${extras}${s.multicast === null ? '' : `, multicast ${s.multicast.group}`}\n` +
    checksumLine('SHA-256 ', s.sha256 ?? '-', s.file);
  return `${head}${table(rows)}\n${counters}${fast}${sent}${failures}`;
}
