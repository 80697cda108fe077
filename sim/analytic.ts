// Closed-form expectations for a fixed RTO, to print next to measured times and to test the simulator against.
// Each attempt at a segment fails independently with probability q (loss service P, plus link loss and detected
// corruption in either direction); a failed attempt costs one RTO, the successful one a round trip.
//   independent, per receiver:  N * (RTT + RTO * q/(1-q))
//   lockstep, whole transfer:   N * (RTT + RTO * (E[max of n geometric attempt counts] - 1))
// Both are sums of N i.i.d. per-segment times, so the variance is N times the per-segment variance.
// In independent mode the transfer ends with the slowest receiver: expectedDelay adds its expectation
// (each receiver's time is nearly normal, so mean + sd E[max of n standard normals]).

import { HEADER_BYTES } from '../src/core/codec.js';
import { segmentCount } from '../src/core/segments.js';
import type { Mode } from '../src/core/options.js';
import { serializationMs } from './network.js';
import { pathDelayMs, type ScenarioOptions } from './options.js';

export interface Moments {
  meanMs: number;
  varianceMs2: number;
}

/** Terms below this are dropped from the infinite sums. */
const TAIL = 1e-16;

/** Per receiver, time to complete N segments in independent mode. */
export function independentMoments(segments: number, rttMs: number, rtoMs: number, q: number): Moments {
  return {
    meanMs: segments * (rttMs + (rtoMs * q) / (1 - q)),
    varianceMs2: (segments * rtoMs * rtoMs * q) / ((1 - q) * (1 - q)),
  };
}

/** E[M] and E[M^2] for M = max of geometric attempt counts K_r on {1, 2, ...} with P(K_r > k) = q_r^k. */
export function maxGeometricMoments(qs: readonly number[]): { mean: number; meanSquare: number } {
  let mean = 0;
  let meanSquare = 0;
  for (let k = 0; ; k++) {
    let allWithin = 1;
    for (const q of qs) allWithin *= 1 - q ** k;
    const tail = 1 - allWithin; // P(M > k)
    mean += tail;
    meanSquare += (2 * k + 1) * tail;
    if (k > 0 && tail < TAIL) break;
  }
  return { mean, meanSquare };
}

/**
 * Whole transfer in lockstep mode. Per segment the time is Y = max_r (RTT_r + RTO * (K_r - 1)); with equal RTTs
 * that is RTT + RTO * (E[max K] - 1). Unequal RTTs (--slow) are handled exactly by summing over Y's support.
 */
export function lockstepMoments(segments: number, rttMs: readonly number[], rtoMs: number, qs: readonly number[]): Moments {
  const values: number[] = [];
  for (let r = 0; r < rttMs.length; r++) {
    const q = qs[r]!;
    for (let k = 0; k === 0 || q ** k >= TAIL; k++) values.push(rttMs[r]! + rtoMs * k);
  }
  values.sort((a, b) => a - b);
  /** P(Y <= y) = prod_r P(K_r <= attempts of r completed by y). */
  const cdf = (y: number): number => {
    let p = 1;
    for (let r = 0; r < rttMs.length; r++) {
      const attempts = y < rttMs[r]! ? 0 : Math.floor((y - rttMs[r]!) / rtoMs + 1e-9) + 1;
      p *= 1 - qs[r]! ** attempts;
    }
    return p;
  };
  let mean = 0;
  let meanSquare = 0;
  let previous = 0;
  for (let i = 0; i < values.length; i++) {
    const y = values[i]!;
    if (i > 0 && y === values[i - 1]) continue;
    const f = cdf(y);
    mean += y * (f - previous);
    meanSquare += y * y * (f - previous);
    previous = f;
  }
  return { meanMs: segments * mean, varianceMs2: segments * (meanSquare - mean * mean) };
}

/** E[max of n i.i.d. standard normals], by numerical integration of x d(Phi(x)^n); 0 for n <= 1. */
export function expectedMaxStdNormal(n: number): number {
  if (n <= 1) return 0;
  const phi = (x: number): number => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  // Phi by the complementary error function (Numerical Recipes erfc, fractional error < 1.2e-7).
  const erfc = (z: number): number => {
    const t = 1 / (1 + 0.5 * Math.abs(z));
    const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return z >= 0 ? r : 2 - r;
  };
  const Phi = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);
  let sum = 0;
  const h = 0.001;
  for (let x = -10; x <= 10; x += h) sum += x * n * phi(x) * Phi(x) ** (n - 1) * h;
  return sum;
}

export interface DelayExpectation {
  /** Independent: one receiver's completion time. Lockstep: the whole transfer's. */
  meanMs: number;
  sdMs: number;
  /** The whole transfer, i.e. the slowest receiver (lockstep: the mean itself). */
  slowestMs: number;
}

/**
 * The expected delay of a transfer of `segments` segments to `receivers` receivers on equal paths (round trip
 * `rttMs`), fixed RTO, every attempt failing with probability q. Independent: N (RTT + RTO q/(1-q)) per receiver,
 * and the slowest of the n receivers by the normal approximation. Lockstep: N (RTT + RTO (E[max K] - 1)).
 */
export function expectedDelay(mode: Mode, receivers: number, segments: number, rttMs: number, rtoMs: number, q: number): DelayExpectation {
  if (mode === 'independent') {
    const m = independentMoments(segments, rttMs, rtoMs, q);
    const sdMs = Math.sqrt(m.varianceMs2);
    return { meanMs: m.meanMs, sdMs, slowestMs: m.meanMs + sdMs * expectedMaxStdNormal(receivers) };
  }
  const m = lockstepMoments(segments, new Array<number>(receivers).fill(rttMs), rtoMs, new Array<number>(receivers).fill(q));
  return { meanMs: m.meanMs, sdMs: Math.sqrt(m.varianceMs2), slowestMs: m.meanMs };
}

export interface AnalyticExpectation {
  mode: ScenarioOptions['mode'];
  segments: number;
  rtoMs: number;
  /** Per receiver: the mean RTT the model uses and the probability that one attempt fails. */
  rttMs: number[];
  attemptFailure: number[];
  /** Independent: each receiver's completion time. Lockstep: one entry, the whole transfer. */
  moments: Moments[];
  /** Why the model may not match this run exactly (empty when it should match within statistical error). */
  caveats: string[];
}

/** The expectation for a run with a fixed RTO, or undefined when the RTO is adaptive or the data path multicast (not modelled). */
export function analyticExpectation(o: ScenarioOptions): AnalyticExpectation | undefined {
  const rto = o.rto.fixedMs;
  if (rto === null || o.multicast) return undefined;
  const segments = segmentCount(o.fileBytes, o.mss, o.eof);
  const ser = serializationMs(o.mss, o.down.bandwidthMbps) + serializationMs(HEADER_BYTES, o.up.bandwidthMbps);
  const rttMs: number[] = [];
  const attemptFailure: number[] = [];
  const faults = o.faultUntilMs === null ? 1 : 0;
  const success = (1 - o.lossRate) * (1 - faults * o.down.loss) * (1 - faults * o.down.corrupt) * (1 - faults * o.up.loss) * (1 - faults * o.up.corrupt);
  for (let r = 0; r < o.receivers; r++) {
    rttMs.push(pathDelayMs(o, r, 'down') + pathDelayMs(o, r, 'up') + (o.down.jitterMs + o.up.jitterMs) / 2 + ser);
    attemptFailure.push(1 - success);
  }
  const caveats: string[] = [];
  if (o.faultUntilMs !== null && o.faultUntilMs > 0) caveats.push('link faults stop at --fault-until; the model ignores the faulty phase');
  if (faults && (o.down.duplicate > 0 || o.up.duplicate > 0)) caveats.push('duplication is not modelled');
  if (o.down.jitterMs > 0 || o.up.jitterMs > 0) caveats.push('jitter enters only as its mean');
  if (o.crashes.length > 0) caveats.push('crashed receivers are not modelled');
  if (faults && o.corruptScope === 'any' && (o.down.corrupt > 0 || o.up.corrupt > 0)) caveats.push('undetected corruption is not modelled');
  const moments =
    o.mode === 'independent'
      ? rttMs.map((rtt, r) => independentMoments(segments, rtt, rto, attemptFailure[r]!))
      : [lockstepMoments(segments, rttMs, rto, attemptFailure)];
  return { mode: o.mode, segments, rtoMs: rto, rttMs, attemptFailure, moments, caveats };
}
