// Every bad argument: one line naming it on stderr, exit code 2, no stack trace, nothing written.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../harness/files.js';
import { CLIENT, SERVER } from '../../harness/paths.js';
import { run } from '../../harness/procs.js';

const dir = tempDir('test');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const src = path.join(dir, 'src.bin');
fs.writeFileSync(src, 'hello');
const out = path.join(dir, 'out.bin');

function expectUsageError(r: { code: number | null; stderr: string; stdout: string }, names: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(names);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('p2mpserver rejects bad arguments with one line and exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['PORT not a number', ['abc', out, '0'], /PORT/],
    ['PORT 1024 (must be above 1024)', ['1024', out, '0'], /PORT/],
    ['PORT 65536', ['65536', out, '0'], /PORT/],
    ['PORT negative', ['-5', out, '0'], /PORT|unknown option/],
    ['P above 1', ['7000', out, '1.5'], /\bP\b/],
    ['P negative', ['7000', out, '-0.1'], /\bP\b|unknown option/],
    ['P not a number', ['7000', out, 'lots'], /\bP\b/],
    ['FILE directory missing', ['7000', path.join(dir, 'nope', 'out.bin'), '0'], /FILE/],
    ['FILE is a directory', ['7000', dir, '0'], /FILE/],
    ['missing argument', ['7000', out], /argument/],
    ['too many arguments', ['7000', out, '0', 'extra'], /argument/],
    ['unknown option', ['--frobnicate', '7000', out, '0'], /unknown option/],
    ['bad --idle-timeout', ['--idle-timeout', 'soon', '7000', out, '0'], /--idle-timeout/],
    ['--rcvbuf beyond what SO_RCVBUF takes (2 GiB)', ['--rcvbuf', '2097152', '7000', out, '0'], /--rcvbuf/],
    ['FILE where no file can be created (/proc)', ['7000', '/proc/p2mp-test.bin', '0'], /FILE/],
  ];
  for (const [what, args, names] of cases) {
    it(what, async () => {
      expectUsageError(await run(SERVER, args), names);
      expect(fs.existsSync(out)).toBe(false);
    });
  }

  it('FILE in a directory that is not writable', async () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere; a read-only bind is not available here, so check a path under a regular file instead.
      expectUsageError(await run(SERVER, ['7000', path.join(src, 'out.bin'), '0']), /FILE/);
      return;
    }
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro, { mode: 0o500 });
    expectUsageError(await run(SERVER, ['7000', path.join(ro, 'out.bin'), '0']), /FILE/);
  });
});

describe('p2mpclient rejects bad arguments with one line and exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['no host', ['7000', src, '500'], /HOST|expected/],
    ['PORT out of range', ['127.0.0.2', '80', src, '500'], /PORT/],
    ['MSS 8 (must exceed the header)', ['127.0.0.2', '7000', src, '8'], /MSS/],
    ['MSS 2049', ['127.0.0.2', '7000', src, '2049'], /MSS/],
    ['MSS not a number', ['127.0.0.2', '7000', src, 'big'], /MSS/],
    ['FILE missing', ['127.0.0.2', '7000', path.join(dir, 'missing.bin'), '500'], /FILE/],
    ['FILE is a directory', ['127.0.0.2', '7000', dir, '500'], /FILE/],
    ['HOST does not resolve', ['no-such-host.invalid', '7000', src, '500'], /HOST/],
    ['the same receiver twice', ['127.0.0.2', '127.0.0.2', '7000', src, '500'], /HOST/],
    ['bad --mode', ['--mode', 'fast', '127.0.0.2', '7000', src, '500'], /--mode/],
    ['bad --eof', ['--eof', 'eventually', '127.0.0.2', '7000', src, '500'], /--eof/],
    ['bad --timeout', ['--timeout', '0', '127.0.0.2', '7000', src, '500'], /--timeout/],
    ['bad --give-up', ['--give-up', 'x', '127.0.0.2', '7000', src, '500'], /--give-up/],
    ['bad --threads', ['--threads', '1.5', '127.0.0.2', '7000', src, '500'], /--threads/],
    ['a --rate at which the receiver would wait longer than half its idle timeout for a segment', ['--rate', '0.001', '127.0.0.2', '7000', src, '1000'], /--rate '0\.001' is too low: .* at least 549 bit\/s/],
  ];
  for (const [what, args, names] of cases) it(what, async () => expectUsageError(await run(CLIENT, args), names));
});

describe('--help explains and exits 0', () => {
  for (const [name, script] of [['p2mpserver', SERVER], ['p2mpclient', CLIENT]] as const) {
    it(name, async () => {
      const r = await run(script, ['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: /);
      expect(r.stdout).toMatch(/PORT/);
    });
  }
});
