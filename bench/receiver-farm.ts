#!/usr/bin/env node
// Receiver farm: N p2mpserver receivers in ONE process (startReceiver, the same driver p2mpserver uses),
// each on its own 127.0.x.y address, all on one port, one output file each. Benchmarks use it for 10, 50
// or 200 receivers, which would be too costly as separate node processes. All receivers share this one
// event loop, so for 1 or 3 receivers separate p2mpserver processes are the fairer setup (the bench says
// which it used); the farm reports its own CPU use and event-loop delay so a saturated farm is visible.
//
//   node dist/bench/receiver-farm.js --count 50 --port 45000 --dir /tmp/out [--p 0.05 --seed 1]
//
// Prints "farm: ready N receivers A..B:PORT" once every socket is bound, then one JSON line when all
// receivers have finished (complete or failed). Exit 0 when all completed (and verified, with --verify),
// 1 otherwise, 3 when a socket could not be bound (the port is taken: pick another).

import fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Command } from 'commander';
import seedrandom from 'seedrandom';
import { sha256File } from '../harness/files.js';
import { receivedFile } from '../harness/procs.js';
import { startReceiver, type ReceiveOutcome, type ReceiveRun } from '../src/transport/receiver-driver.js';
import { addresses } from './common.js';

interface FarmOptions {
  count: string;
  port: string;
  dir: string;
  block: string;
  addrs?: string;
  p: string;
  seed: string;
  linger: string;
  idleTimeout: string;
  verify?: string;
  keep: boolean;
}

export interface FarmReceiver {
  address: string;
  ok: boolean;
  reason?: string;
  elapsedMs?: number;
  bytes: number;
  segments: number;
  drops: number;
  duplicates: number;
  badChecksums: number;
  ignored: number;
  seed: number;
  identical?: boolean;
}

export interface FarmReport {
  farm: {
    count: number;
    port: number;
    p: number;
    seed: number;
    completed: number;
    identical: number | undefined;
    /** CPU time of the farm process (user + system) from ready to the last receiver's end. */
    cpuMs: number;
    wallMs: number;
    /** Event-loop delay while receiving, ms. */
    loopDelayP50Ms: number;
    loopDelayP99Ms: number;
    loopDelayMaxMs: number;
  };
  receivers: FarmReceiver[];
}

async function main(o: FarmOptions): Promise<void> {
  const count = Number(o.count);
  const port = Number(o.port);
  const p = Number(o.p);
  const seed = Number(o.seed);
  const addrs = o.addrs ? o.addrs.split(',') : addresses(count, Number(o.block));
  if (addrs.length !== count) throw new Error(`--addrs lists ${addrs.length} addresses, --count is ${count}`);
  fs.mkdirSync(o.dir, { recursive: true });
  const outFile = (a: string): string => receivedFile(o.dir, a);

  let listening = 0;
  let bindFailed = false;
  const runs: ReceiveRun[] = [];
  const outcomes: Promise<ReceiveOutcome>[] = [];
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const allListening = new Promise<void>((resolve) => {
    addrs.forEach((a, i) => {
      const run = startReceiver({
        port,
        bind: a,
        file: outFile(a),
        lossRate: p,
        random: seedrandom(String(seed + i)),
        idleTimeoutMs: Number(o.idleTimeout) * 1000,
        lingerMs: Number(o.linger) * 1000,
        onLoss: () => {},
        onListening: () => {
          if (++listening === count) resolve();
        },
      });
      runs.push(run);
      outcomes.push(
        run.done.then((r) => {
          if (!r.ok && r.reason === 'socket-error' && !bindFailed && listening < count) {
            bindFailed = true;
            process.stdout.write(`farm: error ${a}:${port}: ${r.message}\n`);
            for (const other of runs) other.interrupt();
            resolve();
          }
          return r;
        }),
      );
    });
  });
  await allListening;
  if (bindFailed) {
    await Promise.all(outcomes);
    process.exitCode = 3;
    return;
  }
  const stop = (): void => runs.forEach((r) => r.interrupt());
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  delay.enable();
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  process.stdout.write(`farm: ready ${count} receivers ${addrs[0]}..${addrs[addrs.length - 1]}:${port}\n`);

  const results = await Promise.all(outcomes);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  const want = o.verify ? sha256File(o.verify) : undefined;
  const receivers = results.map((r, i): FarmReceiver => {
    const a = addrs[i]!;
    const s = r.stats;
    const rec: FarmReceiver = {
      address: a,
      ok: r.ok,
      bytes: s.bytes,
      segments: s.segments,
      drops: s.drops,
      duplicates: s.duplicates,
      badChecksums: s.badChecksums,
      ignored: s.ignored,
      seed: seed + i,
    };
    if (r.ok) rec.elapsedMs = r.elapsedMs;
    else rec.reason = `${r.reason}: ${r.message}`;
    if (want !== undefined) rec.identical = r.ok && fs.existsSync(outFile(a)) && sha256File(outFile(a)) === want;
    if (!o.keep) fs.rmSync(outFile(a), { force: true });
    return rec;
  });
  const completed = receivers.filter((r) => r.ok).length;
  const identical = want === undefined ? undefined : receivers.filter((r) => r.identical).length;
  const report: FarmReport = {
    farm: {
      count,
      port,
      p,
      seed,
      completed,
      identical,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      loopDelayP50Ms: delay.percentile(50) / 1e6,
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
    },
    receivers,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exitCode = completed === count && (identical === undefined || identical === count) ? 0 : 1;
}

const program = new Command('receiver-farm')
  .description('Run N P2MP-FTP receivers (startReceiver) in one process, one loopback address each, one port.')
  .requiredOption('--count <n>', 'number of receivers')
  .requiredOption('--port <port>', 'UDP port shared by all receivers')
  .requiredOption('--dir <dir>', 'directory for the output files (out-ADDRESS.bin)')
  .option('--block <b>', 'addresses 127.0.<b>.1.. (3, 4 or 5; receivers past 250 continue in the next block)', '4')
  .option('--addrs <list>', 'comma-separated addresses instead of --block')
  .option('--p <prob>', 'loss probability at each receiver', '0')
  .option('--seed <n>', 'loss-service seed of receiver 0 (receiver i uses seed + i)', '1')
  .option('--linger <s>', 'seconds to keep re-ACKing a retransmitted end of file', '0.5')
  .option('--idle-timeout <s>', 'give up a started transfer after this long without a valid segment', '30')
  .option('--verify <file>', 'compare every copy with this file (SHA-256)')
  .option('--keep', 'keep the output files (default: deleted after the report)', false)
  .action(main);

await program.parseAsync(process.argv);
