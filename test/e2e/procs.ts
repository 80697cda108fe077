// Helpers for end-to-end tests: run the BUILT programs (dist/) as real processes on loopback.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const SERVER = path.join(ROOT, 'dist/src/cli/server.js');
export const CLIENT = path.join(ROOT, 'dist/src/cli/client.js');

if (!fs.existsSync(SERVER) || !fs.existsSync(CLIENT)) throw new Error('end-to-end tests need the build: run `npm run build` (npm test does)');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Proc {
  child: ChildProcess;
  /** Resolves when stderr shows the receiver's "listening on" line (or the process ends). */
  listening: Promise<void>;
  done: Promise<Finished>;
  stdout(): string;
  stderr(): string;
}

// Children still running when a test file ends (a failed or timed-out test) are killed, so no receiver
// is left waiting for a sender that will never come. (Registered when a test file imports this module.)
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** Run `node script args`, optionally through a launcher such as `['ip', 'netns', 'exec', NS]`. */
export function start(script: string, args: string[], launcher: string[] = []): Proc {
  const argv = [...launcher, process.execPath, script, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let markListening: () => void = () => {};
  const listening = new Promise<void>((r) => (markListening = r));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.includes('listening on')) markListening();
  });
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      markListening();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, listening, done, stdout: () => stdout, stderr: () => stderr };
}

export function run(script: string, args: string[]): Promise<Finished> {
  return start(script, args).done;
}

/** Like run(), but SIGKILLed after `limitMs` (a program that should refuse at once may instead wait forever). */
export async function runWithin(script: string, args: string[], limitMs: number, launcher: string[] = []): Promise<Finished> {
  const p = start(script, args, launcher);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), limitMs);
  const r = await p.done;
  clearTimeout(timer);
  return r;
}

/** A UDP port that was free on 127.0.0.1 a moment ago (each test takes its own, so files can run in parallel). */
export async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'p2mp-test-'));
}

/** Seeded random bytes, written to `file`. */
export function writeRandomFile(file: string, size: number, seed: string): Buffer {
  const rng = seedrandom(seed);
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buf[i] = Math.floor(rng() * 256);
  fs.writeFileSync(file, buf);
  return buf;
}

export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Start receivers on the given addresses (one port), wait until all listen. */
export async function startReceivers(addresses: string[], port: number, dir: string, p: number, extra: string[] = []): Promise<Proc[]> {
  const procs = addresses.map((a, i) =>
    start(SERVER, ['--bind', a, '--seed', String(i + 1), '--quiet', ...extra, String(port), path.join(dir, `out-${a}.bin`), String(p)]),
  );
  await Promise.all(procs.map((p) => p.listening));
  return procs;
}
