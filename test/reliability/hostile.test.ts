// Issue 6, hostile and bad input on real sockets: garbage sprayed at live receivers and at the sender during
// a transfer, strangers trying to splice data into a file, a second sender, datagrams no socket API can
// answer (source port 0). The transfer must complete byte-identical, both programs must count what they
// ignored, nothing may crash.
//
// Addresses: 127.0.0.100-149 (this file only). Each test takes its own port.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checksumMatches, encodeData, encodeFin } from '../../src/core/codec.js';
import type { ReceiverStats } from '../../src/core/receiver.js';
import { fileBytes, sha256File, subdir, tempDir, writeSeededFile } from '../../harness/files.js';
import { closeSocket, freePort, udpSocket } from '../../harness/net.js';
import { CLIENT } from '../../harness/paths.js';
import { receivedFile, start, startReceivers, type Finished } from '../../harness/procs.js';
import { sleep, waitFor } from '../../harness/wait.js';
import { seeded } from '../support.js';
import { expectNoCrash, garbageSource, hasCommand, isRoot, partFiles, randBytes, randInt, Relay, sendFromPortZero, tally, testSeed } from './support.js';

const dir = tempDir('test');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sub = (name: string): string => subdir(dir, name);


/** p2mpserver --json: its own counters plus the outcome. */
interface ReceiverJson extends ReceiverStats {
  ok: boolean;
  peer: string;
  reason?: string;
  message?: string;
}

const receiverJson = (f: Finished): ReceiverJson => JSON.parse(f.stdout.trim().split('\n').at(-1)!) as ReceiverJson;

describe('garbage sprayed at live receivers and at the sender during a transfer', () => {
  const modes = [
    ['independent', 100],
    ['lockstep', 120],
  ] as const;
  for (const [mode, base] of modes) {
    it(`${mode}: 2 receivers behind relays, strangers and on-path junk both ways — files identical, junk counted`, { timeout: 90_000 }, async () => {
      const seed = testSeed(`spray-${mode}`);
      const d = sub(`spray-${mode}`);
      const src = path.join(d, 'src.bin');
      const SIZE = 1 << 20;
      writeSeededFile(src, SIZE, seed);
      const port = await freePort();
      // Sender -> relay front (127.0.0.{base+1,+2}) -> relay back (127.0.0.{base+3,+4}) -> receiver (127.0.0.{base+5,+6}).
      const a = (k: number): string => `127.0.0.${base + k}`;
      const receivers = await startReceivers([a(5), a(6)], port, d, 0.05, { args: ['--json', '--linger', '3'] });
      const relays = [await Relay.open(a(1), port, a(3), a(5)), await Relay.open(a(2), port, a(4), a(6))];
      // Strangers: another host, the sender's own address (127.0.0.1) on another port, and the relay back's
      // address — the very address the receiver takes for its sender — on another port.
      const strangers = [await udpSocket(a(7)), await udpSocket('127.0.0.1'), await udpSocket(a(3)), await udpSocket(a(4))];
      const sent = relays.map(() => ({ peer: new Map<string, number>(), stranger: new Map<string, number>(), toSender: new Map<string, number>(), strangerToSender: 0, sweep: 0 }));

      try {
        // Phase 1, before any transfer: every one of the 65536 type values, from a stranger, at each receiver.
        // DATA/LAST types carry a wrong checksum and FIN types a payload, so none of them can start a transfer.
        for (const [i, addr] of [a(5), a(6)].entries()) {
          for (let t = 0; t < 0x10000; t += 64) {
            for (let k = t; k < t + 64; k++) {
              const body = Buffer.from([1, 2, 3, k & 0xff]);
              const h = Buffer.alloc(8);
              h.writeUInt32BE(0, 0);
              h.writeUInt16BE(0x1234, 4);
              if (checksumMatches(body, 0x1234)) throw new Error('sweep checksum must be wrong'); // so DATA/LAST types are never valid
              h.writeUInt16BE(k, 6);
              strangers[0]!.send(Buffer.concat([h, body]), port, addr);
              sent[i]!.sweep++;
            }
            await sleep(1);
          }
        }
        expect(receivers.every((r) => r.child.exitCode === null), 'a receiver died during the type sweep').toBe(true);

        // Phase 2: the transfer, sprayed from every side until the sender exits.
        const client = start(CLIENT, ['--json', '--mode', mode, a(1), a(2), String(port), src, '500']);
        let clientDone = false;
        void client.done.then(() => (clientDone = true));
        const gens = relays.map((rl, i) => ({
          peer: garbageSource(`${seed}/peer${i}`, 'receiver-from-peer', () => rl.expectedSeq()),
          stranger: garbageSource(`${seed}/stranger${i}`, 'receiver-from-stranger', () => rl.expectedSeq()),
          toSender: garbageSource(`${seed}/sender${i}`, 'sender-from-receiver', () => rl.expectedSeq()),
        }));
        const r = seeded(`${seed}/pick`);
        while (!clientDone) {
          for (const [i, rl] of relays.entries()) {
            const s = sent[i]!;
            const g = gens[i]!;
            if (rl.lastAck === undefined) continue; // the transfer to this receiver has not started yet
            for (let k = 0; k < 4; k++) {
              const p = g.peer();
              rl.injectToReceiver(p.bytes);
              tally(s.peer, p.kind);
              const x = g.stranger();
              strangers[randInt(r, 0, strangers.length - 1)]!.send(x.bytes, port, [a(5), a(6)][i]!);
              tally(s.stranger, x.kind);
            }
            if (rl.client) {
              for (let k = 0; k < 2; k++) {
                const y = g.toSender();
                rl.injectToSender(y.bytes);
                tally(s.toSender, y.kind);
              }
              // Strangers aim valid ACKs for the segment in flight (and junk) at the sender's socket for this
              // receiver: the socket is connect()ed, so the kernel must drop all of them before the sender sees them.
              const ack = Buffer.alloc(8);
              ack.writeUInt32BE(rl.expectedSeq(), 0);
              ack.writeUInt16BE(0xaaaa, 6);
              strangers[randInt(r, 0, strangers.length - 1)]!.send(r() < 0.5 ? ack : randBytes(r, randInt(r, 0, 64)), rl.client.port, rl.client.address);
              s.strangerToSender++;
            }
          }
          await sleep(1);
        }
        const c = await client.done;
        const servers = await Promise.all(receivers.map((p) => p.done));

        expectNoCrash(c, 'p2mpclient');
        expect(c.code, c.stderr).toBe(0);
        const summary = JSON.parse(c.stdout);
        expect(summary.total.completed).toBe(2);
        const figures: string[] = [];
        for (const [i, addr] of [a(5), a(6)].entries()) {
          const srv = servers[i]!;
          expectNoCrash(srv, `p2mpserver ${addr}`);
          expect(srv.code, srv.stderr).toBe(0);
          const j = receiverJson(srv);
          const s = sent[i]!;
          const sum = (m: Map<string, number>): number => [...m.values()].reduce((x, y) => x + y, 0);
          expect(sha256File(receivedFile(d, addr))).toBe(sha256File(src));
          expect(j.bytes).toBe(SIZE);
          // Locked to the relay's back socket (its sender), never to a stranger on the same address.
          expect(j.peer).toBe(`${relays[i]!.back.address().address}:${relays[i]!.back.address().port}`);
          // Strangers' well-formed segments were seen and refused as foreign; no more than were sent.
          expect(j.foreign).toBeGreaterThan(0);
          expect(j.foreign).toBeLessThanOrEqual(sum(s.stranger));
          expect(j.ignored).toBeGreaterThanOrEqual(j.foreign);
          // On-path junk with wrong checksums was caught by the checksum.
          expect(j.badChecksums).toBeGreaterThan(0);
          // Everything the receiver ignored came from us (the honest sender's retransmissions are duplicates, not ignored).
          expect(j.ignored).toBeLessThanOrEqual(sum(s.peer) + sum(s.stranger) + s.sweep);
          // The sender counted the junk from the receiver's address (and nothing from strangers: the kernel
          // filtered those, so the count cannot exceed what came from the receiver's address:port).
          const rs = summary.receivers[i];
          expect(rs.status).toBe('done');
          expect(s.strangerToSender).toBeGreaterThan(0);
          expect(rs.ignored).toBeGreaterThan(0);
          expect(rs.ignored).toBeLessThanOrEqual(sum(s.toSender));
          figures.push(
            `${addr}: sent sweep=${s.sweep} peer=${sum(s.peer)} stranger=${sum(s.stranger)} toSender=${sum(s.toSender)} strangerToSender=${s.strangerToSender}` +
              ` | receiver ignored=${j.ignored} foreign=${j.foreign} badChecksums=${j.badChecksums} drops=${j.drops} duplicates=${j.duplicates}` +
              ` | sender ignored=${rs.ignored} retx=${rs.retransmissions}`,
          );
        }
        console.log(`[reliability] spray ${mode} (seed ${seed}, ${(summary.total.timeMs / 1000).toFixed(1)} s):\n  ${figures.join('\n  ')}`);
        expect(partFiles(d)).toEqual([]);
      } finally {
        for (const p of receivers) p.child.kill('SIGKILL');
        await Promise.all([...relays.map((rl) => rl.close()), ...strangers.map(closeSocket)]);
      }
    });
  }
});

describe('a second sender, and strangers splicing data', () => {
  it('a second sender targets a busy receiver: the first transfer is unaffected, the second fails clearly; spoofed DATA from another port never reaches the file', { timeout: 60_000 }, async () => {
    const seed = testSeed('second-sender');
    const d = sub('second');
    const srcA = path.join(d, 'a.bin');
    const srcB = path.join(d, 'b.bin');
    writeSeededFile(srcA, 3 << 20, `${seed}/A`);
    const fileB = fileBytes(200_000, `${seed}/B`);
    fs.writeFileSync(srcB, fileB);
    const port = await freePort();
    const addr = '127.0.0.140';
    const [recv] = await startReceivers([addr], port, d, 0.05, { args: ['--json'] });
    const spoofer = await udpSocket('127.0.0.1');
    try {
      const a = start(CLIENT, ['--json', addr, String(port), srcA, '500']);
      // A has started once the receiver opened its temporary file.
      await waitFor('the first transfer to start', () => partFiles(d).length > 0);
      const b = start(CLIENT, ['--json', '--give-up', '1', addr, String(port), srcB, '500']);
      // Meanwhile a stranger on the sender's own address (another port) sends every segment of another file,
      // valid checksums and all, plus both end-of-file forms, in a loop until A is done.
      let aDone = false;
      void a.done.then(() => (aDone = true));
      const segs: Buffer[] = [];
      for (let i = 0; i * 492 < fileB.length; i++) segs.push(Buffer.from(encodeData(i, fileB.subarray(i * 492, (i + 1) * 492))));
      segs.push(Buffer.from(encodeData(segs.length, new Uint8Array(0))), Buffer.from(encodeFin()), Buffer.from(encodeData(0, fileB.subarray(0, 100), true)));
      let spoofed = 0;
      for (let i = 0; !aDone; i = (i + 8) % segs.length) {
        for (const s of segs.slice(i, i + 8)) spoofer.send(s, port, addr);
        spoofed += 8;
        await sleep(1);
      }
      const [ra, rb, rr] = [await a.done, await b.done, await recv!.done];
      expectNoCrash(ra, 'first sender');
      expectNoCrash(rb, 'second sender');
      expectNoCrash(rr, 'receiver');
      expect(ra.code, ra.stderr).toBe(0);
      expect(rr.code, rr.stderr).toBe(0);
      expect(sha256File(receivedFile(d, addr))).toBe(sha256File(srcA));
      // The second sender: exit 1, its summary names the receiver as failed with a reason.
      expect(rb.code).toBe(1);
      const sb = JSON.parse(rb.stdout);
      expect(sb.receivers[0].status).toBe('failed');
      expect(sb.receivers[0].reason).toMatch(/^never answered \(no ACK within the give-up time\)$/);
      expect(sb.receivers[0].bytes).toBe(0);
      const j = receiverJson(rr);
      expect(j.foreign).toBeGreaterThan(0);
      console.log(`[reliability] second sender: spoofed ${spoofed} valid segments; receiver foreign=${j.foreign} ignored=${j.ignored}; second sender: ${sb.receivers[0].reason}`);
    } finally {
      recv!.child.kill('SIGKILL');
      await closeSocket(spoofer);
    }
  });
});

describe('datagrams that cannot be answered', () => {
  const why = !isRoot ? 'needs root (raw socket)' : !hasCommand('perl') ? 'needs perl (raw socket)' : undefined;
  it.skipIf(why !== undefined)(
    `a valid segment 0 from source port 0 (no socket can answer it) is ignored, not a crash${why ? ` — SKIPPED: ${why}` : ''}`,
    { timeout: 30_000 },
    async () => {
      const seed = testSeed('port-zero');
      const d = sub('port0');
      const src = path.join(d, 'src.bin');
      writeSeededFile(src, 100_000, seed);
      const port = await freePort();
      const addr = '127.0.0.145';
      const [recv] = await startReceivers([addr], port, d, 0, { args: ['--json', '--linger', '0.5'] });
      try {
        const r = seeded(seed);
        // An empty DATA 0 (a whole zero-byte file), DATA 0 with data, a FIN, a LAST 0, junk — all from port 0.
        const junk = [encodeData(0, new Uint8Array(0)), encodeData(0, randBytes(r, 100)), encodeFin(), encodeData(0, randBytes(r, 7), true), randBytes(r, 30)].map((b) => Buffer.from(b));
        sendFromPortZero('127.0.0.1', addr, port, junk);
        await sleep(200);
        if (recv!.child.exitCode !== null) expect.fail(`the receiver died: ${(await recv!.done).stderr}`);
        expect(fs.existsSync(receivedFile(d, addr))).toBe(false);
        // The receiver is still waiting for its sender: a real transfer completes; more port-0 junk mid-way changes nothing.
        const client = start(CLIENT, ['--json', addr, String(port), src, '200']);
        await waitFor('the transfer to start', () => partFiles(d).length > 0);
        sendFromPortZero('127.0.0.1', addr, port, junk);
        const [c, s] = [await client.done, await recv!.done];
        expectNoCrash(s, 'receiver');
        expect(c.code, c.stderr).toBe(0);
        expect(s.code, s.stderr).toBe(0);
        expect(sha256File(receivedFile(d, addr))).toBe(sha256File(src));
        const j = receiverJson(s);
        expect(j.ignored).toBeGreaterThanOrEqual(junk.length); // at least the first batch (the second may land after the end)
        expect(j.peer).not.toMatch(/:0$/);
      } finally {
        recv!.child.kill('SIGKILL');
      }
    },
  );
});
