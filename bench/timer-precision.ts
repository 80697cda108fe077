#!/usr/bin/env node
// Sub-millisecond retransmission timers: how late does each candidate fire, does it ever fire early, and what
// does it cost in CPU? Every candidate has DeadlineTimer's interface (set(deadline), cancel()).
//
//   node dist/bench/timer-precision.js [--samples 200] [--deadlines 0.2,0.5,1,2,3] [--seed 1] [--only a,b] [--json]
//
// For each candidate and delay d, `samples` times: wait a seeded random gap (0-1 ms, so the delays do not lock
// to Node's millisecond tick), then set(now + d) and record performance.now() when onFire runs. Lateness =
// fire time - deadline (negative = early, a spurious timeout). CPU = process.cpuUsage() (all threads, user +
// system) over the run, per fire and as a share of one core over the run's wall time. The idle row arms a
// 50 ms deadline: a candidate that spins shows it there.

import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import seedrandom from 'seedrandom';
import { DeadlineTimer } from '../src/transport/deadline-timer.js';
import { PreciseTimer } from '../src/transport/precise-timer.js';
import { fmt, mdTable, quantile } from '../harness/format.js';
import { describeMachine, machine } from '../harness/machine.js';

interface Timer {
  set(deadline: number | undefined): void;
  cancel(): void;
}

const clock = (): number => performance.now();

/** setTimeout for the whole milliseconds, then a synchronous spin to the deadline (blocks the loop up to ~1 ms). */
class SpinTimer implements Timer {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly onFire: () => void) {}
  set(deadline: number | undefined): void {
    this.cancel();
    if (deadline === undefined) return;
    const now = clock();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      while (performance.now() < deadline);
      this.onFire();
    }, Math.max(0, Math.floor(deadline - now) - 1));
  }
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** setTimeout for the whole milliseconds, then setImmediate polling until the deadline (the loop stays responsive). */
class ImmediatePollTimer implements Timer {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  constructor(private readonly onFire: () => void) {}
  set(deadline: number | undefined): void {
    this.cancel();
    if (deadline === undefined) return;
    const now = clock();
    const poll = (): void => {
      if (performance.now() >= deadline) {
        this.immediate = undefined;
        this.onFire();
      } else this.immediate = setImmediate(poll);
    };
    this.timer = setTimeout(() => {
      this.timer = undefined;
      poll();
    }, Math.max(0, Math.floor(deadline - now) - 1));
  }
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}

/** Atomics.waitAsync on a word nobody notifies, with a fractional timeout. */
class WaitAsyncTimer implements Timer {
  private readonly word = new Int32Array(new SharedArrayBuffer(4));
  private generation = 0;
  constructor(private readonly onFire: () => void) {}
  set(deadline: number | undefined): void {
    this.cancel();
    if (deadline === undefined) return;
    const now = clock();
    const mine = this.generation;
    const r = Atomics.waitAsync(this.word, 0, 0, Math.max(0, deadline - now));
    // waitAsync does not keep the loop alive by itself; a long ref'd timer does (it never fires first here).
    const keepAlive = setTimeout(() => {}, 60_000);
    void Promise.resolve(r.value).then(() => {
      clearTimeout(keepAlive);
      if (mine === this.generation) this.onFire();
    });
  }
  cancel(): void {
    this.generation++;
  }
}

const CANDIDATES: Record<string, (onFire: () => void) => Timer> = {
  'settimeout (DeadlineTimer, ms ceil)': (f) => new DeadlineTimer(f, clock),
  'settimeout + spin': (f) => new SpinTimer(f),
  'settimeout + setImmediate poll': (f) => new ImmediatePollTimer(f),
  'Atomics.waitAsync timeout': (f) => new WaitAsyncTimer(f),
  'timer thread (PreciseTimer, no spin)': (f) => new PreciseTimer(f, clock, { spinUs: 0 }),
  'timer thread (PreciseTimer, spin 100 us)': (f) => new PreciseTimer(f, clock, { spinUs: 100 }),
};

interface Row {
  candidate: string;
  delayMs: number;
  samples: number;
  earlyCount: number;
  lateP50Us: number;
  lateP90Us: number;
  lateP99Us: number;
  lateMaxUs: number;
  cpuUsPerFire: number;
  cpuShare: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Busy-free gap of `ms` (< 1 ms typically): yields through setImmediate so other work runs. */
async function gap(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) await new Promise((r) => setImmediate(r));
}

async function measure(name: string, make: (onFire: () => void) => Timer, delayMs: number, samples: number, random: () => number): Promise<Row> {
  const late: number[] = [];
  let resolveFire: (t: number) => void = () => {};
  const timer = make(() => resolveFire(performance.now()));
  // Warm-up fires, not counted (a helper thread starts, code gets compiled).
  for (let i = 0; i < 5; i++) {
    const fired = new Promise<number>((r) => (resolveFire = r));
    const now = performance.now();
    timer.set(now + delayMs);
    await fired;
  }
  // Gaps before the CPU window: they poll, and would count against every candidate alike otherwise.
  const gaps = Array.from({ length: samples }, () => random());
  let cpu = 0;
  let wall = 0;
  for (let i = 0; i < samples; i++) {
    await gap(gaps[i]!);
    const fired = new Promise<number>((r) => (resolveFire = r));
    const c0 = process.cpuUsage();
    const now = performance.now();
    const deadline = now + delayMs;
    timer.set(deadline);
    const at = await fired;
    const c1 = process.cpuUsage(c0);
    wall += performance.now() - now;
    cpu += (c1.user + c1.system) / 1000;
    late.push((at - deadline) * 1000);
  }
  timer.cancel();
  (timer as { close?: () => void }).close?.();
  return {
    candidate: name,
    delayMs,
    samples,
    earlyCount: late.filter((x) => x < 0).length,
    lateP50Us: quantile(late, 0.5),
    lateP90Us: quantile(late, 0.9),
    lateP99Us: quantile(late, 0.99),
    lateMaxUs: Math.max(...late),
    cpuUsPerFire: (cpu * 1000) / samples,
    cpuShare: cpu / wall,
  };
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--samples <n>', 'fires per candidate and delay', '200')
    .option('--deadlines <list>', 'delays in ms', '0.2,0.5,1,2,3')
    .option('--seed <seed>', 'seed of the gaps between samples', '1')
    .option('--only <list>', 'candidates whose name contains one of these words')
    .option('--json', 'print the rows as JSON too')
    .parse()
    .opts<{ samples: string; deadlines: string; seed: string; only?: string; json?: boolean }>();
  const samples = Number(o.samples);
  const delays = o.deadlines.split(',').map(Number);
  const words = o.only?.split(',');
  const names = Object.keys(CANDIDATES).filter((n) => !words || words.some((w) => n.includes(w)));
  console.log(`node dist/bench/timer-precision.js --samples ${samples} --deadlines ${delays.join(',')} --seed ${o.seed}${o.only ? ` --only ${o.only}` : ''}`);
  console.log(describeMachine(machine()));
  const rows: Row[] = [];
  for (const name of names) {
    const random = seedrandom(`${o.seed}/${name}`);
    for (const d of [...delays, 50]) {
      const row = await measure(name, CANDIDATES[name]!, d, d === 50 ? Math.min(samples, 20) : samples, random);
      rows.push(row);
      await sleep(5);
    }
  }
  console.log(
    mdTable([
      ['candidate', 'delay ms', 'samples', 'early', 'late p50 us', 'p90 us', 'p99 us', 'max us', 'CPU us/fire', 'CPU share of a core'],
      ...rows.map((r) => [r.candidate, String(r.delayMs), String(r.samples), String(r.earlyCount), fmt(r.lateP50Us, 0), fmt(r.lateP90Us, 0), fmt(r.lateP99Us, 0), fmt(r.lateMaxUs, 0), fmt(r.cpuUsPerFire, 0), `${fmt(r.cpuShare * 100, 1)} %`]),
    ]),
  );
  if (o.json) console.log(JSON.stringify(rows));
}

void main();
