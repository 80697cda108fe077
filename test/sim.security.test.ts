// The simulator, with corruption free to flip any bit (header included): the classic wire commits wrong files
// (its header is not checked), --verify and --key never do, on the very same seeded networks. The random
// form of the guarantee is the corrupt-any-verify/-key properties in sim/registry.ts.

import { describe, expect, it } from 'vitest';
import { runScenario } from '../sim/scenario.js';
import type { ScenarioInput } from '../sim/options.js';

const SEEDS = [1, 2, 3, 4, 5];
const world = (seed: number): ScenarioInput => ({
  seed,
  receivers: 10,
  lossRate: 0.2,
  fileBytes: 8192,
  mss: 40,
  down: { corrupt: 0.3 },
  up: { corrupt: 0.3 },
  corruptScope: 'any',
});

describe('corruption of any bit, the same networks in every wire mode', () => {
  it('classic: some receiver commits a wrong file on every one of these networks (what the extensions are for)', () => {
    for (const seed of SEEDS) {
      const r = runScenario({ ...world(seed), wireMode: 'classic' }, false);
      expect(r.receivers.some((x) => x.committed && !x.fileMatches), `seed ${seed}`).toBe(true);
    }
  });

  for (const wireMode of ['verify', 'key'] as const) {
    it(`--${wireMode}: every receiver commits the exact file, none a wrong one, no corrupted datagram is ever written`, () => {
      for (const seed of SEEDS) {
        const r = runScenario({ ...world(seed), wireMode }, false);
        expect(r.wire.corrupted, `seed ${seed}`).toBeGreaterThan(100);
        expect(r.violations, `seed ${seed}`).toEqual([]);
        expect(r.allComplete, `seed ${seed}`).toBe(true);
        for (const x of r.receivers) expect(x.committed && x.fileMatches, `seed ${seed} receiver ${x.index}`).toBe(true);
      }
    });
  }

  it('--key: a run is deterministic (keys, Ns and challenges come from the seed)', () => {
    const a = runScenario({ ...world(3), wireMode: 'key' }, false);
    const b = runScenario({ ...world(3), wireMode: 'key' }, false);
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.eventsProcessed).toBe(b.eventsProcessed);
  });
});
