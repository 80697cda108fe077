// Issue 6, bad input at the command line: beyond test/e2e/cli-args.test.ts (which checks one line + exit 2 for
// every argument error), this checks that NOTHING is written — the output directory is exactly as before, no
// temporary file — and that the sender puts no datagram on the wire; plus the cases that need an unprivileged
// user or a read-only filesystem to produce (unreadable input, unwritable directory), --bind mistakes, an
// output path that can only be a directory, and a port already in use.
//
// Addresses: 127.0.0.200-219 (this file only).

import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../harness/files.js';
import { closeSocket, freePort, udpSocket } from '../../harness/net.js';
import { CLIENT, SERVER } from '../../harness/paths.js';
import { run, start, type Finished } from '../../harness/procs.js';
import { sleep } from '../../harness/wait.js';
import { expectOneLine, isRoot, listing, rootSkipReason } from './support.js';

const dir = tempDir('test');
fs.chmodSync(dir, 0o755); // the unprivileged-user cases need to reach files in here
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const src = path.join(dir, 'src.bin');
fs.writeFileSync(src, 'hello, receivers\n');

/**
 * Why the tests that run as `nobody` cannot run here, or undefined when they can: they need root (to switch
 * user) and a checkout `nobody` can reach (a clone under a mode-700 directory, as `mktemp -d` makes, is not).
 */
const nobodyWhy = ((): string | undefined => {
  if (!isRoot) return 'needs root to switch user';
  const probe = spawnSync(process.execPath, [CLIENT, '--help'], { uid: 65534, gid: 65534, stdio: 'ignore' });
  return probe.status === 0 ? undefined : `user nobody cannot run ${CLIENT} (a parent directory of the checkout is not world-searchable)`;
})();

/** Run a program as the unprivileged user `nobody` (uid/gid 65534). */
const runAsNobody = (script: string, args: string[]): Promise<Finished> => run(script, args, { uid: 65534, gid: 65534 });

describe('p2mpserver: a bad argument writes nothing (directory unchanged, no temporary file)', () => {
  const work = path.join(dir, 'server');
  fs.mkdirSync(work);
  fs.mkdirSync(path.join(work, 'adir'));
  fs.writeFileSync(path.join(work, 'adir', 'inside'), 'x');
  fs.writeFileSync(path.join(work, 'existing.bin'), 'keep');
  const out = path.join(work, 'out.bin');
  const cases: [string, string[], RegExp][] = [
    ['PORT out of range', ['1024', out, '0'], /PORT/],
    ['P out of range', ['7000', out, '2'], /\bP\b/],
    ['FILE is an existing directory', ['7000', path.join(work, 'adir'), '0'], /FILE/],
    ['FILE ends in a slash (can only name a directory)', ['7000', path.join(work, 'new') + '/', '0'], /FILE .*names a directory/],
    ['FILE ends in /. (a directory that does not exist yet)', ['7000', path.join(work, 'new') + '/.', '0'], /FILE .*names a directory/],
    ['FILE is empty', ['7000', '', '0'], /FILE/],
    ['FILE under a regular file', ['7000', path.join(work, 'existing.bin', 'out.bin'), '0'], /FILE/],
    ['--bind not an address', ['--bind', 'not-an-address.invalid', '7000', out, '0'], /--bind/],
    ['--bind 127.0.0.300', ['--bind', '127.0.0.300', '7000', out, '0'], /--bind/],
    ['--bind an address of another host (192.0.2.1, TEST-NET-1)', ['--bind', '192.0.2.1', '7000', out, '0'], /--bind '192\.0\.2\.1' is not an IPv4 address of this host/],
    ['--bind empty', ['--bind', '', '7000', out, '0'], /--bind/],
    ['bad --linger', ['--linger', '-1', '7000', out, '0'], /--linger|unknown option/],
  ];
  for (const [what, args, names] of cases) {
    it(what, async () => {
      const before = listing(work);
      const inside = listing(path.join(work, 'adir'));
      expectOneLine(await run(SERVER, args), 2, names);
      expect(listing(work)).toEqual(before);
      expect(listing(path.join(work, 'adir'))).toEqual(inside);
      expect(fs.readFileSync(path.join(work, 'existing.bin'), 'utf8')).toBe('keep');
    });
  }

  it('PORT already in use on that address: one line naming the problem, exit 1, nothing written', async () => {
    const port = await freePort();
    const holder = await udpSocket('127.0.0.200', port);
    try {
      const before = listing(work);
      const r = await run(SERVER, ['--bind', '127.0.0.200', String(port), out, '0']);
      expectOneLine(r, 1, new RegExp(`^p2mpserver: 127\\.0\\.0\\.200:${port} is already in use$`));
      expect(listing(work)).toEqual(before);
    } finally {
      await closeSocket(holder);
    }
  });

  const roWhy = rootSkipReason('mount', 'umount');
  it.skipIf(roWhy !== undefined)(`FILE in a read-only filesystem (even root cannot write): exit 2, nothing written${roWhy ? ` — SKIPPED: ${roWhy}` : ''}`, async () => {
    const mnt = path.join(dir, 'ro-mount');
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'p2mp-test-ro', mnt]);
    try {
      expectOneLine(await run(SERVER, ['7000', path.join(mnt, 'out.bin'), '0']), 2, /FILE .*not writable/);
      expect(listing(mnt)).toEqual([]);
    } finally {
      execFileSync('umount', ['-l', mnt]);
    }
  });

  it.skipIf(nobodyWhy !== undefined)(`FILE in a directory the user may not write (run as nobody): exit 2, nothing written${nobodyWhy ? ` — SKIPPED: ${nobodyWhy}` : ''}`, async () => {
    const ro = path.join(dir, 'ro-dir');
    fs.mkdirSync(ro, { mode: 0o555 });
    fs.chmodSync(ro, 0o555);
    expectOneLine(await runAsNobody(SERVER, ['7000', path.join(ro, 'out.bin'), '0']), 2, /FILE .*not writable/);
    expect(listing(ro)).toEqual([]);
  });
});

describe('p2mpclient: a bad argument sends nothing', () => {
  // A live socket where the receiver would be: it must see no datagram at all.
  const target = '127.0.0.201';
  let port = 0;
  const cases: [string, (p: string) => string[], RegExp][] = [
    ['MSS out of range', (p) => [target, p, src, '4096'], /MSS/],
    ['bad --mode', (p) => ['--mode', 'both', target, p, src, '500'], /--mode/],
    ['--rto-max below --rto-min', (p) => ['--rto-min', '50', '--rto-max', '10', target, p, src, '500'], /--rto-max/],
    ['FILE missing', (p) => [target, p, path.join(dir, 'missing.bin'), '500'], /FILE/],
    ['FILE is a directory', (p) => [target, p, dir, '500'], /FILE/],
    ['FILE is a device, not a regular file (/dev/null)', (p) => [target, p, '/dev/null', '500'], /FILE .*not a regular file/],
    ['a later HOST does not resolve (names resolve before anything is sent)', (p) => [target, 'no-such-host.invalid', p, src, '500'], /HOST 'no-such-host\.invalid'/],
    ['the same receiver twice, by two spellings', (p) => [target, '127.000.000.201', p, src, '500'], /HOST|PORT/],
  ];
  for (const [what, args, names] of cases) {
    it(what, async () => {
      port = await freePort();
      const sock = await udpSocket(target, port);
      let got = 0;
      sock.on('message', () => got++);
      try {
        expectOneLine(await run(CLIENT, args(String(port))), 2, names);
        await sleep(50);
        expect(got, 'datagrams reached the receiver').toBe(0);
      } finally {
        await closeSocket(sock);
      }
    });
  }

  it.skipIf(nobodyWhy !== undefined)(`FILE unreadable (mode 000, run as nobody): exit 2, one line, nothing sent${nobodyWhy ? ` — SKIPPED: ${nobodyWhy}` : ''}`, async () => {
    const secret = path.join(dir, 'secret.bin');
    fs.writeFileSync(secret, 'not for you');
    fs.chmodSync(secret, 0o000);
    const p = await freePort();
    const sock = await udpSocket(target, p);
    let got = 0;
    sock.on('message', () => got++);
    try {
      expectOneLine(await runAsNobody(CLIENT, [target, String(p), secret, '500']), 2, /FILE .*cannot be read: permission denied \(EACCES\)/);
      expect(got).toBe(0);
    } finally {
      await closeSocket(sock);
    }
  });

  // A FIFO used to block forever in open(2), before the "not a regular file" check (now opened O_NONBLOCK).
  it('FILE is a FIFO: exit 2 "not a regular file", no hang', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const p = start(CLIENT, [target, '7000', fifo, '500']);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
    const r = await p.done;
    clearTimeout(timer);
    expectOneLine(r, 2, /FILE .*not a regular file/);
  });
});
