#!/usr/bin/env node
// The simulator's speed, two builds side by side (before/after a change), in one sitting:
//   node dist/bench/sim-speed.js --before ROOT --after ROOT [--receivers 50,200,1000] [--runs 5] [--warmup 2]
//                                [--seed 7] [--p 0.1] [--cold 9]
// Each ROOT is a checkout with a built dist/. Warm: one child process per build stays alive; the runs
// alternate between them (the order swapped every round), so load from other processes hits both alike;
// each run reports its CPU time (process.cpuUsage around runScenario, as the CLI calls it). Cold: whole
// `node ROOT/dist/sim/cli.js` processes, alternating, process wall and CPU (GNU time). Medians, the load
// average, and the runs' outcomes (completion time, datagrams), which must be equal if behaviour is.

import { execFileSync, fork, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, mdTable, median } from '../harness/format.js';
import { hasTimeV, TIME_V } from '../harness/machine.js';

interface Ask {
  receivers: number;
  seed: number;
  p: number;
}
interface Answer {
  cpuMs: number;
  wallMs: number;
  events: number;
  /** What must be equal between builds: completion time, datagrams, ACKs. */
  outcome: string;
}

// ---- child: one build, warm ----

async function child(root: string): Promise<void> {
  const { runScenario } = (await import(pathToFileURL(path.join(root, 'dist/sim/scenario.js')).href)) as {
    runScenario(input: object, keepReceived: boolean): { eventsProcessed: number; completionMs?: number; wire: { dataSent: number; acksSent: number } };
  };
  process.on('message', (ask: Ask) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = runScenario({ seed: ask.seed, receivers: ask.receivers, lossRate: ask.p }, false);
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const answer: Answer = { cpuMs: (c.user + c.system) / 1000, wallMs, events: r.eventsProcessed, outcome: `${r.completionMs} ${r.wire.dataSent} ${r.wire.acksSent}` };
    process.send!(answer);
  });
  process.send!('ready');
}

// ---- parent ----

async function start(root: string): Promise<ChildProcess> {
  const p = fork(new URL(import.meta.url).pathname, ['--child', root], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve) => p.once('message', resolve));
  return p;
}

async function run(p: ChildProcess, q: Ask): Promise<Answer> {
  const answer = new Promise<Answer>((resolve) => p.once('message', (m: Answer) => resolve(m)));
  p.send(q);
  return answer;
}

const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** One cold CLI process: wall (s) and CPU (s, user + system, GNU time when installed). */
function cold(root: string, q: Ask): { wall: number; cpu: number } {
  const args = [path.join(root, 'dist/sim/cli.js'), '--receivers', String(q.receivers), '--p', String(q.p), '--seed', String(q.seed)];
  const t0 = performance.now();
  if (!hasTimeV()) {
    execFileSync(process.execPath, args, { stdio: 'ignore' });
    return { wall: (performance.now() - t0) / 1000, cpu: Number.NaN };
  }
  const r = spawnSync(TIME_V, ['-f', '%U %S', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const out = r.stderr.toString();
  const [u, s] = out.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: u! + s! };
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      after: { type: 'string' },
      receivers: { type: 'string', default: '50,200,1000' },
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      seed: { type: 'string', default: '7' },
      p: { type: 'string', default: '0.1' },
      cold: { type: 'string', default: '9' },
    },
  });
  if (values.before === undefined || values.after === undefined) throw new Error('usage: sim-speed --before ROOT --after ROOT [--receivers 50,200,1000] [--runs 5] [--warmup 2] [--seed 7] [--p 0.1] [--cold 9]');
  const roots = [path.resolve(values.before), path.resolve(values.after)] as const;
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const seed = Number(values.seed);
  const p = Number(values.p);
  console.log(`before ${roots[0]}\nafter  ${roots[1]}\nseed ${seed}, p ${p}, ${runs} runs (+${warmup} warm-up) per size; ${os.availableParallelism()} cores; load at start ${load()}`);

  const rows = [['run', 'before', 'after', 'after/before', 'load (1 5 15 min) at the end']];
  const kids = [await start(roots[0]), await start(roots[1])];
  try {
    for (const receivers of values.receivers.split(',').map(Number)) {
      const q: Ask = { receivers, seed, p };
      const cpu: number[][] = [[], []];
      const outcomes = new Set<string>();
      for (let i = 0; i < warmup + runs; i++) {
        for (const w of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const a = await run(kids[w]!, q);
          outcomes.add(a.outcome);
          if (i >= warmup) cpu[w]!.push(a.cpuMs);
        }
      }
      const [b, a] = [median(cpu[0]!), median(cpu[1]!)];
      console.log(`warm ${receivers} receivers: CPU ms before ${cpu[0]!.map((x) => x.toFixed(0)).join(' ')} | after ${cpu[1]!.map((x) => x.toFixed(0)).join(' ')}${outcomes.size > 1 ? `  OUTCOMES DIFFER: ${[...outcomes].join(' / ')}` : ''}`);
      rows.push([`warm, ${receivers} receivers: CPU ms per run (median)`, fmt(b, 0), fmt(a, 0), fmt(a / b, 2), load()]);
    }
  } finally {
    for (const k of kids) k.kill();
  }

  const coldRuns = Number(values.cold);
  if (coldRuns > 0) {
    const q: Ask = { receivers: 50, seed, p };
    const wall: number[][] = [[], []];
    const cpu: number[][] = [[], []];
    for (let i = 0; i < coldRuns; i++) {
      for (const w of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const c = cold(roots[w]!, q);
        wall[w]!.push(c.wall);
        cpu[w]!.push(c.cpu);
      }
    }
    const m = (xs: number[]): number => median(xs);
    rows.push([`cold \`sim/cli.js --receivers 50 --p ${p} --seed ${seed}\`: process wall s (median)`, fmt(m(wall[0]!), 3), fmt(m(wall[1]!), 3), fmt(m(wall[1]!) / m(wall[0]!), 2), load()]);
    rows.push(['same: process CPU s, user + system (median)', fmt(m(cpu[0]!), 3), fmt(m(cpu[1]!), 3), fmt(m(cpu[1]!) / m(cpu[0]!), 2), load()]);
  }
  console.log(mdTable(rows));
}

const i = process.argv.indexOf('--child');
if (i >= 0) await child(process.argv[i + 1]!);
else await parent();
