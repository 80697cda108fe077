#!/usr/bin/env node
// npm run bench:targets: the loopback targets of the sliding-window issue (BENCHMARKS.md "Loopback targets"),
// each as the lead measures it: 3 p2mpserver processes on 127.0.0.2-4 (--linger 0.3 --json), p2mpclient --json
// to all three, wall = the client process from spawn to exit (node start-up included).
//
//   npm run bench:targets                       every target, 5 runs each (medians)
//   npm run bench:targets -- --only w32,big     some targets: w32, classic, lockstep, big, floor
//   npm run bench:targets -- --runs 3
//   npm run bench:targets -- --roots /a,/b      compare builds (checkouts with a dist/): runs interleaved, so
//                                               load drifts hit every build alike; same seeds for each
//   npm run bench:targets -- --client "--timeout 1"   more p2mpclient options for every target; given more than
//                                               once, each is a variant, run interleaved with the others
//   npm run bench:targets -- --bare             also run each target's work at P=0 through bench/bare-pipeline.ts
//                                               (the least Node does per datagram): this machine's floor, so that
//                                               a goal set on another machine can be read here
//
// Timing only: nothing here passes or fails on a time (a copy that differs is an error, though).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { cachedSeededFile, sha256File, tempDir } from '../harness/files.js';
import { fmt, mdTable, median } from '../harness/format.js';
import { describeMachine, machine, parseCpuSeconds, PROBE_NODE_ARGS } from '../harness/machine.js';
import { freePort } from '../harness/net.js';
import { ROOT } from '../harness/paths.js';
import { start } from '../harness/procs.js';
import type { Summary } from '../src/cli/summary.js';
import { lastJson } from './common.js';

interface Target {
  name: string;
  size: number;
  mss: number;
  p: number;
  client: string[];
  /** The same shape for bench/bare-pipeline.ts. */
  bare: string[];
  goal: string;
}

const TARGETS: readonly Target[] = [
  { name: 'w32', size: 1 << 20, mss: 500, p: 0.05, client: ['--window', '32'], bare: ['--window', '32'], goal: '<= 0.35 s' },
  { name: 'classic', size: 1 << 20, mss: 500, p: 0.05, client: [], bare: [], goal: '<= 0.6 s' },
  { name: 'lockstep', size: 1 << 20, mss: 508, p: 0.05, client: ['--mode', 'lockstep'], bare: ['--lockstep'], goal: '<= 0.8 s' },
  { name: 'big', size: 20 << 20, mss: 2048, p: 0, client: ['--window', '64'], bare: ['--window', '64'], goal: '<= 0.6 s' },
  { name: 'floor', size: 1000, mss: 500, p: 0, client: [], bare: [], goal: '(process floor)' },
];

/** The configuration name of the bare pipeline's runs (in place of a root). */
const BARE = 'bare (P=0)';

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

interface Run {
  wallS: number;
  timeS: number;
  timeouts: number;
  retransmissions: number;
  /** Segments the receivers got twice (each a spurious retransmission: the loss service drops DATA only). */
  duplicates: number;
  /** CPU seconds (user + system) of the client and of the three receivers together. */
  clientCpuS: number;
  receiversCpuS: number;
}

// Each process reports its own CPU time at exit (harness/maxrss.ts; the machine is shared: CPU is steadier than wall under load).
const cpuSeconds = (stderr: string): number => parseCpuSeconds(stderr) ?? Number.NaN;

async function once(root: string, t: Target, file: string, dir: string, seed: number, extra: string[]): Promise<Run> {
  const port = await freePort(HOSTS);
  const server = path.join(root, 'dist/src/cli/server.js');
  const client = path.join(root, 'dist/src/cli/client.js');
  const out = (h: string): string => path.join(dir, `out-${h}`);
  const servers = HOSTS.map((h, i) => start(server, ['--bind', h, '--linger', '0.3', '--json', '--seed', String(seed + i), String(port), out(h), String(t.p)], { nodeArgs: PROBE_NODE_ARGS }));
  await Promise.all(servers.map((s) => s.ready));
  const c = await start(client, ['--json', ...t.client, ...extra, ...HOSTS, String(port), file, String(t.mss)], { ready: /^$/, nodeArgs: PROBE_NODE_ARGS }).done;
  const ends = await Promise.all(servers.map((s) => s.done));
  const summary = lastJson<Summary>(c.stdout);
  if (c.code !== 0 || summary === undefined) throw new Error(`${t.name} (${root}): p2mpclient exited ${c.code}: ${c.stderr.slice(0, 500)}`);
  const want = sha256File(file);
  for (const h of HOSTS) if (sha256File(out(h)) !== want) throw new Error(`${t.name} (${root}): the copy on ${h} differs`);
  const duplicates = ends.reduce((sum, e) => sum + (lastJson<{ duplicates: number }>(e.stdout)?.duplicates ?? Number.NaN), 0);
  return { wallS: c.wallMs / 1000, timeS: summary.total.timeMs / 1000, timeouts: summary.total.timeouts, retransmissions: summary.total.retransmissions, duplicates, clientCpuS: cpuSeconds(c.stderr), receiversCpuS: ends.reduce((sum, e) => sum + cpuSeconds(e.stderr), 0) };
}

/** The target's work at P=0 through the bare pipeline: wall only (it has no summary, no loss, no retransmissions). */
async function bare(t: Target, file: string, dir: string): Promise<Run> {
  const port = await freePort(HOSTS);
  const script = path.join(ROOT, 'dist/bench/bare-pipeline.js');
  const out = (h: string): string => path.join(dir, `bare-${h}`);
  const receivers = HOSTS.map((h) => start(script, ['--receiver', h, String(port), out(h)], { nodeArgs: PROBE_NODE_ARGS }));
  await Promise.all(receivers.map((s) => s.ready));
  const c = await start(script, [...t.bare, ...HOSTS, String(port), file, String(t.mss)], { ready: /^$/, nodeArgs: PROBE_NODE_ARGS }).done;
  if (c.code !== 0) {
    for (const r of receivers) r.child.kill();
    throw new Error(`${t.name} (bare): exited ${c.code}: ${c.stderr.slice(0, 500)}`);
  }
  const ends = await Promise.all(receivers.map((s) => s.done));
  const want = sha256File(file);
  for (const h of HOSTS) if (sha256File(out(h)) !== want) throw new Error(`${t.name} (bare): the copy on ${h} differs`);
  return { wallS: c.wallMs / 1000, timeS: Number.NaN, timeouts: 0, retransmissions: 0, duplicates: 0, clientCpuS: cpuSeconds(c.stderr), receiversCpuS: ends.reduce((sum, e) => sum + cpuSeconds(e.stderr), 0) };
}

async function main(opts: { runs: string; only?: string; roots?: string; client: string[]; bare?: boolean }): Promise<void> {
  const runs = Number(opts.runs);
  const wanted = opts.only?.split(',');
  const targets = TARGETS.filter((t) => wanted === undefined || wanted.includes(t.name));
  if (targets.length === 0) throw new Error(`--only: none of ${TARGETS.map((t) => t.name).join(', ')}`);
  const roots = (opts.roots?.split(',') ?? [ROOT]).map((r) => path.resolve(r));
  const variants = (opts.client.length === 0 ? [''] : opts.client).map((c) => c.split(/\s+/).filter((s) => s !== ''));
  const configs = roots.flatMap((root) => variants.map((extra) => ({ root, extra, key: `${root} ${extra.join(' ')}`.trim() })));
  if (opts.bare) configs.push({ root: BARE, extra: [], key: BARE });
  const dir = tempDir('window-targets');
  const loadBefore = os.loadavg();
  console.log(describeMachine(machine()));
  console.log(`roots: ${roots.join(', ')}; runs ${runs}; client variants: ${variants.map((v) => v.join(' ') || '-').join(' | ')}; receiver seeds 7000+run*10+i`);
  const results = new Map<string, Run[]>();
  for (let r = 0; r < runs; r++) {
    for (const t of targets) {
      const file = cachedSeededFile(dir, t.size, `targets-${t.size}`);
      for (const { root, extra, key: config } of configs) {
        const run = root === BARE ? await bare(t, file, dir) : await once(root, t, file, dir, 7000 + r * 10, extra);
        const key = `${t.name}\0${config}`;
        results.set(key, [...(results.get(key) ?? []), run]);
        console.log(`run ${r + 1} ${t.name} ${config}: wall ${fmt(run.wallS, 3)} s, time ${fmt(run.timeS, 3)} s, timeouts ${run.timeouts}, retransmissions ${run.retransmissions}, duplicates ${run.duplicates}, CPU s client ${fmt(run.clientCpuS)} receivers ${fmt(run.receiversCpuS)}`);
      }
    }
  }
  const rows = [['target', 'options', 'root', 'wall s median (runs)', 'time s median', 'timeouts (median, all receivers)', 'retransmissions (median)', 'duplicates at the receivers (median)', 'CPU s client / receivers (median)', 'goal (wall)']];
  for (const t of targets) {
    for (const { root, extra, key } of configs) {
      const rs = results.get(`${t.name}\0${key}`)!;
      const walls = rs.map((x) => x.wallS);
      rows.push([
        `${t.size >= 1 << 20 ? `${t.size >> 20} MiB` : `${t.size} B`}, MSS ${t.mss}, P=${root === BARE ? 0 : t.p}`,
        (root === BARE ? t.bare : [...t.client, ...extra]).join(' ') || 'classic',
        root,
        `${fmt(median(walls), 3)} (${walls.map((w) => fmt(w, 3)).join(' ')})`,
        fmt(median(rs.map((x) => x.timeS)), 3),
        String(median(rs.map((x) => x.timeouts))),
        String(median(rs.map((x) => x.retransmissions))),
        String(median(rs.map((x) => x.duplicates))),
        `${fmt(median(rs.map((x) => x.clientCpuS)))} / ${fmt(median(rs.map((x) => x.receiversCpuS)))}`,
        t.goal,
      ]);
    }
  }
  console.log(mdTable(rows));
  console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

const program = new Command('window-targets')
  .option('--runs <n>', 'runs per target and root', '5')
  .option('--only <names>', 'comma-separated targets: w32, classic, lockstep, big, floor')
  .option('--roots <dirs>', 'comma-separated checkouts (each with a built dist/) to compare, interleaved')
  .option('--bare', 'also run each target at P=0 through bench/bare-pipeline.ts (this machine\'s floor)')
  .option('--client <options>', 'more p2mpclient options for every target (e.g. "--timeout 1"); repeat for variants', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .action(main);
await program.parseAsync(process.argv);
