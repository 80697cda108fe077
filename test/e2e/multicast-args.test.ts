// The multicast options (src/cli/multicast-options.ts) and the combinations the programs refuse with them: one
// line on stderr, exit 2. Nothing here may ever send or join a group in the root namespace, so every program
// run is set up to fail before any socket could: the client's FILE does not exist (it is opened after every
// option check, before the first send), the server's --interface is not an address of this host (checked after
// the option being tested, before the join). A missing refusal shows up as the wrong message, never as traffic.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../harness/files.js';
import { CLIENT, SERVER } from '../../harness/paths.js';
import { run } from '../../harness/procs.js';
import { UsageError } from '../../src/cli/args.js';
import { parseFraction, parseGroup, parseTtl } from '../../src/cli/multicast-options.js';

const dir = tempDir('test');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const missing = path.join(dir, 'missing.bin');
const out = path.join(dir, 'out.bin');
/** TEST-NET-1 (RFC 5737): never an address of this host. */
const FOREIGN = '192.0.2.1';

describe('parseGroup: 224.0.0.0/4 only, not the local network control block; a warning outside 239/8 with --ttl above 1', () => {
  it.each(['239.1.2.3', '224.0.1.1', '232.1.1.1', '239.255.255.255', ' 239.0.0.1 '])('%s is a group', (g) => {
    expect(parseGroup(g, 1)).toEqual({ group: g.trim(), warning: undefined });
  });
  it.each(['223.255.255.255', '240.0.0.1', '255.255.255.255', '127.0.0.1', '0.0.0.0', '239.1.2', '239.1.2.256', 'ff02::1', 'group', ''])('%s is refused', (g) => {
    expect(() => parseGroup(g, 1)).toThrow(UsageError);
  });
  it.each(['224.0.0.0', '224.0.0.1', '224.0.0.22', '224.0.0.255'])('%s (224.0.0.0/24, routing protocols and IGMP) is refused', (g) => {
    expect(() => parseGroup(g, 1)).toThrow(/224\.0\.0\.0\/24/);
  });
  it('a group outside 239.0.0.0/8 warns with --ttl above 1, not at TTL 1; a 239 group never warns', () => {
    expect(parseGroup('232.1.1.1', 1).warning).toBeUndefined();
    expect(parseGroup('232.1.1.1', 2).warning).toMatch(/not administratively scoped.*--ttl 2/);
    expect(parseGroup('224.0.1.1', 255).warning).toMatch(/--ttl 255/);
    expect(parseGroup('239.1.2.3', 255).warning).toBeUndefined();
  });
  it('--ttl: a whole number from 1 to 255; --repair-group: a fraction from 0 to 1', () => {
    expect([parseTtl('1'), parseTtl(' 255 ')]).toEqual([1, 255]);
    for (const t of ['0', '256', '1.5', '-1', 'x', '']) expect(() => parseTtl(t), t).toThrow(/--ttl/);
    expect([parseFraction('--repair-group', '0'), parseFraction('--repair-group', '.25'), parseFraction('--repair-group', '1')]).toEqual([0, 0.25, 1]);
    for (const f of ['1.01', '-0.1', '1e-3', 'half', '']) expect(() => parseFraction('--repair-group', f), f).toThrow(/--repair-group/);
  });
});

function expectRefused(r: { code: number | null; stderr: string }, names: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(names);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('p2mpclient refuses what --multicast cannot do, before anything is sent', () => {
  const cases: [string, string[], RegExp][] = [
    ['--mode independent (multicast is lockstep)', ['--multicast', '239.1.2.3', '--mode', 'independent'], /--mode independent cannot apply/],
    ['--threads 2 (one thread)', ['--multicast', '239.1.2.3', '--threads', '2'], /--threads cannot apply/],
    ['--cc aimd (the group follows its slowest receiver)', ['--multicast', '239.1.2.3', '--cc', 'aimd'], /--cc cannot be combined with --multicast/],
    ['a group in 224.0.0.0/24', ['--multicast', '224.0.0.1'], /224\.0\.0\.0\/24/],
    ['--ttl 0', ['--multicast', '239.1.2.3', '--ttl', '0'], /--ttl/],
    ['--ttl without --multicast', ['--ttl', '2'], /--ttl applies to --multicast only/],
    ['--repair-group without --multicast', ['--repair-group', '0.5'], /--repair-group applies to --multicast only/],
  ];
  for (const [what, opts, names] of cases) it(what, async () => expectRefused(await run(CLIENT, [...opts, '127.0.0.2', '7000', missing, '500']), names));

  it('a receiver on its own port (every receiver listens on PORT, where the group goes)', async () => {
    expectRefused(await run(CLIENT, ['--multicast', '239.1.2.3', '127.0.0.2:7001', '7000', missing, '500']), /has its own port/);
  });
});

describe('p2mpserver refuses what --multicast cannot take, before it joins', () => {
  const cases: [string, string[], RegExp][] = [
    ['--interface without --multicast', ['--interface', FOREIGN], /--interface applies to --multicast only/],
    ['a group in 224.0.0.0/24', ['--multicast', '224.0.0.251', '--interface', FOREIGN], /224\.0\.0\.0\/24/],
    ['not a multicast address', ['--multicast', '10.1.2.3', '--interface', FOREIGN], /not a multicast address/],
    ['--interface and --bind differ', ['--multicast', '239.1.2.3', '--bind', '127.0.0.1', '--interface', FOREIGN], /differ/],
    ['--interface not an address of this host', ['--multicast', '239.1.2.3', '--interface', FOREIGN], /not an IPv4 address of this host/],
  ];
  for (const [what, opts, names] of cases) {
    it(what, async () => {
      expectRefused(await run(SERVER, [...opts, '7000', out, '0']), names);
      expect(fs.existsSync(out)).toBe(false);
    });
  }
});
