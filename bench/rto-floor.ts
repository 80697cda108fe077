#!/usr/bin/env node
// npm run bench:rto: choosing the RTO floor (--rto-min) by measurement on loopback (issue 2).
//
// Part 1, the RTT distribution under load: P=0 and a 200 ms floor, so that no RTT is cut short by a
// timeout (Karn's rule drops the samples of retransmitted segments, so a low floor would hide exactly the
// slow round trips that matter). For 1, 3 and 10 receivers, both modes: p50/p90/p99/p99.9/max, and how
// many round trips exceed 1, 2, 3, 5 and 10 ms, i.e. would have timed out spuriously with that floor.
//
// Part 2, the floors 1, 2, 3, 5, 10 ms at P=0.05 (1 MiB, MSS 500, as the loss benchmark): median time,
// timeouts, the segments the loss service dropped (each needs one timeout), spurious retransmissions (the
// receivers' duplicate count: a copy of a segment they already had), and the RTT tail.
//
// The sender here is bench/probe-client.js: p2mpclient's own send task, loop and machine on a pool set up
// like the engine's, which also records the RTT samples. Receivers: p2mpserver processes for 1 and 3, the
// receiver farm for 10. Loss seeds: run k uses receiver seeds 1000k+1, 1000k+2, ... for every floor.
//
//   npm run bench:rto [-- --quick] [--runs 3] [--floors 1,2,3,5,10] [--receivers 1,3,10] [--json FILE]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { cachedSeededFile, tempDir } from '../harness/files.js';
import { fmt, mdTable, median, mib } from '../harness/format.js';
import { describeMachine, machine } from '../harness/machine.js';
import { DIST } from '../harness/paths.js';
import { MODES } from '../src/core/options.js';
import type { RttStats } from './probe-client.js';
import { runTransfer, type Hosting, type TransferResult } from './transfer.js';

interface Options {
  quick?: boolean;
  runs?: string;
  floors: string;
  receivers: string;
  json?: string;
}

const PROBE = path.join(DIST, 'bench/probe-client.js');
const hostingFor = (n: number): Hosting => (n <= 3 ? 'procs' : 'farm');

interface TimerStats {
  timeouts: number;
  latenessP50Ms: number | null;
  latenessP90Ms: number | null;
  latenessMaxMs: number | null;
  idleWakeups: number;
}

interface ProbeJson {
  rtt?: RttStats;
  timers?: TimerStats;
}

/** The RTT distribution the probe printed with its summary. */
function probeOf(r: TransferResult): ProbeJson {
  try {
    return JSON.parse(r.clientStdout.trim().split('\n').pop() ?? '{}') as ProbeJson;
  } catch {
    return {};
  }
}
const rttOf = (r: TransferResult): RttStats | undefined => probeOf(r).rtt;
const timersOf = (r: TransferResult): TimerStats | undefined => probeOf(r).timers;

const ms = (x: number): string => fmt(x, 3);

async function main(o: Options): Promise<void> {
  const quick = o.quick === true;
  const runs = o.runs !== undefined ? Number(o.runs) : quick ? 1 : 3;
  const floors = o.floors.split(',').map(Number);
  const counts = o.receivers.split(',').map(Number);
  const dir = tempDir('rto');
  const started = Date.now();
  const all: { part: number; label: Record<string, unknown>; runs: object[] }[] = [];
  const log = (l = ''): void => void process.stdout.write(`${l}\n`);
  log(`# RTO floor on loopback${quick ? ' (--quick)' : ''}\n\n${describeMachine(machine())}`);
  log(`command: node ${process.argv.slice(1).map((a) => path.relative(process.cwd(), a) || a).join(' ')}; ${runs} run(s) per point; started ${new Date(started).toISOString()}`);
  try {
    // Part 1: uncensored RTTs.
    const p1Bytes = (quick ? 1 : 4) * 2 ** 20;
    const p1File = cachedSeededFile(dir, p1Bytes, 6);
    log(`\n## RTT under load, P=0, floor 200 ms (no timeouts): ${mib(p1Bytes)} (seed 6), MSS 1000\n`);
    log(`Sender: \`node dist/bench/probe-client.js --rtt --rto-min 200 --mode M HOST... PORT FILE 1000\`. RTT = a segment's first transmission to its ACK, as the sender's machine samples it. "> x ms" = round trips slower than x ms per 10,000: each would be a spurious timeout with a floor of x ms (the RTO on loopback sits at the floor: SRTT + 4 RTTVAR is well under 1 ms).\n`);
    const rows1 = [['receivers', 'mode', 'samples', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', '> 1 ms', '> 2 ms', '> 3 ms', '> 5 ms', '> 10 ms']];
    for (const n of counts) {
      for (const mode of MODES) {
        if (n === 1 && mode === 'lockstep') continue; // one receiver: the modes are the same loop
        const results: TransferResult[] = [];
        const stats: RttStats[] = [];
        for (let k = 0; k < runs; k++) {
          const r = await runTransfer({ receivers: n, mode, mss: 1000, file: p1File, fileBytes: p1Bytes, p: 0, seed: 1, hosting: hostingFor(n), rtoMin: 200, workDir: dir, sender: { script: PROBE, args: ['--rtt'] } });
          results.push(r);
          const s = rttOf(r);
          if (s) stats.push(s);
        }
        // Percentiles: the median over runs; counts: summed over runs, per 10,000 samples.
        const samples = stats.reduce((a, s) => a + s.count, 0);
        const per10k = (t: string): string => fmt((10000 * stats.reduce((a, s) => a + (s.over[t] ?? 0), 0)) / Math.max(1, samples), 1);
        rows1.push([
          String(n),
          mode,
          String(samples),
          ms(median(stats.map((s) => s.p50Ms))),
          ms(median(stats.map((s) => s.p90Ms))),
          ms(median(stats.map((s) => s.p99Ms))),
          ms(median(stats.map((s) => s.p999Ms))),
          ms(Math.max(...stats.map((s) => s.maxMs))),
          per10k('1'),
          per10k('2'),
          per10k('3'),
          per10k('5'),
          per10k('10'),
        ]);
        log(`  ${rows1[rows1.length - 1]!.join('  ')}`);
        all.push({ part: 1, label: { n, mode }, runs: results.map((r) => ({ command: r.command, transferMs: r.transferMs, timeouts: r.timeouts, rtt: rttOf(r) })) });
      }
    }
    log('');
    log(mdTable(rows1));

    // Part 2: the floors under loss.
    const p2Bytes = 2 ** 20;
    const p2File = cachedSeededFile(dir, p2Bytes, 2);
    log(`\n## Floors at P=0.05: ${mib(p2Bytes)} (seed 2), MSS 500, ${runs} run(s), medians\n`);
    log(`Sender: \`node dist/bench/probe-client.js --rtt --rto-min F --mode M HOST... PORT FILE 500\` (same loop as p2mpclient --rto-min F). Drops = segments the receivers' loss service discarded (each needs one timeout); spurious = duplicates the receivers got (retransmissions of segments they already had); spurious timeouts ~ timeouts - drops. Timer late = how long after the RTO deadline the timeout was handled (Node timers have 1 ms resolution; a loop re-arms its one timer lazily); idle wake-ups = timer firings with nothing due yet.\n`);
    const rows2 = [['receivers', 'mode', 'floor ms', 'time s', 'timeouts', 'drops', 'spurious retx', 'timeouts - drops', 'RTT p99 ms', 'RTT p99.9 ms', 'timer late p50/p90 ms', 'idle wake-ups', 'times s']];
    for (const n of counts) {
      for (const mode of MODES) {
        if (n === 1 && mode === 'lockstep') continue;
        for (const floor of floors) {
          const results: TransferResult[] = [];
          for (let k = 0; k < runs; k++) {
            results.push(
              await runTransfer({ receivers: n, mode, mss: 500, file: p2File, fileBytes: p2Bytes, p: 0.05, seed: 1000 * k + 1, hosting: hostingFor(n), rtoMin: floor, workDir: dir, sender: { script: PROBE, args: ['--rtt'] } }),
            );
          }
          const rtts = results.map(rttOf).filter((x): x is RttStats => x !== undefined);
          const med = (f: (r: TransferResult) => number): number => median(results.map(f));
          rows2.push([
            String(n),
            mode,
            String(floor),
            fmt(med((r) => r.transferMs) / 1000, 3),
            String(med((r) => r.timeouts)),
            String(med((r) => r.drops)),
            String(med((r) => r.duplicates)),
            String(med((r) => r.timeouts - r.drops)),
            ms(median(rtts.map((s) => s.p99Ms))),
            ms(median(rtts.map((s) => s.p999Ms))),
            `${ms(median(results.map((r) => timersOf(r)?.latenessP50Ms ?? Number.NaN)))}/${ms(median(results.map((r) => timersOf(r)?.latenessP90Ms ?? Number.NaN)))}`,
            String(med((r) => timersOf(r)?.idleWakeups ?? Number.NaN)),
            results.map((r) => (r.transferMs / 1000).toFixed(2)).join(' '),
          ]);
          log(`  ${rows2[rows2.length - 1]!.join('  ')}`);
          all.push({ part: 2, label: { n, mode, floor }, runs: results.map((r) => ({ command: r.command, transferMs: r.transferMs, timeouts: r.timeouts, drops: r.drops, duplicates: r.duplicates, completed: r.completed, rtt: rttOf(r), timers: timersOf(r) })) });
          const bad = results.filter((r) => r.completed !== n || r.clientExit !== 0);
          if (bad.length) log(`  WARNING: ${bad.length} run(s) did not complete for every receiver`);
        }
      }
    }
    log('');
    log(mdTable(rows2));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(0)} s; load average now ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (o.json) fs.writeFileSync(o.json, `${JSON.stringify({ machine: machine(), runs, floors, counts, points: all }, null, 1)}\n`);
}

const program = new Command('rto-floor')
  .description('Measure loopback RTTs under load and the effect of RTO floors at P=0.05.')
  .option('--quick', 'one run per point and a smaller file')
  .option('--runs <n>', 'runs per point (default 3)')
  .option('--floors <list>', 'RTO floors to compare, ms', '1,2,3,5,10')
  .option('--receivers <list>', 'receiver counts', '1,3,10')
  .option('--json <file>', 'also write all measurements as JSON')
  .action(main);

await program.parseAsync(process.argv);
