#!/usr/bin/env node
// npm run bench:security: what --verify and --key cost (issue 13). 20 MiB to one loopback receiver at MSS
// 2048, P=0, in rounds: each round runs plain, --verify and --key back to back (in a rotated order) at every
// window asked for, so the machine's noise hits every mode alike; the ratio of each mode to plain at the same
// window is taken per round, then the median over rounds. The sender's own transfer time (its --json
// total.timeMs) is what is compared.
//
//   npm run bench:security [-- --size 20] [--mss 2048] [--rounds 5] [--windows 1,64] [--json FILE]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { cachedSeededFile } from '../harness/files.js';
import { fmt, mdTable, median } from '../harness/format.js';
import { describeMachine, machine } from '../harness/machine.js';
import { runTransfer } from './transfer.js';

interface Options {
  size: string;
  mss: string;
  rounds: string;
  windows: string;
  json?: string;
}

const MODES = ['plain', '--verify', '--key'] as const;
type WireMode = (typeof MODES)[number];

async function main(o: Options): Promise<void> {
  const size = Math.round(Number(o.size) * 2 ** 20);
  const mss = Number(o.mss);
  const rounds = Number(o.rounds);
  const windows = o.windows.split(',').map(Number);
  if (!windows.every((w) => Number.isInteger(w) && w >= 1)) throw new Error(`--windows: positive integers, got '${o.windows}'`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2mp-bench-security-'));
  const keyFile = path.join(workDir, 'key');
  fs.writeFileSync(keyFile, `${'3c'.repeat(32)}\n`, { mode: 0o600 });
  const args: Record<WireMode, string[]> = { plain: [], '--verify': ['--verify'], '--key': ['--key', keyFile] };
  console.log(describeMachine(machine()));
  console.log(`${o.size} MiB, MSS ${mss}, one receiver on loopback, P=0, ${rounds} rounds of ${MODES.join(' / ')} at window ${windows.join(', ')}`);
  const label = (mode: WireMode, window: number): string => `${mode} window ${window}`;
  try {
    const file = cachedSeededFile(workDir, size, 13);
    const times: Record<string, number[]> = {};
    const ratios: Record<string, number[]> = {};
    for (const w of windows) {
      for (const mode of MODES) {
        times[label(mode, w)] = [];
        ratios[label(mode, w)] = [];
      }
    }
    for (let round = 0; round < rounds; round++) {
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
      // The windows alternate too (1 then 64, 64 then 1): a drift in the machine's load hits both alike.
      for (const window of round % 2 === 0 ? windows : [...windows].reverse()) {
        const ms: Partial<Record<WireMode, number>> = {};
        for (const mode of order) {
          const r = await runTransfer({
            receivers: 1,
            mode: 'independent',
            mss,
            file,
            fileBytes: size,
            p: 0,
            seed: 1,
            hosting: 'procs',
            extraClientArgs: [...args[mode], '--window', String(window)],
            extraServerArgs: args[mode],
            verify: true,
            workDir,
            block: 3,
          });
          if (r.clientExit !== 0 || r.identical !== 1) throw new Error(`${label(mode, window)}: transfer failed (exit ${r.clientExit}): ${r.clientStderr.slice(0, 300)}`);
          ms[mode] = r.transferMs;
          times[label(mode, window)]!.push(r.transferMs);
          console.log(`round ${round + 1} ${label(mode, window)}: ${fmt(r.transferMs, 0)} ms (${fmt(r.aggregateMbps, 0)} Mbit/s, ${r.retransmissions} retransmissions)`);
        }
        for (const mode of MODES) ratios[label(mode, window)]!.push(ms[mode]! / ms.plain!);
      }
    }
    const rows = [['mode', 'window', 'median ms', 'min ms', 'max ms', 'Mbit/s (median)', 'time / plain (median of rounds)', 'per round']];
    for (const window of windows) {
      for (const mode of MODES) {
        const t = times[label(mode, window)]!;
        const q = ratios[label(mode, window)]!;
        rows.push([mode, String(window), fmt(median(t), 0), fmt(Math.min(...t), 0), fmt(Math.max(...t), 0), fmt((size * 8) / (median(t) * 1000), 0), fmt(median(q), 3), q.map((x) => fmt(x, 2)).join(' ')]);
      }
    }
    console.log(`\n${mdTable(rows)}`);
    if (o.json) fs.writeFileSync(o.json, JSON.stringify({ machine: machine(), size, mss, rounds, windows, times, ratios }, null, 2));
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

const program = new Command('bench:security')
  .option('--size <MiB>', 'file size', '20')
  .option('--mss <bytes>', 'segment size', '2048')
  .option('--rounds <n>', 'rounds of plain / --verify / --key', '5')
  .option('--windows <list>', 'the --window values, each with plain / --verify / --key every round', '1,64')
  .option('--json <file>', 'also write the raw figures as JSON')
  .action(main);
await program.parseAsync(process.argv);
