// End-to-end over real UDP on loopback: receivers on 127.0.0.x sharing one port, the built CLIs.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { freePort } from '../../harness/net.js';
import { CLIENT } from '../../harness/paths.js';
import { receivedFile, run, startReceivers } from '../../harness/procs.js';

const dir = tempDir('test');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

async function transfer(name: string, size: number, mss: number, p: number, clientArgs: string[], hosts = HOSTS) {
  const sub = path.join(dir, name);
  fs.mkdirSync(sub);
  const src = path.join(sub, 'src.bin');
  writeSeededFile(src, size, name);
  const port = await freePort();
  const receivers = await startReceivers(hosts, port, sub, p);
  const client = await run(CLIENT, [...clientArgs, ...hosts, String(port), src, String(mss)]);
  const servers = await Promise.all(receivers.map((r) => r.done));
  return { sub, src, client, servers, out: (h: string) => receivedFile(sub, h) };
}

describe('every receiver ends with a byte-identical file', () => {
  for (const mode of ['independent', 'lockstep']) {
    it(`1 MiB random file, 3 receivers on one port, MSS 500, P=0.05, ${mode}`, async () => {
      const t = await transfer(`mib-${mode}`, 1 << 20, 500, 0.05, ['--mode', mode, '--json']);
      expect(t.client.code, t.client.stderr).toBe(0);
      const summary = JSON.parse(t.client.stdout);
      expect(summary.total.completed).toBe(3);
      for (const [i, h] of HOSTS.entries()) {
        expect(t.servers[i]!.code, t.servers[i]!.stderr).toBe(0);
        expect(sha256File(t.out(h))).toBe(sha256File(t.src));
      }
      // With P=0.05 over ~2100 segments each receiver must have dropped some, and the sender recovered them.
      expect(summary.total.retransmissions).toBeGreaterThan(0);
    });
  }

  it('a zero-byte file arrives as a zero-byte file', async () => {
    const t = await transfer('empty', 0, 100, 0, ['--quiet']);
    expect(t.client.code, t.client.stderr).toBe(0);
    for (const h of HOSTS) expect(fs.statSync(t.out(h)).size).toBe(0);
  });

  it('a file of exactly k full segments (k = 40, MSS 108 -> 100 data bytes each)', async () => {
    const t = await transfer('ksegs', 4000, 108, 0.1, ['--json']);
    expect(t.client.code, t.client.stderr).toBe(0);
    const summary = JSON.parse(t.client.stdout);
    // 40 data segments plus the empty end-of-file segment.
    expect(summary.receivers[0].segmentsTotal).toBe(41);
    for (const h of HOSTS) expect(sha256File(t.out(h))).toBe(sha256File(t.src));
  });

  for (const eof of ['fin', 'last']) {
    it(`end of file by --eof ${eof} completes the file, odd sizes included`, async () => {
      const t = await transfer(`eof-${eof}`, 12_345, 57, 0.05, ['--eof', eof, '--quiet'], ['127.0.0.5']);
      expect(t.client.code, t.client.stderr).toBe(0);
      expect(sha256File(t.out('127.0.0.5'))).toBe(sha256File(t.src));
    });
  }
});

describe('failure of one receiver does not stop the others', () => {
  for (const mode of ['independent', 'lockstep']) {
    it(`a dead receiver (P=1) is reported failed while the others complete (${mode})`, async () => {
      const sub = path.join(dir, `dead-${mode}`);
      fs.mkdirSync(sub);
      const src = path.join(sub, 'src.bin');
      writeSeededFile(src, 100_000, 'dead');
      const port = await freePort();
      const live = await startReceivers(['127.0.0.6', '127.0.0.7'], port, sub, 0);
      const dead = await startReceivers(['127.0.0.8'], port, sub, 1, { args: ['--idle-timeout', '3'] });
      const client = await run(CLIENT, ['--json', '--mode', mode, '--give-up', '1', '127.0.0.6', '127.0.0.7', '127.0.0.8', String(port), src, '500']);
      expect(client.code).toBe(1);
      const summary = JSON.parse(client.stdout);
      expect(summary.receivers.map((r: { status: string }) => r.status)).toEqual(['done', 'done', 'failed']);
      expect(summary.receivers[2].reason).toMatch(/^never answered/);
      for (const r of live) expect((await r.done).code).toBe(0);
      for (const h of ['127.0.0.6', '127.0.0.7']) expect(sha256File(receivedFile(sub, h))).toBe(sha256File(src));
      // The dead receiver never got a segment through its loss service, so it has no transfer to give up on;
      // stop it and check nothing was written.
      dead[0]!.child.kill('SIGINT');
      await dead[0]!.done;
      expect(fs.existsSync(receivedFile(sub, '127.0.0.8'))).toBe(false);
    });
  }

  it('a closed port (ICMP port unreachable) is reported failed, not waited out', async () => {
    const sub = path.join(dir, 'closed');
    fs.mkdirSync(sub);
    const src = path.join(sub, 'src.bin');
    writeSeededFile(src, 1000, 'closed');
    const port = await freePort();
    const client = await run(CLIENT, ['--json', '--give-up', '30', '127.0.0.9', String(port), src, '500']);
    expect(client.code).toBe(1);
    const summary = JSON.parse(client.stdout);
    expect(summary.receivers[0].reason).toMatch(/port unreachable/);
  });
});
