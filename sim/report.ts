// Turning a ScenarioResult into the CLI's output. Everything here is a pure function of the result (plus the
// optional wall-clock figures), so equal runs print equal bytes.

import { analyticExpectation, type AnalyticExpectation } from './analytic.js';
import type { MulticastStats } from '../src/core/group.js';
import type { LinkOptions } from './network.js';
import type { ScenarioOptions } from './options.js';
import type { SimReceiverResult, ScenarioResult, StopReason, WireStats } from './scenario.js';
import type { Violation } from './observer.js';

/** Receivers listed one by one up to this count; beyond it, min/median/max and the slowest few. */
export const LIST_ALL_UP_TO = 10;
export const SLOWEST_SHOWN = 5;

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface ReceiverSummary {
  index: number;
  delayMs: number;
  status: string;
  completionMs: number | null;
  segments: number;
  segmentsSent: number;
  retransmissions: number;
  timeouts: number;
  fileMatches: boolean;
}

export interface Wall {
  ms: number;
  eventsPerSecond: number;
}

export interface Summary {
  seed: string;
  options: ScenarioOptions;
  segmentsPerReceiver: number;
  stoppedBy: StopReason;
  completionMs: number | null;
  endMs: number;
  complete: number;
  /** Given up on, except as `unconfirmed`. */
  failed: number;
  /** Every data segment acknowledged, only the end of file not (p2mpclient's `unconfirmed` status, reason eof-unconfirmed). */
  unconfirmed: number;
  crashed: number;
  spread: { completionMs: Spread | null; retransmissions: Spread; timeouts: Spread };
  receivers: ReceiverSummary[];
  wire: WireStats;
  /** Multicast: the sender's group sends and repairs by kind; null for unicast. */
  multicast: MulticastStats | null;
  eventsProcessed: number;
  traceHash: string;
  violationCount: number;
  violations: Violation[];
  analytic: AnalyticSummary | null;
  wall?: Wall;
}

export interface AnalyticSummary {
  /** Independent: mean over receivers of the expected completion; lockstep: the expected total. */
  expectedMs: number;
  /** Standard deviation of that figure for one run. */
  stdDevMs: number;
  /** The matching measured figure (mean receiver completion, or total completion); null when the run did not give it. */
  measuredMs: number | null;
  /** Receivers both figures are over: independent, those that did not crash; lockstep, all (one barrier). */
  over: number;
  caveats: string[];
}

function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  return { min: s[0] ?? 0, median: s.length ? s[(s.length - 1) >> 1]! : 0, max: s[s.length - 1] ?? 0 };
}

/** As p2mpclient tells them apart (src/cli/json.ts statusOf): the data arrived, only its end was not confirmed. */
const isUnconfirmed = (x: SimReceiverResult): boolean => x.senderStatus === 'failed' && x.failReason === 'eof-unconfirmed';

function statusOf(x: SimReceiverResult): string {
  if (isUnconfirmed(x)) return `unconfirmed (eof-unconfirmed)${x.crashed ? ', crashed' : ''}`;
  if (x.senderStatus === 'failed') return `failed (${x.failReason ?? '?'})${x.crashed ? ', crashed' : ''}`;
  if (x.senderStatus === 'done') return x.fileMatches ? 'done' : 'done, FILE DIFFERS';
  return x.crashed ? 'sending, crashed' : 'sending';
}

function analyticSummary(result: ScenarioResult, a: AnalyticExpectation): AnalyticSummary {
  if (a.mode === 'independent') {
    // Independent flows do not wait for each other, so the receivers that did not crash are a fair sample: both
    // figures are over them. A run cut short (or an honest receiver failed) measures nothing: the finished would
    // be the fast ones.
    const survivors = result.receivers.filter((x) => !x.crashed);
    // Every receiver crashed: the expectation of all of them, and nothing measured.
    const honest = survivors.length > 0 ? survivors : result.receivers;
    const n = honest.length;
    const expectedMs = honest.reduce((s, x) => s + a.moments[x.index]!.meanMs, 0) / n;
    const variance = honest.reduce((s, x) => s + a.moments[x.index]!.varianceMs2, 0) / (n * n);
    const measuredMs = survivors.length > 0 && honest.every((x) => x.doneAtMs !== undefined) ? honest.reduce((s, x) => s + x.doneAtMs!, 0) / n : null;
    return { expectedMs, stdDevMs: Math.sqrt(variance), measuredMs, over: n, caveats: a.caveats };
  }
  const m = a.moments[0]!;
  return { expectedMs: m.meanMs, stdDevMs: Math.sqrt(m.varianceMs2), measuredMs: result.completionMs ?? null, over: result.receivers.length, caveats: a.caveats };
}

export function summarize(result: ScenarioResult, wall?: Wall): Summary {
  const xs = result.receivers;
  const done = xs.filter((x) => x.doneAtMs !== undefined).map((x) => x.doneAtMs!);
  const a = analyticExpectation(result.options);
  const summary: Summary = {
    seed: String(result.options.seed),
    options: result.options,
    segmentsPerReceiver: result.segments,
    stoppedBy: result.stoppedBy,
    completionMs: result.completionMs ?? null,
    endMs: result.endMs,
    complete: xs.filter((x) => x.senderStatus === 'done' && x.fileMatches).length,
    failed: xs.filter((x) => x.senderStatus === 'failed' && !isUnconfirmed(x)).length,
    unconfirmed: xs.filter(isUnconfirmed).length,
    crashed: xs.filter((x) => x.crashed).length,
    spread: {
      completionMs: done.length ? spread(done) : null,
      retransmissions: spread(xs.map((x) => x.retransmissions)),
      timeouts: spread(xs.map((x) => x.timeouts)),
    },
    receivers: xs.map((x) => ({
      index: x.index,
      delayMs: x.delayMs,
      status: statusOf(x),
      completionMs: x.doneAtMs ?? null,
      segments: x.segments,
      segmentsSent: x.segmentsSent,
      retransmissions: x.retransmissions,
      timeouts: x.timeouts,
      fileMatches: x.fileMatches,
    })),
    wire: result.wire,
    multicast: result.multicast,
    eventsProcessed: result.eventsProcessed,
    traceHash: result.traceHash,
    violationCount: result.violationCount,
    violations: result.violations,
    analytic: a ? analyticSummary(result, a) : null,
  };
  if (wall) summary.wall = wall;
  return summary;
}

const secs = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(3)} s`);

function linkText(l: LinkOptions): string {
  const bw = l.bandwidthMbps > 0 ? `${l.bandwidthMbps} Mbit/s` : 'unlimited';
  return `delay ${l.delayMs} ms, jitter ${l.jitterMs} ms, loss ${l.loss}, dup ${l.duplicate}, corrupt ${l.corrupt}, bandwidth ${bw}`;
}

function optionsText(o: ScenarioOptions, segments: number): string[] {
  const rto = o.rto.fixedMs !== null ? `fixed ${o.rto.fixedMs} ms` : `adaptive (initial ${o.rto.initialMs}, min ${o.rto.minMs}, max ${o.rto.maxMs} ms)`;
  const overrides = o.delayOverrideMs.map((d, r) => (d === null ? '' : `${r}:${d}ms`)).filter(Boolean);
  const crashes = o.crashes.map((c) => `${c.receiver}@${c.atMs}ms`);
  return [
    `options  receivers=${o.receivers} mode=${o.multicast ? `multicast (repair-group ${o.repairGroupFraction})` : o.mode} window=${o.window} P=${o.lossRate} file=${o.fileBytes} B mss=${o.mss} ${o.wireMode === 'classic' ? `eof=${o.eof}` : `wire=--${o.wireMode}`} segments=${segments} initial-seq=${o.initialSeq}`,
    `         rto ${rto}; give-up ${o.giveUpMs} ms, idle ${o.idleTimeoutMs} ms, linger ${o.lingerMs} ms`,
    `         down: ${linkText(o.down)}`,
    `         up:   ${linkText(o.up)}`,
    `         corrupt-scope ${o.corruptScope}; faults ${o.faultUntilMs === null ? 'for the whole run' : `until ${o.faultUntilMs} ms`}; ` +
      `path overrides ${overrides.length ? overrides.join(' ') : 'none'}; crashes ${crashes.length ? crashes.join(' ') : 'none'}`,
  ];
}

function row(x: ReceiverSummary): string {
  const cols = [
    String(x.index).padStart(4),
    String(x.delayMs).padStart(7),
    secs(x.completionMs).padStart(12),
    String(x.segments).padStart(9),
    String(x.segmentsSent).padStart(9),
    String(x.retransmissions).padStart(8),
    String(x.timeouts).padStart(9),
  ];
  return `${cols.join(' ')}  ${x.status}`;
}

const HEADER = `${['rx', 'delay', 'completion', 'segments', 'sent', 'retx', 'timeouts'].map((h, i) => h.padStart([4, 7, 12, 9, 9, 8, 9][i]!)).join(' ')}  status`;

export function formatText(s: Summary): string {
  const out: string[] = [`p2mp-ftp simulator  seed=${s.seed}`, ...optionsText(s.options, s.segmentsPerReceiver)];
  const n = s.receivers.length;
  const end = s.stoppedBy === 'all-terminal' ? '' : ` -- STOPPED: ${s.stoppedBy} at ${secs(s.endMs)}`;
  const unconfirmed = s.unconfirmed > 0 ? `, ${s.unconfirmed} unconfirmed` : '';
  out.push(`result   ${s.complete}/${n} receivers complete, ${s.failed} failed${unconfirmed}; completion ${secs(s.completionMs)} (virtual)${end}`);
  if (n <= LIST_ALL_UP_TO) {
    out.push(HEADER, ...s.receivers.map(row));
  } else {
    const c = s.spread.completionMs;
    const sp = (x: Spread, f: (v: number) => string): string => `${f(x.min)} / ${f(x.median)} / ${f(x.max)}`;
    // Completion exists only for receivers whose sender finished; the counters are over every receiver.
    const finished = s.receivers.filter((x) => x.completionMs !== null).length;
    out.push(`receivers (min / median / max of ${n}${finished < n ? `; completion of the ${finished} done` : ''}):`);
    out.push(`  completion       ${c ? sp(c, secs) : '-'}`);
    out.push(`  retransmissions  ${sp(s.spread.retransmissions, String)}`);
    out.push(`  timeouts         ${sp(s.spread.timeouts, String)}`);
    const slowest = [...s.receivers]
      .sort((a, b) => (b.completionMs ?? Number.POSITIVE_INFINITY) - (a.completionMs ?? Number.POSITIVE_INFINITY) || a.index - b.index)
      .slice(0, SLOWEST_SHOWN);
    out.push(`slowest ${slowest.length}:`, HEADER, ...slowest.map(row));
  }
  const w = s.wire;
  out.push(
    `wire     ${w.packetsOnWire} packets on the wire (data ${w.dataSent}, acks ${w.acksSent}); dropped ${w.dropped}, ` +
      `duplicated ${w.duplicated}, corrupted ${w.corrupted}, lost to crashes ${w.lostToCrash}`,
  );
  const m = s.multicast;
  if (m) out.push(`multicast data ${w.dataSent} = ${m.groupSent} new to the group + ${m.groupRepairs} group repairs + ${m.unicastRepairs} unicast repairs`);
  if (s.analytic) {
    const a = s.analytic;
    const what = s.options.mode === 'independent' ? `mean receiver completion${a.over < n ? ` (the ${a.over} not crashed)` : ''}` : 'completion';
    out.push(`analytic ${what}: expected ${secs(a.expectedMs)} (sd ${secs(a.stdDevMs)}), measured ${secs(a.measuredMs)}`);
    for (const c of a.caveats) out.push(`         caveat: ${c}`);
  }
  out.push(`events   ${s.eventsProcessed} processed; trace ${s.traceHash}`);
  if (s.wall) out.push(`wall     ${(s.wall.ms / 1000).toFixed(3)} s, ${(s.wall.eventsPerSecond / 1e6).toFixed(2)} M events/s`);
  if (s.violationCount === 0) out.push('invariants ok');
  else {
    out.push(`INVARIANT VIOLATIONS: ${s.violationCount}`);
    for (const v of s.violations.slice(0, 10)) out.push(`  ${v.kind} receiver ${v.receiver} at ${v.timeMs} ms: ${v.detail}`);
  }
  return `${out.join('\n')}\n`;
}
