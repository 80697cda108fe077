#!/usr/bin/env node
// npm run bench:multicast: IP multicast against unicast fan-out between network namespaces (issue 12), as root.
// One sender and N receiver namespaces on one bridge (harness/netns.ts; DEVELOPERS.md has the recipe), the same
// file, MSS and --window for every run. In rounds, each round runs every mode back to back in a rotated order, so
// the machine's noise hits every mode alike:
//   multicast          --multicast 239.1.2.4 --interface SENDER (lockstep, SACK, one thread: what it implies)
//   unicast            --sack, the default mode (independent) and threads (min(receivers, cores))
//   unicast-lockstep   --sack --mode lockstep (one thread, like multicast: the same structure, N copies)
// Per run: aggregate goodput (the receivers' bytes / the sender's transfer time, its --json total.timeMs), the
// sender's CPU time (user + system of the p2mpclient process, worker threads included, measured by the process
// itself at exit: harness/maxrss.ts), total.datagramsSent and the bytes its eth0 put on the bridge. Medians over
// the rounds. The group exists only on the bridge, at TTL 1; every namespace is deleted at the end (or by the next
// run, if this one is killed).
//
//   npm run bench:multicast [-- --receivers 20] [--size 4MiB] [--mss 1400] [--window 16] [--p 0] [--rounds 3]
//                           [--modes multicast,unicast,unicast-lockstep] [--seed S] [--json FILE]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { sha256File, writeSeededFile } from '../harness/files.js';
import { fmt, mdTable, median } from '../harness/format.js';
import { describeMachine, machine, parseCpuSeconds, PROBE_NODE_ARGS } from '../harness/machine.js';
import { createTopology, startIn, startReceiversIn, txBytes, type NsHost } from '../harness/netns.js';
import { CLIENT } from '../harness/paths.js';
import { receivedFile } from '../harness/procs.js';
import { parseInteger, parseProbability, parseSize } from '../sim/args.js';
import type { Summary } from '../src/cli/summary.js';
import { lastJson } from './common.js';

const GROUP = '239.1.2.4';
const PORT = 7735;
const MODES = {
  multicast: { client: (sender: NsHost) => ['--multicast', GROUP, '--interface', sender.addr], server: [] as string[], multicast: true },
  unicast: { client: () => ['--sack'], server: ['--sack'], multicast: false },
  'unicast-lockstep': { client: () => ['--sack', '--mode', 'lockstep'], server: ['--sack'], multicast: false },
};
type Mode = keyof typeof MODES;

interface Options {
  receivers: number;
  size: number;
  mss: number;
  window: number;
  p: number;
  rounds: number;
  modes: string;
  seed: string;
  json?: string;
}

interface RunResult {
  mode: Mode;
  round: number;
  complete: number;
  identical: number;
  timeMs: number;
  goodputMbps: number;
  cpuS: number;
  datagramsSent: number;
  segments: number;
  senderTxBytes: number;
  retransmissions: number;
}

async function runOnce(mode: Mode, round: number, hosts: NsHost[], o: Options, src: string, workDir: string): Promise<RunResult> {
  const [sender, ...receivers] = hosts as [NsHost, ...NsHost[]];
  const m = MODES[mode];
  const out = fs.mkdtempSync(path.join(workDir, `${mode}-`));
  try {
    const servers = await startReceiversIn(receivers, PORT, out, o.p, { seed: `${o.seed}-${round}`, multicast: m.multicast ? GROUP : undefined, args: ['--quiet', ...m.server] });
    const tx0 = txBytes(sender.ns);
    const args = ['--json', '--window', String(o.window), ...m.client(sender), ...receivers.map((h) => h.addr), String(PORT), src, String(o.mss)];
    const c = await startIn(sender.ns, CLIENT, args, { nodeArgs: PROBE_NODE_ARGS }).done;
    const senderTxBytes = txBytes(sender.ns) - tx0;
    await Promise.all(servers.map((s) => s.done));
    const s = lastJson<Summary>(c.stdout);
    const cpuS = parseCpuSeconds(c.stderr);
    if (s === undefined || cpuS === undefined) throw new Error(`${mode}: no summary or CPU time (exit ${c.code}): ${c.stderr.slice(0, 400)}`);
    const want = sha256File(src);
    const identical = receivers.filter((h) => fs.existsSync(receivedFile(out, h.addr)) && sha256File(receivedFile(out, h.addr)) === want).length;
    return {
      mode,
      round,
      complete: s.total.complete,
      identical,
      timeMs: s.total.timeMs,
      goodputMbps: (s.total.bytes * 8) / (s.total.timeMs * 1000),
      cpuS,
      datagramsSent: s.total.datagramsSent,
      segments: s.receivers[0]!.segmentsTotal,
      senderTxBytes,
      retransmissions: s.total.retransmissions,
    };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

async function main(o: Options): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:multicast needs root: it creates network namespaces (ip netns)');
  const modes = o.modes.split(',').map((x) => x.trim()) as Mode[];
  for (const m of modes) if (!(m in MODES)) throw new Error(`unknown mode '${m}' (${Object.keys(MODES).join(', ')})`);
  const start = machine();
  console.log(describeMachine(start));
  console.log(`1 sender + ${o.receivers} receiver namespaces on one bridge, ${o.size} bytes, MSS ${o.mss}, --window ${o.window}, P=${o.p}, ${o.rounds} rounds of ${modes.join(' / ')}`);
  // One /24 (harness/netns.ts): the sender at .1, receivers from .11.
  if (o.receivers < 1 || o.receivers > 240) throw new Error('--receivers: 1 to 240');
  const hosts = [{ name: 's', addr: '127.1.0.1' }, ...Array.from({ length: o.receivers }, (_, i) => ({ name: `r${i + 1}`, addr: `127.1.0.${11 + i}` }))];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2mp-bench-mcast-'));
  const topology = createTopology('bench', hosts, { multicast: true });
  const stop = (): void => {
    topology.destroy();
    fs.rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  const results: RunResult[] = [];
  try {
    const src = path.join(workDir, 'src.bin');
    writeSeededFile(src, o.size, o.seed);
    for (let round = 0; round < o.rounds; round++) {
      for (const [i] of modes.entries()) {
        const mode = modes[(i + round) % modes.length]!;
        const r = await runOnce(mode, round, topology.hosts, o, src, workDir);
        results.push(r);
        console.log(
          `round ${round + 1} ${mode}: ${r.identical}/${o.receivers} identical in ${fmt(r.timeMs, 0)} ms, ${fmt(r.goodputMbps, 0)} Mbit/s aggregate, sender CPU ${fmt(r.cpuS, 2)} s,` +
            ` datagramsSent ${r.datagramsSent} (${fmt(r.datagramsSent / r.segments, 2)} x ${r.segments} segments), ${fmt(r.senderTxBytes / 2 ** 20, 1)} MiB on the sender's eth0`,
        );
      }
    }
  } finally {
    topology.destroy();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const med = (mode: Mode, k: keyof RunResult): number => median(results.filter((r) => r.mode === mode).map((r) => r[k] as number));
  const rows = [['mode', 'identical', 'transfer s', 'aggregate goodput Mbit/s', 'sender CPU s', 'CPU s per MiB delivered', 'datagramsSent', '/ segments', "MiB on the sender's eth0"]];
  for (const mode of modes) {
    const delivered = (o.size * o.receivers) / 2 ** 20;
    rows.push([
      mode,
      results.filter((r) => r.mode === mode).map((r) => `${r.identical}/${o.receivers}`).join(' '),
      fmt(med(mode, 'timeMs') / 1000, 2),
      fmt(med(mode, 'goodputMbps'), 0),
      fmt(med(mode, 'cpuS'), 2),
      fmt(med(mode, 'cpuS') / delivered, 4),
      fmt(med(mode, 'datagramsSent'), 0),
      fmt(med(mode, 'datagramsSent') / med(mode, 'segments'), 2),
      fmt(med(mode, 'senderTxBytes') / 2 ** 20, 1),
    ]);
  }
  console.log(`\nmedians of ${o.rounds}; load average at the start ${start.loadavg.join(' ')}, at the end ${machine().loadavg.join(' ')}\n${mdTable(rows)}`);
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ machine: start, loadavgEnd: machine().loadavg, options: o, results }, null, 2));
}

const program = new Command('bench:multicast')
  .option('--receivers <n>', 'receiver namespaces', parseInteger, 20)
  .option('--size <bytes>', 'file size (e.g. 4MiB, 2MB)', parseSize, 4 * 2 ** 20)
  .option('--mss <bytes>', 'segment size', parseInteger, 1400)
  .option('--window <n>', '--window for every mode', parseInteger, 16)
  .option('--p <probability>', "the receivers' loss probability", parseProbability, 0)
  .option('--rounds <n>', 'rounds of every mode', parseInteger, 3)
  .option('--modes <list>', `comma-separated: ${Object.keys(MODES).join(', ')}`, Object.keys(MODES).join(','))
  .option('--seed <seed>', 'file and loss-service seed', '12')
  .option('--json <file>', 'also write every run as JSON')
  .action(main);
await program.parseAsync(process.argv);
