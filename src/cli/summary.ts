// The sender's end-of-run summary, as a structure (for --json) and as a text table.

import { payloadBytes } from '../core/codec.js';
import type { WindowOptions, WindowStats } from '../core/window.js';
import { TRAILER_BYTES } from '../core/extension.js';
import { noAnswerReason } from './wire-options.js';
import type { FlowResult } from '../../workers/send-task.js';

export interface SummaryInput {
  results: FlowResult[];
  elapsedMs: number;
  fileBytes: number;
  mss: number;
  mode: string;
  eof: string;
  port: number;
  giveUpMs: number;
  interrupted: boolean;
  /** The sliding window; absent or N = 1 without extensions: the classic summary, unchanged. */
  window?: WindowOptions;
  rateBitsPerSec?: number;
  /** --verify or --key (absent in the classic wire, so its JSON is unchanged). */
  wire?: 'verify' | 'key';
}

/** Whether the run used anything beyond the classic stop-and-wait (then the summary says so and counts fast retransmits). */
const windowed = (i: { window?: WindowOptions; rateBitsPerSec?: number }): boolean =>
  i.rateBitsPerSec !== undefined || (i.window !== undefined && (i.window.window > 1 || i.window.sack || i.window.cc !== 'none'));

export interface ReceiverSummary {
  host: string;
  address: string;
  status: FlowResult['status'];
  reason: string | undefined;
  bytes: number;
  segmentsAcked: number;
  segmentsTotal: number;
  segmentsSent: number;
  retransmissions: number;
  timeouts: number;
  /** Retransmissions decided without the timer (windowed runs only). */
  fastRetransmits?: number;
  ignored: number;
  srttMs: number | undefined;
  timeMs: number;
  goodputMbps: number;
}

export interface Summary extends Omit<SummaryInput, 'results' | 'elapsedMs'> {
  receivers: ReceiverSummary[];
  total: {
    receivers: number;
    completed: number;
    failed: number;
    bytes: number;
    segmentsSent: number;
    retransmissions: number;
    timeouts: number;
    fastRetransmits?: number;
    ignored: number;
    timeMs: number;
    goodputMbps: number;
  };
}

/** Megabits per second for `bytes` in `ms` milliseconds: 0 for no time, NaN for an unknown (NaN) time. */
export const mbps = (bytes: number, ms: number): number => (ms === 0 ? 0 : (bytes * 8) / (ms * 1000));

/** What went wrong with one receiver, in the words of what the sender knows. */
function reason(r: FlowResult, port: number, giveUpMs: number, wire: SummaryInput['wire']): string | undefined {
  if (r.error !== undefined) return r.error;
  const acked = r.stats.segmentsAcked;
  const stopped = `stopped answering after ${acked} of ${r.segmentsTotal} segments`;
  switch (r.failReason) {
    case undefined:
      return undefined;
    case 'no-answer':
      return acked === 0 ? 'never answered (no ACK within the give-up time)' : `${stopped} (no ACK for ${giveUpMs / 1000} s)`;
    case 'port-unreachable':
      return acked === 0 ? 'port unreachable (nothing listening)' : `${stopped} (port unreachable: nothing listens there any more)`;
    case 'no-valid-answer':
      return noAnswerReason(wire ?? 'verify');
    case 'digest-mismatch':
      return "digest mismatch: the receiver's copy failed the SHA-256 check and was not committed";
    case 'eof-unconfirmed':
      return 'all data acknowledged, end of file not confirmed';
    case 'wrong-address':
      return (
        `${acked === 0 ? 'never answered' : stopped} from ${r.address}:${port}, but its ACKs came from ${r.strayFrom ?? 'another address'} instead of ${r.address}:${port}` +
        ` (a receiver bound to 0.0.0.0 on a host with several addresses answers from the one the kernel routes by): start it with --bind ${r.address}`
      );
    case 'socket-error':
      return 'socket error';
    case 'aborted':
      return 'interrupted';
  }
}

export function summarize(i: SummaryInput): Summary {
  const extended = windowed(i);
  const receivers = i.results.map((r): ReceiverSummary => ({
    host: r.host,
    address: r.address,
    status: r.status,
    reason: reason(r, i.port, i.giveUpMs, i.wire),
    bytes: r.stats.bytesAcked,
    segmentsAcked: r.stats.segmentsAcked,
    segmentsTotal: r.segmentsTotal,
    segmentsSent: r.stats.segmentsSent,
    retransmissions: r.stats.retransmissions,
    timeouts: r.stats.timeouts,
    ...(extended ? { fastRetransmits: (r.stats as Partial<WindowStats>).fastRetransmits ?? 0 } : {}),
    ignored: r.stats.ignored + r.stats.ackForUnsent,
    srttMs: r.srttMs,
    timeMs: r.elapsedMs,
    goodputMbps: mbps(r.stats.bytesAcked, r.elapsedMs),
  }));
  const sum = (f: (r: ReceiverSummary) => number): number => receivers.reduce((a, r) => a + f(r), 0);
  const completed = receivers.filter((r) => r.status === 'done').length;
  const { results: _results, elapsedMs: _elapsed, window: _window, rateBitsPerSec: _rate, ...run } = i;
  return {
    ...run,
    ...(extended ? { window: i.window, rateBitsPerSec: i.rateBitsPerSec } : {}),
    receivers,
    total: {
      receivers: receivers.length,
      completed,
      failed: receivers.length - completed,
      bytes: sum((r) => r.bytes),
      segmentsSent: sum((r) => r.segmentsSent),
      retransmissions: sum((r) => r.retransmissions),
      timeouts: sum((r) => r.timeouts),
      ...(extended ? { fastRetransmits: sum((r) => r.fastRetransmits ?? 0) } : {}),
      ignored: sum((r) => r.ignored),
      timeMs: i.elapsedMs,
      goodputMbps: mbps(sum((r) => r.bytes), i.elapsedMs),
    },
  };
}

const STATUS: Record<FlowResult['status'], string> = { done: 'ok', failed: 'FAILED', unconfirmed: 'UNCONFIRMED' };

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

export function formatSummary(s: Summary): string {
  const extended = windowed(s);
  // The fast-retransmit column sits after timeouts, in windowed runs only (the classic table is unchanged).
  const fast = (cells: string[], value: string): string[] => (extended ? [...cells.slice(0, 6), value, ...cells.slice(6)] : cells);
  const rows = [fast(['receiver', 'status', 'bytes', 'segments', 'retx', 'timeouts', 'ignored', 'srtt ms', 'time s', 'Mbit/s'], 'fast retx')];
  for (const r of s.receivers) {
    rows.push(fast([
      r.host === r.address ? r.address : `${r.host} (${r.address})`,
      STATUS[r.status],
      String(r.bytes),
      `${r.segmentsAcked}/${r.segmentsTotal}`,
      String(r.retransmissions),
      String(r.timeouts),
      String(r.ignored),
      r.srttMs === undefined ? '-' : r.srttMs.toFixed(3),
      (r.timeMs / 1000).toFixed(3),
      r.goodputMbps.toFixed(2),
    ], String(r.fastRetransmits ?? 0)));
  }
  const t = s.total;
  rows.push(fast(['total', `${t.completed}/${t.receivers} ok`, String(t.bytes), String(t.segmentsSent), String(t.retransmissions), String(t.timeouts), String(t.ignored), '', (t.timeMs / 1000).toFixed(3), t.goodputMbps.toFixed(2)], String(t.fastRetransmits ?? 0)));
  const failures = s.receivers
    .filter((r) => r.status !== 'done')
    .map((r) => `${STATUS[r.status]} ${r.host}:${s.port}: ${r.reason ?? 'unknown'}\n`)
    .join('');
  const w = s.window;
  const extras = extended
    ? `, window ${w?.window ?? 1}${w?.sack ? ', sack' : ''}${w && w.cc !== 'none' ? `, cc ${w.cc}` : ''}${s.rateBitsPerSec !== undefined ? `, rate ${s.rateBitsPerSec / 1e6} Mbit/s` : ''}`
    : '';
  const end = s.wire === undefined ? `eof ${s.eof}` : `--${s.wire}`;
  const head = `Sent ${s.fileBytes} bytes, MSS ${s.mss} (${payloadBytes(s.mss, TRAILER_BYTES[s.wire ?? 'classic'])} data bytes per segment), mode ${s.mode}, ${end}${extras}${s.interrupted ? ' (interrupted)' : ''}\n`;
  return `${head}${table(rows)}\n${failures}`;
}
