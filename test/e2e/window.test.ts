// End-to-end over real UDP on loopback with the sliding window: the built CLIs, receivers on 127.0.0.x.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startClassicReceiver } from '../classic-receiver.js';
import { fileBytes, sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { freePort } from '../../harness/net.js';
import { CLIENT } from '../../harness/paths.js';
import { receivedFile, run, startReceivers } from '../../harness/procs.js';

const dir = tempDir('test');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

async function transfer(name: string, size: number, mss: number, p: number, clientArgs: string[], serverArgs: string[] = []) {
  const sub = path.join(dir, name);
  fs.mkdirSync(sub);
  const src = path.join(sub, 'src.bin');
  writeSeededFile(src, size, name);
  const port = await freePort();
  const receivers = await startReceivers(HOSTS, port, sub, p, { args: serverArgs });
  const client = await run(CLIENT, [...clientArgs, ...HOSTS, String(port), src, String(mss)]);
  const servers = await Promise.all(receivers.map((r) => r.done));
  return { src, client, servers, out: (h: string) => receivedFile(sub, h) };
}

describe('sliding window: every receiver ends with a byte-identical file', () => {
  for (const mode of ['independent', 'lockstep']) {
    for (const sack of [false, true]) {
      it(`--window 16, 1 MiB, 3 receivers, MSS 500, P=0.05, ${mode}${sack ? ', --sack on both sides' : ''}`, async () => {
        const flag = sack ? ['--sack'] : [];
        const t = await transfer(`w16-${mode}-${sack}`, 1 << 20, 500, 0.05, ['--window', '16', '--mode', mode, '--json', ...flag], flag);
        expect(t.client.code, t.client.stderr).toBe(0);
        const summary = JSON.parse(t.client.stdout);
        expect(summary.total.complete).toBe(3);
        expect(summary.window).toEqual({ window: 16, sack, cc: 'none' });
        // Schema 1: the window's counters are always present, null only where they do not apply.
        expect(summary.rateBitsPerSec).toBeNull();
        if (sack) expect(summary.total.sacked).toBeGreaterThan(0);
        else expect(summary.total.sacked).toBeNull();
        for (const [i, h] of HOSTS.entries()) {
          expect(t.servers[i]!.code, t.servers[i]!.stderr).toBe(0);
          expect(sha256File(t.out(h))).toBe(sha256File(t.src));
        }
        // ~100 drops per receiver: most are repaired without waiting for the timer.
        expect(summary.total.fastRetransmits).toBeGreaterThan(0);
      });
    }
  }

  it('"Timeout, sequence number = Y" (and an --events timeout record) is written for timer expiries only; fast retransmits are counted apart', async () => {
    const events = path.join(dir, 'lines.events.jsonl');
    const t = await transfer('lines', 300_000, 500, 0.05, ['--window', '16', '--no-progress', '--events', events]);
    expect(t.client.code, t.client.stderr).toBe(0);
    const lines = t.client.stdout.split('\n');
    const timeoutLines = lines.filter((l) => l.startsWith('Timeout, sequence number = ')).length;
    const header = lines.find((l) => l.startsWith('receiver'))!.trim().split(/\s{2,}/);
    const total = lines.find((l) => l.startsWith('total'))!.trim().split(/\s{2,}/);
    // The total row has no srtt cell; its cells line up with the header up to there.
    expect(Number(total[header.indexOf('timeouts')])).toBe(timeoutLines);
    const records = fs.readFileSync(events, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event: string });
    expect(records.filter((r) => r.event === 'timeout')).toHaveLength(timeoutLines);
    const fast = /^Fast retransmits: (\d+)$/m.exec(t.client.stdout);
    expect(fast, t.client.stdout).not.toBeNull();
    expect(Number(fast![1])).toBeGreaterThan(0);
  });

  it('a window larger than the file buffer is clamped to it (and says so), never a deadlock', async () => {
    // A 64 KiB buffer holds 133 segments of 492 bytes; the file is 4x that.
    const t = await transfer('clamp', 262_144, 500, 0.02, ['--window', '1000', '--buffer', '0.0625', '--quiet']);
    expect(t.client.code, t.client.stderr).toBe(0);
    expect(t.client.stderr).toMatch(/--window 1000 is more than the file buffer holds \(133 segments, --buffer\); using 133/);
    for (const h of HOSTS) expect(sha256File(t.out(h))).toBe(sha256File(t.src));
  });
});

describe('a windowed sender and a classic receiver that discards out-of-order segments', () => {
  it('arrives byte-identical (go-back-N behaviour), P=0.05 at the receiver', async () => {
    const sub = path.join(dir, 'classic');
    fs.mkdirSync(sub);
    const src = path.join(sub, 'src.bin');
    writeSeededFile(src, 200_000, 'classic');
    const data = Buffer.from(fileBytes(200_000, 'classic'));
    const rx = await startClassicReceiver('127.0.0.7', 0.05, 'classic-seed-1');
    try {
      const client = await run(CLIENT, ['--window', '16', '--json', '127.0.0.7', String(rx.port), src, '1000']);
      expect(client.code, client.stderr).toBe(0);
      const received = await rx.done;
      expect(received.equals(data)).toBe(true);
      // It did discard segments that arrived after a hole: the case this test is about (seed classic-seed-1).
      expect(rx.discarded()).toBeGreaterThan(0);
    } finally {
      rx.close();
    }
  });
});

describe('the window on the verified and keyed wires', () => {
  for (const [mode, sack] of [
    ['independent', false],
    ['lockstep', true],
  ] as const) {
    it(`--window 16 --key, 1 MiB, 3 receivers, MSS 500, P=0.05, ${mode}${sack ? ', --sack on both sides (KSACK)' : ''}: every receiver commits the identical file`, async () => {
      const sub = path.join(dir, `key-${mode}`);
      fs.mkdirSync(sub);
      const key = path.join(sub, 'key');
      fs.writeFileSync(key, `${'5a'.repeat(32)}\n`, { mode: 0o600 });
      const flag = sack ? ['--sack'] : [];
      const t = await transfer(`w16-key-${mode}`, 1 << 20, 500, 0.05, ['--window', '16', '--mode', mode, '--key', key, '--json', ...flag], ['--key', key, ...flag]);
      expect(t.client.code, t.client.stderr).toBe(0);
      const summary = JSON.parse(t.client.stdout);
      expect(summary.total.complete).toBe(3);
      expect(summary.window).toEqual({ window: 16, sack, cc: 'none' });
      for (const [i, h] of HOSTS.entries()) {
        expect(t.servers[i]!.code, t.servers[i]!.stderr).toBe(0);
        expect(sha256File(t.out(h))).toBe(sha256File(t.src));
      }
      // The receivers held segments after a hole (their reorder buffer works on this wire): fast repairs happened.
      expect(summary.total.fastRetransmits).toBeGreaterThan(0);
      if (sack) expect(summary.total.sacked).toBeGreaterThan(0);
    });
  }
});
