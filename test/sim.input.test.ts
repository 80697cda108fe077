// What the simulator accepts: every bad value, from a flag, a --replay JSON or a library caller, is refused in one
// line naming it (exit 2 for p2mpsim, a RangeError for simulate()), and what it reports agrees with itself.

import { describe, expect, it } from 'vitest';
import { main } from '../sim/cli.js';
import { MAX_SCENARIO_RECEIVERS, MIN_FIXED_RTO_MS, type ScenarioInput } from '../sim/options.js';
import { runScenario } from '../sim/scenario.js';
import { simulate } from '../src/api.js';

function cli(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** p2mpsim refused the arguments: exit 2, nothing on stdout, one `p2mpsim: ...` line on stderr (no stack trace). */
function refused(args: string[], mentions: string): void {
  const r = cli(args);
  expect(r.code, args.join(' ')).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/^p2mpsim: [^\n]+\n$/);
  expect(r.err).toContain(mentions);
}

/** simulate() refused the options with a RangeError naming what is wrong. */
function rejects(input: unknown, mentions: string): void {
  expect(() => simulate(input as ScenarioInput)).toThrow(RangeError);
  expect(() => simulate(input as ScenarioInput)).toThrow(mentions);
}

describe('p2mpsim: every usage error is one line and exit 2', () => {
  it('a bad --rto value is refused in one line, exit 2 (a duration as --delay takes: no exponent, no sign)', () => {
    for (const rto of ['abc', '-5', '1e3', '']) refused(['--rto', rto], '--rto must be adaptive or a duration');
  });

  it('--slow asking for more receivers than --receivers is refused in one line, exit 2', () => {
    refused(['--slow', '5:1s'], '--slow asks for more receivers than --receivers 3');
  });

  it("commander's own complaints read the same way", () => {
    refused(['--queue', '-1'], '--queue');
    refused(['--no-such-option'], 'unknown option');
  });

  it('--multicast with --mode independent is refused as p2mpclient refuses it; --multicast alone reports lockstep everywhere', () => {
    refused(['--multicast', '--mode', 'independent'], '--multicast is lockstep');
    refused(['--multicast', '--cc', 'aimd'], '--cc cannot be combined with --multicast');
    const text = cli(['--no-wall', '--multicast', '-n', '2', '--file-size', '2000']);
    const json = cli(['--no-wall', '--json', '--multicast', '-n', '2', '--file-size', '2000']);
    expect(text.code).toBe(0);
    expect(text.out).toContain('mode=multicast');
    expect((JSON.parse(json.out) as { options: { mode: string; multicast: boolean } }).options).toMatchObject({ mode: 'lockstep', multicast: true });
    // Multicast was lockstep before the options said so: the same run, event for event.
    expect(simulate({ multicast: true, receivers: 2, fileBytes: 2000 }).traceHash).toBe(simulate({ multicast: true, mode: 'lockstep', receivers: 2, fileBytes: 2000 }).traceHash);
    rejects({ multicast: true, mode: 'independent' }, 'multicast is lockstep');
  });
});

describe('--replay and simulate() check the scenario instead of assuming its shape', () => {
  it('a replayed scenario that is not a JSON object is refused in one line, exit 2', () => {
    for (const json of ['null', '5', '"str"', '[]']) refused(['--replay', json], 'invalid scenario: not an object');
    refused(['--replay', '{'], '--replay is not JSON');
  });

  it('an unknown key (a typo) is refused, named, instead of running the default scenario', () => {
    refused(['--replay', '{"reciever":50}'], 'unknown reciever');
    refused(['--replay', '{"rto":{"fixed":20}}'], 'unknown rto.fixed');
    refused(['--replay', '{"crashes":[{"receiver":0,"at":5}]}'], 'unknown crashes entry.at');
  });

  it('a field of the wrong type is refused, named, never a TypeError (exit 1 means an invariant was violated)', () => {
    refused(['--replay', '{"crashes":5}'], 'crashes is an array');
    refused(['--replay', '{"crashes":[null]}'], 'crashes entry must be an object');
    refused(['--replay', '{"delayOverrideMs":null}'], 'delayOverrideMs is an array');
    refused(['--replay', '{"rto":null}'], 'rto must be an object');
    refused(['--replay', '{"lossRate":"0.1"}'], 'lossRate');
    refused(['--replay', '{"sack":"yes"}'], 'sack');
  });

  it('simulate() throws a RangeError for the same inputs', () => {
    rejects(null, 'not an object');
    rejects({ crashes: [null] }, 'crashes entry');
    rejects({ delayOverrideMs: null }, 'delayOverrideMs');
    rejects({ reciever: 50 }, 'unknown reciever');
  });

  it('a key given as undefined takes its default, as if absent', () => {
    const a = simulate({ receivers: 2, fileBytes: 3000, seed: 4 });
    const b = simulate({ receivers: 2, fileBytes: 3000, seed: 4, lossRate: undefined, rto: undefined, down: { delayMs: undefined } });
    expect(b.traceHash).toBe(a.traceHash);
  });
});

describe('the library options are checked where CLI and library share them (resolveOptions)', () => {
  it('deadlineMs must be positive: -1 no longer stops the run at once, NaN is no longer ignored', () => {
    rejects({ deadlineMs: -1 }, 'deadlineMs');
    rejects({ deadlineMs: 0 }, 'deadlineMs');
    rejects({ deadlineMs: Number.NaN }, 'deadlineMs');
  });

  it('rto.granularityMs must be a finite non-negative number', () => {
    for (const g of [-1000, Number.NaN, Number.POSITIVE_INFINITY]) rejects({ rto: { granularityMs: g } }, 'rto.granularityMs');
  });

  it('maxEvents must be a positive integer, as --max-events requires', () => {
    rejects({ maxEvents: 1.5 }, 'maxEvents');
    rejects({ maxEvents: 0 }, 'maxEvents');
    refused(['--max-events', '1.5'], '--max-events');
  });

  it('a seed is a number or a string', () => {
    for (const seed of [{}, null, [1], Number.NaN, true]) rejects({ seed }, 'seed');
    expect(simulate({ seed: 'abc', receivers: 1, fileBytes: 100 }).allComplete).toBe(true);
  });
});

describe('memory stays proportional to what the user chose', () => {
  it(`more than ${MAX_SCENARIO_RECEIVERS} receivers are refused at once, in one line (1,000,000 ran out of heap after a minute)`, () => {
    refused(['-n', '1000000', '--file-size', '0'], `--receivers must be at most ${MAX_SCENARIO_RECEIVERS}`);
    rejects({ receivers: MAX_SCENARIO_RECEIVERS + 1 }, 'receivers');
  });

  it(`a fixed RTO below ${MIN_FIXED_RTO_MS} ms is refused (each RTO puts one more copy in flight); the properties' 20..400 ms run`, () => {
    refused(['--rto', '0.000001', '--file-size', '0', '--receivers', '1'], `--rto must be at least ${MIN_FIXED_RTO_MS} ms`);
    rejects({ rto: { fixedMs: 1e-6 } }, 'rto.fixedMs');
    for (const fixedMs of [MIN_FIXED_RTO_MS, 20, 400]) expect(simulate({ receivers: 1, fileBytes: 1000, rto: { fixedMs } }).allComplete).toBe(true);
  });
});

describe('the report agrees with itself', () => {
  // One receiver, no loss, 10 ms each way, a fixed 50 ms RTO: the three data segments are acknowledged by 60 ms,
  // the empty end-of-file segment leaves at 60 ms and the receiver vanishes at 65 ms, before it arrives.
  const UNCONFIRMED = ['--no-wall', '-n', '1', '--p', '0', '--rto', '50', '--file-size', '1000', '--crash', '0@65ms', '--give-up', '1s'];

  it('a receiver whose data was all acknowledged but not its end of file is unconfirmed, not failed (as p2mpclient says)', () => {
    const text = cli(UNCONFIRMED);
    expect(text.out).toContain('0/1 receivers complete, 0 failed, 1 unconfirmed');
    expect(text.out).toContain('unconfirmed (eof-unconfirmed), crashed');
    const json = JSON.parse(cli([...UNCONFIRMED, '--json']).out) as { failed: number; unconfirmed: number };
    expect(json).toMatchObject({ failed: 0, unconfirmed: 1 });
  });

  const CRASH = ['--no-wall', '-n', '12', '--crash', '3@100ms', '--rto', '50', '--give-up', '2s', '--file-size', '20KiB'];

  it('the completion spread says how many receivers it is over', () => {
    const r = cli(CRASH);
    expect(r.out).toContain('11/12 receivers complete, 1 failed');
    expect(r.out).toContain('receivers (min / median / max of 12; completion of the 11 done):');
  });

  it('with a crash in independent mode, the analytic line compares the receivers that did not crash', () => {
    const r = cli(CRASH);
    expect(r.out).toMatch(/analytic mean receiver completion \(the 11 not crashed\): expected \d+\.\d{3} s \(sd \d+\.\d{3} s\), measured \d+\.\d{3} s/);
  });

  it('a replayed case that wrote part of the file says how much, never "?"', () => {
    const r = cli(['--no-wall', '--replay', '{"maxEvents":3,"fileBytes":1000,"receivers":1,"lossRate":0}']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('property: receiver 0: file differs (984 of 1000 bytes written)');
    expect(r.err).not.toContain('?');
  });
});

describe('allComplete is never vacuous', () => {
  it('is true for a run where every receiver completed', () => {
    expect(runScenario({ receivers: 2, fileBytes: 2000 }, false).allComplete).toBe(true);
  });

  it('is false when every receiver crashed, even though each was given up on as it should be', () => {
    const r = runScenario({ receivers: 2, fileBytes: 2000, giveUpMs: 1000, crashes: [{ receiver: 0, atMs: 0 }, { receiver: 1, atMs: 0 }] }, false);
    expect(r.stoppedBy).toBe('all-terminal');
    expect(r.allComplete).toBe(false);
  });

  it('is false when the event budget stopped the run, even if every honest receiver had finished', () => {
    // Receiver 1 vanishes and its sender never gives up: receiver 0 completes, then the budget ends the run.
    const r = runScenario({ receivers: 2, fileBytes: 2000, giveUpMs: 1e9, crashes: [{ receiver: 1, atMs: 0 }], maxEvents: 2000 }, false);
    expect(r.stoppedBy).toBe('max-events');
    expect(r.receivers[0]!.senderStatus).toBe('done');
    expect(r.allComplete).toBe(false);
  });
});
