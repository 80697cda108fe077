#!/usr/bin/env node
// The multicast repair threshold (--repair-group) swept in the simulator, for choosing its default
// (src/core/multicast.ts, BENCHMARKS.md "Multicast (simulator)"):
//   node dist/bench/repair-sweep.js [--receivers 8,1000] [--p 0.01,0.05] [--fractions 0,0.001,0.002,0.005,0.01,0.05,0.2,1]
//                                   [--seed 1] [--window 64] [--file-size 1048576]
// Every combination is one run of the simulator in this process (as `npm run sim -- --multicast -n R -p P
// --repair-group F --window 64` runs it; 10 ms each way). Completion and datagrams are virtual and exact for the
// seed; wall time is this machine's, with the load average when the run started. Each run's row is printed as
// it ends, the Markdown table at the end.

import os from 'node:os';
import { parseArgs } from 'node:util';
import { fmt, mdTable } from '../harness/format.js';
import { describeMachine, machine } from '../harness/machine.js';
import { runScenario } from '../sim/scenario.js';

const list = (s: string): number[] => s.split(',').map(Number);

const { values } = parseArgs({
  options: {
    receivers: { type: 'string', default: '8,1000' },
    p: { type: 'string', default: '0.01,0.05' },
    fractions: { type: 'string', default: '0,0.001,0.002,0.005,0.01,0.05,0.2,1' },
    seed: { type: 'string', default: '1' },
    window: { type: 'string', default: '64' },
    'file-size': { type: 'string', default: String(1 << 20) },
  },
});
const seed = Number(values.seed);
const window = Number(values.window);
const fileBytes = Number(values['file-size']);
console.log(describeMachine(machine()));
console.log(`seed ${seed}, window ${window}, file ${fileBytes} B, MSS 500, 10 ms each way`);

const rows = [['receivers', 'P', '--repair-group', 'completion (virtual s)', 'DATA', '/ segments', 'group repairs', 'unicast repairs', 'duplicates per receiver', 'ACKs to the sender', 'wall s', 'load at start']];
for (const receivers of list(values.receivers)) {
  for (const p of list(values.p)) {
    for (const f of list(values.fractions)) {
      const load = os.loadavg()[0]!.toFixed(2);
      const t0 = performance.now();
      const r = runScenario({ seed, receivers, lossRate: p, fileBytes, window, multicast: true, repairGroupFraction: f }, false);
      const wall = (performance.now() - t0) / 1000;
      if (!r.allComplete || r.violationCount > 0) throw new Error(`-n ${receivers} -p ${p} --repair-group ${f}: not every receiver complete (${r.stoppedBy}, ${r.violationCount} violations)`);
      const m = r.multicast!;
      const dup = r.receivers.reduce((a, x) => a + x.receiverDuplicates, 0) / receivers;
      const row = [String(receivers), String(p), String(f), fmt(r.completionMs! / 1000, 3), String(r.wire.dataSent), fmt(r.wire.dataSent / r.segments, 2), String(m.groupRepairs), String(m.unicastRepairs), fmt(dup, 0), String(r.wire.acksSent), fmt(wall, 1), load];
      console.log(row.join('  '));
      rows.push(row);
    }
  }
}
console.log(mdTable(rows));
