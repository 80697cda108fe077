// One benchmark transfer on loopback: start the receivers (separate p2mpserver processes, or one receiver
// farm process), run p2mpclient (optionally measuring its peak RSS, or under any other launcher), wait for
// both sides and collect their JSON summaries.

import fs from 'node:fs';
import path from 'node:path';
import { sha256File } from '../harness/files.js';
import { mbps } from '../harness/format.js';
import { parseMaxRssKiB, peakRssOptions } from '../harness/machine.js';
import { freePort } from '../harness/net.js';
import { CLIENT, ROOT } from '../harness/paths.js';
import { receivedFile, start, startReceivers, type Proc } from '../harness/procs.js';
import type { Summary } from '../src/cli/summary.js';
import type { Mode } from '../src/core/options.js';
import { addresses, FARM, lastJson } from './common.js';
import type { FarmReport } from './receiver-farm.js';

export type Hosting = 'procs' | 'farm';

export interface TransferSpec {
  receivers: number;
  mode: Mode;
  mss: number;
  file: string;
  fileBytes: number;
  p: number;
  /** Loss-service seed of receiver 0; receiver i uses seed + i. */
  seed: number;
  hosting: Hosting;
  threads?: number;
  rtoMin?: number;
  extraClientArgs?: string[];
  /** Options for every p2mpserver (procs hosting only), e.g. --key FILE. */
  extraServerArgs?: string[];
  /** Measure the client's peak RSS (harness peakRssOptions). */
  peakRss?: boolean;
  /** Node flags for the client (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** A command prefix for the client, e.g. clinic: [node, clinic.js, 'doctor', '--dest', DIR, '--']. */
  launcher?: string[];
  /** How to show the launcher in the recorded command (default: its arguments). */
  launcherLabel?: string;
  /** Node flags for the receivers (e.g. --cpu-prof). */
  receiverNodeArgs?: string[];
  /** Check every copy's SHA-256 against the source. */
  verify?: boolean;
  workDir: string;
  /** Address block: 127.0.<block>.x. */
  block?: number;
  /** Replace the client command: [script, ...args before the hosts]; used by the RTT probe. */
  sender?: { script: string; args: string[] };
}

export interface TransferResult {
  spec: TransferSpec;
  port: number;
  /** The command line of the sender, for the record. */
  command: string;
  clientExit: number | null;
  summary: Summary | undefined;
  /** The sender's own transfer time (engine start to the last receiver's end), ms. */
  transferMs: number;
  /** Wall time of the sender process, ms (node start-up and file read included). */
  wallMs: number;
  /** The slowest receiver's loop time (its task's start to its end; thread start-up excluded), ms. */
  loopMs: number;
  maxRssKiB: number | undefined;
  aggregateMbps: number;
  completed: number;
  identical: number | undefined;
  timeouts: number;
  retransmissions: number;
  /** Receivers' side: segments dropped by the loss service and duplicates received (spurious retransmissions). */
  drops: number;
  duplicates: number;
  farm?: FarmReport['farm'];
  clientStdout: string;
  clientStderr: string;
}

interface ServerJson {
  ok: boolean;
  drops: number;
  duplicates: number;
  bytes: number;
}

const RECEIVER_TIMEOUT_MS = 120_000;

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => {
        onTimeout();
        reject(new Error(`timed out after ${ms} ms`));
      }, ms);
    }),
  ]);
}

export async function runTransfer(spec: TransferSpec): Promise<TransferResult> {
  const addrs = addresses(spec.receivers, spec.block ?? 4);
  const outDir = path.join(spec.workDir, 'out');
  fs.mkdirSync(outDir, { recursive: true });
  const rss = spec.peakRss ? peakRssOptions() : undefined;
  const launcher = spec.launcher ?? rss?.launcher;
  const nodeArgs = [...(rss?.nodeArgs ?? []), ...(spec.nodeArgs ?? [])];
  // Paths in the repository are shown relative to the working directory; system programs as they are.
  const shown = (a: string): string => (path.isAbsolute(a) && a.startsWith(ROOT) ? path.relative(process.cwd(), a) : a);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort(addrs);
    let receivers: Proc[];
    if (spec.hosting === 'farm') {
      const args = ['--count', String(spec.receivers), '--port', String(port), '--dir', outDir, '--block', String(spec.block ?? 4), '--p', String(spec.p), '--seed', String(spec.seed), '--linger', '0.3'];
      if (spec.verify) args.push('--verify', spec.file);
      receivers = [start(FARM, args, { ready: /farm: (ready|error)/, nodeArgs: spec.receiverNodeArgs })];
      await receivers[0]!.ready;
    } else {
      receivers = await startReceivers(addrs, port, outDir, spec.p, { seed: spec.seed, args: ['--json', '--linger', '0.3', ...(spec.extraServerArgs ?? [])], nodeArgs: spec.receiverNodeArgs });
    }
    // A receiver that could not bind (the port was taken meanwhile) has ended or said so: try another port.
    const bindFailed = receivers.some((r) => r.child.exitCode !== null || r.child.signalCode !== null || /farm: error/.test(r.output()));
    if (bindFailed) {
      for (const r of receivers) r.child.kill('SIGTERM');
      await Promise.all(receivers.map((r) => r.done));
      if (attempt < 3) continue;
      throw new Error(`receivers could not bind: ${receivers.map((r) => r.output()).join(' ').slice(0, 500)}`);
    }

    const senderScript = spec.sender?.script ?? CLIENT;
    const clientArgs = [
      ...(spec.sender?.args ?? []),
      '--json',
      '--mode',
      spec.mode,
      ...(spec.threads !== undefined ? ['--threads', String(spec.threads)] : []),
      ...(spec.rtoMin !== undefined ? ['--rto-min', String(spec.rtoMin)] : []),
      ...(spec.extraClientArgs ?? []),
      ...addrs,
      String(port),
      spec.file,
      String(spec.mss),
    ];
    const shownHosts = addrs.length > 3 ? [addrs[0]!, '...', addrs[addrs.length - 1]!] : addrs;
    const command = [
      ...(spec.launcherLabel !== undefined ? [spec.launcherLabel] : (launcher ?? []).map(shown)),
      'node',
      ...nodeArgs.map(shown),
      shown(senderScript),
      ...clientArgs.slice(0, clientArgs.length - addrs.length - 3),
      ...shownHosts,
      String(port),
      path.basename(spec.file),
      String(spec.mss),
    ].join(' ');
    const client = start(senderScript, clientArgs, { launcher, nodeArgs });
    const c = await withTimeout(client.done, RECEIVER_TIMEOUT_MS * 5, () => client.child.kill('SIGINT'));
    const outs = await withTimeout(Promise.all(receivers.map((r) => r.done)), RECEIVER_TIMEOUT_MS, () => receivers.forEach((r) => r.child.kill('SIGTERM')));

    const summary = lastJson<Summary>(c.stdout);
    let drops = 0;
    let duplicates = 0;
    let completed = 0;
    let identical: number | undefined;
    let farm: FarmReport['farm'] | undefined;
    if (spec.hosting === 'farm') {
      const rep = lastJson<FarmReport>(outs[0]!.stdout);
      if (rep) {
        farm = rep.farm;
        completed = rep.farm.completed;
        identical = rep.farm.identical;
        for (const r of rep.receivers) {
          drops += r.drops;
          duplicates += r.duplicates;
        }
      }
    } else {
      const want = spec.verify ? sha256File(spec.file) : undefined;
      if (want !== undefined) identical = 0;
      addrs.forEach((a, i) => {
        const s = lastJson<ServerJson>(outs[i]!.stdout);
        if (s) {
          drops += s.drops;
          duplicates += s.duplicates;
          if (s.ok) completed++;
        }
        const copy = receivedFile(outDir, a);
        if (want !== undefined && fs.existsSync(copy) && sha256File(copy) === want) identical!++;
        fs.rmSync(copy, { force: true });
      });
    }
    const transferMs = summary?.total.timeMs ?? Number.NaN;
    return {
      spec,
      port,
      command,
      clientExit: c.code,
      summary,
      transferMs,
      wallMs: c.wallMs,
      loopMs: summary ? Math.max(...summary.receivers.map((r) => r.timeMs)) : Number.NaN,
      maxRssKiB: rss ? parseMaxRssKiB(c.stderr) : undefined,
      aggregateMbps: summary ? mbps(summary.total.bytes, transferMs) : Number.NaN,
      completed,
      identical,
      timeouts: summary?.total.timeouts ?? Number.NaN,
      retransmissions: summary?.total.retransmissions ?? Number.NaN,
      drops,
      duplicates,
      farm,
      clientStdout: c.stdout,
      clientStderr: c.stderr,
    };
  }
}
