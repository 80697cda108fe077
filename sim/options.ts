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

export function resolveOptions(input: ScenarioInput = {}): ScenarioOptions {
  const o: ScenarioOptions = {
    ...DEFAULT_OPTIONS,
    ...input,
    rto: { ...DEFAULT_OPTIONS.rto, ...input.rto },
    down: { ...DEFAULT_OPTIONS.down, ...input.down },
    up: { ...DEFAULT_OPTIONS.up, ...input.up },
  };
  validate(o);
  return o;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(`invalid scenario option: ${what}`);
}

const prob = (x: number): boolean => x >= 0 && x <= 1;
const nonNeg = (x: number): boolean => Number.isFinite(x) && x >= 0;

function validateLink(l: LinkOptions, name: string): void {
  check(nonNeg(l.delayMs), `${name}.delayMs >= 0`);
  check(nonNeg(l.jitterMs), `${name}.jitterMs >= 0`);
  check(prob(l.loss) && l.loss < 1, `${name}.loss in [0, 1)`);
  check(prob(l.duplicate), `${name}.duplicate in [0, 1]`);
  check(prob(l.corrupt) && l.corrupt < 1, `${name}.corrupt in [0, 1)`);
  check(nonNeg(l.bandwidthMbps), `${name}.bandwidthMbps >= 0`);
  check(Number.isInteger(l.queuePackets) && l.queuePackets >= 0, `${name}.queuePackets is a non-negative integer`);
}

function validate(o: ScenarioOptions): void {
  check(Number.isInteger(o.receivers) && o.receivers >= 1, 'receivers >= 1');
  check(o.mode === 'independent' || o.mode === 'lockstep', 'mode');
  check(Number.isInteger(o.window) && o.window >= 1, 'window is a positive integer');
  check(typeof o.sack === 'boolean', 'sack');
  check(typeof o.multicast === 'boolean', 'multicast');
  check(o.repairGroupFraction >= 0 && o.repairGroupFraction <= 1, 'repairGroupFraction in [0, 1]');
  check(!o.multicast || o.cc === 'none', 'multicast with cc none');
  check((CC_MODES as readonly string[]).includes(o.cc), 'cc');
  check(o.rateBitsPerSec === null || (Number.isFinite(o.rateBitsPerSec) && o.rateBitsPerSec > 0), 'rateBitsPerSec > 0');
  check(Number.isInteger(o.reorderSegments) && o.reorderSegments >= 0, 'reorderSegments >= 0');
  check(o.lossRate >= 0 && o.lossRate < 1, 'lossRate in [0, 1)');
  check(Number.isInteger(o.fileBytes) && o.fileBytes >= 0, 'fileBytes >= 0');
  check(Number.isInteger(o.mss) && o.mss > MSS_MIN_EXCLUSIVE && o.mss <= MSS_MAX, `mss in ${MSS_MIN_EXCLUSIVE + 1}..${MSS_MAX}`);
  check(o.eof === 'empty' || o.eof === 'fin' || o.eof === 'last', 'eof');
  check(o.wireMode === 'classic' || o.wireMode === 'verify' || o.wireMode === 'key', 'wireMode');
  check(payloadBytes(o.mss, TRAILER_BYTES[o.wireMode]) > 0, `mss leaves room for data with wireMode ${o.wireMode}`);
  check(Number.isInteger(o.initialSeq) && o.initialSeq >= 0 && o.initialSeq <= 0xffffffff, 'initialSeq is a u32');
  check(o.rto.fixedMs === null || (Number.isFinite(o.rto.fixedMs) && o.rto.fixedMs > 0), 'rto.fixedMs > 0');
  check(o.rto.minMs > 0 && o.rto.maxMs >= o.rto.minMs && o.rto.initialMs > 0, 'rto bounds');
  check(o.giveUpMs > 0 && o.idleTimeoutMs > 0 && o.lingerMs >= 0, 'timeouts');
  validateLink(o.down, 'down');
  validateLink(o.up, 'up');
  check(o.corruptScope === 'checked' || o.corruptScope === 'any', 'corruptScope');
  for (const d of o.delayOverrideMs) check(d === null || nonNeg(d), 'delayOverrideMs >= 0');
  for (const c of o.crashes) check(Number.isInteger(c.receiver) && c.receiver >= 0 && c.receiver < o.receivers && nonNeg(c.atMs), 'crash');
  check(o.faultUntilMs === null || nonNeg(o.faultUntilMs), 'faultUntilMs >= 0');
  check(o.maxEvents > 0, 'maxEvents > 0');
}

/** One-way delay of receiver r's path (both directions use the override when one is set). */
export function pathDelayMs(o: ScenarioOptions, r: number, dir: 'down' | 'up'): number {
  return o.delayOverrideMs[r] ?? o[dir].delayMs;
}
