#!/usr/bin/env node
// p2mpserver PORT FILE P: receive one file over P2MP-FTP, dropping each arriving segment with probability P.

import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { Command } from 'commander';
import seedrandom from 'seedrandom';
import { checkOutput, OutputError } from '../transport/atomic-output.js';
import { startReceiver } from '../transport/receiver-driver.js';
import { acceptOnlyFrom, resolveSenderHost } from './sender-host.js';
import { otherModeNotice, receiverWire, wireChoice } from './wire-options.js';
import { catchInterrupt, EXIT_FAILED, EXIT_OK, exitCodeFor, parseDecimal, parseLoss, parsePort, parseTime, runProgram, UsageError } from './args.js';
import { mbps } from './summary.js';

interface ServerOptions {
  bind?: string;
  seed?: string;
  idleTimeout: string;
  linger: string;
  reorder: string;
  sack?: boolean;
  rcvbuf: string;
  quiet?: boolean;
  json?: boolean;
  sender?: string;
  verify?: boolean;
  key?: string;
}

/**
 * --bind must name an IPv4 address of this host: probe it with a throw-away socket on an ephemeral port, so a
 * typo or a foreign address is a usage error (exit 2) rather than a socket error after start-up.
 */
async function checkBindAddress(addr: string): Promise<void> {
  if (addr.trim() === '') throw new UsageError(`--bind needs an IPv4 address, got ''`);
  const probe = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind({ port: 0, address: addr, exclusive: true }, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRNOTAVAIL') throw new UsageError(`--bind '${addr}' is not an IPv4 address of this host`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EINVAL') throw new UsageError(`--bind '${addr}' is not an IPv4 address (nor a name of one)`);
    throw new UsageError(`--bind '${addr}': ${code ?? String(err)}`);
  } finally {
    probe.close();
  }
}

async function main(portRaw: string, file: string, pRaw: string, opts: ServerOptions): Promise<void> {
  const port = parsePort(portRaw);
  const lossRate = parseLoss(pRaw);
  try {
    checkOutput(file);
  } catch (err) {
    throw err instanceof OutputError ? new UsageError(err.message) : err;
  }
  if (opts.bind !== undefined) await checkBindAddress(opts.bind);
  const seed = opts.seed ?? String(randomInt(2 ** 31));
  const idleTimeoutMs = parseTime('--idle-timeout', opts.idleTimeout, 's', { positive: true });
  const lingerMs = parseTime('--linger', opts.linger, 's');
  const wire = wireChoice(opts);
  const acceptFrom = opts.sender === undefined ? undefined : acceptOnlyFrom(await resolveSenderHost(opts.sender));
  const quiet = opts.quiet === true || opts.json === true;
  const out = process.stdout;
  const reorderSegments = parseDecimal('--reorder', opts.reorder);
  if (!Number.isInteger(reorderSegments)) throw new UsageError(`--reorder must be a whole number of segments, got '${opts.reorder}'`);
  const recvBufferBytes = Math.floor(parseDecimal('--rcvbuf', opts.rcvbuf, { positive: true }) * 1024);
  if (opts.sack === true && wire.mode !== 'classic') throw new UsageError('--sack applies to the classic wire only (not with --verify or --key, yet)');

  const run = startReceiver({
    port,
    bind: opts.bind,
    file,
    lossRate,
    random: seedrandom(seed),
    idleTimeoutMs,
    lingerMs,
    reorderSegments,
    sack: opts.sack === true,
    recvBufferBytes,
    onLoss: quiet ? () => {} : (seq) => out.write(`Packet loss, sequence number = ${seq}\n`),
    acceptFrom,
    wire: receiverWire(wire, randomBytes),
    onOtherMode: (theirs, from) => process.stderr.write(`p2mpserver: ${otherModeNotice(wire.mode, theirs, from)}\n`),
    onBadMac: (from) => process.stderr.write(`p2mpserver: ignoring --key handshakes from ${from} that do not authenticate: does the sender use another key?\n`),
    onStaleFin: () => {
      process.stderr.write(
        `p2mpserver: ignored a FIN before any data: ${file} already holds data, and a FIN carries no sequence number, so it may be the` +
          ` retransmitted end of an earlier transfer (to send an empty file over it, use --eof empty); still waiting\n`,
      );
    },
    onListening: (address, boundPort) => {
      process.stderr.write(`p2mpserver: listening on ${address}:${boundPort}, writing ${file}, P=${lossRate}, seed ${seed}\n`);
    },
  });
  const signals = catchInterrupt(() => run.interrupt());
  const r = await run.done;
  signals.release();

  const s = r.stats;
  if (opts.json) {
    out.write(`${JSON.stringify({ ok: r.ok, file, seed, lossRate, ...(wire.mode === 'classic' ? {} : { wire: wire.mode }), ...(r.ok ? { peer: r.peer, timeMs: r.elapsedMs } : { reason: r.reason, message: r.message }), ...s })}\n`);
  } else if (r.ok) {
    const secs = r.elapsedMs / 1000;
    out.write(
      `Received ${file}: ${s.bytes} bytes in ${s.segments} segments from ${r.peer} in ${secs.toFixed(3)} s` +
        ` (${r.elapsedMs > 0 ? mbps(s.bytes, r.elapsedMs).toFixed(2) : '-'} Mbit/s); drops ${s.drops}, bad checksums ${s.badChecksums},` +
        ` duplicates ${s.duplicates}, ignored ${s.ignored}, seed ${seed}\n`,
    );
  }
  const signal = signals.signal();
  if (r.ok && signal !== undefined) process.stderr.write(`p2mpserver: ${signal} while lingering; ${file} was written completely\n`);
  else if (!r.ok && r.reason === 'cannot-listen') process.stderr.write(`p2mpserver: ${r.message}\n`);
  else if (!r.ok) process.stderr.write(`p2mpserver: ${r.message}; ${file} not written (seed ${seed})\n`);
  process.exitCode = r.ok ? EXIT_OK : signal !== undefined ? exitCodeFor(signal) : EXIT_FAILED;
}

/** 1024 segments: a window of up to 1024 recovers any single loss in one round trip; at most 2 MiB held (MSS 2048). */
const DEFAULT_REORDER_SEGMENTS = 1024;
/** 4 MiB: see BENCHMARKS.md ("socket receive buffer"); Linux's default 208 KiB overflows under a 64-segment window of 2 KB. */
const DEFAULT_RCVBUF_KIB = 4096;

const program = new Command('p2mpserver')
  .usage('[options] PORT FILE P')
  .description(
    [
      'Receive one file over P2MP-FTP (UDP, stop-and-wait ARQ) and write it to FILE.',
      '',
      'Arguments:',
      '  PORT  UDP port to listen on, 1024 < PORT <= 65535',
      '  FILE  where to write the file; written to a temporary file beside it and renamed',
      '        onto FILE only when complete (an interrupted transfer leaves FILE untouched)',
      '  P     loss probability, 0 <= P <= 1: each arriving segment is dropped with',
      '        probability P, printing "Packet loss, sequence number = X"',
      '',
      'Serves one sender per transfer, then lingers briefly to re-ACK a retransmitted end of',
      'file, prints a summary and exits. Exit status: 0 complete (also when interrupted after',
      'FILE was written), 1 failed, 2 bad arguments, 130 interrupted (SIGINT), 143 terminated',
      '(SIGTERM), 129 hung up (SIGHUP).',
    ].join('\n'),
  )
  .argument('<PORT>')
  .argument('<FILE>')
  .argument('<P>')
  .option('--bind <addr>', 'bind one IPv4 address instead of all (several receivers can then share PORT on one host)')
  .option('--seed <n>', 'seed for the loss service, so drops are reproducible (default: random, printed)')
  .option('--idle-timeout <seconds>', 'give up a started transfer after this long without a valid segment', '30')
  .option('--linger <seconds>', 'after end of file, keep re-ACKing a retransmitted end of file this long', '2')
  .option('--reorder <segments>', 'hold up to this many out-of-order segments (from a --window sender) until the gap fills; 0 discards them like the classic receiver', String(DEFAULT_REORDER_SEGMENTS))
  .option('--sack', 'answer with selective acknowledgements while holding segments (only for p2mpclient --sack)')
  .option('--rcvbuf <KiB>', 'socket receive buffer (the kernel caps it at net.core.rmem_max)', String(DEFAULT_RCVBUF_KIB))
  .option('-q, --quiet', 'no loss lines (the "listening" line on stderr stays)')
  .option('--json', 'print the summary as one JSON line (implies --quiet)')
  .option('--sender <host>', 'accept a transfer only from this host (name or IPv4 address, any port); everything else is counted and ignored')
  .option('--verify', 'verified wire: header covered by a CRC-32, the file committed only if its SHA-256 matches (the sender needs --verify too)')
  .option('--key <file>', 'authenticated, encrypted wire (AES-256-GCM) with the pre-shared key in FILE: 64 hex digits, mode 600; implies --verify (the sender needs the same --key)')
  .action(main);

await runProgram(program, process.argv);
