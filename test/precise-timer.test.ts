// Correctness of the sub-millisecond timer (never early, cancel, re-arm, no process kept alive). How late it
// fires is a benchmark (bench/timer-precision.ts), not a test.

import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { PreciseTimer } from '../src/transport/precise-timer.js';
import { seeded } from './support.js';

const fired = (t: (f: () => void) => PreciseTimer, deadlineIn: number): Promise<{ at: number; deadline: number }> =>
  new Promise((resolve) => {
    let deadline = 0;
    const timer = t(() => {
      resolve({ at: performance.now(), deadline });
      timer.close();
    });
    const now = performance.now();
    deadline = now + deadlineIn;
    timer.set(deadline);
  });

describe('PreciseTimer', () => {
  it('never fires before its deadline (sub-millisecond deadlines, seeded)', async () => {
    const seed = 11;
    const random = seeded(seed);
    for (let i = 0; i < 60; i++) {
      const d = random() * 3;
      const r = await fired((f) => new PreciseTimer(f), d);
      expect(r.at, `seed ${seed}, sample ${i}, delay ${d} ms`).toBeGreaterThanOrEqual(r.deadline);
    }
  });

  it('a cancelled timer does not fire; a new deadline replaces the one before, earlier or later', async () => {
    let count = 0;
    const t = new PreciseTimer(() => count++);
    const now = performance.now();
    t.set(now + 1);
    t.cancel();
    await new Promise((r) => setTimeout(r, 10));
    expect(count).toBe(0);

    const times: number[] = [];
    const u = new PreciseTimer(() => times.push(performance.now()));
    const n2 = performance.now();
    u.set(n2 + 10_000);
    u.set(n2 + 2); // earlier: replaces
    u.set(n2 + 30); // later: replaces too, so nothing fires at 2 ms
    await new Promise((r) => setTimeout(r, 200));
    expect(times).toHaveLength(1);
    expect(times[0]! - n2).toBeGreaterThanOrEqual(30);
    t.close();
    u.close();
  });

  it('a deadline moved later just as the helper claims the earlier one still fires once, never before the later (seeded)', async () => {
    const seed = 29;
    const random = seeded(seed);
    for (let i = 0; i < 40; i++) {
      const times: number[] = [];
      let onFire = (): void => {};
      const firedOnce = new Promise<void>((resolve) => (onFire = resolve));
      const t = new PreciseTimer(() => {
        times.push(performance.now());
        onFire();
      });
      const first = performance.now() + 0.3;
      t.set(first);
      // Block this thread until around the first deadline (within 0.1 ms either side), so the helper claims it
      // before, while or after the owner moves it.
      const moveAt = first - 0.1 + random() * 0.2;
      while (performance.now() < moveAt);
      const later = performance.now() + 0.5 + random();
      t.set(later);
      // Wait for the fire (a loaded machine may take a while), then a little longer for a second one.
      await Promise.race([firedOnce, new Promise((r) => setTimeout(r, 2_000))]);
      await new Promise((r) => setTimeout(r, 5));
      expect(times, `seed ${seed}, sample ${i}`).toHaveLength(1);
      expect(times[0]!, `seed ${seed}, sample ${i}`).toBeGreaterThanOrEqual(later);
      t.close();
    }
  });

  it('a set deadline already in the past fires once, soon', async () => {
    const r = await fired((f) => new PreciseTimer(f), -5);
    expect(r.at).toBeGreaterThanOrEqual(r.deadline);
  });

  it('an idle timer does not keep the process alive (built module)', () => {
    const code = `import('${new URL('../dist/src/transport/precise-timer.js', import.meta.url).href}').then(({ PreciseTimer }) => {
      const t = new PreciseTimer(() => { console.log('fired'); });
      const now = performance.now();
      t.set(now + 1);
    });`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { timeout: 10_000 }).toString();
    expect(out.trim()).toBe('fired');
  });
});
