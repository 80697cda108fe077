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

  // The lanes: several monotone streams (more of them than lanes, so some spill into the heap) mixed with
  // out-of-order pushes; still exactly (time, insertion order).
  for (const seed of [6, 7, 8]) {
    it(`monotone streams and stragglers come out by time, then insertion order (seed ${seed})`, () => {
      const random = stream(seed, 'events-lanes');
      const q = new EventQueue<Ev>();
      const model: Ev[] = [];
      const streams = [10, 20, 20, 35, 50, 80].map((delay) => ({ delay, last: 0 }));
      let id = 0;
      const popped: number[] = [];
      const expected: number[] = [];
      for (let step = 0; step < 20_000; step++) {
        if (randomInt(random, 2) === 0 || model.length === 0) {
          const s = streams[randomInt(random, streams.length)]!;
          // A stream's pushes never go back in time; one in ten pushes is a straggler anywhere ahead.
          const key = randomInt(random, 10) === 0 ? q.now + randomInt(random, 100) : Math.max(s.last, q.now + s.delay);
          if (key >= s.last) s.last = key;
          const ev = { key, id: id++ };
          q.push(ev);
          model.push(ev);
          model.sort((a, b) => a.key - b.key || a.id - b.id);
        } else {
          popped.push(q.pop()!.id);
          expected.push(model.shift()!.id);
        }
      }
      while (model.length > 0) {
        expect(q.peekTime(), `seed ${seed}`).toBe(model[0]!.key);
        popped.push(q.pop()!.id);
        expected.push(model.shift()!.id);
      }
      expect(popped, `seed ${seed}`).toEqual(expected);
      expect(q.pop()).toBeUndefined();
    });
  }
});
