#!/usr/bin/env node
// p2mpclient HOST... PORT FILE MSS: send FILE to every HOST over P2MP-FTP (stop-and-wait per receiver, or a
// sliding window with --window).

import { Command } from 'commander';
import { payloadBytes } from '../core/codec.js';
import { randomBytes } from 'node:crypto';
import { TRAILER_BYTES } from '../core/extension.js';
import { DEFAULT_REPAIR_GROUP_FRACTION } from '../core/multicast.js';
import { DEFAULT_IDLE_TIMEOUT_MS, EOF_MODES, MODES, type EofMode, type Mode, type MulticastOptions, type SenderOptions, type WireOptions } from '../core/options.js';
import { NONCE_SEED_BYTES } from '../core/seal.js';
import { RTO_DEFAULTS, type RtoConfig } from '../core/rto.js';
import { parseRate, rateTooLow } from '../core/pacer.js';
import { CC_MODES, type WindowOptions } from '../core/window.js';
import { defaultThreads, startEngine } from '../transport/engine.js';
import { bufferSegments, DEFAULT_BUFFER_BYTES, FileReadError, openSharedFile, openSharedStream, type OpenedFile } from '../transport/shared-file.js';
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
import { EventSink } from './events-log.js';
import { describeProgram } from './help.js';
import { parseHostSpec, readHostsFile, resolveTargets } from './hosts.js';
import { jsonLine } from './json.js';
import { checkLocalAddress } from './local-address.js';
import { DEFAULT_TTL, multicastConflict, multicastSummary, multicastWindow, parseFraction, parseGroup, parseTtl } from './multicast-options.js';
import type { MulticastSend } from '../transport/udp-multicast.js';
import { Logger } from './log.js';
import { formatSummary, summarize } from './summary.js';
import { checkClassicOnly, wireChoice } from './wire-options.js';
import { quote, shownName } from '../transport/user-text.js';

interface ClientOptions {
  mode: string;
  eof: string;
  timeout?: string;
  rtoMin: string;
  rtoMax: string;
  giveUp: string;
  wait: string;
  threads?: string;
  buffer: string;
  hostsFile?: string;
  events?: string;
  verbose?: boolean;
  log?: string;
  window: string;
  sack?: boolean;
  cc: string;
  rate?: string;
  quiet?: boolean;
  json?: boolean;
  progress: boolean;
  verify?: boolean;
  key?: string;
  multicast?: string;
  ttl?: string;
  interface?: string;
  repairGroup?: string;
}

async function main(args: string[], opts: ClientOptions): Promise<void> {
  const fromFile = opts.hostsFile === undefined ? [] : readHostsFile(opts.hostsFile);
  const fixed = opts.hostsFile === undefined ? 4 : 3;
  if (args.length < fixed) throw new UsageError(`expected ${fixed === 4 ? 'HOST... ' : '[HOST...] '}PORT FILE MSS, got ${args.length} argument(s)`);
  const specs = [...args.slice(0, -3).map((h) => parseHostSpec(h)), ...fromFile];
  if (specs.length === 0) throw new UsageError(`no receivers: --hosts-file ${shownName(String(opts.hostsFile))} names no host`);
  const [portRaw, filePath, mssRaw] = args.slice(-3) as [string, string, string];
  const port = parsePort(portRaw);
  const mss = parseMss(mssRaw);
  const multicast = await parseMulticast(opts, port);
  const mode: Mode = multicast === undefined ? parseChoice('--mode', opts.mode, MODES) : 'lockstep';
  const eof = parseChoice<EofMode>('--eof', opts.eof, EOF_MODES);
  const rto: RtoConfig = {
    ...RTO_DEFAULTS,
    minMs: parseTime('--rto-min', opts.rtoMin, 'ms', { positive: true }),
    maxMs: parseTime('--rto-max', opts.rtoMax, 'ms', { positive: true }),
  };
  if (opts.timeout !== undefined) rto.fixedMs = parseTime('--timeout', opts.timeout, 'ms', { positive: true });
  if (rto.maxMs < rto.minMs) throw new UsageError(`--rto-max (${rto.maxMs}) must not be below --rto-min (${rto.minMs})`);
  const giveUpMs = parseTime('--give-up', opts.giveUp, 's', { positive: true });
  const waitMs = parseTime('--wait', opts.wait, 's');
  const threads = opts.threads === undefined || multicast !== undefined ? defaultThreads(specs.length, mode) : parseDecimal('--threads', opts.threads, { positive: true });
  if (!Number.isInteger(threads)) throw new UsageError(`--threads must be a positive integer, got ${quote(String(opts.threads))}`);
  const bufferBytes = Math.floor(parseDecimal('--buffer', opts.buffer, { positive: true }) * 1024 * 1024);
  if (filePath === '-' && opts.hostsFile === '-') throw new UsageError('FILE - and --hosts-file - cannot both read stdin');
  const choice = wireChoice(opts);
  checkClassicOnly(choice, program.getOptionValueSource('eof') === 'cli');
  const wireMode = choice.mode === 'classic' ? undefined : choice.mode;
  const payload = payloadBytes(mss, TRAILER_BYTES[choice.mode]);
  if (payload <= 0) throw new UsageError(`MSS ${mss} leaves no room for data with ${choice.mode === 'key' ? '--key' : '--verify'} (its segments need MSS > ${mss - payload})`);
  const asked = parseWindow(opts, multicast !== undefined);
  const rateBitsPerSec = opts.rate === undefined ? undefined : parseRate(opts.rate);
  if (opts.rate !== undefined && rateBitsPerSec === undefined) throw new UsageError(`--rate must be bits per second with an optional k, M or G (e.g. 100M), got ${quote(opts.rate)}`);
  const slow = rateBitsPerSec === undefined ? undefined : rateTooLow(rateBitsPerSec, mss, multicast === undefined ? specs.length : 1, DEFAULT_IDLE_TIMEOUT_MS);
  if (slow !== undefined) throw new UsageError(`--rate ${quote(String(opts.rate))} ${slow}`);
  const targets = await resolveTargets(specs, port);
  const ownPort = targets.find((t) => t.port !== port);
  if (multicast !== undefined && ownPort !== undefined) {
    throw new UsageError(`HOST ${quote(ownPort.host)} has its own port, but with --multicast every receiver listens on PORT ${port} (the group's datagrams go to ${multicast.send.group}:${port})`);
  }
  let opened: OpenedFile;
  try {
    opened = filePath === '-' ? openSharedStream(0, 'stdin', mss, eof, bufferBytes, wireMode) : openSharedFile(filePath, payload, bufferBytes);
  } catch (err) {
    throw err instanceof FileReadError ? new UsageError(err.message) : err;
  }
  const file = opened.file;
  const window = clampWindow(asked, bufferSegments(file));

  const quiet = opts.quiet === true || opts.json === true;
  const log = Logger.open('p2mpclient', opts);
  const events = new EventSink({ targets, port, print: !quiet, eventsFile: opts.events, log });
  const names = targets.map((t) => `${t.address}:${t.port ?? port}`).join(' ');
  const end = wireMode === undefined ? `eof ${eof}` : `--${wireMode}`;
  const via = multicast === undefined ? '' : ` via group ${multicast.send.group}:${port} (TTL ${multicast.send.ttl}, from ${multicast.send.interface ?? 'the default interface'})`;
  log.log(`sending ${shownName(filePath)} (${Number.isFinite(file.length) ? `${file.length} bytes` : 'size unknown'}) to ${names}${via}, MSS ${mss}, mode ${mode}, ${end}, ${threads} thread(s)`);
  events.record('start', { file: filePath, bytes: Number.isFinite(file.length) ? file.length : null, receivers: targets.map((t) => `${t.address}:${t.port ?? port}`) });
  // The END carries the SHA-256 the reader computes (opened.digest, filled in before the END may be sent).
  const wire: WireOptions | undefined =
    wireMode === undefined ? undefined : { mode: wireMode, digest: opened.digest, key: choice.mode === 'key' ? { psk: choice.psk, ns: randomBytes(NONCE_SEED_BYTES) } : undefined };
  const sender: SenderOptions = { mss, eof, mode, rto, giveUpMs, waitMs, window, rateBitsPerSec, wire, multicast: multicast?.options };
  const onEvent = events.wanted ? (ev: Parameters<EventSink['handle']>[0]) => events.handle(ev) : undefined;
  const drawn = opts.progress && !quiet && process.stderr.isTTY && !process.env.CI;
  // Loaded only when drawn: the bars' library costs ~10 ms of start-up, a tenth of a small transfer's process time.
  const display = drawn ? await import('./progress.js') : undefined;
  const run = startEngine({ targets, port, file, advanceBuffer: opened.advance, sender, threads, multicast: multicast?.send, onEvent });
  const signals = catchInterrupt(() => run.abort());
  const progress = display?.startProgress(run.state, targets, () => opened.size() ?? Number.POSITIVE_INFINITY, payload);
  if (progress !== undefined) {
    // Lines go above the bars, never through them; the classic lines only when stdout is that terminal too.
    events.stderr = (line) => progress.log(line);
    log.terminal = events.stderr;
    if (process.stdout.isTTY) events.stdout = events.stderr;
  }
  const done = await run.done;
  const { results, elapsedMs, readError, datagramsSent, strangers } = done;
  progress?.stop();
  const sha256 = readError === undefined ? opened.sha256() : undefined;
  opened.close();
  signals.release();
  const signal = signals.signal();
  const interrupted = signal !== undefined;

  const fileBytes = opened.size() ?? results.reduce((m, r) => Math.max(m, r.stats.bytesAcked), 0);
  const summary = summarize({
    results,
    elapsedMs,
    file: filePath,
    fileBytes,
    sha256,
    mss,
    mode,
    eof,
    port,
    giveUpMs,
    interrupted,
    readError,
    wire: wireMode,
    window,
    rateBitsPerSec,
    datagramsSent,
    strangers,
    multicast: multicast === undefined ? undefined : multicastSummary(multicast.send, multicast.options, done),
  });
  if (opts.json) process.stdout.write(jsonLine(summary));
  else process.stdout.write(formatSummary(summary));
  if (readError !== undefined) process.stderr.write(`p2mpclient: ${readError}; transfer stopped\n`);
  events.record('end', { status: summary.status, ok: summary.ok, complete: summary.total.complete, failed: summary.total.failed, unconfirmed: summary.total.unconfirmed, interrupted: summary.total.interrupted });
  log.log(`${summary.status}: ${summary.total.complete}/${summary.total.receivers} receivers complete in ${(elapsedMs / 1000).toFixed(3)} s, SHA-256 ${sha256 ?? '-'}`);
  events.close();
  log.close();
  process.exitCode = signal !== undefined ? exitCodeFor(signal) : summary.ok ? EXIT_OK : EXIT_FAILED;
}

/** An option's name on the command line, for the messages shared with the library. */
const flag = (option: string): string => `--${option}`;

/**
 * --window, --sack, --cc as given (validated; the window is clamped to the file buffer once the file is open).
 * --multicast: its own default window, and SACK always (the group repairs from SACKs); no --cc.
 */
function parseWindow(opts: ClientOptions, multicast: boolean): WindowOptions {
  if (!/^[0-9]+$/.test(opts.window.trim()) || Number(opts.window) < 1) throw new UsageError(`--window must be a positive integer (segments), got ${quote(opts.window)}`);
  const cc = parseChoice('--cc', opts.cc, CC_MODES);
  if (!multicast) return { window: Number(opts.window), sack: opts.sack === true, cc };
  const conflict = multicastConflict({ cc }, flag);
  if (conflict !== undefined) throw new UsageError(conflict);
  return multicastWindow(program.getOptionValueSource('window') === 'cli' ? Number(opts.window) : undefined);
}

/**
 * --multicast GROUP [--ttl N] [--interface ADDR] [--repair-group FRACTION]: the group's socket options for the
 * transport and the repair rule for the core; the options that only mean something with it are refused
 * without it, and the ones it decides itself (lockstep, one thread) are refused when they say otherwise.
 */
async function parseMulticast(opts: ClientOptions, port: number): Promise<{ send: MulticastSend; options: MulticastOptions } | undefined> {
  const given = (o: string): boolean => program.getOptionValueSource(o) === 'cli';
  if (opts.multicast === undefined) {
    const stray = ['ttl', 'interface', 'repairGroup'].find(given);
    if (stray !== undefined) throw new UsageError(`--${stray === 'repairGroup' ? 'repair-group' : stray} applies to --multicast only`);
    return undefined;
  }
  const ttl = opts.ttl === undefined ? DEFAULT_TTL : parseTtl(opts.ttl);
  const { group, warning } = parseGroup(opts.multicast, ttl);
  if (warning !== undefined) process.stderr.write(`p2mpclient: ${warning}\n`);
  if (opts.interface !== undefined) await checkLocalAddress('--interface', opts.interface);
  const conflict = multicastConflict({ mode: given('mode') ? opts.mode : undefined, threads: opts.threads === undefined ? undefined : Number(opts.threads) }, flag);
  if (conflict !== undefined) throw new UsageError(conflict);
  const repairGroupFraction = opts.repairGroup === undefined ? DEFAULT_REPAIR_GROUP_FRACTION : parseFraction('--repair-group', opts.repairGroup);
  return { send: { group, port, ttl, interface: opts.interface }, options: { repairGroupFraction } };
}

/**
 * A window larger than the file buffer holds (in segments) is clamped to it: segments beyond the buffer cannot
 * be sent anyway, and saying so beats a window that silently never fills.
 */
function clampWindow(w: WindowOptions, bufferSegments: number): WindowOptions {
  if (w.window <= bufferSegments) return w;
  process.stderr.write(`p2mpclient: --window ${w.window} is more than the file buffer holds (${bufferSegments} segments, --buffer); using ${bufferSegments}\n`);
  return { ...w, window: bufferSegments };
}

const program = describeProgram(new Command('p2mpclient').usage('[options] HOST... PORT FILE MSS'), {
  summary: 'Send FILE to every HOST over P2MP-FTP: UDP with stop-and-wait ARQ (or a sliding window, --window), one loop per receiver.',
  args: [
    ['<HOST...>', 'receivers: names or IPv4 addresses, each optionally HOST:PORT for a receiver on its own port (more with --hosts-file)'],
    ['<PORT>', "the receivers' UDP port, 1024 < PORT <= 65535"],
    ['<FILE>', 'the file to send (read once into shared memory); - reads stdin, streamed through the buffer'],
    ['<MSS>', "maximum segment size in bytes, 8 < MSS <= 2048, counting the whole segment with its 8-byte header: each segment carries MSS - 8 data bytes (as the classic tool's README defines it; the older course text counted data bytes only)"],
  ],
  notes: [
    'Prints "Timeout, sequence number = Y" on stdout for each timeout, a line on stderr when a receiver completes or fails, and a summary.',
    'With --multicast GROUP each new segment goes once to GROUP:PORT instead of once per receiver (the receivers run p2mpserver --multicast GROUP); every HOST is still tracked on its own (its ACKs, RTT, failure), the first segment is the registration (it goes to the group, is resent to those who miss it, and a receiver that never acknowledges it within --give-up and --wait is reported and left out), the group advances with its slowest live receiver (lockstep, --window defaults to 16, SACK always), and a segment some receivers miss is resent by unicast to just those, or once to the group when more than --repair-group of them miss it. One socket, bound to --interface, sends to the group and to each receiver and takes every ACK; datagrams from other addresses are counted and ignored. The network must carry multicast between the hosts (IGMP snooping on switches, a route for 224.0.0.0/4 or --interface, no firewall dropping it); --ttl 1 keeps it on the local link.',
    'Exit status: 0 all receivers complete, 1 any failed or unconfirmed, 2 bad arguments, 130 interrupted (SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP).',
  ],
  examples: [
    'p2mpclient 127.0.0.2 127.0.0.3 7735 ./file 1000',
    'p2mpclient --mode lockstep --hosts-file hosts.txt 7735 ./file 500',
    'p2mpclient host-a host-b:7736 7735 ./file 1500     # host-b on its own port',
    'tar c dir | p2mpclient --json 10.0.0.2 7735 - 1472 > summary.json',
    'p2mpclient --window 32 --sack 10.0.0.2 7735 ./file 1472  # p2mpserver --sack',
    'p2mpclient --window 64 --cc aimd --rate 100M 10.0.0.2 7735 ./file 1472',
    'p2mpclient --multicast 239.1.2.3 --interface 10.0.0.1 rx1 rx2 7735 ./f 1472',
  ],
})
  .argument('<HOST...>')
  .option('--mode <mode>', 'independent: each receiver advances on its own ACKs; lockstep: segment i+1 waits until every live receiver ACKed i (the classic)', 'independent')
  .option('--eof <convention>', 'end-of-file convention: empty (empty DATA segment), fin (00000000 0000FFFF), last (0x5557 marker on the final segment)', 'empty')
  .option('--timeout <ms>', 'fixed retransmission timeout (no RTT estimation, no backoff)')
  .option('--rto-min <ms>', 'adaptive RTO floor (RFC 6298 estimator)', String(RTO_DEFAULTS.minMs))
  .option('--rto-max <ms>', 'adaptive RTO ceiling', String(RTO_DEFAULTS.maxMs))
  .option('--give-up <seconds>', 'declare a receiver failed after this long without an ACK', '10')
  .option('--wait <seconds>', 'a receiver not listening yet (port unreachable before its first ACK; with --multicast any receiver before its first ACK) is retried for this long', '5')
  .option('--threads <n>', 'worker threads; the receivers are split into one group per thread (default: 1 for up to 3 receivers, min(receivers, cores) beyond in independent mode, 1 in lockstep, as measured)')
  .option('--buffer <MiB>', 'files larger than this stream through a shared buffer of this size (sender memory stays bounded)', String(DEFAULT_BUFFER_BYTES / 1048576))
  .option('--hosts-file <file>', 'more receivers, one HOST or HOST:PORT a line (# starts a comment; - reads stdin)')
  .option('--events <file>', 'append a status stream to FILE: one JSON object a line for each timeout, completion and failure (docs/JSON.md)')
  .option('-v, --verbose', 'timestamped lines about the transfer on stderr')
  .option('--log <file>', 'append the timestamped lines to FILE')
  .option('--window <N>', 'sliding window: up to N unacknowledged segments per receiver (1 = the classic stop-and-wait); works with any classic receiver', '1')
  .option('--sack', 'read selective acknowledgements (needs p2mpserver --sack; off: classic ACKs only)')
  .option('--cc <mode>', 'congestion response: none, or aimd (halve on a loss event, +1 segment per round trip, never above N)', 'none')
  .option('--rate <bits/s>', 'pace the sender\'s total transmissions, e.g. 100M (k, M, G: 10^3, 10^6, 10^9 bits per second)')
  .option('-q, --quiet', 'no event lines and no progress; summary only')
  .option('--json', 'print the summary as one JSON line, see docs/JSON.md (implies --quiet)')
  .option('--no-progress', 'no progress display (it is shown only when stderr is a terminal)')
  .option('--verify', 'verified wire: header covered by a CRC-32, the file\'s SHA-256 sent at the end, a receiver commits only on a match (receivers need --verify too)')
  .option('--key <file>', 'authenticated, encrypted wire (AES-256-GCM) with the pre-shared key in FILE: 64 hex digits, mode 600; implies --verify (receivers need the same --key)')
  .option('--multicast <group>', 'send each new segment once to this IPv4 multicast group on PORT (a 239.x.y.z group; receivers need p2mpserver --multicast GROUP); implies lockstep, SACK, --window 16')
  .option('--ttl <n>', `with --multicast: IP multicast TTL, 1 to 255 router hops (default ${DEFAULT_TTL}: the local link only)`)
  .option('--interface <addr>', 'with --multicast: the IPv4 address of this host to send from, for the group and every receiver (default: the kernel\'s choice)')
  .option('--repair-group <fraction>', `with --multicast: a lost segment is resent once to the group when more than this fraction of the live receivers miss it, else by unicast to each (default ${DEFAULT_REPAIR_GROUP_FRACTION})`)
  .action(main);

await runProgram(program, process.argv);
