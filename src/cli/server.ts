#!/usr/bin/env node
// p2mpserver PORT FILE P: receive one file over P2MP-FTP, dropping each arriving segment with probability P.

import { randomBytes, randomInt } from 'node:crypto';
import { Command } from 'commander';
import seedrandom from 'seedrandom';
import { checkOutput, OutputError } from '../transport/atomic-output.js';
import { DEFAULT_RCVBUF_BYTES, DEFAULT_REORDER_SEGMENTS, startReceiver, type ReceiveRun } from '../transport/receiver-driver.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../core/options.js';
import { StdoutSink } from '../transport/stdout-sink.js';
import { catchInterrupt, EXIT_FAILED, EXIT_OK, exitCodeFor, parseDecimal, parseLoss, parsePort, parseTime, runProgram, UsageError } from './args.js';
import { describeProgram } from './help.js';
import { jsonLine, receiverReport } from './json.js';
import { checkLocalAddress } from './local-address.js';
import { parseGroup, receiverMulticastConflict } from './multicast-options.js';
import { Logger, toStderr, type LineWriter } from './log.js';
import { startLiveLine } from './receiver-progress.js';
import { acceptOnlyFrom, resolveSenderHost } from './sender-host.js';
import { otherModeNotice, receiverWire, wireChoice } from './wire-options.js';
import { mbps } from './summary.js';
import { checksumLine, quote, shownName } from '../transport/user-text.js';

interface ServerOptions {
  bind?: string;
  seed?: string;
  idleTimeout: string;
  linger: string;
  count: string;
  verbose?: boolean;
  log?: string;
  reorder: string;
  sack?: boolean;
  rcvbuf: string;
  quiet?: boolean;
  json?: boolean;
  progress: boolean;
  sender?: string;
  verify?: boolean;
  key?: string;
  multicast?: string;
  interface?: string;
}

/** FILE for transfer n (1-based): every {n} replaced. */
const fileFor = (pattern: string, n: number): string => pattern.replaceAll('{n}', String(n));

/** FILE can be replaced atomically (atomic-output's checks), or a usage error naming it. */
function checkFile(file: string): void {
  try {
    checkOutput(file);
  } catch (err) {
    throw err instanceof OutputError ? new UsageError(err.message) : err;
  }
}

/**
 * --multicast GROUP [--interface ADDR]: the group and the address it is joined on and answered from
 * (--interface, else --bind's; neither: the 0.0.0.0 pitfall, see src/transport/udp-multicast.ts).
 */
function parseMulticast(opts: ServerOptions): { group: string; address: string | undefined } | undefined {
  if (opts.multicast === undefined) {
    if (opts.interface !== undefined) throw new UsageError('--interface applies to --multicast only (to listen on one address, use --bind)');
    return undefined;
  }
  return { group: parseGroup(opts.multicast, 1).group, address: opts.interface ?? opts.bind };
}

async function main(portRaw: string, pattern: string, pRaw: string, opts: ServerOptions): Promise<void> {
  const port = parsePort(portRaw);
  const lossRate = parseLoss(pRaw);
  const toStdout = pattern === '-';
  // FILE - replaces nothing: the output checks are for files.
  if (!toStdout) checkFile(fileFor(pattern, 1));
  if (opts.bind !== undefined) await checkLocalAddress('--bind', opts.bind);
  const multicast = parseMulticast(opts);
  const reorderSegments = parseDecimal('--reorder', opts.reorder);
  if (!Number.isInteger(reorderSegments)) throw new UsageError(`--reorder must be a whole number of segments, got ${quote(opts.reorder)}`);
  const conflict = multicast === undefined ? undefined : receiverMulticastConflict({ interface: opts.interface, bind: opts.bind, reorderSegments }, (option) => `--${option}`);
  if (conflict !== undefined) throw new UsageError(conflict);
  if (multicast?.address !== undefined && multicast.address !== opts.bind) await checkLocalAddress('--interface', multicast.address);
  const seed = opts.seed ?? String(randomInt(2 ** 31));
  const idleTimeoutMs = parseTime('--idle-timeout', opts.idleTimeout, 's', { positive: true });
  const lingerMs = parseTime('--linger', opts.linger, 's');
  const count = parseDecimal('--count', opts.count);
  if (!Number.isInteger(count)) throw new UsageError(`--count must be a whole number, got ${quote(opts.count)}`);
  if (count !== 1 && !toStdout && !pattern.includes('{n}')) {
    process.stderr.write(`p2mpserver: note: FILE ${quote(pattern)} has no {n}: each transfer replaces the one before (e.g. ${shownName(`${pattern}.{n}`)} keeps them all)\n`);
  }
  const wire = wireChoice(opts);
  const acceptFrom = opts.sender === undefined ? undefined : acceptOnlyFrom(await resolveSenderHost(opts.sender));
  const quiet = opts.quiet === true || opts.json === true;
  const recvBufferBytes = Math.floor(parseDecimal('--rcvbuf', opts.rcvbuf, { positive: true }) * 1024);
  // SO_RCVBUF is a C int: Node refuses more than 2^31 - 1 bytes (the kernel caps it far lower, at net.core.rmem_max).
  if (recvBufferBytes < 1 || recvBufferBytes > 2 ** 31 - 1) throw new UsageError(`--rcvbuf must be from 0.001 to ${Math.floor((2 ** 31 - 1) / 1024)} KiB, got ${quote(opts.rcvbuf)}`);
  // With FILE - stdout carries the data: everything else goes to stderr.
  const report = (text: string): boolean => (toStdout ? process.stderr : process.stdout).write(text);
  const log = Logger.open('p2mpserver', opts);
  let lines: LineWriter = toStdout ? toStderr : (line) => process.stdout.write(line);
  let signal: NodeJS.Signals | undefined;
  let lastOk = false;
  let failed = 0;

  // Transfers one after another (--count N, 0: until interrupted); each one's FILE is complete and atomic.
  for (let n = 1; count === 0 || n <= count; n++) {
    const file = toStdout ? '-' : fileFor(pattern, n);
    const shown = shownName(file);
    if (n > 1 && !toStdout) checkFile(file);
    // A different seed for each transfer (seed, seed-2, seed-3...), so drops replay exactly transfer by transfer.
    const transferSeed = n === 1 ? seed : `${seed}-${n}`;
    const live = { line: undefined as ReturnType<typeof startLiveLine> | undefined };
    // Ctrl-C is handled before the receiver can say it is listening (its socket may bind within startReceiver):
    // whoever starts a transfer on that line can already stop it. No event runs before `run` is set.
    let run: ReceiveRun | undefined;
    const signals = catchInterrupt(() => run?.interrupt());
    run = startReceiver({
      port,
      bind: multicast?.address ?? opts.bind,
      multicastGroup: multicast?.group,
      file,
      lossRate,
      random: seedrandom(transferSeed),
      idleTimeoutMs,
      lingerMs,
      reorderSegments,
      // --multicast answers with SACKs: its sender reads them (src/core/multicast.ts).
      sack: opts.sack === true || multicast !== undefined,
      recvBufferBytes,
      sink: toStdout ? new StdoutSink() : undefined,
      onLoss: quiet ? () => {} : (seq) => lines(`Packet loss, sequence number = ${seq}\n`),
      acceptFrom,
      // With --key, a fresh random challenge for each transfer.
      wire: receiverWire(wire, randomBytes),
      onOtherMode: (theirs, from) => log.terminal(`p2mpserver: ${otherModeNotice(wire.mode, theirs, from)}\n`),
      onBadMac: (from) => log.terminal(`p2mpserver: ignoring --key handshakes from ${from} that do not authenticate: does the sender use another key?\n`),
      onStaleFin: () => {
        log.terminal(
          `p2mpserver: ignored a FIN before any data: ${shown} already holds data, and a FIN carries no sequence number, so it may be the` +
            ` retransmitted end of an earlier transfer (to send an empty file over it, use --eof empty); still waiting\n`,
        );
      },
      onListening: (address, boundPort) => {
        const group = multicast === undefined ? '' : ` and group ${multicast.group}:${boundPort} (joined on ${multicast.address ?? 'the default interface'})`;
        const where = `${address}:${boundPort}${group}`;
        process.stderr.write(`p2mpserver: listening on ${where}, writing ${toStdout ? 'stdout' : shown}, P=${lossRate}, seed ${transferSeed}\n`);
        log.log(`listening on ${where}, writing ${toStdout ? 'stdout' : shown}, P=${lossRate}, seed ${transferSeed}`);
        if (opts.progress && !opts.json && process.stderr.isTTY && !process.env.CI) {
          const line = startLiveLine(() => run!.stats(), where); // read on its interval, once `run` is set
          live.line = line;
          log.terminal = (text) => line.log(text);
          if (process.stdout.isTTY && !toStdout) lines = log.terminal;
        }
      },
      onStart: (peer) => log.log(`transfer ${n} started by ${peer}`),
    });
    const r = await run.done;
    signals.release();
    live.line?.stop();
    log.terminal = toStderr;
    lines = toStdout ? toStderr : (line) => process.stdout.write(line);
    signal = signals.signal();
    lastOk = r.ok;
    if (!r.ok) failed++;

    const s = r.stats;
    if (opts.json) {
      report(jsonLine(receiverReport(r, { file, transfer: n, seed: transferSeed, lossRate, wire: wire.mode })));
    } else if (r.ok) {
      const secs = r.elapsedMs / 1000;
      report(
        `Received ${shown}: ${s.bytes} bytes in ${s.segments} segments from ${r.peer} in ${secs.toFixed(3)} s` +
          ` (${r.elapsedMs > 0 ? mbps(s.bytes, r.elapsedMs).toFixed(2) : '-'} Mbit/s); drops ${s.drops}, bad checksums ${s.badChecksums},` +
          ` duplicates ${s.duplicates}, ignored ${s.ignored}, seed ${transferSeed}\n` +
          checksumLine('SHA-256 ', r.sha256, file),
      );
    }
    if (r.ok) log.log(`transfer ${n} complete: ${shown}, ${s.bytes} bytes from ${r.peer} in ${(r.elapsedMs / 1000).toFixed(3)} s, SHA-256 ${r.sha256}`);
    if (r.ok && signal !== undefined) process.stderr.write(`p2mpserver: ${signal} while lingering; ${shown} was written completely\n`);
    else if (!r.ok && r.reason === 'cannot-listen') {
      process.stderr.write(`p2mpserver: ${r.message}\n`);
      log.log(`transfer ${n} ${r.reason}: ${r.message}`);
    } else if (!r.ok) {
      const kept = toStdout ? `${s.bytes} bytes already written to stdout` : `${shown} not written`;
      process.stderr.write(`p2mpserver: ${r.message}; ${kept} (seed ${transferSeed})\n`);
      log.log(`transfer ${n} ${r.reason}: ${r.message}`);
    }
    // A socket that cannot listen will not listen for the next transfer either.
    if (signal !== undefined || (!r.ok && r.reason === 'cannot-listen')) break;
  }
  log.close();
  // Ended by a signal: 128 + its number, unless the last transfer's FILE was already written (then as if not).
  process.exitCode = signal !== undefined && !lastOk ? exitCodeFor(signal) : failed > 0 ? EXIT_FAILED : EXIT_OK;
}

const program = describeProgram(new Command('p2mpserver').usage('[options] PORT FILE P'), {
  summary: 'Receive a file over P2MP-FTP (UDP, stop-and-wait ARQ; a --window sender works too) and write it to FILE.',
  args: [
    ['<PORT>', 'UDP port to listen on, 1024 < PORT <= 65535'],
    ['<FILE>', 'where to write the file: written to a temporary file beside it and renamed onto FILE only when complete (an interrupted transfer leaves FILE untouched); {n} in it is the transfer number (see --count); - writes stdout as the data arrives (no temporary file, no rename)'],
    ['<P>', 'loss probability, 0 <= P <= 1: each arriving segment is dropped with probability P, printing "Packet loss, sequence number = X"'],
  ],
  notes: [
    'Serves one sender per transfer, then lingers briefly to re-ACK a retransmitted end of file, prints a summary and exits (or serves the next transfer, see --count).',
    'With --multicast GROUP it also takes the DATA its sender (p2mpclient --multicast GROUP) sends once to GROUP:PORT, joining the group on --interface ADDR (or --bind ADDR): a socket bound to GROUP:PORT takes the group\'s datagrams and one bound to ADDR:PORT sends the ACKs (with SACKs) and takes unicast repairs. Without an address it listens on 0.0.0.0 and its ACKs leave from whichever address the kernel routes by: on a host with several addresses give --interface. Loss service, checksum, --sender and the atomic FILE work as without it.',
    'Exit status: 0 every transfer complete (also when interrupted after FILE was written), 1 any failed, 2 bad arguments, 130 interrupted (SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP).',
  ],
  examples: [
    'p2mpserver --bind 127.0.0.2 7735 /tmp/copy 0.05',
    'p2mpserver --count 0 7735 /srv/in/file-{n}.bin 0      # serve until Ctrl-C',
    'p2mpserver 7735 - 0 | tar x                           # data on stdout',
    'p2mpserver --sack --rcvbuf 8192 7735 /tmp/copy 0     # p2mpclient --sack',
    'p2mpserver --multicast 239.1.2.3 --interface 10.0.0.2 7735 /tmp/copy 0',
  ],
})
  .argument('<PORT>')
  .argument('<FILE>')
  .argument('<P>')
  .option('--bind <addr>', 'bind one IPv4 address instead of all (several receivers can then share PORT on one host)')
  .option('--seed <n>', 'seed for the loss service, so drops are reproducible (default: random, printed)')
  .option('--idle-timeout <seconds>', 'give up a started transfer after this long without a valid segment', String(DEFAULT_IDLE_TIMEOUT_MS / 1000))
  .option('--linger <seconds>', 'after end of file, keep re-ACKing a retransmitted end of file this long', '2')
  .option('--count <n>', 'serve n transfers one after another, 0 for no limit', '1')
  .option('-v, --verbose', 'timestamped lines about each transfer on stderr')
  .option('--log <file>', 'append the timestamped lines to FILE')
  .option('--reorder <segments>', 'hold up to this many out-of-order segments (from a --window sender) until the gap fills; 0 discards them like the classic receiver', String(DEFAULT_REORDER_SEGMENTS))
  .option('--sack', 'answer with selective acknowledgements while holding segments (only for p2mpclient --sack)')
  .option('--rcvbuf <KiB>', 'socket receive buffer (the kernel caps it at net.core.rmem_max)', String(DEFAULT_RCVBUF_BYTES / 1024))
  .option('-q, --quiet', 'no loss lines (the "listening" line on stderr stays)')
  .option('--json', 'print each summary as one JSON line, see docs/JSON.md (implies --quiet)')
  .option('--no-progress', 'no live line (it is shown only when stderr is a terminal)')
  .option('--sender <host>', 'accept a transfer only from this host (name or IPv4 address, any port); everything else is counted and ignored')
  .option('--verify', 'verified wire: header covered by a CRC-32, the file committed only if its SHA-256 matches (the sender needs --verify too)')
  .option('--key <file>', 'authenticated, encrypted wire (AES-256-GCM) with the pre-shared key in FILE: 64 hex digits, mode 600; implies --verify (the sender needs the same --key)')
  .option('--multicast <group>', 'also take DATA sent to this IPv4 multicast group on PORT (a 239.x.y.z group; p2mpclient --multicast); answers with unicast ACKs and SACKs')
  .option('--interface <addr>', 'with --multicast: join the group on this IPv4 address of this host and answer from it (default: --bind\'s address, else the kernel\'s choice)')
  .action(main);

await runProgram(program, process.argv);
