#!/usr/bin/env node
// p2mpclient HOST... PORT FILE MSS: send FILE to every HOST over P2MP-FTP (stop-and-wait per receiver, or a
// sliding window with --window).

import dns from 'node:dns/promises';
import net from 'node:net';
import { Command } from 'commander';
import { payloadBytes } from '../core/codec.js';
import { randomBytes } from 'node:crypto';
import { TRAILER_BYTES } from '../core/extension.js';
import { EOF_MODES, MODES, type EofMode, type SenderOptions, type WireOptions } from '../core/options.js';
import { NONCE_SEED_BYTES } from '../core/seal.js';
import { RTO_DEFAULTS, type RtoConfig } from '../core/rto.js';
import { parseRate } from '../core/pacer.js';
import { CC_MODES, type WindowOptions } from '../core/window.js';
import { defaultThreads, startEngine, type Target } from '../transport/engine.js';
import { DEFAULT_BUFFER_BYTES, FileReadError, openSharedFile } from '../transport/shared-file.js';
import {
  catchInterrupt,
  EXIT_FAILED,
  EXIT_OK,
  exitCodeFor,
  parseChoice,
  parseDecimal,
  parseMss,
  parsePort,
  parseTime,
  runProgram,
  UsageError,
} from './args.js';
import { formatSummary, summarize } from './summary.js';
import { startProgress } from './progress.js';
import { checkClassicOnly, fileSha256, wireChoice } from './wire-options.js';

interface ClientOptions {
  mode: string;
  eof: string;
  timeout?: string;
  rtoMin: string;
  rtoMax: string;
  giveUp: string;
  threads?: string;
  buffer: string;
  window: string;
  sack?: boolean;
  cc: string;
  rate?: string;
  quiet?: boolean;
  json?: boolean;
  progress: boolean;
  verify?: boolean;
  key?: string;
}

/** Why an IPv4 address cannot be a receiver, or undefined when it can. */
function notAReceiver(address: string): string | undefined {
  const first = Number(address.split('.')[0]);
  if (address === '255.255.255.255') return 'the broadcast address, not a receiver';
  if (first === 0) return 'an unspecified address ("this host"), not a receiver';
  if (first >= 224 && first <= 239) return 'a multicast group, not a receiver (ACKs come from unicast addresses)';
  return undefined;
}

/** One IPv4 address per HOST; a name with several says which one is used (on stderr). */
async function resolveHosts(hosts: string[]): Promise<Target[]> {
  const targets: Target[] = [];
  const seen = new Map<string, string>();
  for (const host of hosts) {
    if (host.trim() === '') throw new UsageError(`HOST must not be empty`);
    if (net.isIPv6(host.replace(/^\[(.*)\]$/, '$1'))) throw new UsageError(`HOST '${host}' is an IPv6 address; only IPv4 is supported`);
    let addresses: string[];
    try {
      addresses = [...new Set((await dns.lookup(host, { family: 4, all: true })).map((a) => a.address))];
    } catch {
      const v6 = await dns.lookup(host, { family: 6 }).then(
        () => true,
        () => false,
      );
      throw new UsageError(`HOST '${host}' ${v6 ? 'has only IPv6 addresses; only IPv4 is supported' : 'does not resolve to an IPv4 address'}`);
    }
    const address = addresses[0]!;
    const why = notAReceiver(address);
    if (why !== undefined) throw new UsageError(`HOST '${host}'${host === address ? '' : ` (${address})`} is ${why}`);
    if (addresses.length > 1) process.stderr.write(`p2mpclient: HOST '${host}' has ${addresses.length} IPv4 addresses (${addresses.join(', ')}); sending to ${address}\n`);
    const twin = seen.get(address);
    if (twin !== undefined) throw new UsageError(`HOST '${host}' is the same receiver as '${twin}' (${address})`);
    seen.set(address, host);
    targets.push({ host, address });
  }
  return targets;
}

async function main(args: string[], opts: ClientOptions): Promise<void> {
  if (args.length < 4) throw new UsageError(`expected HOST... PORT FILE MSS, got ${args.length} argument(s)`);
  const hosts = args.slice(0, -3);
  const [portRaw, filePath, mssRaw] = args.slice(-3) as [string, string, string];
  const port = parsePort(portRaw);
  const mss = parseMss(mssRaw);
  const mode = parseChoice('--mode', opts.mode, MODES);
  const eof = parseChoice<EofMode>('--eof', opts.eof, EOF_MODES);
  const rto: RtoConfig = {
    ...RTO_DEFAULTS,
    minMs: parseTime('--rto-min', opts.rtoMin, 'ms', { positive: true }),
    maxMs: parseTime('--rto-max', opts.rtoMax, 'ms', { positive: true }),
  };
  if (opts.timeout !== undefined) rto.fixedMs = parseTime('--timeout', opts.timeout, 'ms', { positive: true });
  if (rto.maxMs < rto.minMs) throw new UsageError(`--rto-max (${rto.maxMs}) must not be below --rto-min (${rto.minMs})`);
  const giveUpMs = parseTime('--give-up', opts.giveUp, 's', { positive: true });
  const threads = opts.threads === undefined ? defaultThreads(hosts.length, mode) : parseDecimal('--threads', opts.threads, { positive: true });
  if (!Number.isInteger(threads)) throw new UsageError(`--threads must be a positive integer, got '${opts.threads}'`);
  const bufferBytes = Math.floor(parseDecimal('--buffer', opts.buffer, { positive: true }) * 1024 * 1024);
  const choice = wireChoice(opts);
  checkClassicOnly(choice, program.getOptionValueSource('eof') === 'cli');
  const payload = payloadBytes(mss, TRAILER_BYTES[choice.mode]);
  if (payload <= 0) throw new UsageError(`MSS ${mss} leaves no room for data with ${choice.mode === 'key' ? '--key' : '--verify'} (its segments need MSS > ${mss - payload})`);
  let opened: ReturnType<typeof openSharedFile>;
  let wire: WireOptions | undefined;
  try {
    opened = openSharedFile(filePath, payload, bufferBytes);
    if (choice.mode !== 'classic') wire = { mode: choice.mode, digest: fileSha256(filePath), key: choice.mode === 'key' ? { psk: choice.psk, ns: randomBytes(NONCE_SEED_BYTES) } : undefined };
  } catch (err) {
    throw err instanceof FileReadError ? new UsageError(err.message) : err;
  }
  const file = opened.file;
  const window = parseWindow(opts, file.bufferBytes >= file.length ? Number.POSITIVE_INFINITY : file.bufferBytes / payload);
  const rateBitsPerSec = opts.rate === undefined ? undefined : parseRate(opts.rate);
  if (opts.rate !== undefined && rateBitsPerSec === undefined) throw new UsageError(`--rate must be bits per second with an optional k, M or G (e.g. 100M), got '${opts.rate}'`);
  if (choice.mode !== 'classic' && (window.window > 1 || window.sack || window.cc !== 'none')) {
    throw new UsageError('--window, --sack and --cc apply to the classic wire only (not with --verify or --key, yet)');
  }
  const targets = await resolveHosts(hosts);

  const quiet = opts.quiet === true || opts.json === true;
  const sender: SenderOptions = { mss, eof, mode, rto, giveUpMs, window, rateBitsPerSec, wire };
  const run = startEngine({ targets, port, file, advanceBuffer: opened.advance, sender, threads, printEvents: !quiet });
  const signals = catchInterrupt(() => run.abort());
  const progress = opts.progress && !quiet && process.stderr.isTTY && !process.env.CI ? startProgress(run.state, targets, file.length, payload) : undefined;
  const { results, elapsedMs, readError } = await run.done;
  progress?.stop();
  opened.close();
  signals.release();
  const signal = signals.signal();
  const interrupted = signal !== undefined;

  const summary = summarize({ results, elapsedMs, fileBytes: file.length, mss, mode, eof, port, giveUpMs, interrupted, wire: wire?.mode, window, rateBitsPerSec });
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stdout.write(formatSummary(summary));
  if (readError !== undefined) process.stderr.write(`p2mpclient: ${readError}; transfer stopped\n`);
  process.exitCode = signal !== undefined ? exitCodeFor(signal) : results.every((r) => r.status === 'done') ? EXIT_OK : EXIT_FAILED;
}

/**
 * --window, --sack, --cc. A window larger than the file buffer holds (in segments) is clamped to it: segments
 * beyond the buffer cannot be sent anyway, and saying so beats a window that silently never fills.
 */
function parseWindow(opts: ClientOptions, bufferSegments: number): WindowOptions {
  if (!/^[0-9]+$/.test(opts.window.trim()) || Number(opts.window) < 1) throw new UsageError(`--window must be a positive integer (segments), got '${opts.window}'`);
  let window = Number(opts.window);
  if (window > bufferSegments) {
    process.stderr.write(`p2mpclient: --window ${window} is more than the file buffer holds (${bufferSegments} segments, --buffer); using ${bufferSegments}\n`);
    window = bufferSegments;
  }
  return { window, sack: opts.sack === true, cc: parseChoice('--cc', opts.cc, CC_MODES) };
}

const program = new Command('p2mpclient')
  .usage('[options] HOST... PORT FILE MSS')
  .description(
    [
      'Send FILE to every HOST over P2MP-FTP: UDP with stop-and-wait ARQ, one loop per receiver.',
      '',
      'Arguments:',
      '  HOST...  receivers (names or IPv4 addresses), all listening on PORT',
      '  PORT     receivers\' UDP port, 1024 < PORT <= 65535',
      '  FILE     the file to send (read once into shared memory)',
      '  MSS      maximum segment size in bytes, 8 < MSS <= 2048. MSS counts the whole segment,',
      '           8-byte header included, so each segment carries MSS - 8 data bytes (as the classic',
      '           tool\'s README defines it; the older course text counted data bytes only).',
      '',
      'Prints "Timeout, sequence number = Y" on each timeout, then a summary.',
      'Exit status: 0 all receivers complete, 1 any failed, 2 bad arguments, 130 interrupted',
      '(SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP).',
    ].join('\n'),
  )
  .argument('<HOST...>')
  .option('--mode <mode>', 'independent: each receiver advances on its own ACKs; lockstep: segment i+1 waits until every live receiver ACKed i (the classic)', 'independent')
  .option('--eof <convention>', 'end-of-file convention: empty (empty DATA segment), fin (00000000 0000FFFF), last (0x5557 marker on the final segment)', 'empty')
  .option('--timeout <ms>', 'fixed retransmission timeout (no RTT estimation, no backoff)')
  .option('--rto-min <ms>', 'adaptive RTO floor (RFC 6298 estimator)', String(RTO_DEFAULTS.minMs))
  .option('--rto-max <ms>', 'adaptive RTO ceiling', String(RTO_DEFAULTS.maxMs))
  .option('--give-up <seconds>', 'declare a receiver failed after this long without an ACK', '10')
  .option('--threads <n>', 'worker threads for the per-receiver loops (default: min(receivers, cores) in independent mode, 1 in lockstep, as measured)')
  .option('--buffer <MiB>', 'files larger than this stream through a shared buffer of this size (sender memory stays bounded)', String(DEFAULT_BUFFER_BYTES / 1048576))
  .option('--window <N>', 'sliding window: up to N unacknowledged segments per receiver (1 = the classic stop-and-wait); works with any classic receiver', '1')
  .option('--sack', 'read selective acknowledgements (needs p2mpserver --sack; off: classic ACKs only)')
  .option('--cc <mode>', 'congestion response: none, or aimd (halve on a loss event, +1 segment per round trip, never above N)', 'none')
  .option('--rate <bits/s>', 'pace the sender\'s total transmissions, e.g. 100M (k, M, G: 10^3, 10^6, 10^9 bits per second)')
  .option('-q, --quiet', 'no event lines and no progress; summary only')
  .option('--json', 'print the summary as one JSON document (implies --quiet)')
  .option('--no-progress', 'no progress display (it is shown only when stderr is a terminal)')
  .option('--verify', 'verified wire: header covered by a CRC-32, the file\'s SHA-256 sent at the end, a receiver commits only on a match (receivers need --verify too)')
  .option('--key <file>', 'authenticated, encrypted wire (AES-256-GCM) with the pre-shared key in FILE: 64 hex digits, mode 600; implies --verify (receivers need the same --key)')
  .action(main);

await runProgram(program, process.argv);
