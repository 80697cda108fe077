// The simulator against the closed-form model for a fixed RTO (sim/analytic.ts):
//   independent, per receiver:  N * (RTT + RTO * q/(1-q))
//   lockstep, whole transfer:   N * (RTT + RTO * (E[max of n geometric attempt counts] - 1))
// Enough seeds that the sample mean must agree within 4 standard errors (the model's own variance); the seeds
// are fixed, so this never flakes -- it fails only if the simulator or the machines change behaviour.

import { describe, expect, it } from 'vitest';
import { main } from '../sim/cli.js';
import { analyticExpectation, expectedDelay, expectedMaxStdNormal, independentMoments, lockstepMoments, maxGeometricMoments } from '../sim/analytic.js';
import { resolveOptions, type ScenarioInput } from '../sim/options.js';
import { runScenario } from '../sim/scenario.js';

const SEGMENTS = 200;
const MSS = 500;
const Z_MAX = 4;

const base: ScenarioInput = {
  fileBytes: (SEGMENTS - 1) * (MSS - 8), // plus the empty end-of-file segment: SEGMENTS in all
  mss: MSS,
  eof: 'empty',
  lossRate: 0.3,
  rto: { fixedMs: 50 },
  down: { delayMs: 10 },
  up: { delayMs: 10 },
};

/** Completion samples: every receiver's in independent mode (they are i.i.d.), the whole transfer's in lockstep. */
function samples(input: ScenarioInput, seeds: number): number[] {
  const out: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runScenario({ ...input, seed }, false);
    expect(r.violationCount).toBe(0);
    expect(r.allComplete).toBe(true);
    if (input.mode === 'independent') for (const x of r.receivers) out.push(x.doneAtMs!);
    else out.push(r.completionMs!);
  }
  return out;
}

function agree(input: ScenarioInput, seeds: number): void {
  const o = resolveOptions(input);
  const a = analyticExpectation(o)!;
  expect(a.segments).toBe(SEGMENTS);
  expect(a.caveats).toEqual([]);
  // Independent receivers here share one path, so their moments are equal; lockstep has one entry.
  const m = a.moments[0]!;
  const xs = samples(input, seeds);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
  const standardError = Math.sqrt(m.varianceMs2 / xs.length);
  const z = (mean - m.meanMs) / standardError;
  expect(Math.abs(z), `mean ${mean.toFixed(1)} ms vs expected ${m.meanMs.toFixed(1)} ms (z = ${z.toFixed(2)})`).toBeLessThan(Z_MAX);
  // The spread agrees too (the relative error of a sample sd from ~100 samples is under 10 %).
  expect(sd / Math.sqrt(m.varianceMs2)).toBeGreaterThan(0.75);
  expect(sd / Math.sqrt(m.varianceMs2)).toBeLessThan(1.25);
}

describe('analytic model', () => {
  it('E[max of geometric counts]: one receiver is the geometric mean 1/(1-q); more receivers need more rounds', () => {
    expect(maxGeometricMoments([0.3]).mean).toBeCloseTo(1 / 0.7, 12);
    expect(maxGeometricMoments([0]).mean).toBe(1);
    const two = maxGeometricMoments([0.5, 0.5]).mean; // sum_k 1 - (1 - 0.5^k)^2 = 2*2 - 4/3
    expect(two).toBeCloseTo(8 / 3, 12);
    expect(maxGeometricMoments(new Array<number>(50).fill(0.1)).mean).toBeGreaterThan(two - 1);
  });

  it('lockstep with equal paths is the issue formula N (RTT + RTO (E[max K] - 1)); one receiver is independent mode', () => {
    const qs = new Array<number>(8).fill(0.3);
    const m = lockstepMoments(SEGMENTS, new Array<number>(8).fill(20), 50, qs);
    expect(m.meanMs).toBeCloseTo(SEGMENTS * (20 + 50 * (maxGeometricMoments(qs).mean - 1)), 6);
    const one = lockstepMoments(SEGMENTS, [20], 50, [0.3]);
    const ind = independentMoments(SEGMENTS, 20, 50, 0.3);
    expect(one.meanMs).toBeCloseTo(ind.meanMs, 6);
    expect(one.varianceMs2).toBeCloseTo(ind.varianceMs2, 3);
  });

  it('independent mode, fixed RTO: mean receiver completion matches N (RTT + RTO P/(1-P))', () => {
    agree({ ...base, mode: 'independent', receivers: 4 }, 30);
  });

  it('independent mode with link loss and corruption on both paths (attempt failure q combines them)', () => {
    agree({ ...base, mode: 'independent', receivers: 4, down: { delayMs: 10, loss: 0.1, corrupt: 0.05 }, up: { delayMs: 10, loss: 0.15 } }, 30);
  });

  it('lockstep mode, fixed RTO: mean completion matches N (RTT + RTO (E[max K] - 1))', () => {
    agree({ ...base, mode: 'lockstep', receivers: 8 }, 100);
  });

  it('lockstep mode with two slow receivers (RTT above the RTO) and ACK loss', () => {
    agree({ ...base, mode: 'lockstep', receivers: 6, lossRate: 0.2, delayOverrideMs: [null, null, null, null, 35, 35], up: { delayMs: 10, loss: 0.1 } }, 100);
  });

  it('the CLI prints the expectation next to the measured time when the RTO is fixed', () => {
    let out = '';
    const code = main(['--no-wall', '--rto', '50', '--p', '0.3', '-n', '4', '--file-size', '97908'], { out: (t) => (out += t), err: () => undefined });
    expect(code).toBe(0);
    // The mean of 4 receivers: sd = 553 ms / sqrt(4).
    expect(out).toMatch(/analytic mean receiver completion: expected 8\.286 s \(sd 0\.277 s\), measured \d+\.\d{3} s/);
  });
});

// The experiments' analytical series (expectedDelay), checked against values derived here another way: closed
// forms for the expected maximum of a few standard normals, and the per-segment time summed straight from the
// geometric distribution of attempts (P(K = k) = q^(k-1) (1-q)) instead of from the closed-form moments.

/** E and Var of one segment's time RTT + RTO (K - 1), K ~ geometric(1 - q), by summing the distribution. */
function segmentBySum(rttMs: number, rtoMs: number, q: number): { mean: number; variance: number } {
  let mean = 0;
  let square = 0;
  for (let k = 1; k < 2000; k++) {
    const pk = q ** (k - 1) * (1 - q);
    const t = rttMs + rtoMs * (k - 1);
    mean += pk * t;
    square += pk * t * t;
  }
  return { mean, variance: square - mean * mean };
}

/** E[max of n attempt counts] from the distribution of the maximum: P(max <= k) = (1 - q^k)^n. */
function maxAttemptsBySum(n: number, q: number): number {
  let e = 0;
  for (let k = 1; k < 2000; k++) e += k * ((1 - q ** k) ** n - (1 - q ** (k - 1)) ** n);
  return e;
}

describe('expected delay of a transfer (the experiments\' analytical series)', () => {
  it('E[max of n standard normals]: 0 for one, and the closed forms for 2 to 5', () => {
    const sqrtPi = Math.sqrt(Math.PI);
    expect(expectedMaxStdNormal(1)).toBe(0);
    expect(expectedMaxStdNormal(2)).toBeCloseTo(1 / sqrtPi, 5);
    expect(expectedMaxStdNormal(3)).toBeCloseTo(3 / (2 * sqrtPi), 5);
    expect(expectedMaxStdNormal(4)).toBeCloseTo((6 / Math.PI ** 1.5) * Math.atan(Math.SQRT2), 5);
    expect(expectedMaxStdNormal(5)).toBeCloseTo((5 / (4 * sqrtPi)) * (1 + (6 / Math.PI) * Math.asin(1 / 3)), 5);
    // It grows without bound, but slowly (about sqrt(2 ln n)).
    expect(expectedMaxStdNormal(50)).toBeGreaterThan(expectedMaxStdNormal(10));
    expect(expectedMaxStdNormal(50)).toBeLessThan(Math.sqrt(2 * Math.log(50)));
  });

  it('without loss every mode takes N round trips, and nobody is slower than anybody else', () => {
    for (const mode of ['independent', 'lockstep'] as const) {
      const d = expectedDelay(mode, 7, 300, 20, 100, 0);
      expect(d.meanMs).toBeCloseTo(300 * 20, 9);
      expect(d.sdMs).toBeCloseTo(0, 9);
      expect(d.slowestMs).toBeCloseTo(300 * 20, 9);
    }
  });

  it('independent: mean and sd are N times those of one segment, summed from the geometric distribution', () => {
    const seg = segmentBySum(20, 100, 0.05);
    const d = expectedDelay('independent', 1, 2034, 20, 100, 0.05);
    expect(d.meanMs).toBeCloseTo(2034 * seg.mean, 6);
    expect(d.sdMs).toBeCloseTo(Math.sqrt(2034 * seg.variance), 6);
    // One receiver is its own slowest.
    expect(d.slowestMs).toBe(d.meanMs);
  });

  it('independent: the slowest of two receivers is the mean plus sd / sqrt(pi)', () => {
    const d = expectedDelay('independent', 2, 1000, 20, 100, 0.1);
    expect(d.slowestMs).toBeCloseTo(d.meanMs + d.sdMs / Math.sqrt(Math.PI), 3);
  });

  it('lockstep: each segment costs RTT + RTO (E[max of n attempt counts] - 1), the maximum summed from its distribution', () => {
    for (const [n, q] of [
      [1, 0.05],
      [3, 0.05],
      [50, 0.05],
      [2, 0.5],
    ] as const) {
      const d = expectedDelay('lockstep', n, 1000, 20, 100, q);
      expect(d.meanMs, `n=${n} q=${q}`).toBeCloseTo(1000 * (20 + 100 * (maxAttemptsBySum(n, q) - 1)), 4);
      expect(d.slowestMs).toBe(d.meanMs);
    }
    // One receiver in lockstep is independent mode.
    const one = expectedDelay('lockstep', 1, 1000, 20, 100, 0.05);
    expect(one.sdMs).toBeCloseTo(expectedDelay('independent', 1, 1000, 20, 100, 0.05).sdMs, 6);
  });

  it('lockstep at P = 0.05: the extra rounds per segment quoted in docs/EXPERIMENTS.md', () => {
    const extra = (n: number): number => expectedDelay('lockstep', n, 1, 0, 1, 0.05).meanMs;
    expect(extra(1)).toBeCloseTo(0.05 / 0.95, 9);
    expect(extra(3)).toBeCloseTo(0.151, 3);
    expect(extra(10)).toBeCloseTo(0.427, 3);
    expect(extra(50)).toBeCloseTo(1.047, 3);
  });
});
