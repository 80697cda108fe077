// The protocol's properties over simulated transfers (both modes, crashes) and raw-datagram fuzzing of each
// machine -- the same list `npm run fuzz` runs (sim/registry.ts). Each run uses a fresh fast-check seed.
//
// On failure fast-check prints `{ seed, path }` and the shrunk counterexample; scenario failures also print
// `npm run sim -- --replay '<json>'`. Replay exactly that case with:
//   SIM_PROPERTY=<name> SIM_SEED=<seed> SIM_PATH="<path>" npx vitest run test/sim.property.test.ts
// SIM_RUNS=<n> changes the number of cases (SIM_SEED alone re-runs a whole batch with that seed).

import { describe, expect, it } from 'vitest';
import { PROPERTIES } from '../sim/registry.js';

const env = process.env;
const only = env.SIM_PROPERTY;
const seed = env.SIM_SEED === undefined ? undefined : Number(env.SIM_SEED);
const runs = env.SIM_RUNS === undefined ? undefined : Number(env.SIM_RUNS);
const path = env.SIM_PATH;

describe('protocol properties (simulated, fast-check)', () => {
  for (const p of PROPERTIES) {
    it.skipIf(only !== undefined && only !== p.name)(`${p.name}: ${p.description}`, { timeout: 120_000 }, () => {
      const params: { seed?: number; numRuns: number; path?: string } = { numRuns: runs ?? p.testRuns };
      if (seed !== undefined) params.seed = seed;
      if (path !== undefined) params.path = path;
      p.assert(params);
    });
  }
});

describe('npm run fuzz entry', () => {
  it('prints each seed before its batch and exits 0 when every property holds', async () => {
    const { main } = await import('../sim/fuzz.js');
    let out = '';
    let t = 0;
    // A fake clock that advances 100 ms per reading: the 1 s budget ends after a handful of tiny batches.
    const code = main(['--seconds', '1', '--seed', '5', '--runs', '2'], {
      out: (s) => (out += s),
      err: (s) => (out += s),
      clock: () => (t += 100),
      freshSeed: () => 0,
    });
    expect(code).toBe(0);
    expect(out).toContain('first seed 5');
    expect(out).toMatch(/\[fuzz\] scenario-independent seed=5 runs=2 \.\.\. ok/);
    expect(out).toMatch(/\[fuzz\] passed: \d+ cases/);
  });
});
