// The progress display in a real pseudo-terminal (util-linux `script`, 80 columns): event lines are printed
// above the bars through cli-progress's own log, never through them; when stdout is not the terminal the
// classic lines go to it exactly as without a terminal. What the terminal shows is replayed by a minimal
// terminal (./terminal.ts) into the lines a user reads.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededFixture, sha256File, tempDir } from '../../harness/files.js';
import { freePort } from '../../harness/net.js';
import { CLIENT, SERVER } from '../../harness/paths.js';
import { receivedFile, run, startReceivers } from '../../harness/procs.js';
import { render } from './terminal.js';

const dir = tempDir('progress');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const noScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status !== 0 ? 'util-linux script(1) is not installed' : undefined;
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run `node SCRIPT args` on a pseudo-terminal of 80 columns, everything it shows recorded in `raw`; `redirect` is appended (e.g. "> FILE"). */
function terminal(script: string, args: string[], raw: string, redirect = ''): Promise<number | null> {
  const cmd = `stty cols 80 rows 24; exec ${[process.execPath, script, ...args].map(quote).join(' ')} ${redirect}`;
  const child = spawn('script', ['-qfec', cmd, raw], { stdio: 'ignore', env: { ...process.env, CI: '' } });
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

let runs = 0;
async function inTerminal(args: string[], redirect = ''): Promise<{ code: number | null; raw: string }> {
  const raw = path.join(dir, `raw-${++runs}`);
  const code = await terminal(CLIENT, args, raw, redirect);
  return { code, raw: fs.readFileSync(raw, 'utf8') };
}

/** The timeout records of an --events status stream, in order. */
function timeoutsIn(events: string): Array<{ event: string; seq: number; receiver: string }> {
  return fs
    .readFileSync(events, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; seq: number; receiver: string })
    .filter((e) => e.event === 'timeout');
}

describe.skipIf(noScript !== undefined)(`progress and event lines on a terminal${noScript ? ` — SKIPPED: ${noScript}` : ''}`, () => {
  it('every event line is whole, on its own line above the bars, one per timeout of the status stream; bars were drawn', async () => {
    const { sub, src } = seededFixture(dir, 'tty', 3_000_000);
    const port = await freePort();
    const receivers = await startReceivers(HOSTS, port, sub, 0.1, { args: ['--linger', '0.5'] });
    const events = path.join(sub, 'events.ndjson');
    const t = await inTerminal(['--events', events, ...HOSTS, String(port), src, '1000']);
    expect(t.code, t.raw.slice(-2000)).toBe(0);
    for (const r of receivers) expect((await r.done).code).toBe(0);
    for (const h of HOSTS) expect(sha256File(receivedFile(sub, h))).toBe(sha256File(src));

    // The bars were drawn (cursor movement and the per-receiver rate and ETA) and removed at the end.
    expect(t.raw).toMatch(/\x1b\[\d*A/);
    expect(t.raw).toMatch(/[KMG]iB\/s ETA /);
    const screen = render(t.raw);
    const timeoutLines = screen.filter((l) => l.includes('Timeout'));
    const timeouts = timeoutsIn(events);
    expect(timeouts.length).toBeGreaterThan(0); // P = 0.1 over 3000 segments a receiver
    // Each line exactly the classic line, nothing of a bar in it, all of them, in order.
    expect(timeoutLines).toEqual(timeouts.map((e) => `Timeout, sequence number = ${e.seq}, receiver = ${e.receiver}`));
    // A line for each receiver as it completes, and the summary after the bars are gone.
    for (const h of HOSTS) expect(screen.some((l) => new RegExp(`^p2mpclient: \\[\\d/3\\] ${h.replace(/\./g, '\\.')}:${port} complete in `).test(l))).toBe(true);
    const summary = screen.findIndex((l) => l.startsWith('Sent '));
    expect(summary).toBeGreaterThan(0);
    expect(screen.slice(summary).some((l) => /[█░]/.test(l))).toBe(false);
    expect(screen.some((l) => /^total\s+3\/3 ok/.test(l))).toBe(true);
  });

  it('with stdout redirected the classic lines go to it byte for byte while the bars are drawn on the terminal', async () => {
    const { sub, src } = seededFixture(dir, 'redirect', 2_000_000);
    const port = await freePort();
    const receivers = await startReceivers(HOSTS.slice(0, 2), port, sub, 0.1, { args: ['--linger', '0.5'] });
    const out = path.join(sub, 'stdout.txt');
    const events = path.join(sub, 'events.ndjson');
    const t = await inTerminal(['--events', events, ...HOSTS.slice(0, 2), String(port), src, '1000'], `> ${quote(out)}`);
    expect(t.code).toBe(0);
    for (const r of receivers) expect((await r.done).code).toBe(0);
    expect(t.raw).toMatch(/[KMG]iB\/s ETA /); // bars on the terminal (stderr)
    expect(t.raw).not.toMatch(/Timeout/);
    const timeouts = timeoutsIn(events);
    const stdout = fs.readFileSync(out, 'utf8');
    const classic = timeouts.map((e) => `Timeout, sequence number = ${e.seq}, receiver = ${e.receiver}\n`).join('');
    expect(stdout.startsWith(classic + 'Sent ')).toBe(true);
    expect(stdout).not.toMatch(/\x1b/);
  });

  it('with many receivers the display shows the overall line with counts and the slowest five', async () => {
    const { sub, src } = seededFixture(dir, 'many', 1_000_000);
    const port = await freePort();
    const hosts = Array.from({ length: 7 }, (_, i) => `127.0.0.${20 + i}`);
    const receivers = await startReceivers(hosts, port, sub, 0.1, { args: ['--linger', '0.5'] });
    const u = await inTerminal([...hosts, String(port), src, '1000']);
    expect(u.code, u.raw.slice(-2000)).toBe(0);
    for (const r of receivers) expect((await r.done).code).toBe(0);
    expect(u.raw).toMatch(/\d+ sending, \d+ done, 0 failed; ETA \S+; slowest 5 below/);
    // At most five receiver bars in each frame (from one overall line to the next), the event lines aside.
    const frames = u.raw.split(/ sent in \d+ s; /).slice(1);
    const barsPer = frames.map((f) => new Set(f.match(/127\.0\.0\.2\d +[█░]/g) ?? []).size);
    expect(Math.max(...barsPer)).toBe(5);
  });

  it('the receiver shows one live line on a terminal, and its loss lines above it', async () => {
    const { sub, src } = seededFixture(dir, 'receiver', 2_000_000);
    const port = await freePort();
    const raw = path.join(sub, 'raw');
    const out = path.join(sub, 'out.bin');
    const server = terminal(SERVER, ['--bind', '127.0.0.5', '--linger', '0.5', String(port), out, '0.1'], raw);
    // Started through script: wait for its listening line in the raw output.
    for (let i = 0; i < 200 && !(fs.existsSync(raw) && fs.readFileSync(raw, 'utf8').includes('listening on')); i++) await new Promise((r) => setTimeout(r, 25));
    const c = await run(CLIENT, ['--quiet', '127.0.0.5', String(port), src, '1000']);
    expect(c.code).toBe(0);
    expect(await server).toBe(0);
    expect(sha256File(out)).toBe(sha256File(src));
    const text = fs.readFileSync(raw, 'utf8');
    expect(text).toMatch(/from 127\.0\.0\.1:\d+: [\d.]+ [KMG]iB, [\d.]+ [KMG]iB\/s, \d+ segments, drops \d+, dups \d+/);
    const screen = render(text);
    const losses = screen.filter((l) => l.includes('Packet loss'));
    expect(losses.length).toBeGreaterThan(0);
    for (const l of losses) expect(l).toMatch(/^Packet loss, sequence number = \d+$/);
    const summary = screen.find((l) => l.startsWith('Received '))!;
    const drops = Number(/drops (\d+)/.exec(summary)![1]);
    expect(losses).toHaveLength(drops);
  });
});
