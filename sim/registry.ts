// Every property, by name, with its run sizes: the single list used by the vitest suite and the CI fuzzer.

import fc from 'fast-check';
import {
  corruptAnyProperty,
  crashProperty,
  determinismProperty,
  multicastCrashProperty,
  multicastScenarioProperty,
  multicastWireProperty,
  scenarioProperty,
  windowCrashKeyProperty,
  windowCrashProperty,
  windowScenarioProperty,
  windowWireProperty,
} from './properties.js';
import { receiverFuzzProperty, senderFuzzProperty } from './machine-fuzz.js';
import type { ScenarioInput } from './options.js';

export interface RunParams {
  /** Omitted: fast-check picks a fresh seed (and prints it on failure). */
  seed?: number;
  numRuns: number;
  /** fast-check's replay path from a failure report (replays the shrunk case directly). */
  path?: string;
}

export interface Outcome {
  failed: boolean;
  /** fast-check's report: seed, path, shrunk counterexample, error. */
  report: string;
  /** For scenario properties: the counterexample as a `npm run sim -- --replay` argument. */
  scenarioJson?: string;
}

export interface PropertyEntry {
  name: string;
  description: string;
  /** Cases per fuzz batch (each batch gets a fresh seed). */
  fuzzBatch: number;
  /** Cases in the regular test run (the whole suite should stay well under a minute on 2 cores). */
  testRuns: number;
  run(params: RunParams): Outcome;
  /** fc.assert: throws with fast-check's report (the test suite's form). */
  assert(params: RunParams): void;
}

function toParams(p: RunParams): { seed?: number; numRuns: number; path?: string; endOnFailure?: boolean } {
  const params: { seed?: number; numRuns: number; path?: string; endOnFailure?: boolean } = { numRuns: p.numRuns };
  if (p.seed !== undefined) params.seed = p.seed;
  if (p.path !== undefined) {
    params.path = p.path;
    params.endOnFailure = true;
  }
  return params;
}

function entry<T>(
  name: string,
  description: string,
  fuzzBatch: number,
  testRuns: number,
  make: () => fc.IProperty<[T]>,
  asScenario?: (value: T) => ScenarioInput,
): PropertyEntry {
  return {
    name,
    description,
    fuzzBatch,
    testRuns,
    run(params) {
      const details = fc.check(make(), toParams(params));
      if (!details.failed) return { failed: false, report: '' };
      const value = details.counterexample?.[0];
      const outcome: Outcome = { failed: true, report: fc.defaultReportMessage(details) ?? 'property failed' };
      if (asScenario && value !== undefined) outcome.scenarioJson = JSON.stringify(asScenario(value));
      return outcome;
    },
    assert(params) {
      fc.assert(make(), toParams(params));
    },
  };
}

const same = (x: ScenarioInput): ScenarioInput => x;

export const PROPERTIES: readonly PropertyEntry[] = [
  entry('scenario-independent', 'whole transfers, independent mode: identical files, termination, all invariants', 100, 1000, () => scenarioProperty('independent'), same),
  entry('scenario-lockstep', 'whole transfers, lockstep mode: identical files, termination, barrier, all invariants', 100, 1000, () => scenarioProperty('lockstep'), same),
  entry('crash-independent', 'receivers vanish, independent mode: survivors complete, the crashed are given up', 100, 400, () => crashProperty('independent'), same),
  entry('crash-lockstep', 'receivers vanish, lockstep mode: the barrier releases, survivors complete', 100, 400, () => crashProperty('lockstep'), same),
  entry('window-independent', 'sliding window (N <= 64, SACK or not, AIMD or not, receivers that buffer or discard), independent: identical files, at most N unacknowledged', 60, 600, () => windowScenarioProperty('independent'), same),
  entry('window-lockstep', 'sliding window, lockstep: segment j reaches nobody before every live receiver acknowledged j - N', 60, 600, () => windowScenarioProperty('lockstep'), same),
  entry('window-crash-lockstep', 'sliding window, receivers vanish in lockstep: the window barrier releases, survivors complete', 40, 300, () => windowCrashProperty('lockstep'), same),
  entry('multicast', 'multicast data path (N <= 64, any repair fraction): identical files, the group within N of the slowest live receiver, unicast repairs only to receivers missing the segment', 60, 500, multicastScenarioProperty, same),
  entry('multicast-crash', 'receivers vanish under multicast: they are given up on, the others finish with identical files', 40, 300, multicastCrashProperty, same),
  entry('multicast-key', 'multicast on the --key wire, corruption of any bit: handshakes by unicast, data sealed once for the group, identical files, never a wrong file committed', 20, 25, () => multicastWireProperty('key'), same),
  entry('multicast-verify', 'multicast on the --verify wire, corruption of any bit: identical files, never a wrong file committed', 40, 120, () => multicastWireProperty('verify'), same),
  entry('corrupt-any-verify', '--verify, corruption of any bit (header included): identical files, termination, never a wrong file committed', 100, 300, () => corruptAnyProperty('verify'), same),
  entry('corrupt-any-key', '--key, corruption of any bit (header included): identical files, termination, never a wrong file committed', 30, 100, () => corruptAnyProperty('key'), same),
  entry('window-verify', 'sliding window on the --verify wire (VSACK or not), corruption of any bit: identical files, never a wrong file committed, at most N unacknowledged', 60, 200, () => windowWireProperty('verify'), same),
  entry('window-key', 'sliding window on the --key wire (KSACK or not), corruption of any bit: identical files, never a wrong file committed, at most N unacknowledged', 30, 60, () => windowWireProperty('key'), same),
  entry('window-crash-key', 'sliding window on the --key wire, receivers vanish in lockstep: the barrier releases, survivors complete identical', 20, 40, windowCrashKeyProperty, same),
  entry('determinism', 'the same seed and options twice: the same trace hash and outcome (the simulator is deterministic)', 30, 60, determinismProperty, same),
  entry('receiver-datagrams', 'raw datagrams and timer wake-ups into one ReceiverMachine, checked against a model', 5000, 5000, receiverFuzzProperty),
  entry('sender-datagrams', 'raw datagrams, barrier moves and timer wake-ups into one SenderFlow, checked against a model', 5000, 5000, senderFuzzProperty),
];

export function propertyNamed(name: string): PropertyEntry | undefined {
  return PROPERTIES.find((p) => p.name === name);
}
