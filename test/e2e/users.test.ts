// What a user of the two programs meets: --version and --help, receivers started after the sender (--wait),
// the documented JSON on both sides, many receivers from a hosts file, receivers on their own ports, a
// receiver serving several transfers, stdin and stdout as FILE, the log and the status stream. Real
// processes over loopback.

import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededFixture, sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { freePort } from '../../harness/net.js';
import { CLIENT, DIST, ROOT, SERVER } from '../../harness/paths.js';
import { receivedFile, run, start, startReceivers } from '../../harness/procs.js';
import { sleep, waitFor } from '../../harness/wait.js';

const dir = tempDir('users');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

const fixture = (name: string, size: number): { sub: string; src: string } => seededFixture(dir, name, size);

/** The documented keys (docs/JSON.md), in order: present in every document whatever the outcome. */
const SENDER_KEYS = ['schema', 'program', 'ok', 'status', 'reason', 'message', 'file', 'bytes', 'sha256', 'mss', 'payloadBytes', 'mode', 'eof', 'wire', 'port', 'window', 'rateBitsPerSec', 'multicast', 'receivers', 'total'];
const SENDER_RECEIVER_KEYS = ['host', 'address', 'port', 'status', 'reason', 'message', 'bytes', 'segmentsAcked', 'segmentsTotal', 'segmentsSent', 'retransmissions', 'timeouts', 'duplicateAcks', 'ackForUnsent', 'fastRetransmits', 'sacked', 'ignored', 'srttMs', 'timeMs', 'goodputMbps'];
const TOTAL_KEYS = ['receivers', 'complete', 'failed', 'unconfirmed', 'interrupted', 'bytes', 'segmentsAcked', 'segmentsTotal', 'segmentsSent', 'retransmissions', 'timeouts', 'duplicateAcks', 'ackForUnsent', 'fastRetransmits', 'sacked', 'ignored', 'timeMs', 'goodputMbps', 'datagramsSent', 'strangers'];
const RECEIVER_KEYS = ['schema', 'program', 'ok', 'status', 'reason', 'message', 'file', 'transfer', 'bytes', 'sha256', 'peer', 'timeMs', 'goodputMbps', 'seed', 'lossRate', 'wire', 'segments', 'drops', 'badChecksums', 'duplicates', 'ignored', 'foreign'];
const STATUS = ['complete', 'failed', 'unconfirmed', 'interrupted'];
const REASONS = ['no-answer', 'no-valid-answer', 'port-unreachable', 'eof-unconfirmed', 'digest-mismatch', 'wrong-address', 'socket-error', 'read-error', 'idle-timeout', 'write-error', 'cannot-listen', 'interrupted'];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** One JSON document on exactly one line. */
function oneJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines, stdout).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

/** Write `data` to the child's stdin in pieces with pauses, as a pipe from a slower producer delivers it; then end it. */
async function feedStdin(child: ChildProcess, data: Buffer, piece: number, pauseMs: number): Promise<void> {
  for (let at = 0; at < data.length; at += piece) {
    child.stdin!.write(data.subarray(at, at + piece));
    await sleep(pauseMs);
  }
  child.stdin!.end();
}

/** status, reason and message agree (and ok, on a whole document). */
function expectOutcome(d: { ok?: unknown; status: unknown; reason: unknown; message: unknown }): void {
  expect(STATUS).toContain(d.status);
  if ('ok' in d) expect(d.ok).toBe(d.status === 'complete');
  if (d.status === 'complete') expect([d.reason, d.message]).toEqual([null, null]);
  else {
    expect(REASONS).toContain(d.reason);
    expect(typeof d.message).toBe('string');
  }
}

describe('--version and --help', () => {
  it('p2mpsim --version prints its name and the package version', async () => {
    const r = await run(path.join(DIST, 'sim/cli.js'), ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`p2mpsim ${pkg.version}\n`);
  });

  for (const [name, script] of [['p2mpclient', CLIENT], ['p2mpserver', SERVER]] as const) {
    it(`${name} --version prints its name and the package version`, async () => {
      for (const flag of ['--version', '-V']) {
        const r = await run(script, [flag]);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(`${name} ${pkg.version}\n`);
      }
    });

    it(`${name} --help fits 80 columns, is wrapped once and ends with examples`, async () => {
      const r = await run(script, ['--help'], { env: { ...process.env, COLUMNS: '80' } });
      expect(r.code).toBe(0);
      const lines = r.stdout.split('\n');
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
      const examples = lines.indexOf('Examples:');
      expect(examples).toBeGreaterThan(0);
      for (const l of lines.slice(examples + 1).filter((x) => x !== '')) expect(l).toMatch(new RegExp(`^  ${name} |^  \\S.*\\| ${name} `));
      // Wrapped once: a long argument description reads as one sentence once the lines are joined (a text
      // wrapped twice would leave short lines and breaks inside the indentation).
      const flat = r.stdout.replace(/\s+/g, ' ');
      if (name === 'p2mpclient') expect(flat).toContain("counting the whole segment with its 8-byte header: each segment carries MSS - 8 data bytes (as the classic tool's README defines it;");
      else expect(flat).toContain('renamed onto FILE only when complete (an interrupted transfer leaves FILE untouched)');
      // No line of a description is much shorter than its neighbours would allow (a sign of pre-wrapped text).
      const argLines = lines.slice(lines.indexOf('Arguments:') + 1, lines.indexOf('Options:') - 1);
      expect(argLines.every((l) => /^ {2}\S|^ {3,}\S/.test(l))).toBe(true);
    });
  }
});

describe('--wait: receivers started after the sender', () => {
  it('receivers that start listening 1.5 s after the sender still get the file (default wait)', async () => {
    const { sub, src } = fixture('late', 200_000);
    const port = await freePort();
    const hosts = ['127.0.0.2', '127.0.0.3'];
    const client = start(CLIENT, ['--json', ...hosts, String(port), src, '1000'], { ready: /$^/ });
    await sleep(1500);
    const receivers = await startReceivers(hosts, port, sub, 0.05);
    const c = await client.done;
    expect(c.code, c.stderr).toBe(0);
    const s = oneJsonLine(c.stdout) as { receivers: Array<{ status: string }> };
    expect(s.receivers.map((r) => r.status)).toEqual(['complete', 'complete']);
    for (const [i, h] of hosts.entries()) {
      expect((await receivers[i]!.done).code).toBe(0);
      expect(sha256File(receivedFile(sub, h))).toBe(sha256File(src));
    }
  });

  it('a receiver that never starts fails as port-unreachable once the wait has passed, not before', async () => {
    const { src } = fixture('never', 1000);
    const port = await freePort();
    const c = await run(CLIENT, ['--json', '--wait', '1', '--give-up', '30', '127.0.0.4', String(port), src, '500']);
    expect(c.code).toBe(1);
    const s = oneJsonLine(c.stdout) as { receivers: Array<{ reason: string; timeMs: number }> };
    expect(s.receivers[0]!.reason).toBe('port-unreachable');
    // Retried through the window (the failure is decided after it), long before the give-up time.
    expect(s.receivers[0]!.timeMs).toBeGreaterThanOrEqual(1000);
    expect(s.receivers[0]!.timeMs).toBeLessThan(30_000);
  });

  it("README's \"A transfer by hand\", pasted as a script, moves the file", { timeout: 120_000 }, async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## A transfer by hand'));
    const snippet = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const sub = path.join(dir, 'readme');
    fs.mkdirSync(sub);
    const port = await freePort();
    // Its own port and folder, so it cannot meet another test's receivers.
    const script = snippet.replaceAll('7735', String(port)).replaceAll('/tmp/', `${sub}/`);
    // The first `npx p2mpserver` in a checkout installs the checkout itself into npx's cache, and that runs its
    // `prepare` (a full rebuild of dist/ in place) while other test files run the programs from dist/: skip the
    // scripts, the build is current (npm test builds first).
    const env = { ...process.env, npm_config_ignore_scripts: 'true' };
    const r = spawnSync('sh', ['-e', '-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 110_000, env });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/identical/);
    expect(r.stdout).toMatch(/total\s+2\/2 ok/);
  });
});

describe('JSON: one line, the documented keys on both sides, whatever the outcome', () => {
  it('a run with a receiver that fails: sender and receivers agree with docs/JSON.md', async () => {
    const { sub, src } = fixture('json', 100_000);
    const port = await freePort();
    const live = await startReceivers(['127.0.0.2'], port, sub, 0.05, { args: ['--json'] });
    const dead = await startReceivers(['127.0.0.3'], port, sub, 1, { args: ['--json'] });
    const c = await run(CLIENT, ['--json', '--give-up', '1', '127.0.0.2', '127.0.0.3', String(port), src, '500']);
    expect(c.code).toBe(1);
    const s = oneJsonLine(c.stdout) as Record<string, unknown> & { receivers: Array<Record<string, unknown>>; total: Record<string, number> };
    expect(Object.keys(s)).toEqual(SENDER_KEYS);
    expect(s).toMatchObject({ schema: 1, program: 'p2mpclient', ok: false, status: 'failed', reason: 'no-answer', file: src, bytes: 100_000, sha256: sha256File(src), mss: 500, payloadBytes: 492, port });
    expectOutcome(s as never);
    for (const r of s.receivers) {
      expect(Object.keys(r)).toEqual(SENDER_RECEIVER_KEYS);
      expectOutcome(r as never);
    }
    expect(s.receivers.map((r) => [r.status, r.reason])).toEqual([['complete', null], ['failed', 'no-answer']]);
    expect(s.receivers[1]!.srttMs).toBeNull(); // absent values are null, not missing
    expect(s.total.fastRetransmits).toBeNull(); // a stop-and-wait run: the window's counters do not apply
    expect(s.window).toEqual({ window: 1, sack: false, cc: 'none' });
    expect(Object.keys(s.total)).toEqual(TOTAL_KEYS);
    // The total row sums the receivers' rows, key by key.
    for (const k of ['bytes', 'segmentsAcked', 'segmentsTotal', 'segmentsSent', 'retransmissions', 'timeouts', 'duplicateAcks', 'ackForUnsent', 'ignored']) {
      expect(s.total[k], k).toBe(s.receivers.reduce((a, r) => a + (r[k] as number), 0));
    }
    expect([s.total.complete, s.total.failed, s.total.interrupted]).toEqual([1, 1, 0]);

    // The complete receiver: its hash is the file's.
    const ok = oneJsonLine((await live[0]!.done).stdout);
    expect(Object.keys(ok)).toEqual(RECEIVER_KEYS);
    expect(ok).toMatchObject({ schema: 1, program: 'p2mpserver', ok: true, status: 'complete', transfer: 1, bytes: 100_000, sha256: sha256File(src), lossRate: 0.05 });
    expectOutcome(ok as never);
    // The receiver that never got a segment through is stopped: the same keys, nulls where nothing applies.
    dead[0]!.child.kill('SIGINT');
    const d = await dead[0]!.done;
    expect(d.code).toBe(130);
    const failed = oneJsonLine(d.stdout);
    expect(Object.keys(failed)).toEqual(RECEIVER_KEYS);
    expect(failed).toMatchObject({ ok: false, status: 'interrupted', reason: 'interrupted', sha256: null, peer: null, timeMs: null, goodputMbps: null });
    expectOutcome(failed as never);
  });

  it('a receiver whose sender vanishes mid-transfer reports failed, idle-timeout, with the same keys', async () => {
    const { sub, src } = fixture('idle', 2_000_000);
    const port = await freePort();
    const [recv] = await startReceivers(['127.0.0.5'], port, sub, 0.02, { args: ['--json', '--idle-timeout', '1'] });
    const client = start(CLIENT, ['--quiet', '127.0.0.5', String(port), src, '200'], { ready: /$^/ });
    // Kill it once data is flowing (the receiver's temporary file has grown), not after a fixed delay: a slow
    // start under load could otherwise kill the sender before its first segment and the receiver never starts.
    const part = (): boolean => fs.readdirSync(sub).some((n) => n.endsWith('.part') && fs.statSync(path.join(sub, n)).size > 0);
    await waitFor('the receiver to write its first data', part);
    client.child.kill('SIGKILL');
    const r = await recv!.done;
    expect(r.code).toBe(1);
    const j = oneJsonLine(r.stdout);
    expect(Object.keys(j)).toEqual(RECEIVER_KEYS);
    expect(j).toMatchObject({ ok: false, status: 'failed', reason: 'idle-timeout', sha256: null });
    expect(fs.existsSync(receivedFile(sub, '127.0.0.5'))).toBe(false);
  });

  it('the text summaries print the SHA-256 of the file on both sides, fit 80 columns, and count ACKs for unsent segments on their own', async () => {
    const { sub, src } = fixture('text', 30_000);
    const port = await freePort();
    const [recv] = await startReceivers(['127.0.0.6'], port, sub, 0);
    const c = await run(CLIENT, ['127.0.0.6', String(port), src, '500']);
    expect(c.code).toBe(0);
    const hash = sha256File(src);
    expect(c.stdout).toContain(`SHA-256 ${hash}`);
    const header = c.stdout.split('\n').find((l) => l.startsWith('receiver'))!;
    expect(header.split(/\s{2,}/)).toEqual(['receiver', 'status', 'bytes', 'segments', 'timeouts', 'srtt ms', 'time s', 'Mbit/s']);
    expect(c.stdout).toContain('Ignored datagrams (not ACKs): 0; ACKs for unsent segments: 0\n');
    for (const l of c.stdout.split('\n').filter((x) => !x.includes(src))) expect(l.length, l).toBeLessThanOrEqual(80);
    // The segments column is acked/total in every row, the total row included.
    expect(c.stdout).toMatch(/^127\.0\.0\.6\s+ok\s+30000\s+62\/62\s/m);
    expect(c.stdout).toMatch(/^total\s+1\/1 ok\s+30000\s+62\/62\s/m);
    const r = await recv!.done;
    expect(r.stdout).toContain(`SHA-256 ${hash}  ${receivedFile(sub, '127.0.0.6')}\n`);
  });

  it('a file name with a newline: errors name it in one line, both SHA-256 lines pass `sha256sum -c`, and each receiver\'s complete line gives the table\'s time', async () => {
    const { sub, src } = fixture('newline', 20_000);
    const input = path.join(sub, 'in\nput');
    fs.renameSync(src, input);
    const missing = await run(CLIENT, ['127.0.0.6', '7399', path.join(sub, 'no\nsuch'), '500']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`p2mpclient: FILE '${sub}/no\\nsuch' cannot be read: no such file or directory (ENOENT); see --help\n`);
    const noDir = await run(SERVER, ['7399', path.join(sub, 'no\nsuch', 'out'), '0']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toBe(`p2mpserver: FILE '${sub}/no\\nsuch/out': directory '${sub}/no\\nsuch' does not exist; see --help\n`);
    const port = await freePort();
    const output = path.join(sub, 'out\nput');
    const recv = start(SERVER, ['--bind', '127.0.0.6', String(port), output, '0']);
    const recv2 = start(SERVER, ['--bind', '127.0.0.7', String(port), `${output}2`, '0']);
    await Promise.all([recv.ready, recv2.ready]);
    expect(recv.output()).toContain(`writing '${sub}/out\\nput', P=0`);
    const c = await run(CLIENT, ['127.0.0.6', '127.0.0.7', String(port), input, '500']);
    expect(c.code).toBe(0);
    const r = await recv.done;
    await recv2.done;
    const shaLine = (out: string): string => out.split('\n').find((l) => l.startsWith('SHA-256 '))!.slice('SHA-256 '.length);
    const check = spawnSync('sha256sum', ['-c'], { input: `${shaLine(c.stdout)}\n${shaLine(r.stdout)}\n`, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(r.stdout).toContain(`Received '${sub}/out\\nput': 20000 bytes`);
    for (const host of ['127.0.0.6', '127.0.0.7']) {
      const line = new RegExp(`^p2mpclient: \\[\\d/2\\] ${host.replace(/\./g, '\\.')}:${port} complete in (\\d+\\.\\d{3}) s$`, 'm').exec(c.stderr);
      const row = new RegExp(`^${host.replace(/\./g, '\\.')}\\s.*\\s(\\d+\\.\\d{3})\\s+[\\d.]+$`, 'm').exec(c.stdout);
      expect(line?.[1], c.stderr).toBeDefined();
      expect(line?.[1]).toBe(row?.[1]);
    }
  });
});

describe('receivers from a hosts file, receivers on their own ports', () => {
  it('--hosts-file (comments, blank lines, HOST:PORT) beside HOST:PORT on the command line', async () => {
    const { sub, src } = fixture('hosts', 50_000);
    const [p1, p2] = [await freePort(), await freePort()];
    const a = await startReceivers(['127.0.0.2', '127.0.0.3'], p1, sub, 0.05);
    const b = await startReceivers(['127.0.0.4'], p2, sub, 0.05);
    const hostsFile = path.join(sub, 'hosts.txt');
    fs.writeFileSync(hostsFile, `# the receivers\n127.0.0.2\n\n  127.0.0.3   # on PORT\n`);
    const c = await run(CLIENT, ['--json', '--hosts-file', hostsFile, `127.0.0.4:${p2}`, String(p1), src, '700']);
    expect(c.code, c.stderr).toBe(0);
    const s = oneJsonLine(c.stdout) as { receivers: Array<{ address: string; port: number; status: string }> };
    expect(s.receivers.map((r) => [r.address, r.port, r.status])).toEqual([
      ['127.0.0.4', p2, 'complete'],
      ['127.0.0.2', p1, 'complete'],
      ['127.0.0.3', p1, 'complete'],
    ]);
    for (const r of [...a, ...b]) expect((await r.done).code).toBe(0);
    for (const h of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) expect(sha256File(receivedFile(sub, h))).toBe(sha256File(src));
  });

  it('--hosts-file - reads stdin', async () => {
    const { sub, src } = fixture('hosts-stdin', 20_000);
    const port = await freePort();
    const [recv] = await startReceivers(['127.0.0.7'], port, sub, 0);
    const c = start(CLIENT, ['--json', '--hosts-file', '-', String(port), src, '700'], { stdinPipe: true, ready: /$^/ });
    c.child.stdin!.end(`127.0.0.7:${port}\n`);
    const r = await c.done;
    expect(r.code, r.stderr).toBe(0);
    expect((await recv!.done).code).toBe(0);
    expect(sha256File(receivedFile(sub, '127.0.0.7'))).toBe(sha256File(src));
  });

  it('a bad line in the hosts file, or the same receiver twice, is a usage error naming it', async () => {
    const { sub, src } = fixture('hosts-bad', 10);
    const bad = path.join(sub, 'bad.txt');
    fs.writeFileSync(bad, '127.0.0.2\n127.0.0.3:99999\n');
    const r = await run(CLIENT, ['--hosts-file', bad, '7000', src, '500']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.txt line 2: '127\.0\.0\.3:99999'.*PORT/);
    const twice = await run(CLIENT, ['127.0.0.2:7000', '127.0.0.2', '7000', src, '500']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/same receiver/);
  });

  it('HOST:PORT and hosts-file entries are refused like HOST: IPv6, broadcast, unspecified, multicast', async () => {
    const { sub, src } = fixture('hosts-refused', 10);
    const cases: Array<[string, RegExp]> = [
      ['::1', /HOST '::1' \(--hosts-file .* line 1\) is an IPv6 address; only IPv4 is supported; see --help$/],
      ['[::1]:7001', /HOST '\[::1\]:7001' \(--hosts-file .* line 1\) is an IPv6 address/],
      ['255.255.255.255:7001', /HOST '255\.255\.255\.255' \(--hosts-file .* line 1\) is the broadcast address, not a receiver/],
      ['0.0.0.0', /HOST '0\.0\.0\.0' \(--hosts-file .* line 1\) is an unspecified address/],
      ['239.1.2.3:7001', /HOST '239\.1\.2\.3' \(--hosts-file .* line 1\) is a multicast group, not a receiver/],
    ];
    const results = await Promise.all(
      cases.map(async ([entry], i) => {
        const file = path.join(sub, `h${i}.txt`);
        fs.writeFileSync(file, `${entry}\n`);
        return run(CLIENT, ['--hosts-file', file, '7000', src, '500']);
      }),
    );
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(cases[i]![1]);
    });
    // On the command line as HOST:PORT, the same line without the file's position.
    const onLine = await run(CLIENT, ['224.0.0.1:7001', '7000', src, '500']);
    expect(onLine.code).toBe(2);
    expect(onLine.stderr.trim()).toMatch(/^p2mpclient: HOST '224\.0\.0\.1' is a multicast group, not a receiver .*; see --help$/);
  });
});

describe('p2mpserver --count', () => {
  it('--count 2 serves two transfers one after another, FILE numbered by {n}, each complete and atomic', async () => {
    const { sub, src } = fixture('count', 80_000);
    const second = path.join(sub, 'second.bin');
    writeSeededFile(second, 33_333, 'second');
    const port = await freePort();
    const server = start(SERVER, ['--bind', '127.0.0.8', '--count', '2', '--json', '--linger', '0.3', String(port), path.join(sub, 'copy-{n}.bin'), '0.05']);
    await server.ready;
    const first = await run(CLIENT, ['--quiet', '127.0.0.8', String(port), src, '600']);
    expect(first.code, first.stderr).toBe(0);
    const next = await run(CLIENT, ['--quiet', '127.0.0.8', String(port), second, '600']);
    expect(next.code, next.stderr).toBe(0);
    const s = await server.done;
    expect(s.code, s.stderr).toBe(0);
    const docs = s.stdout.trim().split('\n').map((l) => JSON.parse(l) as { transfer: number; file: string; sha256: string; status: string });
    expect(docs.map((d) => [d.transfer, path.basename(d.file), d.status])).toEqual([[1, 'copy-1.bin', 'complete'], [2, 'copy-2.bin', 'complete']]);
    expect(sha256File(path.join(sub, 'copy-1.bin'))).toBe(sha256File(src));
    expect(sha256File(path.join(sub, 'copy-2.bin'))).toBe(sha256File(second));
    expect(docs.map((d) => d.sha256)).toEqual([sha256File(src), sha256File(second)]);
    expect(fs.readdirSync(sub).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('each transfer\'s FILE gets the atomic output\'s checks and keeps the replaced file\'s mode; a FIFO as the next FILE is refused, left as it was', async () => {
    const { sub, src } = fixture('count-checked', 20_000);
    const first = path.join(sub, 'copy-1.bin');
    fs.writeFileSync(first, 'old private data');
    fs.chmodSync(first, 0o600);
    const fifo = path.join(sub, 'copy-2.bin');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const port = await freePort();
    const server = start(SERVER, ['--bind', '127.0.0.8', '--count', '2', '--linger', '0.3', String(port), path.join(sub, 'copy-{n}.bin'), '0']);
    await server.ready;
    const c = await run(CLIENT, ['--quiet', '127.0.0.8', String(port), src, '600']);
    expect(c.code, c.stderr).toBe(0);
    const s = await server.done;
    expect(sha256File(first)).toBe(sha256File(src));
    expect(fs.statSync(first).mode & 0o777).toBe(0o600);
    expect(s.code, s.stderr).toBe(2);
    expect(s.stderr).toMatch(/^p2mpserver: FILE '.*copy-2\.bin' is a FIFO, not a regular file: refusing to replace it; see --help$/m);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
  });
});

describe('FILE - : stdin on the sender, stdout on the receiver', () => {
  for (const eof of ['empty', 'last']) {
    it(`the sender streams stdin of unknown size through a small buffer; the receiver writes stdout (--eof ${eof})`, async () => {
      const { sub, src } = fixture(`stdio-${eof}`, 1_000_003);
      const port = await freePort();
      const out = path.join(sub, 'stdout.bin');
      const fd = fs.openSync(out, 'w');
      const recv = start(SERVER, ['--bind', '127.0.0.9', '--json', String(port), '-', '0.05'], { stdoutFd: fd });
      fs.closeSync(fd);
      await recv.ready;
      const c = start(CLIENT, ['--json', '--eof', eof, '--buffer', '0.05', '127.0.0.9', String(port), '-', '1000'], { stdinPipe: true, ready: /$^/ });
      const data = fs.readFileSync(src);
      await feedStdin(c.child, data, 250_000, 100);
      const cr = await c.done;
      expect(cr.code, cr.stderr).toBe(0);
      const s = oneJsonLine(cr.stdout);
      expect(s).toMatchObject({ ok: true, file: '-', bytes: data.length, sha256: sha256File(src) });
      const r = await recv.done;
      expect(r.code, r.stderr).toBe(0);
      expect(sha256File(out)).toBe(sha256File(src));
      // With FILE - the summary goes to stderr (stdout is the data); no temporary file anywhere.
      const j = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { file: string; sha256: string };
      expect(j).toMatchObject({ file: '-', sha256: sha256File(src) });
      expect(fs.readdirSync(sub).filter((f) => f.endsWith('.part'))).toEqual([]);
    });
  }
});

describe('issue 13 wires with issue 14 inputs: FILE -, --count, HOST:PORT', () => {
  for (const wire of ['--verify', '--key'] as const) {
    it(`${wire}: a stdin sender (its SHA-256 known only at the end, which is when the END goes) and then a file sender to one receiver serving --count 2; both copies committed, the JSON says the wire`, async () => {
      const { sub, src } = fixture(`wire-stdin${wire}`, 700_001);
      const extra: string[] = [wire];
      if (wire === '--key') {
        const key = path.join(sub, 'key');
        fs.writeFileSync(key, `${'3c'.repeat(32)}\n`, { mode: 0o600 });
        fs.chmodSync(key, 0o600);
        extra.push(key);
      }
      const port = await freePort();
      const recv = start(SERVER, ['--bind', '127.0.0.12', '--json', '--count', '2', '--linger', '0.3', ...extra, String(port), path.join(sub, 'copy-{n}.bin'), '0.05']);
      await recv.ready;
      const c = start(CLIENT, ['--json', '--buffer', '0.05', ...extra, '127.0.0.12', String(port), '-', '1000'], { stdinPipe: true, ready: /$^/ });
      const data = fs.readFileSync(src);
      await feedStdin(c.child, data, 200_000, 50);
      const cr = await c.done;
      expect(cr.code, cr.stderr).toBe(0);
      const trailer = wire === '--key' ? 16 : 4;
      expect(oneJsonLine(cr.stdout)).toMatchObject({ ok: true, file: '-', bytes: data.length, sha256: sha256File(src), wire: wire.slice(2), payloadBytes: 1000 - 8 - trailer });
      // The second transfer from a file, the receiver named as HOST:PORT.
      const c2 = await run(CLIENT, ['--json', ...extra, `127.0.0.12:${port}`, '7000', src, '1000']);
      expect(c2.code, c2.stderr).toBe(0);
      expect(oneJsonLine(c2.stdout)).toMatchObject({ ok: true, sha256: sha256File(src), wire: wire.slice(2) });
      const r = await recv.done;
      expect(r.code, r.stderr).toBe(0);
      const reports = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { transfer: number; sha256: string; wire: string });
      expect(reports.map((j) => [j.transfer, j.sha256, j.wire])).toEqual([
        [1, sha256File(src), wire.slice(2)],
        [2, sha256File(src), wire.slice(2)],
      ]);
      expect(sha256File(path.join(sub, 'copy-1.bin'))).toBe(sha256File(src));
      expect(sha256File(path.join(sub, 'copy-2.bin'))).toBe(sha256File(src));
    });
  }

  it('a --verify sender to a classic receiver: reason no-valid-answer (status failed) in the JSON, the words in message', async () => {
    const { sub, src } = fixture('wire-mismatch', 20_000);
    const port = await freePort();
    const recv = start(SERVER, ['--bind', '127.0.0.13', '--idle-timeout', '3', String(port), path.join(sub, 'copy.bin'), '0']);
    await recv.ready;
    try {
      const c = await run(CLIENT, ['--json', '--verify', '--give-up', '1', '127.0.0.13', String(port), src, '500']);
      expect(c.code, c.stderr).toBe(1);
      const s = oneJsonLine(c.stdout);
      expect(s).toMatchObject({ ok: false, status: 'failed', reason: 'no-valid-answer', wire: 'verify' });
      expect((s.receivers as Array<Record<string, unknown>>)[0]).toMatchObject({ status: 'failed', reason: 'no-valid-answer', message: 'no verified answer: is the receiver running with --verify?' });
      expect(fs.existsSync(path.join(sub, 'copy.bin'))).toBe(false);
    } finally {
      recv.child.kill('SIGKILL');
      await recv.done;
    }
  });
});

describe('-v, --log and --events', () => {
  it('the log has ISO timestamps on both sides; the classic stdout lines are unchanged; --events is NDJSON', async () => {
    const { sub, src } = fixture('log', 300_000);
    const port = await freePort();
    const serverLog = path.join(sub, 'server.log');
    const clientLog = path.join(sub, 'client.log');
    const events = path.join(sub, 'events.ndjson');
    const recv = start(SERVER, ['--bind', '127.0.0.10', '--seed', '3', '--log', serverLog, String(port), receivedFile(sub, '127.0.0.10'), '0.1']);
    await recv.ready;
    const c = await run(CLIENT, ['-v', '--log', clientLog, '--events', events, '--give-up', '2', '--wait', '1', '127.0.0.10', '127.0.0.11', String(port), src, '1000']);
    expect(c.code).toBe(1); // 127.0.0.11 has no receiver
    const r = await recv.done;
    expect(r.code).toBe(0);
    for (const file of [serverLog, clientLog]) {
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(1);
      for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z p2mp(client|server): /);
    }
    expect(fs.readFileSync(serverLog, 'utf8')).toMatch(/transfer 1 complete/);
    expect(fs.readFileSync(clientLog, 'utf8')).toMatch(/127\.0\.0\.11:\d+ failed/);
    // -v: the same lines on stderr; stdout keeps exactly the classic lines and the summary.
    expect(c.stderr).toMatch(/^\d{4}-\d\d-\d\dT\S+ p2mpclient: sending /m);
    const classic = c.stdout.split('\n').filter((l) => l.startsWith('Timeout'));
    for (const l of classic) expect(l).toMatch(new RegExp(`^Timeout, sequence number = \\d+, receiver = 127\\.0\\.0\\.1[01]:${port}$`));
    expect(r.stdout.split('\n').filter((l) => l.startsWith('Packet loss')).every((l) => /^Packet loss, sequence number = \d+$/.test(l))).toBe(true);
    // The status stream: one object a line, ISO times, a record per timeout, the outcome of each receiver.
    const recs = fs.readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { time: string; event: string; receiver?: string; seq?: number; reason?: string });
    for (const e of recs) expect(e.time).toMatch(ISO);
    expect(recs[0]!.event).toBe('start');
    expect(recs.at(-1)!.event).toBe('end');
    const timeouts = recs.filter((e) => e.event === 'timeout');
    expect(timeouts.map((e) => `Timeout, sequence number = ${e.seq}, receiver = ${e.receiver}`)).toEqual(classic);
    expect(recs.filter((e) => e.event === 'complete').map((e) => e.receiver)).toEqual([`127.0.0.10:${port}`]);
    expect(recs.filter((e) => e.event === 'failed').map((e) => [e.receiver, e.reason])).toEqual([[`127.0.0.11:${port}`, 'port-unreachable']]);
    // One line on stderr as each receiver completes or fails.
    expect(c.stderr).toMatch(new RegExp(`^p2mpclient: \\[\\d/2\\] 127\\.0\\.0\\.10:${port} complete in `, 'm'));
    expect(c.stderr).toMatch(new RegExp(`^p2mpclient: \\[\\d/2\\] 127\\.0\\.0\\.11:${port} FAILED after .*port unreachable`, 'm'));
  });
});
