// The worker-thread send engine, checked from the receivers' side over real UDP.

import fs from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/core/codec.js';
import { ReceiverMachine, step } from '../../src/core/receiver.js';
import { fileBytes, sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { freePort, udpSocket } from '../../harness/net.js';
import { CLIENT } from '../../harness/paths.js';
import { receivedFile, run, start, startReceivers } from '../../harness/procs.js';
import { waitFor } from '../../harness/wait.js';

const dir = tempDir('test');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type LogEntry = { r: number; what: 'arrived' | 'acked'; seq: number };

/**
 * Receivers running in this process, on one thread: every arrival and every ACK goes into ONE log, whose
 * order is the true order of events at the receivers (no clocks to compare).
 */
async function inProcessReceivers(addresses: string[], port: number, p: number, seed: string) {
  const log: LogEntry[] = [];
  const received = addresses.map(() => [] as Uint8Array[]);
  const finished: Promise<void>[] = [];
  const sockets = await Promise.all(
    addresses.map(async (address, r) => {
      const m = new ReceiverMachine({ lossRate: p, random: seedrandom(`${seed}/${r}`), idleTimeoutMs: 30_000, lingerMs: 500 });
      const s = await udpSocket(address, port);
      finished.push(
        new Promise<void>((resolve) => {
          let linger: NodeJS.Timeout | undefined;
          s.on('message', (msg, rinfo) => {
            const d = decode(msg);
            if (d.ok && d.segment.kind === 'data') log.push({ r, what: 'arrived', seq: d.segment.seq });
            const v = step(m, performance.now(), msg, `${rinfo.address}:${rinfo.port}`);
            if (v.kind === 'delivered') {
              received[r]!.push(Uint8Array.from(v.payload));
              log.push({ r, what: 'acked', seq: v.seq });
            }
            if (v.reply) s.send(v.reply, rinfo.port, rinfo.address);
            if (v.kind === 'delivered' && v.complete) {
              clearTimeout(linger);
              linger = setTimeout(() => s.close(() => resolve()), 500);
            }
          });
        }),
      );
      return s;
    }),
  );
  return { log, received, done: Promise.all(finished), sockets };
}

describe('lockstep', () => {
  it('no receiver sees segment i+1 before every live receiver has ACKed segment i', async () => {
    const seed = `lockstep-${Date.now()}`;
    const hosts = ['127.0.0.20', '127.0.0.21', '127.0.0.22', '127.0.0.23'];
    const src = path.join(dir, 'lockstep.bin');
    const data = fileBytes(60_000, seed);
    fs.writeFileSync(src, data);
    const port = await freePort();
    const rx = await inProcessReceivers(hosts, port, 0.2, seed);
    const client = await run(CLIENT, ['--quiet', '--mode', 'lockstep', '--threads', '2', ...hosts, String(port), src, '500']);
    await rx.done;
    expect(client.code, `seed ${seed}\n${client.stderr}`).toBe(0);

    const ackedBy = hosts.map(() => new Set<number>());
    let checkedArrivals = 0;
    for (const e of rx.log) {
      if (e.what === 'acked') ackedBy[e.r]!.add(e.seq);
      else if (e.seq > 0) {
        for (const [r, acked] of ackedBy.entries()) expect(acked.has(e.seq - 1), `seed ${seed}: receiver ${e.r} got ${e.seq} before receiver ${r} ACKed ${e.seq - 1}`).toBe(true);
        checkedArrivals++;
      }
    }
    // The loss service made the sender retransmit, so the barrier was exercised under loss.
    expect(checkedArrivals).toBeGreaterThan(hosts.length * Math.ceil(60_000 / 492));
    for (const got of rx.received) expect(Buffer.concat(got).equals(data), `seed ${seed}`).toBe(true);
  });
});

describe('the summary counts match the receivers own counts', () => {
  for (const mode of ['independent', 'lockstep']) {
    it(`segments, bytes and retransmissions agree (${mode})`, async () => {
      const hosts = ['127.0.0.24', '127.0.0.25', '127.0.0.26'];
      const sub = path.join(dir, `counts-${mode}`);
      fs.mkdirSync(sub);
      const src = path.join(sub, 'src.bin');
      writeSeededFile(src, 200_000, mode);
      const port = await freePort();
      const receivers = await startReceivers(hosts, port, sub, 0.1, { args: ['--json'] });
      const client = await run(CLIENT, ['--json', '--mode', mode, '--threads', '2', ...hosts, String(port), src, '700']);
      expect(client.code, client.stderr).toBe(0);
      const sent = JSON.parse(client.stdout);
      for (const [i, h] of hosts.entries()) {
        const own = JSON.parse((await receivers[i]!.done).stdout);
        const s = sent.receivers[i];
        expect(s.address).toBe(h);
        expect(own.ok).toBe(true);
        expect(s.segmentsAcked).toBe(own.segments);
        expect(s.bytes).toBe(own.bytes);
        // On loopback nothing is lost in the network: every segment sent arrived, and was either
        // delivered, dropped by the loss service, or recognised as a duplicate.
        expect(s.segmentsSent).toBe(own.segments + own.drops + own.duplicates + own.badChecksums);
        expect(s.retransmissions).toBe(s.segmentsSent - s.segmentsTotal);
        expect(sha256File(receivedFile(sub, h))).toBe(sha256File(src));
      }
    });
  }
});

describe('large files stream through a bounded buffer', () => {
  for (const mode of ['independent', 'lockstep']) {
    it(`a file 8x the buffer arrives byte-identical (${mode})`, async () => {
      const hosts = ['127.0.0.27', '127.0.0.28'];
      const sub = path.join(dir, `buffer-${mode}`);
      fs.mkdirSync(sub);
      const src = path.join(sub, 'src.bin');
      writeSeededFile(src, 8 << 20, `buffer-${mode}`);
      const port = await freePort();
      const receivers = await startReceivers(hosts, port, sub, 0.01);
      const client = await run(CLIENT, ['--quiet', '--mode', mode, '--buffer', '1', ...hosts, String(port), src, '2048']);
      expect(client.code, client.stderr).toBe(0);
      for (const r of receivers) expect((await r.done).code).toBe(0);
      for (const h of hosts) expect(sha256File(receivedFile(sub, h))).toBe(sha256File(src));
    });
  }
});

describe('Ctrl-C', () => {
  it('stops cleanly: exit 130, the summary shows how far each receiver got, receivers keep no file', async () => {
    const hosts = ['127.0.0.29', '127.0.0.30'];
    const sub = path.join(dir, 'sigint');
    fs.mkdirSync(sub);
    const src = path.join(sub, 'src.bin');
    writeSeededFile(src, 30 << 20, 'sigint');
    const port = await freePort();
    const receivers = await startReceivers(hosts, port, sub, 0, { args: ['--idle-timeout', '2'] });
    const client = start(CLIENT, ['--json', ...hosts, String(port), src, '1000']);
    // Interrupt once both receivers hold more than one segment: stop-and-wait means the sender has then
    // processed at least one ACK from each (an event, not a timer).
    const tempSize = (h: string): number => {
      const f = fs.readdirSync(sub).find((n) => n.startsWith(`.out-${h}.bin.`));
      return f === undefined ? 0 : (fs.statSync(path.join(sub, f), { throwIfNoEntry: false })?.size ?? 0);
    };
    await waitFor('both receivers to hold a segment', () => hosts.every((h) => tempSize(h) > 992), 60_000);
    client.child.kill('SIGINT');
    const r = await client.done;
    expect(r.code).toBe(130);
    const summary = JSON.parse(r.stdout);
    expect(summary.interrupted).toBe(true);
    for (const s of summary.receivers) {
      expect(s.status).toBe('failed');
      expect(s.reason).toBe('interrupted');
      expect(s.segmentsAcked).toBeGreaterThan(0);
      expect(s.segmentsAcked).toBeLessThan(s.segmentsTotal);
    }
    // The receivers give up after their idle timeout and leave neither FILE nor a temporary file.
    for (const rx of receivers) expect((await rx.done).code).toBe(1);
    expect(fs.readdirSync(sub)).toEqual(['src.bin']);
  });
});
