#!/usr/bin/env node
// npm run demo: the main job on an embedded default. Starts receivers on 127.0.0.2-4 (one port, one
// address each), sends them a generated file with p2mpclient, prints both sides' summaries and checks
// that every copy is byte-identical to the original. Processes, files and hashes are the shared harness/
// (compiled into dist/harness/ and shipped with the package, like this file).

import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { CLIENT } from '../../harness/paths.js';
import { receivedFile, run, startReceivers } from '../../harness/procs.js';
import { parseDecimal, parseLoss, parseMss, parsePort, runProgram } from './args.js';

interface DemoOptions {
  receivers: string;
  port: string;
  size: string;
  mss: string;
  p: string;
  mode: string;
  seed: string;
}

async function main(o: DemoOptions): Promise<void> {
  const n = parseDecimal('--receivers', o.receivers, { positive: true });
  const port = parsePort(o.port);
  const size = parseDecimal('--size', o.size) * 1024;
  const mss = parseMss(o.mss);
  const p = parseLoss(o.p);
  const dir = tempDir('demo');
  try {
    const source = path.join(dir, 'source.bin');
    writeSeededFile(source, size, o.seed);
    console.log(`demo: ${n} receivers on 127.0.0.2-${n + 1}:${port}, ${size} bytes (seed ${o.seed}), MSS ${mss}, P=${p}, mode ${o.mode}`);

    const hosts = Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
    const servers = await startReceivers(hosts, port, dir, p, { echo: (h) => `[receiver ${h}] ` });
    const clientExit = (await run(CLIENT, ['--quiet', '--mode', o.mode, ...hosts, String(port), source, String(mss)], { echo: '' })).code ?? 1;
    const serverExits = await Promise.all(servers.map(async (s) => (await s.done).code ?? 1));

    const want = sha256File(source);
    let identical = 0;
    for (const h of hosts) {
      const copy = receivedFile(dir, h);
      const ok = fs.existsSync(copy) && sha256File(copy) === want;
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
