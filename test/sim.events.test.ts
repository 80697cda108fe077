import { describe, expect, it } from 'vitest';
import { EventQueue } from '../sim/events.js';
import { randomInt, stream } from '../sim/prng.js';

interface Ev {
  key: number;
  id: number;
}

describe('simulator: event queue', () => {
  // Runs of same-time pushes share a heap entry; whatever the interleaving, events must come out by (time,
  // insertion order), as from a plain heap: the reference model here is a sorted list.
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`pops by time, then insertion order, under interleaved pushes and pops (seed ${seed})`, () => {
      const random = stream(seed, 'events');
      const q = new EventQueue<Ev>();
      const model: Ev[] = [];
      let id = 0;
      const popped: number[] = [];
      const expected: number[] = [];
      for (let step = 0; step < 5000; step++) {
        if (randomInt(random, 3) > 0 || model.length === 0) {
          // Few distinct times, so ties and same-time runs are common; some in the past (clamped to now).
          const key = q.now + randomInt(random, 4) - 1;
          const ev = { key, id: id++ };
          q.push(ev);
          model.push({ key: Math.max(key, q.now), id: ev.id });
          model.sort((a, b) => a.key - b.key || a.id - b.id);
        } else {
          expect(q.peekTime(), `seed ${seed}`).toBe(model[0]!.key);
          popped.push(q.pop()!.id);
          expected.push(model.shift()!.id);
        }
      }
      while (model.length > 0) {
        popped.push(q.pop()!.id);
        expected.push(model.shift()!.id);
      }
      expect(popped, `seed ${seed}`).toEqual(expected);
      expect(q.pop()).toBeUndefined();
      expect(q.peekTime()).toBeUndefined();
      expect(q.processed).toBe(expected.length);
    });
  }
});
