#!/usr/bin/env node
// npm run bench: loopback benchmarks of p2mpclient against p2mpserver receivers (issues 3 and 5).
//
//   npm run bench                     the full set (about 10 minutes on a 2-core machine)
//   npm run bench -- --quick          a short run (under a minute)
//   npm run bench -- --only loss,big  some sections: pingpong, throughput, hosting, loss, big, memory, scale,
//                                     threads, ladder
//   npm run bench -- --runs 5         runs per point (default: 3 for 1-3 receivers, 2 for 10, 1 for 50)
//   npm run bench -- --json FILE      also write every measurement as JSON
//
// Every section prints the sender's command line, the options and seeds, and the machine. Times are
// medians over the runs; nothing here passes or fails on a time. Receivers: separate p2mpserver processes
// for 1 and 3 receivers (one event loop each, like real receivers), the receiver farm (one process) for
// more; the "hosting" section measures both for 1 and 3. Addresses 127.0.4.x (receivers) and 127.0.3.x
// (ping-pong echo), each transfer on a port that is free on all its addresses.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { cachedSeededFile, tempDir } from '../harness/files.js';
import { fmt, mbps, mdTable, median, mib } from '../harness/format.js';
import { describeMachine, machine, peakRssOptions } from '../harness/machine.js';
import { freePort } from '../harness/net.js';
import { CLIENT } from '../harness/paths.js';
import { run, start } from '../harness/procs.js';
import type { Summary } from '../src/cli/summary.js';
import { MODES } from '../src/core/options.js';
import { addresses, lastJson, PINGPONG } from './common.js';
import { pingpong, type Ladder, type PingPongResult } from './pingpong.js';
import { runTransfer, type Hosting, type TransferResult, type TransferSpec } from './transfer.js';

const SECTIONS = ['pingpong', 'throughput', 'hosting', 'loss', 'big', 'memory', 'scale', 'threads', 'ladder'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  quick?: boolean;
  only?: string;
  runs?: string;
  json?: string;
  dir?: string;
}

interface Plan {
  quick: boolean;
  pingSeconds: number;
  pingSizes: number[];
  pingFlows: number[];
  tpBytes: number;
  tpMss: number[];
  tpReceivers: number[];
  lossRuns: number;
  bigBytes: number;
  memBytes: number;
  memReceivers: number;
  threadReceivers: number[];
  threadCounts: number[];
  runsFor: (n: number) => number;
}

function plan(quick: boolean, runsOverride: number | undefined): Plan {
  const runsFor = (n: number): number => runsOverride ?? (quick ? 1 : n <= 3 ? 3 : n <= 10 ? 2 : 1);
  if (quick) {
    return {
      quick,
      pingSeconds: 0.5,
      pingSizes: [1000],
      pingFlows: [1, 3],
      tpBytes: 2 * 2 ** 20,
      tpMss: [1000],
      tpReceivers: [1, 3, 10],
      lossRuns: runsOverride ?? 3,
      bigBytes: 0,
      memBytes: 20 * 2 ** 20,
      memReceivers: 5,
      threadReceivers: [],
      threadCounts: [],
      runsFor,
    };
  }
  return {
    quick,
    pingSeconds: 2,
    pingSizes: [500, 1000, 2048],
    pingFlows: [1, 3, 10, 50],
    tpBytes: 10 * 2 ** 20,
    tpMss: [500, 1000, 2048],
    tpReceivers: [1, 3, 10, 50],
    lossRuns: runsOverride ?? 5,
    bigBytes: 20 * 2 ** 20,
    memBytes: 200 * 2 ** 20,
    memReceivers: 20,
    threadReceivers: [1, 3, 10, 50],
    threadCounts: [1, 2, 4],
    runsFor,
  };
}

const hostingFor = (n: number): Hosting => (n <= 3 ? 'procs' : 'farm');
const secs = (ms: number): string => (ms / 1000).toFixed(3);

interface Point {
  section: Section;
  label: Record<string, string | number>;
  runs: TransferResult[];
}

const points: Point[] = [];
const pings: PingPongResult[] = [];

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function measure(section: Section, label: Record<string, string | number>, spec: TransferSpec, runs: number, seedStep = 0): Promise<Point> {
  const results: TransferResult[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runTransfer({ ...spec, seed: spec.seed + i * seedStep });
    results.push(r);
    const bad = r.completed !== spec.receivers || (r.identical !== undefined && r.identical !== spec.receivers) || r.clientExit !== 0;
    if (bad) log(`  WARNING: ${r.command}: exit ${r.clientExit}, ${r.completed}/${spec.receivers} completed, ${r.identical ?? '-'} identical`);
  }
  const p = { section, label, runs: results };
  points.push(p);
  return p;
}

const med = (p: Point, f: (r: TransferResult) => number): number => median(p.runs.map(f));

function pingFor(size: number, flows: number): PingPongResult | undefined {
  return pings.find((x) => x.size === size && x.flows === flows);
}

async function sectionPingpong(pl: Plan): Promise<void> {
  log(`\n## Raw Node UDP ping-pong (the stop-and-wait bound)\n`);
  log(`Command: \`node dist/bench/pingpong.js --size MSS --flows N --seconds ${pl.pingSeconds}\` (client and echo are separate processes; the client sends MSS bytes, the echo answers 8).\n`);
  const rows = [['MSS', 'flows', 'round trips/s', 'per flow/s', 'RTT p50 us', 'RTT p99 us', 'bound MB/s (all flows)', 'bound MB/s (one flow)', 'bound Mbit/s (one flow)']];
  for (const size of pl.pingSizes) {
    for (const flows of pl.pingFlows) {
      if (flows > 1 && size !== 1000 && pl.quick) continue;
      const r = await pingpong({ size, flows, seconds: pl.pingSeconds, warmup: 0.3, block: 3 });
      pings.push(r);
      rows.push([
        String(size),
        String(flows),
        r.roundTripsPerSec.toFixed(0),
        r.perFlowRoundTripsPerSec.toFixed(0),
        r.rttP50Us.toFixed(1),
        r.rttP99Us.toFixed(1),
        (r.boundBytesPerSec / 1e6).toFixed(2),
        (r.perFlowBoundBytesPerSec / 1e6).toFixed(2),
        ((r.perFlowBoundBytesPerSec * 8) / 1e6).toFixed(1),
      ]);
    }
  }
  log(mdTable(rows));
}

async function sectionThroughput(pl: Plan, dir: string): Promise<void> {
  const file = cachedSeededFile(dir, pl.tpBytes, 1);
  log(`\n## Throughput, P=0: ${mib(pl.tpBytes)} file (seed 1), MSS ${pl.tpMss.join('/')}, ${pl.tpReceivers.join('/')} receivers, both modes\n`);
  log(`Receivers: ${pl.tpReceivers.map((n) => `${n}: ${hostingFor(n) === 'procs' ? 'p2mpserver processes' : 'receiver farm'}`).join(', ')}; runs per point: ${pl.tpReceivers.map((n) => `${n} receivers ${pl.runsFor(n)}`).join(', ')}. Threads: default.`);
  log(`Time = the sender's transfer time (its summary's total: pool start to the last receiver done); loop = the slowest receiver's own loop time (thread start-up excluded); wall = the p2mpclient process. Aggregate goodput = receivers x file bytes / time. Ratio = per-receiver goodput over its loop time / the one-flow ping-pong bound of the same MSS; "vs raw N flows" = aggregate over loop time / the raw N-flow ping-pong aggregate.\n`);
  let example = '';
  const rows = [['MSS', 'receivers', 'mode', 'time s', 'loop s', 'wall s', 'aggregate Mbit/s', 'per receiver Mbit/s (loop)', 'ratio to 1-flow bound', 'vs raw N flows', 'timeouts (P=0)']];
  for (const mss of pl.tpMss) {
    for (const n of pl.tpReceivers) {
      for (const mode of MODES) {
        const p = await measure(
          'throughput',
          { mss, receivers: n, mode },
          { receivers: n, mode, mss, file, fileBytes: pl.tpBytes, p: 0, seed: 1, hosting: hostingFor(n), verify: true, workDir: dir },
          pl.runsFor(n),
        );
        example ||= p.runs[0]!.command;
        const t = med(p, (r) => r.transferMs);
        const loop = med(p, (r) => r.loopMs);
        const agg = mbps(n * pl.tpBytes, t);
        const perLoop = mbps(pl.tpBytes, loop);
        const one = pingFor(mss, 1);
        const nflow = pingFor(mss, n);
        rows.push([
          String(mss),
          String(n),
          mode,
          secs(t),
          secs(loop),
          secs(med(p, (r) => r.wallMs)),
          fmt(agg, 1),
          fmt(perLoop, 1),
          one ? fmt(perLoop / ((one.perFlowBoundBytesPerSec * 8) / 1e6), 2) : '-',
          nflow ? fmt((n * perLoop) / ((nflow.boundBytesPerSec * 8) / 1e6), 2) : '-',
          String(med(p, (r) => r.timeouts)),
        ]);
        log(`  ${rows[rows.length - 1]!.join('  ')}`);
      }
    }
  }
  log(`\nExample command: \`${example}\`\n`);
  log(mdTable(rows));
}

async function sectionHosting(pl: Plan, dir: string): Promise<void> {
  const bytes = pl.tpBytes;
  const file = cachedSeededFile(dir, bytes, 1);
  log(`\n## Receiver hosting: separate p2mpserver processes vs one receiver farm (MSS 1000, P=0, ${mib(bytes)}, independent)\n`);
  const rows = [['receivers', 'hosting', 'time s', 'aggregate Mbit/s', 'timeouts', 'farm CPU s', 'farm loop delay p99 ms']];
  for (const n of pl.quick ? [1, 3] : [1, 3, 10]) {
    for (const hosting of ['procs', 'farm'] as Hosting[]) {
      const p = await measure('hosting', { receivers: n, hosting }, { receivers: n, mode: 'independent', mss: 1000, file, fileBytes: bytes, p: 0, seed: 1, hosting, workDir: dir }, pl.runsFor(n));
      const t = med(p, (r) => r.transferMs);
      rows.push([
        String(n),
        hosting,
        secs(t),
        fmt(mbps(n * bytes, t), 1),
        String(med(p, (r) => r.timeouts)),
        hosting === 'farm' ? fmt(med(p, (r) => (r.farm?.cpuMs ?? Number.NaN) / 1000), 2) : '-',
        hosting === 'farm' ? fmt(med(p, (r) => r.farm?.loopDelayP99Ms ?? Number.NaN), 1) : '-',
      ]);
    }
  }
  log(mdTable(rows));
}

async function sectionLoss(pl: Plan, dir: string): Promise<void> {
  const bytes = 2 ** 20;
  const file = cachedSeededFile(dir, bytes, 2);
  log(`\n## Under loss: 1 MiB (seed 2), 3 receivers (p2mpserver processes), MSS 500, P=0.05, ${pl.lossRuns} runs, median\n`);
  log(`Loss seeds: run k (0-based) uses receiver seeds 1000k+1, 1000k+2, 1000k+3. RTO floor: default.\n`);
  const rows = [['mode', 'median time s', 'min s', 'max s', 'median wall s', 'timeouts (median)', 'drops (median)', 'spurious retx (median)', 'runs']];
  let example = '';
  for (const mode of MODES) {
    const p = await measure('loss', { mode }, { receivers: 3, mode, mss: 500, file, fileBytes: bytes, p: 0.05, seed: 1, hosting: 'procs', verify: true, workDir: dir }, pl.lossRuns, 1000);
    example ||= p.runs[0]!.command;
    const ts = p.runs.map((r) => r.transferMs);
    rows.push([
      mode,
      secs(median(ts)),
      secs(Math.min(...ts)),
      secs(Math.max(...ts)),
      secs(med(p, (r) => r.wallMs)),
      String(med(p, (r) => r.timeouts)),
      String(med(p, (r) => r.drops)),
      String(med(p, (r) => r.duplicates)),
      ts.map((t) => secs(t)).join(' '),
    ]);
  }
  log(`Example command: \`${example}\`\n`);
  log(mdTable(rows));
}

async function sectionBig(pl: Plan, dir: string): Promise<void> {
  if (pl.bigBytes === 0) return;
  const file = cachedSeededFile(dir, pl.bigBytes, 3);
  log(`\n## ${mib(pl.bigBytes)} (seed 3) to 3 receivers (p2mpserver processes), MSS 2048, P=0\n`);
  const rows = [['mode', 'median time s', 'median wall s', 'aggregate Mbit/s', 'timeouts', 'runs']];
  let example = '';
  for (const mode of MODES) {
    const p = await measure('big', { mode }, { receivers: 3, mode, mss: 2048, file, fileBytes: pl.bigBytes, p: 0, seed: 1, hosting: 'procs', verify: true, workDir: dir }, pl.runsFor(3));
    example ||= p.runs[0]!.command;
    const t = med(p, (r) => r.transferMs);
    rows.push([mode, secs(t), secs(med(p, (r) => r.wallMs)), fmt(mbps(3 * pl.bigBytes, t), 1), String(med(p, (r) => r.timeouts)), p.runs.map((r) => secs(r.transferMs)).join(' ')]);
  }
  log(`Example command: \`${example}\`\n`);
  log(mdTable(rows));
}

async function sectionMemory(pl: Plan, dir: string): Promise<void> {
  const file = cachedSeededFile(dir, pl.memBytes, 4);
  log(`\n## Memory: sender's peak RSS, ${mib(pl.memBytes)} file (seed 4) to ${pl.memReceivers} receivers (receiver farm), MSS 2048, P=0, independent\n`);
  const spec: TransferSpec = { receivers: pl.memReceivers, mode: 'independent', mss: 2048, file, fileBytes: pl.memBytes, p: 0, seed: 1, hosting: 'farm', verify: true, workDir: dir };
  const r = (await measure('memory', { receivers: pl.memReceivers }, { ...spec, peakRss: true }, 1)).runs[0]!;
  const how = peakRssOptions().how;
  const peakMiB = (r.maxRssKiB ?? Number.NaN) / 1024;
  const limitMiB = pl.memBytes / 2 ** 20 + 150;
  log(`Command: \`${r.command}\` (measured with ${how})\n`);
  log(
    mdTable([
      ['file', 'receivers', 'peak RSS MiB', 'file + 150 MiB', 'peak - file MiB', 'time s', 'completed', 'identical'],
      [mib(pl.memBytes), String(pl.memReceivers), fmt(peakMiB, 1), fmt(limitMiB, 0), fmt(peakMiB - pl.memBytes / 2 ** 20, 1), secs(r.transferMs), `${r.completed}/${pl.memReceivers}`, `${r.identical ?? '-'}/${pl.memReceivers}`],
    ]),
  );
}

/** Issue 3's scale check: 200 receivers on 127.0.4.x (one address each, one port), every copy identical. */
async function sectionScale(pl: Plan, dir: string): Promise<void> {
  const n = 200;
  const bytes = pl.quick ? 256 * 1024 : 2 ** 20;
  const file = cachedSeededFile(dir, bytes, 7);
  log(`\n## Scale: ${n} receivers (receiver farm, ${addresses(n)[0]}-${addresses(n)[n - 1]}, one port), ${mib(bytes)} (seed 7), MSS 1000, P=0, default threads\n`);
  const rows = [['mode', 'time s', 'wall s', 'aggregate Mbit/s', 'completed', 'identical (SHA-256)', 'timeouts']];
  let example = '';
  for (const mode of MODES) {
    const p = await measure('scale', { receivers: n, mode }, { receivers: n, mode, mss: 1000, file, fileBytes: bytes, p: 0, seed: 1, hosting: 'farm', verify: true, workDir: dir }, 1);
    const r = p.runs[0]!;
    example ||= r.command;
    rows.push([mode, secs(r.transferMs), secs(r.wallMs), fmt(mbps(n * bytes, r.transferMs), 1), `${r.completed}/${n}`, `${r.identical ?? '-'}/${n}`, String(r.timeouts)]);
  }
  log(`Command: \`${example}\`\n`);
  log(mdTable(rows));
}

async function sectionThreads(pl: Plan, dir: string): Promise<void> {
  if (pl.threadReceivers.length === 0) return;
  const file = cachedSeededFile(dir, pl.tpBytes, 1);
  log(`\n## --threads sweep: ${mib(pl.tpBytes)}, MSS 1000, P=0; threads ${pl.threadCounts.join('/')} (the pool never has more threads than receivers)\n`);
  log(`Default today: min(receivers, cores) = min(n, ${os.availableParallelism()}).\n`);
  const rows = [['receivers', 'mode', ...pl.threadCounts.map((t) => `${t} thread${t > 1 ? 's' : ''}: time s (Mbit/s)`)]];
  for (const n of pl.threadReceivers) {
    for (const mode of MODES) {
      if (n === 50 && mode === 'lockstep') continue;
      const cells: string[] = [];
      for (const threads of pl.threadCounts) {
        if (threads > n) {
          cells.push('-');
          continue;
        }
        const p = await measure('threads', { receivers: n, mode, threads }, { receivers: n, mode, mss: 1000, file, fileBytes: pl.tpBytes, p: 0, seed: 1, hosting: hostingFor(n), threads, workDir: dir }, pl.runsFor(n));
        const t = med(p, (r) => r.transferMs);
        cells.push(`${secs(t)} (${fmt(mbps(n * pl.tpBytes, t), 1)})`);
      }
      rows.push([String(n), mode, ...cells]);
      log(`  ${rows[rows.length - 1]!.join('  ')}`);
    }
  }
  log('');
  log(mdTable(rows));
}

/**
 * Where one receiver's time per segment goes: the raw ping-pong, then with each thing the real programs do
 * per segment added, then the real p2mpclient -> p2mpserver. Rungs are interleaved (rep by rep) so that
 * drifting load on the machine hits them alike; medians over the reps.
 */
async function sectionLadder(pl: Plan, dir: string): Promise<void> {
  const reps = pl.quick ? 2 : 3;
  const seconds = pl.quick ? 0.5 : 1;
  const bytes = pl.quick ? 2 * 2 ** 20 : 10 * 2 ** 20;
  const file = cachedSeededFile(dir, bytes, 1);
  type Rung = { name: string; ladder?: Ladder; real?: 'echo' | 'server' };
  const rungs: Rung[] = [
    { name: '1 raw ping-pong (main thread, one reused buffer, constant answer)', ladder: {} },
    { name: '2 = 1 + client loop in a worker thread', ladder: { clientWorker: true } },
    { name: '3 = 1 + a fresh datagram allocated per send', ladder: { clientAlloc: true } },
    { name: '4 = 1 + the echo writes each payload (fs.writeSync)', ladder: { echoWrite: true } },
    { name: '5 = 2 + 3 + 4', ladder: { clientWorker: true, clientAlloc: true, echoWrite: true } },
    { name: '6 real DATA segments (encodeData) from a worker -> ACK echo (no write)', ladder: { clientWorker: true, clientSegments: true, echoAck: true } },
    { name: '7 real DATA segments from a worker -> p2mpserver (the real receiver)', ladder: { clientWorker: true, clientSegments: true, peer: 'server' } },
    { name: '8 p2mpclient (the real sender) -> ACK echo', real: 'echo' },
    { name: '9 p2mpclient -> p2mpserver (both real)', real: 'server' },
  ];
  const us: number[][] = rungs.map(() => []);
  const segs = Math.ceil(bytes / 992) + 1;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rungs.length; i++) {
      const r = rungs[i]!;
      if (r.ladder) {
        const pp = await pingpong({ size: 1000, flows: 1, seconds, warmup: 0.2, block: 3, ...r.ladder });
        us[i]!.push(1e6 / pp.roundTripsPerSec);
      } else if (r.real === 'server') {
        const t = await runTransfer({ receivers: 1, mode: 'independent', mss: 1000, file, fileBytes: bytes, p: 0, seed: 1, hosting: 'procs', workDir: dir });
        us[i]!.push((t.loopMs * 1000) / segs);
      } else {
        // The real sender against an echo that answers every segment with its ACK at once.
        const addrs = addresses(1, 3);
        const port = await freePort(addrs);
        const echoProc = start(PINGPONG, ['--echo', '--echo-ack', '--port', String(port), '--flows', '1', '--block', '3'], { ready: /echo ready/ });
        await echoProc.ready;
        const c = await run(CLIENT, ['--json', addrs[0]!, String(port), file, '1000']);
        echoProc.child.kill('SIGTERM');
        await echoProc.done;
        const sum = lastJson<Summary>(c.stdout);
        us[i]!.push(sum ? (Math.max(...sum.receivers.map((x) => x.timeMs)) * 1000) / segs : Number.NaN);
      }
    }
  }
  log(`\n## Per-segment ladder, one receiver, MSS 1000 (${reps} interleaved reps, microseconds per round trip: median, and the minimum, the least disturbed by other load)\n`);
  log(`Commands: \`node dist/bench/pingpong.js --size 1000 --seconds ${seconds} [--client-worker] [--client-alloc] [--echo-write] [--client-segments] [--echo-ack] [--peer server]\`; rows 8-9: p2mpclient, ${mib(bytes)}, loop time / segments. Row 7 - row 6 = what the real receiver adds per segment; row 8 - row 6 = what the real sender adds.\n`);
  const rows = [['rung', 'us per round trip (median)', 'min', 'all reps']];
  rungs.forEach((r, i) => rows.push([r.name, fmt(median(us[i]!), 1), fmt(Math.min(...us[i]!), 1), us[i]!.map((x) => x.toFixed(1)).join(' ')]));
  log(mdTable(rows));
}

async function main(o: Options): Promise<void> {
  const quick = o.quick === true;
  const pl = plan(quick, o.runs === undefined ? undefined : Number(o.runs));
  // --quick leaves out the per-segment ladder unless asked for by name (it alone would take ~15 s).
  const only = o.only ? (o.only.split(',') as Section[]) : SECTIONS.filter((x) => !(quick && x === 'ladder'));
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section '${s}' (sections: ${SECTIONS.join(', ')})`);
  const dir = o.dir ?? tempDir('bench');
  const m = machine();
  const started = Date.now();
  log(`# p2mp-ftp loopback benchmarks${quick ? ' (--quick)' : ''}`);
  log(`\n${describeMachine(m)}; /usr/bin/time -v ${m.timeV ? 'available' : 'not available'}`);
  log(`command: node ${process.argv.slice(1).map((a) => path.relative(process.cwd(), a) || a).join(' ')}; sections: ${only.join(', ')}; started ${new Date(started).toISOString()}`);
  try {
    if (only.includes('pingpong') || only.includes('throughput')) await sectionPingpong(pl);
    if (only.includes('throughput')) await sectionThroughput(pl, dir);
    if (only.includes('hosting')) await sectionHosting(pl, dir);
    if (only.includes('loss')) await sectionLoss(pl, dir);
    if (only.includes('big')) await sectionBig(pl, dir);
    if (only.includes('memory')) await sectionMemory(pl, dir);
    if (only.includes('scale')) await sectionScale(pl, dir);
    if (only.includes('threads')) await sectionThreads(pl, dir);
    if (only.includes('ladder')) await sectionLadder(pl, dir);
    if (only.includes('throughput')) {
      // The bound again, to show how much the machine drifted during the run.
      const again = await pingpong({ size: 1000, flows: 1, seconds: pl.pingSeconds, warmup: 0.3, block: 3 });
      const before = pingFor(1000, 1);
      log(`\nPing-pong MSS 1000, one flow, at the end: ${again.roundTripsPerSec.toFixed(0)} round trips/s (at the start: ${before?.roundTripsPerSec.toFixed(0) ?? '-'}).`);
    }
  } finally {
    if (o.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(0)} s; load average now ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (o.json) {
    const strip = (r: TransferResult): object => ({ ...r, clientStdout: undefined, clientStderr: undefined, summary: r.summary?.total });
    fs.writeFileSync(o.json, `${JSON.stringify({ machine: m, quick, pings, points: points.map((p) => ({ ...p, runs: p.runs.map(strip) })) }, null, 1)}\n`);
    log(`wrote ${o.json}`);
  }
}

const program = new Command('bench')
  .description('Loopback benchmarks of p2mp-ftp (see BENCHMARKS.md).')
  .option('--quick', 'a short run (under a minute)')
  .option('--only <sections>', `comma-separated sections: ${SECTIONS.join(', ')}`)
  .option('--runs <n>', 'runs per point (default 3 for 1-3 receivers, 2 for 10, 1 for 50; 5 for the loss section)')
  .option('--json <file>', 'also write all measurements as JSON')
  .option('--dir <dir>', 'work directory for generated files (kept; default: a temporary one, removed)')
  .action(main);

await program.parseAsync(process.argv);
