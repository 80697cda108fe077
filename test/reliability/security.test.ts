// Issue 13, on real sockets: who may deliver a file. `--sender HOST` (classic wire) stops every stranger
// who speaks before the real sender; `--key` stops strangers, replays, spoofed addresses (raw sockets) and
// header bit flips; `--verify` catches what no per-segment check can see. FILE ends as the real input, or
// untouched.
//
// Addresses: 127.0.8.1-99 (this file only); the real sender is 127.0.0.1 (loopback's source address).
// Each test takes its own port.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeAck, encodeData, encodeFin } from '../../src/core/codec.js';
import { encodeVerifiedEnd } from '../../src/core/verify.js';
import { sha256File as sha256, subdir, tempDir, writeSeededFile } from '../../harness/files.js';
import { closeSocket, freePort, udpSocket } from '../../harness/net.js';
import { CLIENT, SERVER } from '../../harness/paths.js';
import { run, start, type Finished, type Proc } from '../../harness/procs.js';
import { sleep } from '../../harness/wait.js';
import { seeded as rng } from '../support.js';
import { expectNoCrash, hasCommand, isRoot, partFiles, randBytes, randInt, Relay, sendRawUdp, testSeed } from './support.js';

const dir = tempDir('security');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A seeded file, and its bytes. */
function seededFile(file: string, size: number, seed: string): Buffer {
  writeSeededFile(file, size, seed);
  return fs.readFileSync(file);
}

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
  foreign: number;
}
const receiverJson = (f: Finished): ReceiverJson => JSON.parse(f.stdout.trim().split('\n').at(-1)!) as ReceiverJson;

async function receiver(addr: string, port: number, file: string, extra: string[]): Promise<Proc> {
  const p = start(SERVER, ['--bind', addr, '--json', '--linger', '0.3', '--idle-timeout', '5', ...extra, String(port), file, '0']);
  await p.ready;
  return p;
}

/** Call `spray` every 2 ms until `client` ends; then both programs must have ended cleanly, exit 0, with FILE = SRC. */
async function sprayUntilDone(client: Proc, recv: Proc, out: string, src: string, spray: () => void): Promise<Finished> {
  let done = false;
  void client.done.then(() => (done = true));
  while (!done) {
    spray();
    await sleep(2);
  }
  const [c, r] = [await client.done, await recv.done];
  expectNoCrash(c, 'p2mpclient');
  expectNoCrash(r, 'p2mpserver');
  expect(c.code, c.stderr).toBe(0);
  expect(r.code, r.stderr).toBe(0);
  expect(sha256(out)).toBe(sha256(src));
  return r;
}

/**
 * "Yesterday": a real transfer of `src` (MSS 500) from a sender with `senderArgs` to a receiver with `receiverArgs`
 * on `at.receiver`, through a relay on `at.relay` (sending on from `at.relayOut`) that records what the sender wrote.
 */
async function recordedTransfer(at: { receiver: string; relay: string; relayOut: string }, port: number, src: string, out: string, senderArgs: string[], receiverArgs: string[]): Promise<Buffer[]> {
  const r = await receiver(at.receiver, port, out, receiverArgs);
  const relay = await Relay.open(at.relay, port, at.relayOut, at.receiver);
  relay.record = true;
  const c = await run(CLIENT, [...senderArgs, at.relay, String(port), src, '500']);
  expect(c.code, c.stderr).toBe(0);
  expect((await r.done).code).toBe(0);
  await relay.close();
  expect(relay.recorded.length).toBeGreaterThan(100);
  return relay.recorded;
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
  it("control: without --sender, a stranger's single empty DATA 0 before the real sender replaces FILE with 0 bytes (what the option is for)", { timeout: 30_000 }, async () => {
    const d = subdir(dir, 'control');
    const out = path.join(d, 'out.bin');
    fs.writeFileSync(out, 'the existing file');
    const port = await freePort();
    const recv = await receiver('127.0.8.10', port, out, []);
    const stranger = await udpSocket('127.0.8.20');
    try {
      // (A lone FIN no longer replaces a FILE that holds data: the stale-FIN rule. An empty DATA 0 still does.)
      stranger.send(Buffer.from(encodeData(0, new Uint8Array(0))), port, '127.0.8.10');
      const r = await recv.done;
      expect(r.code).toBe(0);
      expect(fs.statSync(out).size).toBe(0);
      expect(receiverJson(r).peer).toMatch(/^127\.0\.8\.20:/);
    } finally {
      recv.child.kill('SIGKILL');
      await closeSocket(stranger);
    }
  });

  for (const [label, host] of [
    ['an address', '127.0.0.1'],
    ['a name', 'localhost'],
  ] as const) {
    it(`--sender ${label}: a stranger's FIN, empty DATA 0, LAST 0 and a replayed earlier transfer before the start are refused and counted as foreign; then the real transfer completes`, { timeout: 60_000 }, async () => {
      const seed = testSeed(`sender-${host}`);
      const d = subdir(dir, `sender-${host}`);
      const out = path.join(d, 'out.bin');
      fs.writeFileSync(out, 'the existing file');
      const before = snapshot(out);
      const src = path.join(d, 'src.bin');
      writeSeededFile(src, 300_000, seed);
      const yesterday = seededFile(path.join(d, 'yesterday.bin'), 20_000, `${seed}/old`);
      const port = await freePort();
      const addr = label === 'a name' ? '127.0.8.11' : '127.0.8.12';
      const recv = await receiver(addr, port, out, ['--sender', host]);
      // Strangers on other hosts; every opener from each, several times over.
      const strangers = [await udpSocket('127.0.8.21'), await udpSocket('127.0.8.22')];
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
        const r = await sprayUntilDone(client, recv, out, src, () => {
          for (const seg of openers(yesterday).slice(0, 8)) {
            strangers[sent % 2]!.send(seg, port, addr);
            sent++;
          }
        });
        const j = receiverJson(r);
        expect(j.peer).toMatch(/^127\.0\.0\.1:/);
        // Refused as foreign: every stranger datagram sent before the start (loopback loses none), no more than sent.
        expect(j.foreign).toBeGreaterThanOrEqual(3 * strangers.length * openers(yesterday).length);
        expect(j.foreign).toBeLessThanOrEqual(sent);
        expect(j.ignored).toBeGreaterThanOrEqual(j.foreign);
        console.log(`[security] --sender ${host}: ${sent} stranger datagrams, receiver foreign=${j.foreign} ignored=${j.ignored}`);
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
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^p2mpserver: --sender 'no-such-host.invalid' does not resolve to an IPv4 address/);
    expect(fs.readdirSync(d)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// --verify and --key

function writeKey(d: string, name: string, hex: string, mode = 0o600): string {
  const f = path.join(d, name);
  fs.writeFileSync(f, `${hex}\n`, { mode });
  fs.chmodSync(f, mode);
  return f;
}
const KEY_A = 'a5'.repeat(32);
const KEY_B = '5a'.repeat(32);

/** A copy of `msg` with bit `bit` flipped. */
function flipped(msg: Buffer, bit: number): Buffer {
  const out = Buffer.from(msg);
  out[bit >> 3]! ^= 0x80 >> (bit & 7);
  return out;
}

/** The local UDP ports a process has open (from ss), to spoof its address:port from a raw socket. */
function udpPortsOf(pid: number): number[] {
  const out = execFileSync('ss', ['-Huanp'], { encoding: 'utf8' });
  const ports: number[] = [];
  for (const line of out.split('\n')) if (line.includes(`pid=${pid},`)) ports.push(Number(/\s127\.0\.0\.1:(\d+)\s/.exec(line)?.[1] ?? Number.NaN));
  return ports.filter((p) => Number.isInteger(p));
}

describe('--key: strangers, replays and spoofers never deliver a file', () => {
  it('before the start and during the transfer: classic openers, a complete --verify transfer, forged handshakes and a recorded earlier --key transfer (from strangers and from the sender\'s own address:port) — FILE ends as the real input', { timeout: 90_000 }, async () => {
    const seed = testSeed('key-replay');
    const d = subdir(dir, 'key-replay');
    const key = writeKey(d, 'key', KEY_A);
    const port = await freePort();
    // Yesterday: a real --key transfer through a relay that records what the sender wrote.
    const oldSrc = path.join(d, 'yesterday.bin');
    const yesterday = seededFile(oldSrc, 50_000, `${seed}/old`);
    const at = { receiver: '127.0.8.30', relay: '127.0.8.31', relayOut: '127.0.8.32' };
    const recorded = await recordedTransfer(at, port, oldSrc, path.join(d, 'yesterday-copy.bin'), ['--key', key, '--json'], ['--key', key]);

    // Today: a receiver with an existing FILE, behind a relay (so junk can come from its sender's own address:port).
    const out = path.join(d, 'out.bin');
    fs.writeFileSync(out, 'the existing file');
    const before = snapshot(out);
    const src = path.join(d, 'src.bin');
    writeSeededFile(src, 400_000, seed);
    const recv = await receiver('127.0.8.33', port, out, ['--key', key]);
    const relay = await Relay.open('127.0.8.34', port, '127.0.8.35', '127.0.8.33');
    const stranger = await udpSocket('127.0.8.36');
    const emptyVerified = Buffer.from(encodeVerifiedEnd(0, createHash('sha256').digest()));
    const junk = [...openers(yesterday), emptyVerified, ...recorded];
    try {
      for (const m of junk) stranger.send(m, port, '127.0.8.33');
      for (const m of recorded) relay.injectToReceiver(m);
      await sleep(300);
      expect(recv.child.exitCode, 'the receiver ended on a stranger').toBeNull();
      expect(snapshot(out)).toEqual(before);
      expect(partFiles(d)).toEqual([]);

      const client = start(CLIENT, ['--key', key, '--json', '127.0.8.34', String(port), src, '500']);
      let i = 0;
      const r = await sprayUntilDone(client, recv, out, src, () => {
        for (let k = 0; k < 6; k++, i++) {
          stranger.send(junk[i % junk.length]!, port, '127.0.8.33');
          relay.injectToReceiver(recorded[i % recorded.length]!);
        }
      });
      // Said once, not once per datagram.
      expect(r.stderr.match(/ignoring classic datagrams/g)?.length, r.stderr).toBe(1);
      expect(r.stderr.match(/ignoring --verify datagrams/g)?.length, r.stderr).toBe(1);
      const j = receiverJson(r);
      expect(j.ignored).toBeGreaterThanOrEqual(junk.length);
      console.log(`[security] --key replay: ${junk.length + recorded.length} before the start, ${i * 2} during; receiver ignored=${j.ignored} foreign=${j.foreign}`);
    } finally {
      recv.child.kill('SIGKILL');
      await Promise.all([relay.close(), closeSocket(stranger)]);
    }
  });

  it('mid-window (--window 16 on both transfers): a recorded earlier windowed transfer, forged sealed segments just ahead of the receiver and current segments replayed from the sender\'s own address:port — FILE ends as the real input', { timeout: 60_000 }, async () => {
    const seed = testSeed('key-window');
    const d = subdir(dir, 'key-window');
    const key = writeKey(d, 'key', KEY_A);
    const port = await freePort();
    const window = ['--window', '16', '--key', key, '--json'];
    // Yesterday: a windowed --key transfer, recorded by a relay.
    const oldSrc = path.join(d, 'yesterday.bin');
    seededFile(oldSrc, 100_000, `${seed}/old`);
    const at = { receiver: '127.0.8.70', relay: '127.0.8.71', relayOut: '127.0.8.72' };
    const yesterday = await recordedTransfer(at, port, oldSrc, path.join(d, 'yesterday-copy.bin'), window, ['--key', key]);

    const out = path.join(d, 'out.bin');
    fs.writeFileSync(out, 'the existing file');
    const src = path.join(d, 'src.bin');
    writeSeededFile(src, 600_000, seed);
    const recv = await receiver('127.0.8.73', port, out, ['--key', key]);
    const relay = await Relay.open('127.0.8.74', port, '127.0.8.75', '127.0.8.73');
    relay.record = true; // today's own segments, to replay them from the sender's side of the relay
    const stranger = await udpSocket('127.0.8.76');
    const r = rng(seed);
    try {
      const client = start(CLIENT, [...window, '127.0.8.74', String(port), src, '500']);
      let i = 0;
      const rr = await sprayUntilDone(client, recv, out, src, () => {
        for (let k = 0; k < 4; k++, i++) {
          stranger.send(yesterday[i % yesterday.length]!, port, '127.0.8.73');
          // Sealed-looking segments a few seqs ahead of what the receiver may have: the reorder buffer's range.
          const ahead = Buffer.from(forge(r, 0x5a12, 476));
          ahead.writeUInt32BE(Math.floor(i / 2) + randInt(r, 1, 16), 0);
          stranger.send(ahead, port, '127.0.8.73');
          relay.injectToReceiver(yesterday[(i * 7) % yesterday.length]!);
          const today = relay.recorded;
          if (today.length > 0) relay.injectToReceiver(today[randInt(r, 0, today.length - 1)]!);
        }
      });
      const j = receiverJson(rr);
      expect(j.ignored).toBeGreaterThan(0);
      console.log(`[security] --key mid-window: ${i * 4} hostile datagrams during the transfer; receiver ignored=${j.ignored} foreign=${j.foreign}`);
    } finally {
      recv.child.kill('SIGKILL');
      await Promise.all([relay.close(), closeSocket(stranger)]);
    }
  });

  const rawWhy = !isRoot ? 'needs root (raw socket)' : !hasCommand('perl') || !hasCommand('ss') ? 'needs perl and ss' : undefined;
  it.skipIf(rawWhy !== undefined)(`raw-socket spoofing of both addresses (forged and replayed segments from the sender's address:port, forged ACKs from the receiver's) changes nothing${rawWhy ? ` — SKIPPED: ${rawWhy}` : ''}`, { timeout: 60_000 }, async () => {
    const seed = testSeed('key-spoof');
    const d = subdir(dir, 'key-spoof');
    const key = writeKey(d, 'key', KEY_A);
    const port = await freePort();
    const out = path.join(d, 'out.bin');
    fs.writeFileSync(out, 'the existing file');
    const src = path.join(d, 'src.bin');
    writeSeededFile(src, 3_000_000, seed);
    const addr = '127.0.8.40';
    const recv = await receiver(addr, port, out, ['--key', key]);
    try {
      const client = start(CLIENT, ['--key', key, '--json', addr, String(port), src, '500']);
      let senderPort: number | undefined;
      for (let t = 0; t < 200 && senderPort === undefined && client.child.exitCode === null; t++) {
        senderPort = udpPortsOf(client.child.pid!)[0];
        if (senderPort === undefined) await sleep(5);
      }
      expect(senderPort, 'the sender socket was not found').toBeDefined();
      const r = rng(seed);
      let rounds = 0;
      let sent = 0;
      // Forgeries in every shape: sealed-looking DATA/END with random tags, OPEN and COMMITTED ACKs with random
      // tags, classic ACKs and FINs, all from exactly the address:port each side trusts.
      while (client.child.exitCode === null && rounds < 400) {
        // Batches: one perl process per direction and round.
        const toReceiver = Array.from({ length: 10 }, () => [encodeFin(), encodeData(0, new Uint8Array(0)), forge(r, 0x5a12, randInt(r, 1, 700)), forge(r, 0x5a13, 32), forge(r, 0x5a11, 40)]).flat();
        const toSender = Array.from({ length: 10 }, () => [forge(r, 0xa512, 0, 3), forge(r, 0xa512, 0, 1), encodeAck(randInt(r, 0, 700)), forge(r, 0xa510, 32)]).flat();
        sent += toReceiver.length + toSender.length;
        sendRawUdp('127.0.0.1', senderPort!, addr, port, toReceiver.map((b) => Buffer.from(b)));
        sendRawUdp(addr, port, '127.0.0.1', senderPort!, toSender.map((b) => Buffer.from(b)));
        rounds++;
        await sleep(1); // let the child's exit be seen (execFileSync blocks this event loop)
      }
      const [c, rr] = [await client.done, await recv.done];
      expectNoCrash(c, 'p2mpclient');
      expectNoCrash(rr, 'p2mpserver');
      expect(c.code, c.stderr).toBe(0);
      expect(rr.code, rr.stderr).toBe(0);
      expect(sha256(out)).toBe(sha256(src));
      const summary = JSON.parse(c.stdout);
      // The forgeries arrived (the sender's socket is connect()ed to the spoofed address:port, so they reach its
      // machine) and were all refused.
      expect(rounds).toBeGreaterThanOrEqual(3);
      expect(summary.receivers[0].ignored).toBeGreaterThan(0);
      expect(receiverJson(rr).ignored).toBeGreaterThan(0);
      console.log(`[security] raw spoofing: ${rounds} rounds, ${sent} forged datagrams; sender ignored=${summary.receivers[0].ignored}, receiver ignored=${receiverJson(rr).ignored}`);
    } finally {
      recv.child.kill('SIGKILL');
    }
  });
});

/** A datagram with extension type `type`, a plausible header and random bytes where the secrets go. */
function forge(r: () => number, type: number, bodyBytes: number, field?: number): Uint8Array {
  const tail = type === 0xa512 ? 24 : 16;
  const b = randBytes(r, 8 + bodyBytes + tail);
  b.writeUInt32BE(randInt(r, 0, 3), 0);
  b.writeUInt16BE(field ?? (type === 0x5a12 || type === 0x5a13 ? bodyBytes : 0), 4);
  b.writeUInt16BE(type, 6);
  return b;
}

describe('bit flips anywhere, header included, through a relay', () => {
  for (const mode of ['--verify', '--key'] as const) {
    it(`${mode}: one datagram in 8 gets one random bit flipped, both directions — FILE is the real input`, { timeout: 90_000 }, async () => {
      const seed = testSeed(`flips${mode}`);
      const d = subdir(dir, `flips${mode}`);
      const extra = mode === '--key' ? ['--key', writeKey(d, 'key', KEY_A)] : ['--verify'];
      const port = await freePort();
      const [rAddr, front, back] = mode === '--key' ? ['127.0.8.50', '127.0.8.51', '127.0.8.52'] : ['127.0.8.53', '127.0.8.54', '127.0.8.55'];
      const out = path.join(d, 'out.bin');
      const src = path.join(d, 'src.bin');
      writeSeededFile(src, 300_000, seed);
      const recv = await receiver(rAddr, port, out, extra);
      const relay = await Relay.open(front, port, back, rAddr);
      const r = rng(seed);
      let flips = 0;
      const tamper = (msg: Buffer): Buffer | undefined => {
        if (r() >= 1 / 8) return undefined;
        flips++;
        // Half of the flips hit the 8-byte header (type, seq, len/status), half anywhere.
        return flipped(msg, r() < 0.5 ? randInt(r, 0, 63) : randInt(r, 0, msg.length * 8 - 1));
      };
      relay.tamperToReceiver = tamper;
      relay.tamperToSender = tamper;
      try {
        const c = await run(CLIENT, [...extra, '--json', front, String(port), src, '500']);
        const rr = await recv.done;
        expectNoCrash(c, 'p2mpclient');
        expectNoCrash(rr, 'p2mpserver');
        expect(c.code, c.stderr).toBe(0);
        expect(rr.code, rr.stderr).toBe(0);
        expect(sha256(out)).toBe(sha256(src));
        expect(flips).toBeGreaterThan(50);
        console.log(`[security] ${mode} bit flips: ${flips} flipped datagrams, receiver ${JSON.stringify(receiverJson(rr))}`);
      } finally {
        recv.child.kill('SIGKILL');
        await relay.close();
      }
    });
  }

  it('--verify: a relay that rewrites file bytes AND fixes the CRC (no per-segment check can see it) is caught by the digest: "digest mismatch", exit 1, FILE untouched, the sender reports the receiver failed', { timeout: 60_000 }, async () => {
    const seed = testSeed('digest-mismatch');
    const d = subdir(dir, 'digest');
    const port = await freePort();
    const out = path.join(d, 'out.bin');
    fs.writeFileSync(out, 'the existing file');
    const before = snapshot(out);
    const src = path.join(d, 'src.bin');
    writeSeededFile(src, 100_000, seed);
    const recv = await receiver('127.0.8.56', port, out, ['--verify']);
    const relay = await Relay.open('127.0.8.57', port, '127.0.8.58', '127.0.8.56');
    let rewritten = 0;
    relay.tamperToReceiver = (msg) => {
      // VDATA seq 10: change one payload byte, then recompute the CRC-32 over everything before it.
      if (msg.length < 13 || msg.readUInt16BE(6) !== 0x5a01 || msg.readUInt32BE(0) !== 10) return undefined;
      const outMsg = Buffer.from(msg);
      outMsg[8]! ^= 0xff;
      outMsg.writeUInt32BE(crc32(outMsg.subarray(0, outMsg.length - 4)), outMsg.length - 4);
      rewritten++;
      return outMsg;
    };
    try {
      const c = await run(CLIENT, ['--verify', '--json', '127.0.8.57', String(port), src, '500']);
      const rr = await recv.done;
      expectNoCrash(c, 'p2mpclient');
      expectNoCrash(rr, 'p2mpserver');
      expect(rewritten).toBeGreaterThan(0);
      expect(rr.code).toBe(1);
      expect(rr.stderr).toMatch(/digest mismatch/);
      expect(snapshot(out)).toEqual(before);
      expect(partFiles(d)).toEqual([]);
      expect(c.code).toBe(1);
      const summary = JSON.parse(c.stdout);
      expect(summary.receivers[0].status).toBe('failed');
      // JSON schema 1: the reason as a code, the words in `message`.
      expect(summary.receivers[0].reason).toBe('digest-mismatch');
      expect(summary.receivers[0].message).toMatch(/digest mismatch/);
      expect(summary.status).toBe('failed');
    } finally {
      recv.child.kill('SIGKILL');
      await relay.close();
    }
  });
});

describe('mode mismatches are named, and never crash', () => {
  /**
   * A receiver with `receiverArgs` and a sender with `senderArgs` (`--give-up 1`): the sender fails with
   * `senderSays`; the receiver writes nothing, and (after Ctrl-C) has said `receiverSays` exactly once.
   */
  async function mismatch(name: string, addr: string, receiverArgs: (d: string) => string[], senderArgs: (d: string) => string[], senderSays: RegExp, receiverSays?: RegExp): Promise<void> {
    const d = subdir(dir, name);
    const port = await freePort();
    const out = path.join(d, 'out.bin');
    const recv = await receiver(addr, port, out, receiverArgs(d));
    const src = path.join(d, 'src.bin');
    writeSeededFile(src, 10_000, name);
    try {
      const c = await run(CLIENT, [...senderArgs(d), '--give-up', '1', addr, String(port), src, '500']);
      expect(c.code).toBe(1);
      expect(c.stdout + c.stderr).toMatch(senderSays);
      expect(recv.child.exitCode, 'the receiver ended').toBeNull();
      recv.child.kill('SIGINT');
      const r = await recv.done;
      expectNoCrash(r, 'p2mpserver');
      if (receiverSays) expect(r.stderr.match(new RegExp(receiverSays.source, 'g'))?.length, r.stderr).toBe(1);
      expect(fs.existsSync(out)).toBe(false);
    } finally {
      recv.child.kill('SIGKILL');
    }
  }

  it('a --key sender and a classic receiver: "no authenticated answer: is the receiver running with --key?"; the classic receiver writes nothing', { timeout: 30_000 }, () =>
    mismatch('mm-key-classic', '127.0.8.60', () => [], (d) => ['--key', writeKey(d, 'key', KEY_A)], /no authenticated answer: is the receiver running with --key\?/));

  it('a --key sender with the wrong key: the same words; the receiver says once that the handshakes do not authenticate, and writes nothing', { timeout: 30_000 }, () =>
    mismatch(
      'mm-wrong-key',
      '127.0.8.61',
      (d) => ['--key', writeKey(d, 'key-a', KEY_A)],
      (d) => ['--key', writeKey(d, 'key-b', KEY_B)],
      /no authenticated answer: is the receiver running with --key\?/,
      /ignoring --key handshakes from 127\.0\.0\.1:\d+ that do not authenticate: does the sender use another key\?/,
    ));

  it('a classic sender and a --key receiver: the receiver says once that it ignores classic datagrams; the classic sender gives up as before', { timeout: 30_000 }, () =>
    mismatch(
      'mm-classic-key',
      '127.0.8.62',
      (d) => ['--key', writeKey(d, 'key', KEY_A)],
      () => [],
      /never answered/,
      /ignoring classic datagrams from 127\.0\.0\.1:\d+: is the sender running without --key\?/,
    ));

  it('a --verify sender and a classic receiver, and a classic sender and a --verify receiver', { timeout: 30_000 }, async () => {
    const d = subdir(dir, 'mm-verify');
    const port = await freePort();
    const src = path.join(d, 'src.bin');
    writeSeededFile(src, 10_000, 'mm4');
    const classic = await receiver('127.0.8.63', port, path.join(d, 'a.bin'), []);
    const verifying = await receiver('127.0.8.64', port, path.join(d, 'b.bin'), ['--verify']);
    try {
      const [c1, c2] = await Promise.all([
        run(CLIENT, ['--verify', '--give-up', '1', '127.0.8.63', String(port), src, '500']),
        run(CLIENT, ['--give-up', '1', '127.0.8.64', String(port), src, '500']),
      ]);
      expect(c1.code).toBe(1);
      expect(c1.stdout + c1.stderr).toMatch(/no verified answer: is the receiver running with --verify\?/);
      expect(c2.code).toBe(1);
      verifying.child.kill('SIGINT');
      const r = await verifying.done;
      expect(r.stderr.match(/ignoring classic datagrams from 127\.0\.0\.1:\d+: is the sender running without --verify\?/g)?.length, r.stderr).toBe(1);
      expect(fs.readdirSync(d).sort()).toEqual(['src.bin']);
    } finally {
      classic.child.kill('SIGKILL');
      verifying.child.kill('SIGKILL');
    }
  });

  it('--key with a bad key file: one line, exit 2, on both programs, nothing sent or written', async () => {
    const d = subdir(dir, 'bad-key');
    const open = writeKey(d, 'open', KEY_A, 0o644);
    const short = writeKey(d, 'short', 'abcd');
    const src = path.join(d, 'src.bin');
    writeSeededFile(src, 1000, 'bk');
    const port = String(await freePort());
    for (const [file, why] of [
      [open, /accessible by group or others \(mode 0644\): run chmod 600/],
      [short, /must hold exactly 64 hex digits/],
    ] as const) {
      const s = await run(SERVER, ['--key', file, port, path.join(d, 'out.bin'), '0']);
      const c = await run(CLIENT, ['--key', file, '127.0.8.65', port, src, '500']);
      for (const f of [s, c]) {
        expect(f.code).toBe(2);
        expect(f.stderr.trim().split('\n')).toHaveLength(1);
        expect(f.stderr).toMatch(why);
      }
    }
    expect(fs.existsSync(path.join(d, 'out.bin'))).toBe(false);
  });
});

describe('--verify and --key with several receivers, threads and a streamed file', () => {
  for (const [mode, base] of [
    ['independent', 70],
    ['lockstep', 75],
  ] as const) {
    it(`${mode}: 3 receivers at P=0.05 on 2 threads, a 3 MB file through a 1 MiB buffer — every copy identical, in both extension modes`, { timeout: 90_000 }, async () => {
      const d = subdir(dir, `multi-${mode}`);
      const src = path.join(d, 'src.bin');
      writeSeededFile(src, 3_000_000, `multi-${mode}`);
      const key = writeKey(d, 'key', KEY_A);
      for (const wire of [['--verify'], ['--key', key]]) {
        const port = await freePort();
        const addrs = [1, 2, 3].map((k) => `127.0.8.${base + k}`);
        const outs = addrs.map((a) => path.join(d, `out-${a}${wire[0]}.bin`));
        const recvs = await Promise.all(addrs.map((a, i) => start(SERVER, ['--bind', a, '--json', '--linger', '0.5', '--seed', String(i + 1), ...wire, String(port), outs[i]!, '0.05'])));
        await Promise.all(recvs.map((r) => r.ready));
        try {
          const c = await run(CLIENT, [...wire, '--json', '--mode', mode, '--threads', '2', '--buffer', '1', ...addrs, String(port), src, '1000']);
          expectNoCrash(c, 'p2mpclient');
          expect(c.code, c.stderr).toBe(0);
          for (const [i, r] of (await Promise.all(recvs.map((x) => x.done))).entries()) {
            expect(r.code, r.stderr).toBe(0);
            expect(sha256(outs[i]!), `${wire[0]} ${addrs[i]}`).toBe(sha256(src));
          }
        } finally {
          for (const r of recvs) r.child.kill('SIGKILL');
        }
      }
    });
  }
});
