// Issue 9, hardening: the cases found by using both programs as a new and as a hostile user would. Each one
// either refuses with one line and the documented exit code, or completes with a byte-identical file; none
// crashes, prints a stack trace, or replaces a good FILE. Real processes and sockets, loopback only.
//
// Addresses: 127.0.0.220-249 (this file only).

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File as sha256, subdir, tempDir, writeSeededFile } from '../../harness/files.js';
import { closeSocket, freePort, udpSocket } from '../../harness/net.js';
import { CLIENT, SERVER } from '../../harness/paths.js';
import { run, start, type Proc } from '../../harness/procs.js';
import { sleep, waitFor } from '../../harness/wait.js';
import { encodeData, TYPE_ACK, TYPE_FIN } from '../../src/core/codec.js';
import { expectNoCrash, expectOneLine, hasCommand, isRoot, listing, partFiles, Relay, rootSkipReason, runWithin } from './support.js';

const dir = tempDir('hardening');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const src = path.join(dir, 'src.bin');
writeSeededFile(src, 64 * 1024, 'hardening-src');
const big = path.join(dir, 'big.bin');
writeSeededFile(big, 1_000_000, 'hardening-big');
const mid = path.join(dir, 'mid.bin');
writeSeededFile(mid, 300_000, 'hardening-mid');

/** A receiver on `address`, once it listens; a short linger (a later `--linger` in `extra` wins). */
async function receiver(address: string, port: number, file: string, p: string, extra: string[] = []): Promise<Proc> {
  const rx = start(SERVER, ['--bind', address, '--seed', '9', '--linger', '0.2', ...extra, String(port), file, p]);
  await rx.ready;
  return rx;
}

/** A receiver that refuses FILE must do so at once; one still running after this long did not. */
const REFUSE_WITHIN_MS = 5000;

describe('a closed stdout stops the printing, not the transfer', () => {
  it('p2mpserver | head -1: the receiver still writes FILE (exit 0, byte-identical), no EPIPE crash', async () => {
    const port = await freePort();
    const out = path.join(dir, 'epipe-rx.bin');
    const rx = await receiver('127.0.0.220', port, out, '0.1');
    // Like `| head -1`: read the first loss line, then close the pipe; every later write gets EPIPE.
    rx.child.stdout!.once('data', () => rx.child.stdout!.destroy());
    const c = await run(CLIENT, ['--quiet', '--rto-min', '5', '127.0.0.220', String(port), mid, '1000']);
    const r = await rx.done;
    expect(c.code, c.stderr).toBe(0);
    expectNoCrash(r, 'receiver');
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(out)).toBe(sha256(mid));
  });

  it('p2mpclient | head -1: the sender still finishes (exit 0, every copy identical), no EPIPE crash', async () => {
    const port = await freePort();
    const out = path.join(dir, 'epipe-tx.bin');
    const rx = await receiver('127.0.0.221', port, out, '0.2', ['--quiet']);
    const client = start(CLIENT, ['--rto-min', '5', '127.0.0.221', String(port), src, '500']);
    client.child.stdout!.destroy(); // closed before the first "Timeout" line
    const c = await client.done;
    expectNoCrash(c, 'sender');
    expect(c.code, c.stderr).toBe(0);
    expect((await rx.done).code).toBe(0);
    expect(sha256(out)).toBe(sha256(src));
  });
});

describe.concurrent('p2mpclient refuses what cannot be a receiver or a file: one line, exit 2', () => {
  const cases: [string, string, RegExp][] = [
    ['::1 (IPv6 is not supported: it says so)', '::1', /^p2mpclient: HOST '::1' is an IPv6 address; only IPv4 is supported; see --help$/],
    ['"" (an empty HOST; no deprecation warning)', '', /^p2mpclient: HOST must not be empty; see --help$/],
    ['255.255.255.255 (broadcast)', '255.255.255.255', /^p2mpclient: HOST '255\.255\.255\.255' is the broadcast address, not a receiver; see --help$/],
    ['0.0.0.0 (unspecified)', '0.0.0.0', /^p2mpclient: HOST '0\.0\.0\.0' is an unspecified address .*, not a receiver; see --help$/],
  ];
  for (const [what, host, line] of cases) it(`HOST ${what}`, async () => expectOneLine(await run(CLIENT, [host, '7000', src, '500']), 2, line));

  it('a missing FILE is named, with the reason', async () => {
    const missing = path.join(dir, 'missing.bin');
    expectOneLine(await run(CLIENT, ['127.0.0.222', '7000', missing, '500']), 2, new RegExp(`^p2mpclient: FILE '${missing}' cannot be read: no such file or directory \\(ENOENT\\); see --help$`));
  });
});

describe('FILE names at the limits of NAME_MAX', () => {
  it('every legal basename works (245, 250 and 255 characters): the temporary name still fits', async () => {
    const port = await freePort();
    const long = subdir(dir, 'long');
    const files = [245, 250, 255].map((n) => path.join(long, 'n'.repeat(n - 4) + '.bin'));
    const hosts = ['127.0.0.223', '127.0.0.224', '127.0.0.225'];
    const rxs = await Promise.all(hosts.map((h, i) => receiver(h, port, files[i]!, '0.05', ['--quiet'])));
    const c = await run(CLIENT, ['--quiet', ...hosts, String(port), src, '1000']);
    expect(c.code, c.stderr).toBe(0);
    for (const [i, rx] of rxs.entries()) {
      const r = await rx.done;
      expectNoCrash(r, `receiver ${i}`);
      expect(r.code, r.stderr).toBe(0);
      expect(sha256(files[i]!)).toBe(sha256(src));
    }
    expect(partFiles(long)).toEqual([]);
  });

  it('a 256-character basename and a symlink loop: one line naming FILE, exit 2, at start-up', async () => {
    const loops = subdir(dir, 'loops');
    fs.symlinkSync('b', path.join(loops, 'a'));
    fs.symlinkSync('a', path.join(loops, 'b'));
    const tooLong = path.join(loops, 'x'.repeat(256));
    expectOneLine(await runWithin(SERVER, ['7000', tooLong, '0'], REFUSE_WITHIN_MS), 2, /^p2mpserver: FILE '.*x{256}': file name too long .*; see --help$/);
    expectOneLine(await runWithin(SERVER, ['7000', path.join(loops, 'a'), '0'], REFUSE_WITHIN_MS), 2, /^p2mpserver: FILE '.*loops\/a': too many levels of symbolic links .*; see --help$/);
    expect(listing(loops)).toEqual(['a', 'b']);
  });
});

describe.concurrent('time options beyond the longest timer (2^31 - 1 ms) are refused: one line, exit 2', () => {
  const cases: [string, string[]][] = [
    ['p2mpserver --idle-timeout 2200000', [SERVER, '--idle-timeout', '2200000', '7000', path.join(dir, 't.bin'), '0']],
    ['p2mpserver --linger 2200000', [SERVER, '--linger', '2200000', '7000', path.join(dir, 't.bin'), '0']],
    ['p2mpclient --give-up 2200000', [CLIENT, '--give-up', '2200000', '127.0.0.222', '7000', src, '500']],
    ['p2mpclient --timeout 2147483648', [CLIENT, '--timeout', '2147483648', '127.0.0.222', '7000', src, '500']],
    ['p2mpclient --rto-max 3000000000', [CLIENT, '--rto-max', '3000000000', '127.0.0.222', '7000', src, '500']],
  ];
  for (const [what, [script, ...args]] of cases) {
    it(what, async () => {
      const name = args[0]!;
      expectOneLine(await runWithin(script!, args, REFUSE_WITHIN_MS), 2, new RegExp(`^p2mp(server|client): ${name} must be at most .*, got '${args[1]}'; see --help$`));
    });
  }
});

describe.concurrent('parser messages start with the program name, end with "see --help", and never name an internal argument', () => {
  const cases: [string, string, string[]][] = [
    ['p2mpclient with no arguments', CLIENT, []],
    ['p2mpclient with too few arguments', CLIENT, ['127.0.0.222', '7000']],
    ['p2mpclient with an unknown option', CLIENT, ['--frobnicate', '127.0.0.222', '7000', src, '500']],
    ['p2mpserver with a missing argument', SERVER, ['7000']],
    ['p2mpserver with too many arguments', SERVER, ['7000', 'out', '0', 'extra']],
    ['p2mpserver with an unknown option', SERVER, ['--frobnicate', '7000', 'out', '0']],
  ];
  for (const [what, script, args] of cases) {
    it(what, async () => {
      const r = await run(script, args);
      expectOneLine(r, 2, new RegExp(`^${path.basename(script) === 'client.js' ? 'p2mpclient' : 'p2mpserver'}: .*; see --help$`));
      expect(r.stderr).not.toMatch(/'args'|^error:/);
    });
  }
});

const isFin = (msg: Buffer): boolean => msg.length === 8 && msg.readUInt16BE(6) === TYPE_FIN;

describe('a stale end of file never replaces a good FILE; a lone FIN still makes an empty file', () => {
  it('receiver restart loop with --eof fin, FIN echo lost for longer than the linger: the next receiver ignores the retransmitted FIN, FILE stays good', async () => {
    const port = await freePort();
    const work = subdir(dir, 'stale');
    const out = path.join(work, 'out.bin');
    // The sender talks to the relay's front (.226); the receivers (.228) see the relay's back (.227) as their sender.
    const relay = await Relay.open('127.0.0.226', port, '127.0.0.227', '127.0.0.228');
    try {
      relay.dropToSender = isFin; // every FIN echo of the first receiver is lost
      // Each retransmitted FIN restarts the linger; the sender's RTO ceiling (500 ms) exceeds it, so the first
      // receiver does exit while the sender is still retransmitting.
      const rxArgs = ['--linger', '0.3'];
      const first = await receiver('127.0.0.228', port, out, '0', rxArgs);
      const client = start(CLIENT, ['--eof', 'fin', '--give-up', '4', '--rto-max', '500', '--json', '127.0.0.226', String(port), src, '1000']);
      const a = await first.done;
      expect(a.code, a.stderr).toBe(0);
      expect(sha256(out)).toBe(sha256(src));
      expect(relay.dropped).toBeGreaterThan(0);

      // The loop starts the next receiver; from now on its answers reach the sender.
      const next = await receiver('127.0.0.228', port, out, '0', rxArgs);
      relay.dropToSender = undefined;
      const c = await client.done;
      // The retransmitted FIN is not taken for a new zero-byte transfer: nobody confirms it.
      expect(c.code, c.stdout).toBe(1);
      expect(receiversOf(c.stdout)[0]).toMatchObject({ status: 'unconfirmed', reason: 'eof-unconfirmed', message: 'all data acknowledged, end of file not confirmed' });
      expect(sha256(out)).toBe(sha256(src));
      await waitFor('the next receiver to report the stale FIN', () => /ignored a FIN before any data/.test(next.output()));
      expect(next.output()).toMatch(/already holds data/);
      next.child.kill('SIGTERM');
      const b = await next.done;
      expect(b.code, b.stderr).toBe(143);
      expect(sha256(out)).toBe(sha256(src));
      expect(partFiles(work)).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it('a lone FIN from a classic sender (zero-byte file, --eof fin) still completes when FILE is new or empty', async () => {
    const port = await freePort();
    const work = subdir(dir, 'lone-fin');
    const empty = path.join(work, 'empty.src');
    fs.writeFileSync(empty, '');
    const fresh = path.join(work, 'fresh.bin');
    const wasEmpty = path.join(work, 'was-empty.bin');
    fs.writeFileSync(wasEmpty, '');
    const rxs = [await receiver('127.0.0.229', port, fresh, '0'), await receiver('127.0.0.230', port, wasEmpty, '0')];
    const c = await run(CLIENT, ['--eof', 'fin', '127.0.0.229', '127.0.0.230', String(port), empty, '500']);
    expect(c.code, c.stdout).toBe(0);
    for (const rx of rxs) expect((await rx.done).code).toBe(0);
    expect(fs.statSync(fresh).size).toBe(0);
    expect(fs.statSync(wasEmpty).size).toBe(0);
  });
});

describe('files whose size says nothing (/proc, /sys) are read to their end and sent as read', () => {
  const sources = ['/proc/version', '/sys/devices/system/cpu/possible'].filter((f) => fs.existsSync(f));
  it.skipIf(sources.length < 2)(`${sources.join(' and ')}: every receiver gets what a read to the end gives`, async () => {
    const port = await freePort();
    for (const [i, file] of sources.entries()) {
      const out = path.join(dir, `pseudo-${i}.bin`);
      const rx = await receiver(`127.0.0.${231 + i}`, port, out, '0', ['--quiet']);
      const c = await run(CLIENT, ['--json', `127.0.0.${231 + i}`, String(port), file, '500']);
      expect(c.code, c.stderr).toBe(0);
      expect((await rx.done).code).toBe(0);
      const want = fs.readFileSync(file);
      expect(want.length).toBeGreaterThan(0);
      expect(fs.readFileSync(out)).toEqual(want);
      expect(JSON.parse(c.stdout).bytes).toBe(want.length);
    }
  });
});

describe('FILE is never replaced by something else', () => {
  it('a character device, a FIFO or a socket is refused at start-up (exit 2) and left as it was', async () => {
    const work = subdir(dir, 'special');
    const fifo = path.join(work, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const sock = path.join(work, 'sock');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    // As root, a private character device (the same device as /dev/null); otherwise /dev/null itself, which
    // a non-root receiver could not replace anyway.
    const dev = isRoot ? path.join(work, 'null') : '/dev/null';
    if (isRoot) execFileSync('mknod', [dev, 'c', '1', '3']);
    try {
      const cases: [string, RegExp, (st: fs.Stats) => boolean][] = [
        [dev, /is a character device, not a regular file: refusing to replace it/, (st) => st.isCharacterDevice()],
        [fifo, /is a FIFO, not a regular file: refusing to replace it/, (st) => st.isFIFO()],
        [sock, /is a socket, not a regular file: refusing to replace it/, (st) => st.isSocket()],
      ];
      for (const [file, line, same] of cases) {
        expectOneLine(await runWithin(SERVER, ['7000', file, '0'], REFUSE_WITHIN_MS), 2, line);
        expect(same(fs.lstatSync(file)), file).toBe(true);
      }
      expect(partFiles(work)).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('a symlink FILE stays a symlink and its target is replaced atomically; a dangling symlink creates its target', async () => {
    const port = await freePort();
    const work = subdir(dir, 'links');
    const elsewhere = subdir(dir, 'link-targets');
    fs.writeFileSync(path.join(work, 'real.bin'), 'old contents');
    fs.symlinkSync('real.bin', path.join(work, 'to-real'));
    fs.symlinkSync(path.join(elsewhere, 'new.bin'), path.join(work, 'dangling'));
    const rxs = [await receiver('127.0.0.233', port, path.join(work, 'to-real'), '0'), await receiver('127.0.0.234', port, path.join(work, 'dangling'), '0')];
    const c = await run(CLIENT, ['--quiet', '127.0.0.233', '127.0.0.234', String(port), src, '1000']);
    expect(c.code, c.stderr).toBe(0);
    for (const rx of rxs) expect((await rx.done).code).toBe(0);
    expect(fs.readlinkSync(path.join(work, 'to-real'))).toBe('real.bin');
    expect(fs.readlinkSync(path.join(work, 'dangling'))).toBe(path.join(elsewhere, 'new.bin'));
    expect(sha256(path.join(work, 'real.bin'))).toBe(sha256(src));
    expect(sha256(path.join(elsewhere, 'new.bin'))).toBe(sha256(src));
    expect(listing(work)).toEqual(['dangling', 'real.bin', 'to-real']);
    expect(listing(elsewhere)).toEqual(['new.bin']);
  });

  const mountWhy = rootSkipReason('mount', 'umount');
  it.skipIf(mountWhy !== undefined)(`a FILE that is a mount point is refused at start-up, not after the transfer${mountWhy ? ` — SKIPPED: ${mountWhy}` : ''}`, async () => {
    const work = subdir(dir, 'mounted');
    const target = path.join(work, 'target.bin');
    fs.writeFileSync(target, 'mounted over');
    fs.writeFileSync(path.join(work, 'source.bin'), 'the mount');
    execFileSync('mount', ['--bind', path.join(work, 'source.bin'), target]);
    try {
      expectOneLine(await runWithin(SERVER, ['7000', target, '0'], REFUSE_WITHIN_MS), 2, /FILE '.*target\.bin' is a mount point/);
      expect(fs.readFileSync(target, 'utf8')).toBe('the mount');
    } finally {
      execFileSync('umount', [target]);
    }
  });

  it(`replacing a FILE keeps its mode (0600)${isRoot ? ' and its owner and group' : ' (owner: only as root)'}`, async () => {
    const port = await freePort();
    const work = subdir(dir, 'mode');
    const priv = path.join(work, 'private.bin');
    fs.writeFileSync(priv, 'secret');
    fs.chmodSync(priv, 0o600);
    if (isRoot) fs.chownSync(priv, 65534, 65534);
    const rx = await receiver('127.0.0.235', port, priv, '0');
    const c = await run(CLIENT, ['--quiet', '127.0.0.235', String(port), src, '1000']);
    expect(c.code, c.stderr).toBe(0);
    expect((await rx.done).code).toBe(0);
    const st = fs.statSync(priv);
    expect(sha256(priv)).toBe(sha256(src));
    expect((st.mode & 0o7777).toString(8)).toBe('600');
    if (isRoot) expect([st.uid, st.gid]).toEqual([65534, 65534]);
  });
});

describe('signals: SIGTERM 143, SIGINT 130, SIGHUP like SIGTERM; Ctrl-C after FILE was written is success', () => {
  it('SIGINT during the linger, after FILE was committed: "written", exit 0', async () => {
    const port = await freePort();
    const out = path.join(dir, 'linger.bin');
    const rx = await receiver('127.0.0.236', port, out, '0', ['--linger', '30']);
    const c = await run(CLIENT, ['--quiet', '127.0.0.236', String(port), src, '1000']);
    expect(c.code, c.stderr).toBe(0);
    rx.child.kill('SIGINT');
    const r = await rx.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/SIGINT while lingering; .*linger\.bin was written completely/);
    expect(r.stderr).not.toMatch(/not written/);
    expect(r.stdout).toMatch(/^Received .*linger\.bin: 65536 bytes/);
    expect(sha256(out)).toBe(sha256(src));
  });

  /** A receiver mid-transfer (its temporary file begun, FILE holding 'keep me') is stopped by `stop`; then the checks on what it left. */
  async function stopMidTransfer(label: string, stop: (rx: Proc) => Promise<Awaited<Proc['done']>>): Promise<Awaited<Proc['done']>> {
    const port = await freePort();
    const work = subdir(dir, label);
    const out = path.join(work, 'out.bin');
    fs.writeFileSync(out, 'keep me');
    const rx = await receiver('127.0.0.237', port, out, '0');
    const sender = await udpSocket('127.0.0.238');
    try {
      sender.send(encodeData(0, Buffer.from('first segment')), port, '127.0.0.237');
      await waitFor('the temporary file', () => partFiles(work).length === 1);
      const r = await stop(rx);
      expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
      expect(partFiles(work)).toEqual([]);
      return r;
    } finally {
      await closeSocket(sender);
    }
  }

  /** A sender whose one receiver reads and never answers is stopped by `stop` once its first segment arrived. */
  async function stopSender(stop: (client: Proc) => Promise<Awaited<Proc['done']>>): Promise<Awaited<Proc['done']>> {
    const port = await freePort();
    const silent = await udpSocket('127.0.0.239', port);
    let got = 0;
    silent.on('message', () => got++);
    try {
      const client = start(CLIENT, ['--give-up', '60', '127.0.0.239', String(port), src, '1000']);
      await waitFor('the first segment', () => got > 0);
      return await stop(client);
    } finally {
      await closeSocket(silent);
    }
  }

  const killOnce = (signal: NodeJS.Signals) => (p: Proc): Promise<Awaited<Proc['done']>> => {
    p.child.kill(signal);
    return p.done;
  };

  for (const [signal, code] of [['SIGHUP', 129], ['SIGTERM', 143]] as const) {
    it(`${signal} mid-transfer: the temporary file is removed, FILE untouched, exit ${code}`, async () => {
      const r = await stopMidTransfer(`sig-${signal}`, killOnce(signal));
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(/interrupted; .*out\.bin not written/);
    });
  }

  it('SIGTERM to the sender: it stops, reports, exit 143', async () => {
    const c = await stopSender(killOnce('SIGTERM'));
    expect(c.code, c.stderr).toBe(143);
    expect(c.stdout).toMatch(/\(interrupted\)/);
  });

  /** Ctrl-C, then Ctrl-C again and again every millisecond until the process is gone (an impatient user, a launcher forwarding it twice). */
  async function interruptRepeatedly(p: Proc): Promise<Awaited<Proc['done']>> {
    p.child.kill('SIGINT');
    const again = setInterval(() => p.child.exitCode === null && p.child.signalCode === null && p.child.kill('SIGINT'), 1);
    try {
      return await p.done;
    } finally {
      clearInterval(again);
    }
  }

  it('SIGINT again and again to the sender: it still reports once and exits 130', async () => {
    const c = await stopSender(interruptRepeatedly);
    expectNoCrash(c, 'p2mpclient');
    expect(c.code, c.stderr).toBe(130);
    expect(c.stdout.match(/\(interrupted\)/g)).toHaveLength(1);
  });

  it('SIGINT again and again to a receiver mid-transfer: exit 130, the temporary file removed, FILE untouched', async () => {
    const r = await stopMidTransfer('sig-repeat', interruptRepeatedly);
    expectNoCrash(r, 'p2mpserver');
    expect(r.code, r.stderr).toBe(130);
  });
});

describe('a receiver address the kernel will not send to', () => {
  it('127.255.255.255 (the loopback broadcast): that receiver fails in words, no crash, exit 1', async () => {
    const c = await run(CLIENT, ['--give-up', '2', '--wait', '1', '127.255.255.255', '7000', src, '1000']);
    expectNoCrash(c, 'p2mpclient');
    expect(c.code, c.stderr).toBe(1);
    expect(c.stdout + c.stderr).toMatch(/cannot send to 127\.255\.255\.255:7000: permission denied/);
  });
});

const unshareWhy = rootSkipReason('unshare', 'mount') ?? (hasCommand('unshare') && spawnSync('unshare', ['-m', 'true']).status !== 0 ? 'unshare -m is not permitted here' : undefined);

describe('a HOST name with several addresses', () => {
  it.skipIf(unshareWhy !== undefined)(`says which address is used${unshareWhy ? ` — SKIPPED: ${unshareWhy}` : ''}`, async () => {
    const port = await freePort();
    const work = subdir(dir, 'multi');
    // A private mount namespace sees its own /etc/hosts, in which one name has two addresses; the real
    // /etc/hosts is untouched (the mount dies with the namespace).
    const hosts = path.join(work, 'hosts');
    fs.writeFileSync(hosts, '127.0.0.1 localhost\n127.0.0.240 p2mp-multi.test\n127.0.0.241 p2mp-multi.test\n');
    const outs = ['127.0.0.240', '127.0.0.241'].map((a) => path.join(work, `out-${a}.bin`));
    const rxs = [await receiver('127.0.0.240', port, outs[0]!, '0'), await receiver('127.0.0.241', port, outs[1]!, '0')];
    const launcher = ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts];
    const c = await runWithin(CLIENT, ['--quiet', 'p2mp-multi.test', String(port), src, '1000'], 30_000, { launcher });
    expect(c.code, c.stderr).toBe(0);
    const used = /HOST 'p2mp-multi\.test' has 2 IPv4 addresses \((127\.0\.0\.24[01]), (127\.0\.0\.24[01])\); sending to (127\.0\.0\.24[01])/.exec(c.stderr);
    expect(used, c.stderr).not.toBeNull();
    expect(used![3]).toBe(used![1]);
    const i = used![3] === '127.0.0.240' ? 0 : 1;
    expect((await rxs[i]!.done).code).toBe(0);
    expect(sha256(outs[i]!)).toBe(sha256(src));
    rxs[1 - i]!.child.kill('SIGTERM');
    expect((await rxs[1 - i]!.done).code).toBe(143);
  });
});

const isAckFor = (seq: number) => (msg: Buffer): boolean => msg.length === 8 && msg.readUInt16BE(6) === TYPE_ACK && msg.readUInt32BE(0) === seq;

interface JsonReceiver {
  host: string;
  status: string;
  reason: string | null;
  message: string | null;
  segmentsAcked: number;
  segmentsTotal: number;
  retransmissions: number;
}
const receiversOf = (stdout: string): JsonReceiver[] => (JSON.parse(stdout) as { receivers: JsonReceiver[] }).receivers;

describe('the sender reports what it knows', () => {
  it('"never answered" is told from "stopped answering after N of M segments" (silent, and with its port closed)', async () => {
    const port = await freePort();
    const work = subdir(dir, 'stopped');
    const [silent, paused, killed] = ['127.0.0.242', '127.0.0.243', '127.0.0.244'];
    const sink = await udpSocket(silent, port); // reads, never answers: no ICMP either
    const victims = [await receiver(paused, port, path.join(work, 'paused.bin'), '0.1', ['--quiet']), await receiver(killed, port, path.join(work, 'killed.bin'), '0.1', ['--quiet'])];
    // Lossy and slow (RTO floor 20 ms), so both transfers are still under way when their receivers go.
    const client = start(CLIENT, ['--json', '--rto-min', '20', '--give-up', '1', silent, paused, killed, String(port), big, '500']);
    try {
      await waitFor('both transfers to be under way', () => ['paused', 'killed'].every((n) => partFiles(work).some((p) => p.startsWith(`.${n}.bin.`) && fs.statSync(path.join(work, p)).size > 5000)));
      victims[0]!.child.kill('SIGSTOP'); // stops answering; its port stays open
      victims[1]!.child.kill('SIGKILL'); // stops answering; its port closes (ICMP port unreachable)
      const c = await client.done;
      expectNoCrash(c, 'p2mpclient');
      expect(c.code, c.stderr).toBe(1);
      const [s, p, k] = receiversOf(c.stdout);
      expect(s!.reason).toBe('no-answer');
      expect(s!.message).toMatch(/^never answered \(no ACK within the give-up time\)$/);
      expect(s!.segmentsAcked).toBe(0);
      for (const r of [p!, k!]) {
        expect(r.segmentsAcked).toBeGreaterThan(0);
        expect(r.message).toContain(`stopped answering after ${r.segmentsAcked} of ${r.segmentsTotal} segments`);
      }
      expect(p!.reason).toBe('no-answer');
      expect(p!.message).toMatch(/no ACK for 1 s/);
      expect(k!.reason).toBe('port-unreachable');
      expect(k!.message).toMatch(/port unreachable/);
    } finally {
      victims[0]!.child.kill('SIGCONT');
      victims[0]!.child.kill('SIGKILL');
      await closeSocket(sink);
    }
  });

  it('the end-of-file ACK lost for longer than the linger: its own status, "all data acknowledged, end of file not confirmed", exit 1', async () => {
    const port = await freePort();
    const out = path.join(dir, 'unconfirmed.bin');
    const relay = await Relay.open('127.0.0.245', port, '127.0.0.246', '127.0.0.247');
    try {
      const dataSegments = Math.ceil(fs.statSync(src).size / (1000 - 8));
      relay.dropToSender = isAckFor(dataSegments); // the ACK of the empty end-of-file segment
      // Once as --json, once as the text summary (a fresh receiver each time).
      for (const format of ['--json', '--quiet']) {
        fs.rmSync(out, { force: true });
        const rx = await receiver('127.0.0.247', port, out, '0');
        const c = await run(CLIENT, [format, '--give-up', '1', '127.0.0.245', String(port), src, '1000']);
        expect((await rx.done).code).toBe(0);
        expect(sha256(out)).toBe(sha256(src));
        expect(c.code, c.stderr).toBe(1);
        if (format === '--quiet') {
          expect(c.stdout).toMatch(/^127\.0\.0\.245\s+UNCONFIRMED\s+65536\s+67\/68 /m);
          expect(c.stdout).toMatch(/^UNCONFIRMED 127\.0\.0\.245:\d+: all data acknowledged, end of file not confirmed$/m);
          continue;
        }
        const [r] = receiversOf(c.stdout);
        expect(r!.status).toBe('unconfirmed');
        expect(r!.reason).toBe('eof-unconfirmed');
        expect(r!.message).toBe('all data acknowledged, end of file not confirmed');
        expect(r!.segmentsAcked).toBe(dataSegments);
      }
    } finally {
      await relay.close();
    }
  });

  it('the sender suspended (SIGSTOP) for longer than --give-up retries on SIGCONT instead of failing every receiver', async () => {
    const port = await freePort();
    const work = subdir(dir, 'sigstop');
    const hosts = ['127.0.0.248', '127.0.0.249'];
    const outs = hosts.map((h) => path.join(work, `out-${h}.bin`));
    const rxs = await Promise.all(hosts.map((h, i) => receiver(h, port, outs[i]!, '0.05', ['--quiet'])));
    const client = start(CLIENT, ['--json', '--rto-min', '20', '--give-up', '1', ...hosts, String(port), mid, '500']);
    await waitFor('both transfers to be under way', () => partFiles(work).length === 2 && partFiles(work).every((p) => fs.statSync(path.join(work, p)).size > 5000));
    client.child.kill('SIGSTOP');
    await sleep(1800); // longer than --give-up: the condition under test, not a measurement
    client.child.kill('SIGCONT');
    const c = await client.done;
    expect(c.code, c.stdout).toBe(0);
    for (const [i, rx] of rxs.entries()) {
      expect((await rx.done).code).toBe(0);
      expect(sha256(outs[i]!)).toBe(sha256(mid));
    }
  });
});

describe('a receiver bound to 0.0.0.0 answering from another address', () => {
  it('is reported as such, with the advice to use --bind', async () => {
    const port = await freePort();
    // No --bind: it answers from the address the kernel routes by (127.0.0.1), not the one the sender addressed.
    const rx = start(SERVER, ['--linger', '0.2', '--quiet', String(port), path.join(dir, 'any.bin'), '0']);
    await rx.ready;
    try {
      const c = await run(CLIENT, ['--json', '--give-up', '1', '127.0.0.222', String(port), src, '1000']);
      expect(c.code, c.stderr).toBe(1);
      const [r] = receiversOf(c.stdout);
      expect(r!.reason).toBe('wrong-address');
      expect(r!.message).toMatch(new RegExp(`ACKs came from 127\\.0\\.0\\.1:${port} instead of 127\\.0\\.0\\.222:${port}.*--bind 127\\.0\\.0\\.222`));
    } finally {
      rx.child.kill('SIGKILL');
    }
  });
});
