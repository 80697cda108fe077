// The protocol's properties, as fast-check properties over whole simulated transfers. Shared by the vitest suite
// (test/sim.property.test.ts) and the CI fuzzer (sim/fuzz.ts), so both check exactly the same things.
//
// Arbitraries produce a plain ScenarioInput, so a shrunk counterexample is JSON that replays with
// `npm run sim -- --replay '<json>'`. The seed does not shrink meaningfully (a new seed is a new world), but
// receivers, sizes, rates and delays do.

import fc from 'fast-check';
import { HEADER_BYTES, MSS_MAX, MSS_MIN_EXCLUSIVE, payloadBytes } from '../src/core/codec.js';
import { TRAILER_BYTES, type WireMode } from '../src/core/extension.js';
import { DEFAULT_REPAIR_GROUP_FRACTION } from '../src/core/multicast.js';
import { EOF_MODES, type Mode } from '../src/core/options.js';
import { maxRttMs } from './bounds.js';
import { serializationMs, type LinkOptions } from './network.js';
import { resolveOptions, type ScenarioInput } from './options.js';
import { scenarioProblems } from './problems.js';
import { runScenario, type ScenarioResult } from './scenario.js';
import type { CcMode } from '../src/core/window.js';

/** Receivers x segments per generated case: keeps one case at a few ms on average (sizes still span the ranges). */
export const SEGMENT_BUDGET = 10_000;
export const MAX_FILE_BYTES = 64 * 1024;
export const MAX_RECEIVERS = 16;
export const MAX_LOSS_RATE = 0.6;
/** Honest receivers must never be given up on, so give-up, idle and linger timers are effectively infinite. */
const NEVER_MS = 1e12;

/** Uniform on [min, max] at a 1e-6 resolution; fc.double is deliberately skewed towards tiny values, not wanted here. */
const uniform = (min: number, max: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: 1_000_000 }).map((i) => min + ((max - min) * i) / 1_000_000);

/** A rate or delay: often exactly 0 (the fault is off), otherwise uniform up to max. */
const upTo = (max: number): fc.Arbitrary<number> =>
  fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: uniform(0, max), weight: 3 });
const prob = upTo;
const ms = upTo;

export const linkArbitrary: fc.Arbitrary<LinkOptions> = fc.record({
  delayMs: ms(50),
  jitterMs: ms(30),
  loss: prob(0.3),
  duplicate: prob(0.3),
  corrupt: prob(0.3),
  // Slow links only down to 1 Mbit/s: a 2 KiB segment then takes ~17 ms, below the smallest fixed RTO, so
  // spurious retransmissions cannot pile up in the link queue without bound.
  bandwidthMbps: fc.oneof(fc.constant(0), uniform(1, 100)),
  // Unbounded: a bounded queue keeps dropping after the faulty phase, which the liveness bound does not cover.
  queuePackets: fc.constant(0),
});

const rtoArbitrary = fc.oneof(
  fc.record({
    fixedMs: fc.constant(null),
    initialMs: fc.integer({ min: 1, max: 1000 }),
    minMs: fc.integer({ min: 1, max: 50 }),
    maxMs: fc.integer({ min: 200, max: 2000 }),
    granularityMs: fc.constant(1),
  }),
  fc.record({
    fixedMs: fc.integer({ min: 20, max: 400 }),
    initialMs: fc.constant(200),
    minMs: fc.constant(5),
    maxMs: fc.constant(2000),
    granularityMs: fc.constant(1),
  }),
);

const initialSeqArbitrary = fc.oneof(
  fc.constant(0),
  // Near 2^32 so that short transfers cross the sequence-number wrap.
  fc.integer({ min: 0xffffffff - 64, max: 0xffffffff }),
  fc.nat({ max: 0xffffffff }),
);

/** How the file size relates to the payload size: arbitrary, an exact multiple (EOF edge cases), or empty. */
const fileShape = fc.oneof(
  { arbitrary: uniform(0, 1).map((f) => ({ kind: 'any' as const, f })), weight: 4 },
  { arbitrary: uniform(0, 1).map((f) => ({ kind: 'multiple' as const, f })), weight: 1 },
  { arbitrary: fc.constant({ kind: 'empty' as const, f: 0 }), weight: 1 },
);

function fileBytesFor(shape: { kind: 'any' | 'multiple' | 'empty'; f: number }, payload: number, receivers: number): number {
  const maxSegments = Math.max(1, Math.floor(SEGMENT_BUDGET / receivers) - 1);
  const max = Math.min(MAX_FILE_BYTES, maxSegments * payload);
  if (shape.kind === 'empty') return 0;
  if (shape.kind === 'multiple') return Math.floor((shape.f * max) / payload) * payload;
  return Math.floor(shape.f * max);
}

const commonFields = {
  seed: fc.nat(),
  receivers: fc.integer({ min: 1, max: MAX_RECEIVERS }),
  lossRate: prob(MAX_LOSS_RATE),
  mss: fc.oneof(fc.integer({ min: MSS_MIN_EXCLUSIVE + 1, max: MSS_MAX }), fc.constantFrom(MSS_MIN_EXCLUSIVE + 1, 10, 500, MSS_MAX)),
  file: fileShape,
  eof: fc.constantFrom(...EOF_MODES),
  initialSeq: initialSeqArbitrary,
  rto: rtoArbitrary,
  down: linkArbitrary,
  up: linkArbitrary,
  slowPaths: fc.array(fc.option(uniform(0, 100), { nil: null }), { maxLength: MAX_RECEIVERS }),
  faultUntilMs: upTo(10_000),
};

type Common = { [K in keyof typeof commonFields]: (typeof commonFields)[K] extends fc.Arbitrary<infer T> ? T : never };

function toInput(c: Common, mode: Mode, wireMode: WireMode = 'classic'): ScenarioInput {
  // The extensions' trailers need a few more bytes than the classic minimum MSS.
  const mss = Math.max(c.mss, HEADER_BYTES + TRAILER_BYTES[wireMode] + 1);
  return {
    seed: c.seed,
    receivers: c.receivers,
    mode,
    lossRate: c.lossRate,
    fileBytes: fileBytesFor(c.file, payloadBytes(mss, TRAILER_BYTES[wireMode]), c.receivers),
    mss,
    eof: c.eof,
    wireMode,
    initialSeq: c.initialSeq,
    rto: c.rto,
    giveUpMs: NEVER_MS,
    idleTimeoutMs: NEVER_MS,
    lingerMs: NEVER_MS,
    down: c.down,
    up: c.up,
    corruptScope: 'checked',
    delayOverrideMs: c.slowPaths.slice(0, c.receivers),
    faultUntilMs: c.faultUntilMs,
    crashes: [],
  };
}

/** Any honest transfer: all faults on the links during a bounded faulty phase, no give-up. */
export function scenarioArbitrary(mode: Mode): fc.Arbitrary<ScenarioInput> {
  return fc.record(commonFields).map((c) => toInput(c, mode));
}

/**
 * --verify or --key with corruption free to flip any bit, header included (where the classic wire can be
 * fooled): the same guarantees as any honest transfer, and above all no receiver commits a wrong file.
 */
export function corruptAnyArbitrary(wireMode: Exclude<WireMode, 'classic'>): fc.Arbitrary<ScenarioInput> {
  return fc.record({ ...commonFields, lockstep: fc.boolean() }).map(({ lockstep, ...c }) => ({
    ...toInput(c, lockstep ? 'lockstep' : 'independent', wireMode),
    corruptScope: 'any' as const,
  }));
}

/**
 * Some receivers vanish mid-transfer. The RTO is fixed and give-up is 300 attempts, so the senders of crashed
 * receivers fail while honest ones (each attempt succeeds with probability >= 0.4 * 0.7^4) fail with negligible
 * probability (< 1e-10 per case).
 */
export function crashArbitrary(mode: Mode, wireMode: WireMode = 'classic'): fc.Arbitrary<ScenarioInput> {
  return fc
    .record({
      ...commonFields,
      rto: fc.integer({ min: 20, max: 400 }),
      crashes: fc.array(fc.record({ receiver: fc.nat({ max: MAX_RECEIVERS - 1 }), atMs: uniform(0, 5_000) }), { minLength: 1, maxLength: 4 }),
    })
    .map(({ rto, crashes, ...c }) => {
      const input = toInput({ ...c, rto: { fixedMs: rto, initialMs: 200, minMs: 5, maxMs: 2000, granularityMs: 1 } }, mode, wireMode);
      input.crashes = crashes.filter((x) => x.receiver < c.receivers);
      if (input.crashes.length === 0) input.crashes = [{ receiver: crashes[0]!.receiver % c.receivers, atMs: crashes[0]!.atMs }];
      input.giveUpMs = 300 * (rto + maxRttMs(resolveOptions(input)));
      return input;
    });
}

/** Run one case and throw with every problem found (fast-check reports the message with the counterexample). */
export function checkScenario(input: ScenarioInput): void {
  const problems = scenarioProblems(runScenario(input));
  if (problems.length > 0) throw new Error(`${problems.length} problem(s):\n  ${problems.join('\n  ')}\nreplay: npm run sim -- --replay '${JSON.stringify(input)}'`);
}

export const scenarioProperty = (mode: Mode): fc.IProperty<[ScenarioInput]> => fc.property(scenarioArbitrary(mode), checkScenario);
export const corruptAnyProperty = (wireMode: Exclude<WireMode, 'classic'>): fc.IProperty<[ScenarioInput]> => fc.property(corruptAnyArbitrary(wireMode), checkScenario);
export const crashProperty = (mode: Mode): fc.IProperty<[ScenarioInput]> => fc.property(crashArbitrary(mode), checkScenario);

/**
 * The sliding window on top of any scenario: N up to 64 segments in flight, SACK or classic ACKs, AIMD or not,
 * receivers that discard out-of-order segments (reorder 0, the classic receiver), buffer fewer than N, or many.
 * The observer then checks at most N unacknowledged per receiver and the lockstep-window barrier.
 */
const windowFields = {
  window: fc.integer({ min: 2, max: 64 }),
  sack: fc.boolean(),
  cc: fc.constantFrom<CcMode>('none', 'aimd'),
  reorderSegments: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 }), fc.constant(1024)),
};

type WindowFields = { [K in keyof typeof windowFields]: (typeof windowFields)[K] extends fc.Arbitrary<infer T> ? T : never };

function withWindow<T extends ScenarioInput>(input: T, w: WindowFields): T {
  return { ...input, window: w.window, sack: w.sack, cc: w.cc, reorderSegments: w.reorderSegments };
}

export const windowScenarioProperty = (mode: Mode): fc.IProperty<[ScenarioInput]> =>
  fc.property(fc.tuple(scenarioArbitrary(mode), fc.record(windowFields)).map(([input, w]) => withWindow(input, w)), checkScenario);
export const windowCrashProperty = (mode: Mode): fc.IProperty<[ScenarioInput]> =>
  fc.property(fc.tuple(crashArbitrary(mode), fc.record(windowFields)).map(([input, w]) => withWindow(input, w)), checkScenario);

/**
 * The window on the --verify/--key wire with corruption free to flip any bit (header included), independent or
 * lockstep, receivers that buffer or discard: every receiver identical, none commits a wrong file, at most N
 * unacknowledged, the lockstep-window barrier.
 */
export const windowWireProperty = (wireMode: Exclude<WireMode, 'classic'>): fc.IProperty<[ScenarioInput]> =>
  fc.property(fc.tuple(corruptAnyArbitrary(wireMode), fc.record(windowFields)).map(([input, w]) => withWindow(input, w)), checkScenario);
/** The window on the --key wire, receivers vanish in lockstep: they are given up on, the survivors finish identical. */
export const windowCrashKeyProperty = (): fc.IProperty<[ScenarioInput]> =>
  fc.property(fc.tuple(crashArbitrary('lockstep', 'key'), fc.record(windowFields)).map(([input, w]) => withWindow(input, w)), checkScenario);

/**
 * The multicast data path on top of any scenario (lockstep, SACK on both sides): a window up to 64, any repair
 * fraction, receivers that buffer (a multicast receiver is this project's, its reorder buffer on). The observer
 * then also checks that the group never runs more than N ahead of the slowest live receiver and that a unicast
 * repair never goes to a receiver the sender knew held the segment; every receiver must end identical.
 */
const multicastFields = {
  window: fc.integer({ min: 1, max: 64 }),
  repairGroupFraction: fc.oneof(fc.constantFrom(0, DEFAULT_REPAIR_GROUP_FRACTION, 0.5, 1), uniform(0, 1)),
  reorderSegments: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant(1024)),
};

type MulticastFields = { [K in keyof typeof multicastFields]: (typeof multicastFields)[K] extends fc.Arbitrary<infer T> ? T : never };

/**
 * Every group copy crosses every receiver's link, and with a fixed RTO (no backoff) each of n receivers' timers
 * may ask for one copy per RTO: a link slower than n copies per RTO queues without bound (the congestion
 * collapse a too-short --timeout invites on a slow multicast network; the adaptive RTO backs off). The liveness
 * bound assumes no such collapse, so with a fixed RTO a rate-limited link carries twice that load, duplicates
 * included (linkArbitrary's argument, scaled by the n timers that share the link).
 */
function multicastDown(input: ScenarioInput): LinkOptions {
  const { down, rto, receivers, mss } = resolveOptions(input);
  if (rto.fixedMs === null || down.bandwidthMbps === 0) return down;
  const floorMbps = (2 * receivers * (1 + down.duplicate) * serializationMs(mss, 1)) / rto.fixedMs;
  return { ...down, bandwidthMbps: Math.max(down.bandwidthMbps, floorMbps) };
}

function withMulticast<T extends ScenarioInput>(input: T, m: MulticastFields): T {
  return { ...input, mode: 'lockstep', multicast: true, sack: true, cc: 'none', window: m.window, repairGroupFraction: m.repairGroupFraction, reorderSegments: m.reorderSegments, down: multicastDown(input) };
}

export const multicastScenarioProperty = (): fc.IProperty<[ScenarioInput]> =>
  fc.property(fc.tuple(scenarioArbitrary('lockstep'), fc.record(multicastFields)).map(([input, m]) => withMulticast(input, m)), checkScenario);
/**
 * Multicast on the --verify/--key wire with corruption free to flip any bit: each receiver's handshake by unicast
 * (its own challenge), the group's data sealed once for all, every receiver identical, none commits a wrong file.
 */
export const multicastWireProperty = (wireMode: Exclude<WireMode, 'classic'>): fc.IProperty<[ScenarioInput]> =>
  fc.property(fc.tuple(corruptAnyArbitrary(wireMode), fc.record(multicastFields)).map(([input, m]) => withMulticast(input, m)), checkScenario);
/** Receivers vanish mid-transfer under multicast: they are given up on, the others finish with identical files. */
export const multicastCrashProperty = (): fc.IProperty<[ScenarioInput]> =>
  fc.property(fc.tuple(crashArbitrary('lockstep'), fc.record(multicastFields)).map(([input, m]) => withMulticast(input, m)), checkScenario);

/** The same scenario twice gives the same run: trace hash, events and every receiver's outcome. */
export function checkDeterminism(input: ScenarioInput): void {
  const a = runScenario(input, false);
  const b = runScenario(input, false);
  const digest = (r: ScenarioResult): string => JSON.stringify({ hash: r.traceHash, events: r.eventsProcessed, end: r.endMs, receivers: r.receivers, wire: r.wire });
  if (digest(a) !== digest(b)) throw new Error(`same scenario, different runs: trace ${a.traceHash} vs ${b.traceHash}`);
}

export const determinismProperty = (): fc.IProperty<[ScenarioInput]> =>
  fc.property(fc.oneof(scenarioArbitrary('independent'), scenarioArbitrary('lockstep'), crashArbitrary('lockstep')), checkDeterminism);
