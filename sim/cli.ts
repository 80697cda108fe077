#!/usr/bin/env node
// `npm run sim`: one simulated transfer, printed for people (or --json for machines). Wall time is read here,
// and only here, to report simulator speed; --no-wall leaves it out so equal seeds print equal bytes.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { usageLine } from '../src/cli/args.js';
import { multicastConflict } from '../src/cli/multicast-options.js';
import { packageVersion } from '../src/cli/help.js';
import { EOF_MODES, MODES, type EofMode, type Mode } from '../src/core/options.js';
import { RTO_DEFAULTS } from '../src/core/rto.js';
import {
  parseCrash,
  isEntryPoint,
  parseDuration,
  parseFraction,
  parseInteger,
  parseNumber,
  parseProbability,
  parseSize,
  parseSlow,
  slowOverrides,
  type CrashSpec,
  type SlowGroup,
} from './args.js';
import { DEFAULT_LINK, DEFAULT_OPTIONS, MAX_SCENARIO_RECEIVERS, MIN_FIXED_RTO_MS, type ScenarioInput } from './options.js';
import { formatText, summarize } from './report.js';
import { scenarioProblems } from './problems.js';
import { runScenario } from './scenario.js';
import { parseRate } from '../src/core/pacer.js';
import { CC_MODES, type CcMode } from '../src/core/window.js';
import { MULTICAST_DEFAULT_WINDOW } from '../src/core/multicast.js';
import type { CorruptScope } from './network.js';
import { quote } from '../src/transport/user-text.js';

interface CliOptions {
  seed: string;
  receivers: number;
  mode: Mode;
  p: number;
  fileSize: number;
  mss: number;
  eof: EofMode;
  verify?: boolean;
  key?: boolean;
  rto: string;
  rtoInitial: number;
  rtoMin: number;
  rtoMax: number;
  delay: number;
  jitter: number;
  loss: number;
  ackLoss: number;
  dup: number;
  corrupt: number;
  corruptScope: CorruptScope;
  bandwidth: number;
  queue: number;
  window: number;
  sack: boolean;
  multicast: boolean;
  repairGroup: number;
  cc: CcMode;
  rate?: string;
  reorder: number;
  slow: SlowGroup[];
  crash: CrashSpec[];
  giveUp: number;
  idleTimeout: number;
  linger: number;
  faultUntil?: number;
  initialSeq: number;
  maxEvents: number;
  replay?: string;
  json: boolean;
  wall: boolean;
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Exit codes: 0 ok, 1 invariant violated, 2 usage error, 3 the run did not terminate (deadline / event budget). */
export const EXIT_VIOLATION = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_TERMINATED = 3;

function program(io: CliIo): Command {
  const d = DEFAULT_OPTIONS;
  const cmd: Command = new Command()
    .name('p2mpsim')
    .version(`p2mpsim ${packageVersion()}`, '-V, --version', 'print the program name and version, and exit')
    .description('Deterministic discrete-event simulation of one P2MP-FTP transfer (virtual time, seeded faults). Also `npm run sim --` in a checkout.')
    .option('--seed <seed>', 'run seed: same seed and options, same output', String(d.seed))
    .option('-n, --receivers <n>', 'number of receivers', parseInteger, d.receivers)
    .addOption(new Option('--mode <mode>', 'independent: one stop-and-wait flow per receiver; lockstep: segment i+1 waits for every ACK of i').choices([...MODES]).default(d.mode))
    .option('-p, --p <P>', "receivers' loss service probability", parseProbability, d.lossRate)
    .option('--file-size <size>', 'file size (seeded bytes), e.g. 1MiB, 64KiB, 1000', parseSize, d.fileBytes)
    .option('--mss <bytes>', 'segment size including the 8-byte header', parseInteger, d.mss)
    .addOption(new Option('--eof <mode>', 'end-of-file marker').choices([...EOF_MODES]).default(d.eof))
    .option('--verify', 'the --verify wire: CRC-32 over every datagram, the file committed only if its SHA-256 matches')
    .option('--key', 'the --key wire: handshake, AES-256-GCM (key, Ns and challenges drawn from the seed); implies --verify')
    .option('--rto <ms|adaptive>', 'fixed retransmission timeout (enables the analytical expectation) or adaptive (RFC 6298)', 'adaptive')
    .option('--rto-initial <ms>', 'adaptive RTO before the first sample', parseDuration, RTO_DEFAULTS.initialMs)
    .option('--rto-min <ms>', 'adaptive RTO lower bound', parseDuration, RTO_DEFAULTS.minMs)
    .option('--rto-max <ms>', 'adaptive RTO upper bound (after backoff)', parseDuration, RTO_DEFAULTS.maxMs)
    .option('--delay <ms>', 'one-way delay, each direction', parseDuration, DEFAULT_LINK.delayMs)
    .option('--jitter <ms>', 'extra uniform random delay per packet (reorders packets)', parseDuration, DEFAULT_LINK.jitterMs)
    .option('--loss <prob>', 'network loss of DATA (on top of the loss service P)', parseProbability, 0)
    .option('--ack-loss <prob>', 'network loss of ACKs', parseProbability, 0)
    .option('--dup <prob>', 'duplication probability, each direction', parseProbability, 0)
    .option('--corrupt <prob>', 'single-bit corruption probability, each direction', parseProbability, 0)
    .addOption(new Option('--corrupt-scope <scope>', 'checked: bits the protocol checks; any: every bit (the classic header is not checksummed)').choices(['checked', 'any']).default(d.corruptScope))
    .option('--bandwidth <Mbit/s>', 'link rate for serialization delay; 0 = unlimited', parseNumber, 0)
    .option('--window <N>', 'sliding window: up to N unacknowledged segments per receiver (1 = stop-and-wait)', parseInteger, d.window)
    .option('--sack', 'selective acknowledgements on both sides', false)
    .option('--multicast', `the multicast data path: new segments once to the group, repairs by unicast or to the group; implies lockstep and SACK (--window default ${MULTICAST_DEFAULT_WINDOW})`, false)
    .option('--repair-group <fraction>', 'multicast: a repair goes to the group when more than this fraction of the live receivers need it', parseFraction, d.repairGroupFraction)
    .addOption(new Option('--cc <mode>', 'congestion response').choices([...CC_MODES]).default(d.cc))
    .option('--rate <bits/s>', "pace the sender's total, e.g. 100M")
    .option('--reorder <segments>', "receivers' reorder buffer (0: discard out-of-order segments)", parseInteger, d.reorderSegments)
    .option('--queue <packets>', 'drop-tail queue bound of a rate-limited link, in packets; 0 = unbounded', parseInteger, 0)
    .option('--slow <count:delay>', 'give COUNT receivers (the last ones) this one-way delay; repeatable, e.g. --slow 5:200ms', parseSlow, [])
    .option('--crash <receiver@time>', 'receiver disappears at that virtual time; repeatable, e.g. --crash 3@2s', parseCrash, [])
    .option('--give-up <ms>', 'sender declares a receiver failed after this long without an ACK', parseDuration, d.giveUpMs)
    .option('--idle-timeout <ms>', 'receiver gives up after this long without a valid segment', parseDuration, d.idleTimeoutMs)
    .option('--linger <ms>', 'receiver keeps re-acknowledging end of file this long', parseDuration, d.lingerMs)
    .option('--fault-until <ms>', 'link faults (loss, dup, corruption) stop at this virtual time', parseDuration)
    .option('--initial-seq <n>', 'sequence number of segment 0 (try 4294967290 to cross the wrap)', parseInteger, d.initialSeq)
    .option('--max-events <n>', 'stop after this many events', parseInteger, d.maxEvents)
    .option('--replay <json>', 'run exactly this scenario (a ScenarioInput JSON, e.g. a property counterexample); other run options are ignored')
    .option('--json', 'print one JSON object', false)
    .option('--no-wall', 'omit wall-clock figures (output then depends only on seed and options)')
    .addHelpText('after', '\nExit status: 0 ok, 1 an invariant was violated, 2 bad arguments, 3 the run did not terminate\n(liveness deadline or --max-events). docs/SIMULATOR.md has the model, the properties and the output.')
    .exitOverride()
    // Commander's own complaints in the form of every other usage error: `p2mpsim: <what is wrong>; see --help`.
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (str, write) => write(usageLine(cmd, str)) });
  return cmd;
}

function rateOf(text: string): number {
  const bits = parseRate(text);
  if (bits === undefined) throw new RangeError(`--rate must be bits per second with an optional k, M or G (e.g. 100M), got ${quote(text)}`);
  return bits;
}

/** --rto: `adaptive`, or a fixed timeout as a duration (as --delay: no exponent, so `1e3` is refused, not read as 1). */
function rtoOf(text: string): number | null {
  if (text === 'adaptive') return null;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new RangeError(`--rto must be adaptive or a duration (e.g. 200, 200ms, 1.5s), got ${quote(text)}`);
  }
  if (ms < MIN_FIXED_RTO_MS) throw new RangeError(`--rto must be at least ${MIN_FIXED_RTO_MS} ms (the sender's timer granularity), got ${quote(text)}`);
  return ms;
}

/** --replay: the JSON text; its shape and values are checked where every scenario is (resolveOptions). */
function replayed(text: string): ScenarioInput {
  try {
    return JSON.parse(text) as ScenarioInput;
  } catch (e) {
    throw new RangeError(`--replay is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function toInput(c: CliOptions, cmd: Command): ScenarioInput {
  if (c.replay !== undefined) return replayed(c.replay);
  const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
  // As p2mpclient refuses them: --multicast is lockstep and runs no congestion response.
  const conflict = c.multicast ? multicastConflict({ mode: given('mode') ? c.mode : undefined, cc: given('cc') ? c.cc : undefined }, (option) => `--${option}`) : undefined;
  if (conflict !== undefined) throw new RangeError(conflict);
  // Named here as the option, before --slow builds a per-receiver array of a count that will be refused anyway.
  if (c.receivers > MAX_SCENARIO_RECEIVERS) throw new RangeError(`--receivers must be at most ${MAX_SCENARIO_RECEIVERS} (the memory of one run grows with it), got ${c.receivers}`);
  const fixed = rtoOf(c.rto);
  const link = { jitterMs: c.jitter, duplicate: c.dup, corrupt: c.corrupt, bandwidthMbps: c.bandwidth, queuePackets: c.queue, delayMs: c.delay };
  return {
    seed: /^\d{1,15}$/.test(c.seed) ? Number(c.seed) : c.seed,
    receivers: c.receivers,
    mode: c.multicast ? 'lockstep' : c.mode,
    window: c.multicast && !given('window') ? MULTICAST_DEFAULT_WINDOW : c.window,
    sack: c.sack,
    multicast: c.multicast,
    repairGroupFraction: c.repairGroup,
    cc: c.cc,
    rateBitsPerSec: c.rate === undefined ? null : rateOf(c.rate),
    reorderSegments: c.reorder,
    lossRate: c.p,
    fileBytes: c.fileSize,
    mss: c.mss,
    eof: c.eof,
    wireMode: c.key ? 'key' : c.verify ? 'verify' : 'classic',
    initialSeq: c.initialSeq,
    rto: { fixedMs: fixed, initialMs: c.rtoInitial, minMs: c.rtoMin, maxMs: c.rtoMax },
    giveUpMs: c.giveUp,
    idleTimeoutMs: c.idleTimeout,
    lingerMs: c.linger,
    down: { ...link, loss: c.loss },
    up: { ...link, loss: c.ackLoss },
    corruptScope: c.corruptScope,
    delayOverrideMs: slowOverrides(c.receivers, c.slow),
    faultUntilMs: c.faultUntil ?? null,
    crashes: c.crash,
    maxEvents: c.maxEvents,
  };
}

/** Run the CLI on `argv` (arguments only, no node/script), writing through `io`; returns the exit code. */
export function main(argv: readonly string[], io: CliIo): number {
  const cmd = program(io);
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    // Commander has printed its one line (outputError), or the help or version.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    throw e;
  }
  const usage = (message: string): number => {
    io.err(usageLine(cmd, message));
    return EXIT_USAGE;
  };
  const c = cmd.opts<CliOptions>();
  let input: ScenarioInput;
  try {
    input = toInput(c, cmd);
  } catch (e) {
    // Values checked after parsing (--rto, --slow against --receivers, --replay's JSON): commander printed
    // nothing for these, so each is printed here, one line.
    if (e instanceof InvalidArgumentError || e instanceof RangeError) return usage(e.message);
    throw e;
  }
  let result;
  const started = performance.now();
  try {
    // The received bytes are not printed; not keeping them saves a buffer per receiver (the observer still
    // checks every written byte against the file).
    result = runScenario(input, false);
  } catch (e) {
    // resolveOptions refuses a scenario that cannot run with a RangeError naming the option.
    if (!(e instanceof RangeError)) throw e;
    return usage(e.message);
  }
  const ms = performance.now() - started;
  const summary = summarize(result, c.wall ? { ms, eventsPerSecond: result.eventsProcessed / (ms / 1000) } : undefined);
  io.out(c.json ? `${JSON.stringify(summary, null, 2)}\n` : formatText(summary));
  // A replayed counterexample is judged as the property judged it: a receiver given up on is a failure there.
  const problems = c.replay === undefined ? [] : scenarioProblems(result);
  for (const p of problems) io.err(`property: ${p}\n`);
  if (result.violationCount > 0 || problems.length > 0) return EXIT_VIOLATION;
  return result.stoppedBy === 'all-terminal' ? 0 : EXIT_NOT_TERMINATED;
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
}
