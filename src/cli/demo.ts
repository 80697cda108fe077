#!/usr/bin/env node
// npm run demo: the main job on an embedded default. Starts receivers on 127.0.0.2-4 (one port, one
// address each), sends them a generated file with p2mpclient, prints both sides' summaries and checks
// that every copy is byte-identical to the original.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import seedrandom from 'seedrandom';
import { parseDecimal, parseLoss, parseMss, parsePort, runProgram } from './args.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER = path.join(here, 'server.js');
const CLIENT = path.join(here, 'client.js');

interface DemoOptions {
  receivers: string;
  port: string;
  size: string;
  mss: string;
  p: string;
  mode: string;
  seed: string;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function run(cmd: string, args: string[], prefix: string): { exit: Promise<number>; ready: Promise<void> } {
  const child = spawn(process.execPath, [cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  const relay = (stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('listening on')) markReady();
        out.write(`${prefix}${line}\n`);
      }
    });
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  const exit = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  void exit.then(markReady);
  return { exit, ready };
}

async function main(o: DemoOptions): Promise<void> {
  const n = parseDecimal('--receivers', o.receivers, { positive: true });
  const port = parsePort(o.port);
  const size = parseDecimal('--size', o.size) * 1024;
  const mss = parseMss(o.mss);
  const p = parseLoss(o.p);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2mp-demo-'));
  try {
    const rng = seedrandom(o.seed);
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = Math.floor(rng() * 256);
    const source = path.join(dir, 'source.bin');
    fs.writeFileSync(source, data);
    console.log(`demo: ${n} receivers on 127.0.0.2-${n + 1}:${port}, ${size} bytes (seed ${o.seed}), MSS ${mss}, P=${p}, mode ${o.mode}`);

    const hosts = Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
    const servers = hosts.map((h, i) =>
      run(SERVER, ['--bind', h, '--seed', String(i + 1), '--quiet', String(port), path.join(dir, `copy-${h}.bin`), String(p)], `[receiver ${h}] `),
    );
    await Promise.all(servers.map((s) => s.ready));
    const client = run(CLIENT, ['--quiet', '--mode', o.mode, ...hosts, String(port), source, String(mss)], '');
    const clientExit = await client.exit;
    const serverExits = await Promise.all(servers.map((s) => s.exit));

    const want = sha256(source);
    let identical = 0;
    for (const h of hosts) {
      const copy = path.join(dir, `copy-${h}.bin`);
      const ok = fs.existsSync(copy) && sha256(copy) === want;
      if (ok) identical++;
      console.log(`verify ${h}: ${ok ? 'identical (sha256 ' + want.slice(0, 16) + '...)' : 'MISSING OR DIFFERENT'}`);
    }
    const ok = clientExit === 0 && serverExits.every((c) => c === 0) && identical === n;
    console.log(ok ? `demo: OK, ${identical}/${n} copies byte-identical` : `demo: FAILED (client exit ${clientExit}, receivers ${serverExits.join(',')}, ${identical}/${n} identical)`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const program = new Command('p2mp-demo')
  .description('Start receivers on 127.0.0.2.., send them a generated file, verify every copy.')
  .option('--receivers <n>', 'number of receivers', '3')
  .option('--port <port>', 'UDP port shared by the receivers', '7735')
  .option('--size <KiB>', 'file size in KiB', '4096')
  .option('--mss <bytes>', 'MSS, header included', '1000')
  .option('--p <prob>', 'loss probability at each receiver', '0.02')
  .option('--mode <mode>', 'independent or lockstep', 'independent')
  .option('--seed <seed>', 'seed for the generated file', 'p2mp-demo')
  .action(main);

await runProgram(program, process.argv);
