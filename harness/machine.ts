// The machine a measurement ran on, for the record next to every timing, and its peak-memory probe.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIST } from './paths.js';

/** GNU time: with -v it reports a child's peak RSS on stderr. */
export const TIME_V = '/usr/bin/time';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  os: string;
  memGiB: number;
  loadavg: number[];
  timeV: boolean;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    timeV: hasTimeV(),
  };
}

export function describeMachine(m: Machine): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, node ${m.node}, ${m.os}, load average ${m.loadavg.join(' ')}`;
}

let timeV: boolean | undefined;
/** Whether GNU time is installed. */
export function hasTimeV(): boolean {
  if (timeV === undefined) {
    try {
      fs.accessSync(TIME_V, fs.constants.X_OK);
      timeV = true;
    } catch {
      timeV = false;
    }
  }
  return timeV;
}

/** Node flags that make a child print its peak RSS and CPU time at exit (the maxrss.js probe), for parseMaxRssKiB and parseCpuSeconds. */
export const PROBE_NODE_ARGS = ['--import', path.join(DIST, 'harness/maxrss.js')];

/**
 * How to measure a node child's peak RSS here: start it with these options (see procs.ts), then read
 * parseMaxRssKiB of its stderr. GNU time -v where installed, else the maxrss.js probe.
 */
export function peakRssOptions(): { launcher?: string[]; nodeArgs?: string[]; how: string } {
  return hasTimeV()
    ? { launcher: [TIME_V, '-v'], how: '/usr/bin/time -v (Maximum resident set size)' }
    : { nodeArgs: PROBE_NODE_ARGS, how: 'process.resourceUsage().maxRSS at exit' };
}

/** A child's CPU time (user + system, s) from the stderr of a child started with PROBE_NODE_ARGS. */
export function parseCpuSeconds(stderr: string): number | undefined {
  const m = /^cpu-us: (\d+) (\d+)$/m.exec(stderr);
  return m ? (Number(m[1]) + Number(m[2])) / 1e6 : undefined;
}

/** Peak RSS in KiB from the stderr of a child started with peakRssOptions(). */
export function parseMaxRssKiB(stderr: string): number | undefined {
  const m = /Maximum resident set size \(kbytes\): (\d+)|maxrss-kib: (\d+)/.exec(stderr);
  return m ? Number(m[1] ?? m[2]) : undefined;
}
