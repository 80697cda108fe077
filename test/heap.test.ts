// The one min-heap (src/core/heap.ts) behind the simulator's event queue, the group's flow deadlines and the
// multicast repair batches: entries leave in (key, insertion order), whatever the interleaving of pushes, pops
// and re-keyed tops. fast-check prints the seed of a failing case.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../src/core/heap.js';
import { FlowDeadlines } from '../src/core/deadlines.js';

type Op = { op: 'push'; key: number } | { op: 'pop' } | { op: 'rekey'; key: number };

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('push' as const), key: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ op: fc.constant('pop' as const) }),
    fc.record({ op: fc.constant('rekey' as const), key: fc.integer({ min: 0, max: 20 }) }),
  ),
  { maxLength: 300 },
);

describe('MinHeap', () => {
  it('pops in (key, insertion order); replaceTop is a pop and a push in one', () => {
    fc.assert(
      fc.property(ops, (list: Op[]) => {
        const heap = new MinHeap<number>();
        // The reference: a list of [key, order, value] kept sorted by (key, order).
        const model: [number, number, number][] = [];
        let order = 0;
        let value = 0;
        const sortModel = (): void => void model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        for (const o of list) {
          if (o.op === 'push') {
            heap.push(o.key, value);
            model.push([o.key, order++, value++]);
            sortModel();
          } else if (o.op === 'pop') {
            expect(heap.pop()).toBe(model.shift()?.[2]);
          } else if (model.length > 0) {
            heap.replaceTop(o.key);
            model[0] = [o.key, order++, model[0]![2]];
            sortModel();
          } else {
            heap.replaceTop(o.key); // empty: nothing to re-key
          }
          expect(heap.size).toBe(model.length);
          expect(heap.peek()).toBe(model[0]?.[2]);
          if (model.length > 0) expect(heap.topKey()).toBe(model[0]![0]);
          else expect(heap.topKey()).toBeNaN();
        }
      }),
    );
  });
});

describe('FlowDeadlines', () => {
  it('next() is the earliest live deadline; takeDue hands out exactly the due flows, earliest first', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ r: fc.integer({ min: 0, max: 7 }), at: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }) }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 30 }),
        (sets, now) => {
          const d = new FlowDeadlines(8);
          const live = new Map<number, { at: number; when: number }>();
          sets.forEach(({ r, at }, when) => {
            const changed = d.set(r, at);
            expect(changed).toBe(live.get(r)?.at !== at);
            if (at === undefined) live.delete(r);
            else if (changed) live.set(r, { at, when });
          });
          const expected = [...live].sort((a, b) => a[1].at - b[1].at || a[1].when - b[1].when);
          expect(d.next()).toBe(expected[0]?.[1].at);
          const due: number[] = [];
          for (let r = d.takeDue(now); r >= 0; r = d.takeDue(now)) due.push(r);
          const dueAts = due.map((r) => live.get(r)!.at);
          expect(dueAts).toEqual(expected.filter(([, e]) => e.at <= now).map(([, e]) => e.at));
          expect(new Set(due)).toEqual(new Set(expected.filter(([, e]) => e.at <= now).map(([r]) => r)));
        },
      ),
    );
  });
});
