#!/usr/bin/env node
// Benchmark-only sender: the same per-receiver loops as p2mpclient (the real send task, GroupLoop and
// GroupSender), run either on the engine's own piscina pool (createLoopPool), or with --inline
// on the main thread (so that clinic flame / 0x, which only see the main thread, can profile the loop).
// With --rtt it records every RTT sample the machines take and prints their distribution.
//
//   node dist/bench/probe-client.js [--inline] [--rtt] [--mode M] [--threads N] [--rto-min MS] [--json] HOST... PORT FILE MSS
//
// Prints the same summary as p2mpclient --json (one line), plus "rtt" when --rtt is given.

import dns from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { RTO_DEFAULTS, type RtoConfig } from '../src/core/rto.js';
import { createLoopPool, defaultThreads, driveBuffer, planTasks } from '../src/transport/engine.js';
import type { Mode } from '../src/core/options.js';
import { openSharedFile } from '../src/transport/shared-file.js';
import { payloadBytes } from '../src/core/codec.js';
import { summarize } from '../src/cli/summary.js';
import probeTask, { type ProbeResult, type ProbeTask } from './probe-task.js';

interface Options {
  mode: string;
  threads?: string;
  rtoMin: string;
  timeout?: string;
  giveUp: string;
  inline?: boolean;
  rtt?: boolean;
  json?: boolean;
}

export interface RttStats {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Samples above each threshold (ms). */
  over: Record<string, number>;
}

export const RTT_THRESHOLDS = [0.5, 1, 2, 3, 5, 10];

export function rttStats(xs: number[]): RttStats {
  const sorted = Float64Array.from(xs).sort();
  const q = (p: number): number => (sorted.length ? sorted[Math.floor((sorted.length - 1) * p)]! : Number.NaN);
  const over: Record<string, number> = {};
  for (const t of RTT_THRESHOLDS) over[String(t)] = xs.reduce((a, x) => a + (x > t ? 1 : 0), 0);
  return { count: xs.length, p50Ms: q(0.5), p90Ms: q(0.9), p99Ms: q(0.99), p999Ms: q(0.999), maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN, over };
}

const WORKER = new URL('./probe-task.js', import.meta.url);

async function main(args: string[], o: Options): Promise<void> {
  const hosts = args.slice(0, -3);
  const [portRaw, filePath, mssRaw] = args.slice(-3) as [string, string, string];
  const port = Number(portRaw);
  const mss = Number(mssRaw);
  const mode = o.mode as Mode;
  const rto: RtoConfig = { ...RTO_DEFAULTS, minMs: Number(o.rtoMin) };
  if (o.timeout !== undefined) rto.fixedMs = Number(o.timeout);
  const opened = openSharedFile(filePath, payloadBytes(mss));
  const file = opened.file;
  const targets = await Promise.all(hosts.map(async (h) => ({ host: h, address: (await dns.lookup(h, { family: 4 })).address })));
  const n = targets.length;
  const threads = Math.max(1, Math.min(o.threads === undefined ? defaultThreads(n, mode) : Number(o.threads), n));
  const sender = { mss, eof: 'empty' as const, mode, rto, giveUpMs: Number(o.giveUp) * 1000 };
  // The engine's own plan, pool and buffer refills, so the probe measures what p2mpclient runs.
  const { state, tasks: plan } = planTasks({ targets, port, file, sender, threads: o.inline ? 1 : threads });
  const pool = o.inline ? undefined : await createLoopPool(WORKER, plan.length);
  const stopBuffer = driveBuffer(opened.advance, state, (message) => console.error(`probe-client: ${message}`));
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const tasks = plan.map((t) => {
    const task: ProbeTask = { ...t, recordRtt: o.rtt === true };
    return pool ? (pool.run(task) as Promise<ProbeResult>) : probeTask(task);
  });
  const out = await Promise.all(tasks);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  stopBuffer();
  opened.close();
  await pool?.destroy();
  const summary = summarize({ results: out.flatMap((r) => r.results).sort((x, y) => x.index - y.index), elapsedMs, file: filePath, fileBytes: file.length, sha256: undefined, mss, mode, eof: 'empty', port, giveUpMs: sender.giveUpMs, interrupted: false, readError: undefined });
  const rtt = o.rtt ? rttStats(out.flatMap((r) => r.rtts)) : undefined;
  const late = out.flatMap((r) => r.timeoutLateness).sort((a, b) => a - b);
  const timers = o.rtt
    ? {
        timeouts: late.length,
        latenessP50Ms: late[Math.floor((late.length - 1) * 0.5)] ?? null,
        latenessP90Ms: late[Math.floor((late.length - 1) * 0.9)] ?? null,
        latenessMaxMs: late[late.length - 1] ?? null,
        idleWakeups: out.reduce((a, r) => a + r.idleWakeups, 0),
      }
    : undefined;
  // CPU of the whole process (all threads) while the loops ran: per segment sent, the sender's cost.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(`${JSON.stringify({ ...summary, threads: o.inline ? 0 : threads, cpuMs, rtt, timers })}\n`);
  process.exitCode = out.every((r) => r.results.every((x) => x.status === 'done')) ? 0 : 1;
}

const program = new Command('probe-client')
  .argument('<args...>')
  .option('--mode <mode>', 'independent or lockstep', 'independent')
  .option('--threads <n>', 'pool threads (default as p2mpclient)')
  .option('--rto-min <ms>', 'RTO floor', String(RTO_DEFAULTS.minMs))
  .option('--timeout <ms>', 'fixed RTO')
  .option('--give-up <s>', 'give-up time', '10')
  .option('--inline', 'run the loops on the main thread (for clinic flame / 0x)')
  .option('--rtt', 'record RTT samples and print their distribution')
  .option('--json', 'accepted for symmetry with p2mpclient (the output is always JSON)')
  .action(main);

await program.parseAsync(process.argv);
