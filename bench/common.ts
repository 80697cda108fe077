// Shared helpers for the loopback benchmarks: machine description, statistics, deterministic files,
// address/port allocation on 127.0.3.x-127.0.5.x, and child processes that print a ready line.
// Benchmarks only ever send to 127.0.0.0/8.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/ (this file runs as dist/bench/common.js). */
export const DIST = path.resolve(here, '..');
export const SERVER = path.join(DIST, 'src/cli/server.js');
export const CLIENT = path.join(DIST, 'src/cli/client.js');
export const FARM = path.join(DIST, 'bench/receiver-farm.js');
export const PINGPONG = path.join(DIST, 'bench/pingpong.js');
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

let timeVChecked: boolean | undefined;
/** Whether GNU time with -v is available (it reports the peak RSS of a child). */
export function hasTimeV(): boolean {
  if (timeVChecked === undefined) {
    try {
      fs.accessSync(TIME_V, fs.constants.X_OK);
      timeVChecked = true;
    } catch {
      timeVChecked = false;
    }
  }
  return timeVChecked;
}

export function describeMachine(m: Machine): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, node ${m.node}, ${m.os}, load average ${m.loadavg.join(' ')}`;
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (xs: number[]): number => quantile(xs, 0.5);

/** Deterministic pseudo-random bytes (xorshift32 from a numeric seed): fast enough for 200 MiB. */
export function makeFile(file: string, size: number, seed: number): void {
  const chunk = 1 << 20;
  const fd = fs.openSync(file, 'w');
  try {
    let x = seed >>> 0 || 0x9e3779b9;
    const buf = Buffer.alloc(chunk);
    const words = new Uint32Array(buf.buffer, buf.byteOffset, chunk / 4);
    for (let off = 0; off < size; off += chunk) {
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x >>> 0;
      }
      fs.writeSync(fd, buf, 0, Math.min(chunk, size - off));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A file of `size` bytes from `seed`, generated once per bench directory. */
export function cachedFile(dir: string, size: number, seed: number): string {
  const file = path.join(dir, `src-${size}-${seed}.bin`);
  if (!fs.existsSync(file) || fs.statSync(file).size !== size) makeFile(file, size, seed);
  return file;
}

export function sha256(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Receiver i's address: 127.0.<block>.<1 + i % 250>, counting blocks from `block` (3, 4 or 5; 6 and 7 are the experiments'). */
export function address(i: number, block = 4): string {
  const b = block + Math.floor(i / 250);
  if (b > 7) throw new RangeError(`receiver ${i} is outside 127.0.3.x-127.0.7.x`);
  return `127.0.${b}.${1 + (i % 250)}`;
}

export function addresses(n: number, block = 4): string[] {
  return Array.from({ length: n }, (_, i) => address(i, block));
}

/** A UDP port that binds on every one of `addrs` right now (checked, then released). */
export async function freePort(addrs: string[], lo = 42000, hi = 48999): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    const sockets: dgram.Socket[] = [];
    let ok = true;
    for (const a of addrs) {
      const s = dgram.createSocket('udp4');
      sockets.push(s);
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind({ port, address: a, exclusive: true }, () => resolve(true));
      });
      if (!ok) break;
    }
    await Promise.all(sockets.map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    if (ok) return port;
  }
  throw new Error('no free UDP port found');
}

export interface Proc {
  child: ChildProcess;
  /** Resolves once a stdout or stderr line matches `readyPattern` (or the process ended). */
  ready: Promise<void>;
  /** stdout and stderr so far. */
  output(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; wallMs: number }>;
}

/**
 * Start `node script args`, collecting its output: under /usr/bin/time -v with `timeV`, or after a command
 * prefix (e.g. clinic's `doctor --dest DIR --`) given as [program, ...args] with `prefix`.
 */
export function startNode(
  script: string,
  args: string[],
  o: { readyPattern?: RegExp; timeV?: boolean; nodeArgs?: string[]; cwd?: string; prefix?: string[]; env?: NodeJS.ProcessEnv } = {},
): Proc {
  const nodeCmd = [process.execPath, ...(o.nodeArgs ?? []), script, ...args];
  const prefix = o.prefix ?? (o.timeV ? [TIME_V, '-v'] : []);
  const [cmd, ...rest] = [...prefix, ...nodeCmd] as [string, ...string[]];
  const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], cwd: o.cwd, env: o.env ?? process.env });
  const t0 = performance.now();
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  const check = (): void => {
    if (o.readyPattern && (o.readyPattern.test(stdout) || o.readyPattern.test(stderr))) markReady();
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    check();
  });
  if (!o.readyPattern) markReady();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; wallMs: number }>((resolve) =>
    child.on('close', (code, signal) => {
      markReady();
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - t0 });
    }),
  );
  return { child, ready, done, output: () => stdout + stderr };
}

/** Peak RSS in KiB from GNU time -v output on stderr. */
export function parseMaxRssKiB(stderr: string): number | undefined {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** The last line of `text` that parses as a JSON object. */
export function lastJson<T>(text: string): T | undefined {
  const lines = text.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l) as T;
    } catch {
      /* not this one */
    }
  }
  // A pretty-printed document (p2mpclient --json) spans many lines.
  const start = text.indexOf('{');
  if (start >= 0) {
    try {
      return JSON.parse(text.slice(start, text.lastIndexOf('}') + 1)) as T;
    } catch {
      /* none */
    }
  }
  return undefined;
}

export const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
export const mbps = (bytes: number, ms: number): number => (ms > 0 ? (bytes * 8) / (ms * 1000) : 0);

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** Markdown table from rows (first row is the header). */
export function mdTable(rows: string[][]): string {
  const [head, ...body] = rows;
  return [`| ${head!.join(' | ')} |`, `|${head!.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
