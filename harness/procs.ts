// Child processes for the tests, the benchmarks and the demo: `node SCRIPT ARGS` (optionally under a launcher
// such as `ip netns exec NS` or `/usr/bin/time -v`), its output collected, a promise for its ready line and one
// for its end. Every child still running can be killed at once: the test suite does so after each file, so a
// failed test leaves no receiver waiting for a sender that will never come.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SERVER } from './paths.js';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the spawn to the end, ms (node start-up included). */
  wallMs: number;
}

export interface Proc {
  child: ChildProcess;
  /** Resolves once a line of stdout or stderr matches the ready pattern, or when the process ends. */
  ready: Promise<void>;
  done: Promise<Finished>;
  /** stdout so far. */
  stdout(): string;
  /** stdout and stderr so far. */
  output(): string;
}

export interface StartOptions {
  /** What the process prints once it is ready; default: p2mpserver's "listening on" line. */
  ready?: RegExp;
  /** Node flags (e.g. --cpu-prof), before the script. */
  nodeArgs?: string[];
  /** A command that runs node, as [program, ...args]: ['ip', 'netns', 'exec', NS], ['/usr/bin/time', '-v']. */
  launcher?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (needs root). */
  uid?: number;
  gid?: number;
  /** Also copy every output line to this process's stdout/stderr, after this prefix (the demo). */
  echo?: string;
  /** Give the child a stdin pipe: it reads end-of-file when this process ends, even by a crash. */
  stdinPipe?: boolean;
}

const LISTENING = /listening on/;
const running = new Set<ChildProcess>();

/** SIGKILL every child started here that is still running. */
export function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}

export function start(script: string, args: string[], o: StartOptions = {}): Proc {
  if (!fs.existsSync(script)) throw new Error(`${script} does not exist: run \`npm run build\` first`);
  const [cmd, ...rest] = [...(o.launcher ?? []), process.execPath, ...(o.nodeArgs ?? []), script, ...args] as [string, ...string[]];
  const child = spawn(cmd, rest, { stdio: [o.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'], cwd: o.cwd, env: o.env ?? process.env, uid: o.uid, gid: o.gid });
  running.add(child);
  const t0 = performance.now();
  const ready = o.ready ?? LISTENING;
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const readyP = new Promise<void>((r) => (markReady = r));
  const collect = (stream: NodeJS.ReadableStream, to: NodeJS.WritableStream, add: (d: string) => string): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      if (ready.test(add(d))) markReady();
      if (o.echo === undefined) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) to.write(`${o.echo}${line}\n`);
    });
  };
  collect(child.stdout!, process.stdout, (d) => (stdout += d));
  collect(child.stderr!, process.stderr, (d) => (stderr += d));
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      markReady();
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - t0 });
    }),
  );
  return { child, ready: readyP, done, stdout: () => stdout, output: () => stdout + stderr };
}

export function run(script: string, args: string[], o: StartOptions = {}): Promise<Finished> {
  return start(script, args, o).done;
}

/** Where startReceivers' receiver on `address` writes its file. */
export const receivedFile = (dir: string, address: string): string => path.join(dir, `out-${address}.bin`);

export interface ReceiversOptions {
  /** More p2mpserver options (--quiet is always given). */
  args?: string[];
  /** Loss-service seed of the first receiver; receiver i uses seed + i. Default 1. */
  seed?: number;
  nodeArgs?: string[];
  /** Copy each receiver's output lines to this process, after this prefix (the demo). */
  echo?: (address: string) => string;
}

/** One p2mpserver per address, all on `port`, loss probability `p`; resolves once every one is listening (or ended). */
export async function startReceivers(addresses: string[], port: number, dir: string, p: number, o: ReceiversOptions = {}): Promise<Proc[]> {
  const seed = o.seed ?? 1;
  const procs = addresses.map((a, i) =>
    start(SERVER, ['--bind', a, '--seed', String(seed + i), '--quiet', ...(o.args ?? []), String(port), receivedFile(dir, a), String(p)], {
      nodeArgs: o.nodeArgs,
      echo: o.echo?.(a),
    }),
  );
  await Promise.all(procs.map((r) => r.ready));
  return procs;
}
