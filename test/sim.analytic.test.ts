// The simulator against the closed-form model for a fixed RTO (sim/analytic.ts):
//   independent, per receiver:  N * (RTT + RTO * q/(1-q))
//   lockstep, whole transfer:   N * (RTT + RTO * (E[max of n geometric attempt counts] - 1))
// Enough seeds that the sample mean must agree within 4 standard errors (the model's own variance); the seeds
// are fixed, so this never flakes -- it fails only if the simulator or the machines change behaviour.

import { describe, expect, it } from 'vitest';
import { main } from '../sim/cli.js';
import { analyticExpectation, independentMoments, lockstepMoments, maxGeometricMoments } from '../sim/analytic.js';
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
