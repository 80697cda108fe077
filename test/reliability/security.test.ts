// Issue 13, on real sockets: who may deliver a file. `--sender HOST` (classic wire) stops every stranger
// who speaks before the real sender. FILE ends as the real input, or untouched.
//
// Addresses: 127.0.3.1-99 (this file only); the real sender is 127.0.0.1 (loopback's source address).
// Each test takes its own port.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeData, encodeFin } from '../../src/core/codec.js';
import { CLIENT, freePort, run, SERVER, sha256, start, tempDir, writeRandomFile, type Finished, type Proc } from '../e2e/procs.js';
import { closeSocket, expectNoCrash, partFiles, sleep, subdir, testSeed, udpSocket } from './support.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** FILE's content and mtime: "untouched" means both are as they were. */
function snapshot(file: string): { hash: string; mtimeMs: number } | undefined {
  if (!fs.existsSync(file)) return undefined;
  return { hash: sha256(file), mtimeMs: fs.statSync(file).mtimeMs };
}

interface ReceiverJson {
  ok: boolean;
  peer?: string;
  bytes: number;
  ignored: number;
  refused?: number;
  foreign: number;
}
const receiverJson = (f: Finished): ReceiverJson => JSON.parse(f.stdout.trim().split('\n').at(-1)!) as ReceiverJson;

async function receiver(addr: string, port: number, file: string, extra: string[]): Promise<Proc> {
  const p = start(SERVER, ['--bind', addr, '--json', '--linger', '0.3', '--idle-timeout', '5', ...extra, String(port), file, '0']);
  await p.listening;
  return p;
}

/** What a stranger sends before the real sender starts; each alone completes a classic transfer. */
function openers(recorded: Buffer): Buffer[] {
  const segs = [Buffer.from(encodeFin()), Buffer.from(encodeData(0, new Uint8Array(0))), Buffer.from(encodeData(0, Buffer.from('fake'), true))];
  // ... and a whole earlier transfer, replayed (MSS 500: 492 bytes a segment, then the empty end of file).
  let i = 0;
  for (; i * 492 < recorded.length; i++) segs.push(Buffer.from(encodeData(i, recorded.subarray(i * 492, (i + 1) * 492))));
  segs.push(Buffer.from(encodeData(i, new Uint8Array(0))));
  return segs;
}

describe('--sender HOST: only that host may deliver a file (classic wire)', () => {
  it("control: without --sender, a stranger's single FIN before the real sender replaces FILE with 0 bytes (what the option is for)", { timeout: 30_000 }, async () => {
    const d = subdir(dir, 'control');
    const out = path.join(d, 'out.bin');
    fs.writeFileSync(out, 'the existing file');
    const port = await freePort();
    const recv = await receiver('127.0.3.10', port, out, []);
    const stranger = await udpSocket('127.0.3.20');
    try {
      stranger.send(Buffer.from(encodeFin()), port, '127.0.3.10');
      const r = await recv.done;
      expect(r.code).toBe(0);
      expect(fs.statSync(out).size).toBe(0);
      expect(receiverJson(r).peer).toMatch(/^127\.0\.3\.20:/);
    } finally {
      recv.child.kill('SIGKILL');
      await closeSocket(stranger);
    }
  });

  for (const [label, host] of [
    ['an address', '127.0.0.1'],
    ['a name', 'localhost'],
  ] as const) {
    it(`--sender ${label}: a stranger's FIN, empty DATA 0, LAST 0 and a replayed earlier transfer before the start are refused and counted; then the real transfer completes`, { timeout: 60_000 }, async () => {
      const seed = testSeed(`sender-${host}`);
      const d = subdir(dir, `sender-${host}`);
      const out = path.join(d, 'out.bin');
      fs.writeFileSync(out, 'the existing file');
      const before = snapshot(out);
      const src = path.join(d, 'src.bin');
      writeRandomFile(src, 300_000, seed);
      const yesterday = writeRandomFile(path.join(d, 'yesterday.bin'), 20_000, `${seed}/old`);
      const port = await freePort();
      const addr = label === 'a name' ? '127.0.3.11' : '127.0.3.12';
      const recv = await receiver(addr, port, out, ['--sender', host]);
      // Strangers on other hosts; every opener from each, several times over.
      const strangers = [await udpSocket('127.0.3.21'), await udpSocket('127.0.3.22')];
      let sent = 0;
      try {
        for (let round = 0; round < 3; round++) {
          for (const s of strangers) {
            for (const seg of openers(yesterday)) {
              s.send(seg, port, addr);
              sent++;
            }
          }
          await sleep(20);
        }
        await sleep(200);
        // Still waiting: nothing committed, nothing even started.
        expect(recv.child.exitCode, 'the receiver ended on a stranger').toBeNull();
        expect(snapshot(out)).toEqual(before);
        expect(partFiles(d)).toEqual([]);
        // The real sender (127.0.0.1), while the strangers keep going.
        const client = start(CLIENT, ['--json', addr, String(port), src, '500']);
        let clientDone = false;
        void client.done.then(() => (clientDone = true));
        while (!clientDone) {
          for (const seg of openers(yesterday).slice(0, 8)) {
            strangers[sent % 2]!.send(seg, port, addr);
            sent++;
          }
          await sleep(2);
        }
        const [c, r] = [await client.done, await recv.done];
        expectNoCrash(c, 'p2mpclient');
        expectNoCrash(r, 'p2mpserver');
        expect(c.code, c.stderr).toBe(0);
        expect(r.code, r.stderr).toBe(0);
        expect(sha256(out)).toBe(sha256(src));
        const j = receiverJson(r);
        expect(j.peer).toMatch(/^127\.0\.0\.1:/);
        // Refused: every stranger datagram that arrived (none can be lost on loopback before the start), no more than sent.
        expect(j.refused).toBeGreaterThanOrEqual(3 * strangers.length * openers(yesterday).length);
        expect(j.refused).toBeLessThanOrEqual(sent);
        expect(j.ignored).toBeGreaterThanOrEqual(j.refused!);
        console.log(`[security] --sender ${host}: ${sent} stranger datagrams, receiver refused ${j.refused}`);
      } finally {
        recv.child.kill('SIGKILL');
        await Promise.all(strangers.map(closeSocket));
      }
    });
  }

  it('--sender that names no IPv4 address: one line, exit 2, nothing written', async () => {
    const d = subdir(dir, 'sender-bad');
    const r = await run(SERVER, ['--sender', 'no-such-host.invalid', String(await freePort()), path.join(d, 'out.bin'), '0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["p2mpserver: --sender 'no-such-host.invalid' does not resolve to an IPv4 address"]);
    expect(fs.readdirSync(d)).toEqual([]);
  });
});
