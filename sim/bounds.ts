// The liveness bound: once the faulty phase ends (links only delay), how long may completion take? The loss
// service P still applies, so the bound is probabilistic: with probability >= 1 - EPSILON no (segment, receiver)
// pair needs more than `tries` attempts (a union bound), and each attempt costs at most one maximal RTO.

import { HEADER_BYTES } from '../src/core/codec.js';
import { CHALLENGE_BYTES } from '../src/core/seal.js';
import { segmentCount } from '../src/core/segments.js';
import { serializationMs } from './network.js';
import { pathDelayMs, type ScenarioOptions } from './options.js';

/** Probability that an honest run overshoots the bound (and is wrongly reported as not terminating). */
export const LIVENESS_EPSILON = 1e-12;

/** Largest round-trip time of any receiver's path on a clean link: delays, full jitter, serialization. */
export function maxRttMs(o: ScenarioOptions): number {
  let worst = 0;
  for (let r = 0; r < o.receivers; r++) worst = Math.max(worst, pathDelayMs(o, r, 'down') + pathDelayMs(o, r, 'up'));
  // The largest answer: a classic ACK, or a --key CHALLENGE (larger than any --verify/--key ACK).
  const answerBytes = o.wireMode === 'classic' ? HEADER_BYTES : CHALLENGE_BYTES;
  return worst + o.down.jitterMs + o.up.jitterMs + serializationMs(o.mss, o.down.bandwidthMbps) + serializationMs(answerBytes, o.up.bandwidthMbps);
}

/** Attempts that suffice for every (segment, receiver) pair except with probability LIVENESS_EPSILON. */
export function triesBound(lossRate: number, pairs: number): number {
  if (lossRate <= 0) return 1;
  return Math.max(1, Math.ceil(Math.log(LIVENESS_EPSILON / Math.max(1, pairs)) / Math.log(lossRate)));
}

/** Virtual time by which the transfer must have terminated, or Infinity when faults never stop. */
export function livenessDeadlineMs(o: ScenarioOptions): number {
  if (o.deadlineMs !== null) return o.deadlineMs;
  if (o.faultUntilMs === null) return Number.POSITIVE_INFINITY;
  // The --key handshake (HELLO, RESPONSE) costs two more stop-and-wait steps.
  const segments = segmentCount(o.fileBytes, o.mss, o.eof, o.wireMode === 'classic' ? undefined : o.wireMode) + (o.wireMode === 'key' ? 2 : 0);
  const rtoMax = o.rto.fixedMs ?? Math.max(o.rto.maxMs, o.rto.initialMs);
  const rtt = maxRttMs(o);
  const tries = triesBound(o.lossRate, segments * o.receivers);
  // Per segment: `tries` timeouts plus one round trip, doubled for queueing of spurious copies on slow links.
  const perSegment = tries * rtoMax + 2 * rtt;
  const start = Math.max(o.faultUntilMs, ...o.crashes.map((c) => c.atMs));
  // A crashed receiver can hold a lockstep barrier for at most one give-up period.
  return start + (segments + 1) * perSegment + rtoMax + o.crashes.length * (o.giveUpMs + rtoMax);
}
