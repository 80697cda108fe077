// Scenario options: one plain, JSON-serializable object (so a failing property case can be pasted back into
// `npm run sim -- --replay '<json>'`), with units in the names.

import { MSS_MAX, MSS_MIN_EXCLUSIVE, payloadBytes } from '../src/core/codec.js';
import { TRAILER_BYTES, type WireMode } from '../src/core/extension.js';
import { DEFAULT_REPAIR_GROUP_FRACTION } from '../src/core/multicast.js';
import type { EofMode, Mode } from '../src/core/options.js';
import { RTO_DEFAULTS } from '../src/core/rto.js';
import { CC_MODES, type CcMode } from '../src/core/window.js';
import type { CorruptScope, LinkOptions } from './network.js';
import type { Seed } from './prng.js';

export interface RtoOptions {
  /** Fixed RTO in ms, or null for the adaptive RFC 6298 estimator. */
  fixedMs: number | null;
  initialMs: number;
  minMs: number;
  maxMs: number;
  granularityMs: number;
}

export interface Crash {
  receiver: number;
  /** From this virtual time on, every datagram reaching the receiver is lost (the host is gone). */
  atMs: number;
}

export interface ScenarioOptions {
  seed: Seed;
  receivers: number;
  mode: Mode;
  /** N, the sliding window (1: the classic stop-and-wait). */
  window: number;
  /** SACK on both sides. */
  sack: boolean;
  /** The multicast data path (implies lockstep, SACK on both sides, the window flow). */
  multicast: boolean;
  /** --repair-group: with multicast, a repair goes to the group when more than this fraction of the live receivers need it. */
  repairGroupFraction: number;
  cc: CcMode;
  /** --rate: the sender's total, bits per second; null = unpaced. */
  rateBitsPerSec: number | null;
  /** The receivers' reorder buffer, in segments (0: discard out-of-order segments, as the classic receiver). */
  reorderSegments: number;
  /** The receivers' classic loss service P (applied by ReceiverMachine, as in real runs). */
  lossRate: number;
  fileBytes: number;
  mss: number;
  eof: EofMode;
  /** The wire: classic, --verify or --key (keys, Ns and challenges are drawn from the seed). */
  wireMode: WireMode;
  initialSeq: number;
  rto: RtoOptions;
  giveUpMs: number;
  idleTimeoutMs: number;
  lingerMs: number;
  /** Sender -> receiver links (DATA). */
  down: LinkOptions;
  /** Receiver -> sender links (ACKs). */
  up: LinkOptions;
  corruptScope: CorruptScope;
  /** Per-receiver one-way delay (both directions) overriding down/up.delayMs; null or missing = default. */
  delayOverrideMs: Array<number | null>;
  /** Links are faulty (loss, duplication, corruption) only before this time; null = for the whole run. */
  faultUntilMs: number | null;
  crashes: Crash[];
  /** Hard stop on processed events, so a livelock ends the run instead of hanging it. */
  maxEvents: number;
  /** Stop and report non-termination at this virtual time; null = derived from faultUntilMs (none if that is null). */
  deadlineMs: number | null;
}

export type ScenarioInput = Partial<Omit<ScenarioOptions, 'rto' | 'down' | 'up'>> & {
  rto?: Partial<RtoOptions>;
  down?: Partial<LinkOptions>;
  up?: Partial<LinkOptions>;
};

export const DEFAULT_LINK: LinkOptions = { delayMs: 10, jitterMs: 0, loss: 0, duplicate: 0, corrupt: 0, bandwidthMbps: 0, queuePackets: 0 };

export const DEFAULT_OPTIONS: ScenarioOptions = {
  seed: 1,
  receivers: 3,
  mode: 'independent',
  window: 1,
  sack: false,
  multicast: false,
  repairGroupFraction: DEFAULT_REPAIR_GROUP_FRACTION,
  cc: 'none',
  rateBitsPerSec: null,
  reorderSegments: 1024,
  lossRate: 0.05,
  fileBytes: 1 << 20,
  mss: 500,
  eof: 'empty',
  wireMode: 'classic',
  initialSeq: 0,
  rto: { fixedMs: null, ...RTO_DEFAULTS },
  giveUpMs: 60_000,
  idleTimeoutMs: 300_000,
  lingerMs: 30_000,
  down: DEFAULT_LINK,
  up: DEFAULT_LINK,
  corruptScope: 'checked',
  delayOverrideMs: [],
  faultUntilMs: null,
  crashes: [],
  maxEvents: 200_000_000,
  deadlineMs: null,
};

/**
 * Receivers a scenario may have. Memory grows with the receiver count whatever the file size (each has its
 * links, machines and counters): a user trial measured 100,000 receivers with an empty file at 11 s and 0.96 GB
 * of heap, and 1,000,000 ran out of V8's default heap (~4 GB) after a minute. So the bound is the largest count
 * known to fit, refused in one line above it rather than aborting the process.
 */
export const MAX_SCENARIO_RECEIVERS = 100_000;

/**
 * The smallest fixed RTO (ms), a limit of the simulator only: the sender's clock granularity (G,
 * RTO_DEFAULTS.granularityMs), below which its timer cannot tell deadlines apart anyway (p2mpclient --timeout takes
 * less; the properties draw 20..400 ms). A fixed RTO never backs off, so each receiver
 * has about RTT / RTO copies in flight: 1e-6 ms put ten million events in the queue per receiver on a 10 ms link
 * (~110 bytes each) and exhausted memory; at this floor it is RTT / 0.1 ms, a figure the user chose the delay of.
 */
export const MIN_FIXED_RTO_MS = RTO_DEFAULTS.granularityMs;

/** The keys a scenario may name: a typo (`reciever`) is refused, not silently ignored. */
const KNOWN = { top: Object.keys(DEFAULT_OPTIONS), rto: Object.keys(DEFAULT_OPTIONS.rto), link: Object.keys(DEFAULT_LINK), crash: ['receiver', 'atMs'] };

/** Thrown for a scenario that cannot run: the CLI prints its message as a usage error (exit 2). */
function refuse(what: string): never {
  throw new RangeError(`invalid scenario option: ${what}`);
}

function check(ok: boolean, what: string): void {
  if (!ok) refuse(what);
}

/** A refused value as the message shows it: JSON, cut short (one line however large the value). */
function shown(x: unknown): string {
  const text = typeof x === 'number' || x === undefined ? String(x) : (JSON.stringify(x) ?? String(x));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * A (sub)object of the input, `name` its path (undefined: the scenario itself): a plain object naming only known
 * keys. Keys given as undefined take the default, as if absent.
 */
function record(x: unknown, name: string | undefined, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(x)) {
    if (name === undefined) throw new RangeError(`invalid scenario: not an object (got ${shown(x)})`);
    refuse(`${name} must be an object, got ${shown(x)}`);
  }
  const unknown = Object.keys(x).filter((k) => !known.includes(k));
  if (unknown.length > 0) refuse(`unknown ${unknown.map((k) => (name === undefined ? k : `${name}.${k}`)).join(', ')} (known: ${known.join(', ')})`);
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined));
}

/**
 * The full options of a scenario input, checked: the one place both `p2mpsim` (flags or --replay JSON) and the
 * library's simulate() resolve them, so both refuse the same inputs, with a RangeError naming the option.
 */
export function resolveOptions(input: ScenarioInput = {}): ScenarioOptions {
  // The input may be parsed JSON (--replay) or a JavaScript caller's object: its shape is checked, not assumed.
  const top = record(input as unknown, undefined, KNOWN.top);
  const part = (name: 'rto' | 'down' | 'up'): Record<string, unknown> => (top[name] === undefined ? {} : record(top[name], name, name === 'rto' ? KNOWN.rto : KNOWN.link));
  const given = top as ScenarioInput;
  const o: ScenarioOptions = {
    ...DEFAULT_OPTIONS,
    // Multicast is lockstep (src/core/group.ts treats it so): say it in the options, so every report agrees.
    ...(given.multicast === true ? { mode: 'lockstep' as const } : {}),
    ...given,
    rto: { ...DEFAULT_OPTIONS.rto, ...(part('rto') as Partial<RtoOptions>) },
    down: { ...DEFAULT_OPTIONS.down, ...(part('down') as Partial<LinkOptions>) },
    up: { ...DEFAULT_OPTIONS.up, ...(part('up') as Partial<LinkOptions>) },
  };
  // As send() refuses it: one group transmission serves every receiver, so there are no independent flows.
  check(!(given.multicast === true && given.mode === 'independent'), 'multicast is lockstep (one transmission serves every receiver): mode independent cannot apply');
  validate(o);
  return o;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);
const prob = (x: unknown): boolean => isNum(x) && x >= 0 && x <= 1;
const nonNeg = (x: unknown): boolean => isNum(x) && Number.isFinite(x) && x >= 0;
const positive = (x: unknown): boolean => isNum(x) && Number.isFinite(x) && x > 0;
const int = (x: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
/** A timeout: positive; Infinity means never (JSON cannot say it, a library caller can). */
const timeout = (x: unknown, zero = false): boolean => isNum(x) && (zero ? x >= 0 : x > 0);

function validateLink(l: LinkOptions, name: string): void {
  check(nonNeg(l.delayMs), `${name}.delayMs >= 0, got ${shown(l.delayMs)}`);
  check(nonNeg(l.jitterMs), `${name}.jitterMs >= 0, got ${shown(l.jitterMs)}`);
  check(prob(l.loss) && l.loss < 1, `${name}.loss in [0, 1), got ${shown(l.loss)}`);
  check(prob(l.duplicate), `${name}.duplicate in [0, 1], got ${shown(l.duplicate)}`);
  check(prob(l.corrupt) && l.corrupt < 1, `${name}.corrupt in [0, 1), got ${shown(l.corrupt)}`);
  check(nonNeg(l.bandwidthMbps), `${name}.bandwidthMbps >= 0, got ${shown(l.bandwidthMbps)}`);
  check(int(l.queuePackets, 0), `${name}.queuePackets is a non-negative integer, got ${shown(l.queuePackets)}`);
}

function validateRto(r: RtoOptions): void {
  check(r.fixedMs === null || (positive(r.fixedMs) && r.fixedMs >= MIN_FIXED_RTO_MS), `rto.fixedMs is null (adaptive) or at least ${MIN_FIXED_RTO_MS} ms, got ${shown(r.fixedMs)}`);
  check(positive(r.initialMs), `rto.initialMs > 0, got ${shown(r.initialMs)}`);
  check(positive(r.minMs), `rto.minMs > 0, got ${shown(r.minMs)}`);
  check(positive(r.maxMs) && r.maxMs >= r.minMs, `rto.maxMs >= rto.minMs, got ${shown(r.maxMs)}`);
  check(nonNeg(r.granularityMs), `rto.granularityMs >= 0, got ${shown(r.granularityMs)}`);
}

function validate(o: ScenarioOptions): void {
  check((typeof o.seed === 'number' && Number.isFinite(o.seed)) || typeof o.seed === 'string', `seed is a number or a string, got ${shown(o.seed)}`);
  check(int(o.receivers, 1, MAX_SCENARIO_RECEIVERS), `receivers is an integer from 1 to ${MAX_SCENARIO_RECEIVERS}, got ${shown(o.receivers)}`);
  check(o.mode === 'independent' || o.mode === 'lockstep', `mode is independent or lockstep, got ${shown(o.mode)}`);
  check(int(o.window, 1), `window is a positive integer, got ${shown(o.window)}`);
  check(typeof o.sack === 'boolean', `sack is true or false, got ${shown(o.sack)}`);
  check(typeof o.multicast === 'boolean', `multicast is true or false, got ${shown(o.multicast)}`);
  check(prob(o.repairGroupFraction), `repairGroupFraction in [0, 1], got ${shown(o.repairGroupFraction)}`);
  check((CC_MODES as readonly unknown[]).includes(o.cc), `cc is one of ${CC_MODES.join(', ')}, got ${shown(o.cc)}`);
  check(!o.multicast || o.cc === 'none', 'multicast with cc none');
  check(o.rateBitsPerSec === null || positive(o.rateBitsPerSec), `rateBitsPerSec is null or > 0, got ${shown(o.rateBitsPerSec)}`);
  check(int(o.reorderSegments, 0), `reorderSegments is a non-negative integer, got ${shown(o.reorderSegments)}`);
  check(prob(o.lossRate) && o.lossRate < 1, `lossRate in [0, 1), got ${shown(o.lossRate)}`);
  check(int(o.fileBytes, 0), `fileBytes is a non-negative integer, got ${shown(o.fileBytes)}`);
  check(int(o.mss, MSS_MIN_EXCLUSIVE + 1, MSS_MAX), `mss in ${MSS_MIN_EXCLUSIVE + 1}..${MSS_MAX}, got ${shown(o.mss)}`);
  check(o.eof === 'empty' || o.eof === 'fin' || o.eof === 'last', `eof is empty, fin or last, got ${shown(o.eof)}`);
  check(o.wireMode === 'classic' || o.wireMode === 'verify' || o.wireMode === 'key', `wireMode is classic, verify or key, got ${shown(o.wireMode)}`);
  check(payloadBytes(o.mss, TRAILER_BYTES[o.wireMode]) > 0, `mss leaves room for data with wireMode ${o.wireMode}`);
  check(int(o.initialSeq, 0, 0xffffffff), `initialSeq is a u32, got ${shown(o.initialSeq)}`);
  validateRto(o.rto);
  check(timeout(o.giveUpMs), `giveUpMs > 0, got ${shown(o.giveUpMs)}`);
  check(timeout(o.idleTimeoutMs), `idleTimeoutMs > 0, got ${shown(o.idleTimeoutMs)}`);
  check(timeout(o.lingerMs, true), `lingerMs >= 0, got ${shown(o.lingerMs)}`);
  validateLink(o.down, 'down');
  validateLink(o.up, 'up');
  check(o.corruptScope === 'checked' || o.corruptScope === 'any', `corruptScope is checked or any, got ${shown(o.corruptScope)}`);
  check(Array.isArray(o.delayOverrideMs), `delayOverrideMs is an array (null entries: the default delay), got ${shown(o.delayOverrideMs)}`);
  for (const d of o.delayOverrideMs) check(d === null || nonNeg(d), `delayOverrideMs entries are null or >= 0, got ${shown(d)}`);
  check(Array.isArray(o.crashes), `crashes is an array of { receiver, atMs }, got ${shown(o.crashes)}`);
  for (const c of o.crashes) {
    const x = record(c, 'crashes entry', KNOWN.crash);
    check(int(x.receiver, 0, o.receivers - 1) && nonNeg(x.atMs), `crash: receiver is an integer from 0 to ${o.receivers - 1} and atMs >= 0, got ${shown(c)}`);
  }
  check(o.faultUntilMs === null || nonNeg(o.faultUntilMs), `faultUntilMs is null or >= 0, got ${shown(o.faultUntilMs)}`);
  check(int(o.maxEvents, 1), `maxEvents is a positive integer, got ${shown(o.maxEvents)}`);
  // null: derived from faultUntilMs. A deadline at or before 0 would stop the run before it starts.
  check(o.deadlineMs === null || (isNum(o.deadlineMs) && o.deadlineMs > 0), `deadlineMs is null or > 0, got ${shown(o.deadlineMs)}`);
}

/** One-way delay of receiver r's path (both directions use the override when one is set). */
export function pathDelayMs(o: ScenarioOptions, r: number, dir: 'down' | 'up'): number {
  return o.delayOverrideMs[r] ?? o[dir].delayMs;
}
