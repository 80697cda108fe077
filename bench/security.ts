#!/usr/bin/env node
// npm run bench:security: what --verify and --key cost (issue 13). 20 MiB to one loopback receiver at MSS
// 2048, P=0, in rounds: each round runs plain, --verify and --key back to back (in a rotated order), so the
// machine's noise hits every mode alike; the ratio of each mode to plain is taken per round, then the
// median over rounds. The sender's own transfer time (its --json total.timeMs) is what is compared.
//
//   npm run bench:security [-- --size 20] [--mss 2048] [--rounds 5] [--json FILE]

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
  json?: string;
}

const MODES = ['plain', '--verify', '--key'] as const;
type WireMode = (typeof MODES)[number];

async function main(o: Options): Promise<void> {
  const size = Math.round(Number(o.size) * 2 ** 20);
  const mss = Number(o.mss);
  const rounds = Number(o.rounds);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2mp-bench-security-'));
  const keyFile = path.join(workDir, 'key');
  fs.writeFileSync(keyFile, `${'3c'.repeat(32)}\n`, { mode: 0o600 });
  const args: Record<WireMode, string[]> = { plain: [], '--verify': ['--verify'], '--key': ['--key', keyFile] };
  console.log(describeMachine(machine()));
  console.log(`${o.size} MiB, MSS ${mss}, one receiver on loopback, P=0, ${rounds} rounds of ${MODES.join(' / ')}`);
  try {
    const file = cachedSeededFile(workDir, size, 13);
    const times: Record<WireMode, number[]> = { plain: [], '--verify': [], '--key': [] };
    const ratios: Record<WireMode, number[]> = { plain: [], '--verify': [], '--key': [] };
    for (let round = 0; round < rounds; round++) {
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
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
          extraClientArgs: args[mode],
          extraServerArgs: args[mode],
          verify: true,
          workDir,
          block: 3,
        });
        if (r.clientExit !== 0 || r.identical !== 1) throw new Error(`${mode}: transfer failed (exit ${r.clientExit}): ${r.clientStderr.slice(0, 300)}`);
        ms[mode] = r.transferMs;
        times[mode].push(r.transferMs);
        console.log(`round ${round + 1} ${mode}: ${fmt(r.transferMs, 0)} ms (${fmt(r.aggregateMbps, 0)} Mbit/s, ${r.retransmissions} retransmissions)`);
      }
      for (const mode of MODES) ratios[mode].push(ms[mode]! / ms.plain!);
    }
    const rows = [['mode', 'median ms', 'min ms', 'max ms', 'Mbit/s (median)', 'time / plain (median of rounds)', 'per round']];
    for (const mode of MODES) {
      const t = times[mode];
      rows.push([
        mode,
        fmt(median(t), 0),
        fmt(Math.min(...t), 0),
        fmt(Math.max(...t), 0),
        fmt((size * 8) / (median(t) * 1000), 0),
        fmt(median(ratios[mode]), 3),
        ratios[mode].map((x) => fmt(x, 2)).join(' '),
      ]);
    }
    console.log(`\n${mdTable(rows)}`);
    if (o.json) fs.writeFileSync(o.json, JSON.stringify({ machine: machine(), size, mss, rounds, times, ratios }, null, 2));
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

const program = new Command('bench:security')
  .option('--size <MiB>', 'file size', '20')
  .option('--mss <bytes>', 'segment size', '2048')
  .option('--rounds <n>', 'rounds of plain / --verify / --key', '5')
  .option('--json <file>', 'also write the raw figures as JSON')
  .action(main);
await program.parseAsync(process.argv);
