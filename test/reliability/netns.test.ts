// Issue 6, real network hosts: network namespaces joined by veth pairs to a bridge — one sender host and five
// receiver hosts, each with its own address and its own network stack, all receivers on the same port and
// bound to all addresses (no --bind), like one well-known port on many machines. The built programs run
// inside the namespaces (`ip netns exec`).
//
// Host addresses are inside 127.0.0.0/8 (127.1.0.0/24), so no traffic could ever leave this machine: each
// namespace sets net.ipv4.conf.{all,eth0}.route_localnet=1 and keeps its `lo` DOWN, so the 127.0.0.0/8 local
// route does not exist there and 127.1.0.x is routed over the veth like any other address. Everything is
// created inside namespaces (even the veth ends are created directly in them), so deleting the namespaces
// deletes it all; that happens in afterAll and in a `finally`, and stale namespaces of dead test runs are
// removed first. Needs root and iproute2; skips with a message otherwise.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { CLIENT } from '../../harness/paths.js';
import { createTopology, nsList, nsPrefix, PREFIX, startIn, startReceiversIn, txBytes, type Topology } from '../../harness/netns.js';
import { receivedFile, type Proc } from '../../harness/procs.js';
import { rootSkipReason, testSeed } from './support.js';

const why = rootSkipReason('ip');
const id = `${PREFIX}${process.pid}`;
const prefix = nsPrefix('t');
const SENDER = { name: 's', ns: `${prefix}s`, addr: '127.1.0.1' };
const RECEIVERS = [1, 2, 3, 4, 5].map((k) => ({ name: `r${k}`, ns: `${prefix}r${k}`, addr: `127.1.0.${10 + k}` }));
/** An address on the segment that no host has: ARP gets no answer — a host that is down. */
const PHANTOM = '127.1.0.99';

let topology: Topology | undefined;
function buildTopology(): void {
  topology = createTopology('t', [SENDER, ...RECEIVERS]);
}
function cleanup(): void {
  topology?.destroy();
}

const dir = tempDir('test');
const running: Proc[] = [];
afterAll(() => {
  for (const p of running) p.child.kill('SIGKILL');
  if (!why) cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe(`real network hosts: 1 sender + 5 receiver namespaces on a bridge${why ? ` — SKIPPED: ${why}` : ''}`, () => {
  it.skipIf(why !== undefined)('the topology comes up and every host reaches every other (ARP over the bridge, 127.1.0.0/24 on eth0, lo down)', { timeout: 30_000 }, () => {
    buildTopology();
    for (const h of [SENDER, ...RECEIVERS]) {
      const route = spawnSync('ip', ['-n', h.ns, 'route', 'get', RECEIVERS[0]!.addr], { encoding: 'utf8' }).stdout;
      if (h !== RECEIVERS[0]) expect(route).toMatch(/dev eth0/);
      const lo = spawnSync('ip', ['-n', h.ns, 'link', 'show', 'lo'], { encoding: 'utf8' }).stdout;
      expect(lo).toMatch(/state DOWN/);
    }
  });

  const transfers = [
    { mode: 'independent', mss: 1400, phantom: false, note: 'MSS 1400 (fits the 1500-byte MTU)' },
    { mode: 'lockstep', mss: 2048, phantom: true, note: 'MSS 2048 (IP-fragmented over the 1500-byte MTU), plus a host that is down' },
  ];
  for (const t of transfers) {
    it.skipIf(why !== undefined)(`${t.mode}: 1 MiB, P=0.05, ${t.note}: every receiver host gets a byte-identical file`, { timeout: 90_000 }, async () => {
      if (!nsList().includes(SENDER.ns)) buildTopology();
      const seed = testSeed(`netns-${t.mode}`);
      const d = path.join(dir, t.mode);
      fs.mkdirSync(d);
      const src = path.join(d, 'src.bin');
      writeSeededFile(src, 1 << 20, seed);
      const port = 7735; // the same well-known port on every host: each host has its own stack, nothing collides
      const procs: Proc[] = [];
      try {
        procs.push(...(await startReceiversIn(RECEIVERS, port, d, 0.05, { seed, args: ['--json'] })));
        running.push(...procs);
        const hosts = [...RECEIVERS.map((h) => h.addr), ...(t.phantom ? [PHANTOM] : [])];
        const txBefore = txBytes(SENDER.ns);
        const client = startIn(SENDER.ns, CLIENT, ['--json', '--mode', t.mode, '--give-up', '3', ...hosts, String(port), src, String(t.mss)]);
        running.push(client);
        const c = await client.done;
        const servers = await Promise.all(procs.map((p) => p.done));
        expect(c.code, c.stderr).toBe(t.phantom ? 1 : 0);
        const summary = JSON.parse(c.stdout);
        for (const [i, h] of RECEIVERS.entries()) {
          expect(servers[i]!.code, servers[i]!.stderr).toBe(0);
          const j = JSON.parse(servers[i]!.stdout.trim().split('\n').at(-1)!);
          // The receiver saw the sender host's own address: this went over the bridge, not a shared stack.
          expect(j.peer).toMatch(/^127\.1\.0\.1:\d+$/);
          expect(sha256File(receivedFile(d, h.addr))).toBe(sha256File(src));
          expect(summary.receivers[i].status).toBe('complete');
        }
        // Five copies of 1 MiB left the sender host through its veth (headers and retransmissions on top).
        const tx = txBytes(SENDER.ns) - txBefore;
        expect(tx).toBeGreaterThan(5 * 2 ** 20);
        if (t.phantom) {
          const ph = summary.receivers[RECEIVERS.length];
          expect(ph.status).toBe('failed');
          // No ARP answer: either silence until the give-up time or the kernel's "host unreachable".
          expect(`${ph.reason} ${ph.message}`).toMatch(/no-answer.*never answered|EHOSTUNREACH/);
        }
        console.log(
          `[reliability] netns ${t.mode} MSS ${t.mss}: ${summary.total.complete}/${summary.total.receivers} ok in ${(summary.total.timeMs / 1000).toFixed(2)} s,` +
            ` retx ${summary.total.retransmissions}, ${(tx / 2 ** 20).toFixed(1)} MiB sent on the sender's eth0${t.phantom ? `, phantom host: ${summary.receivers[RECEIVERS.length].reason}` : ''}`,
        );
      } finally {
        for (const p of procs) p.child.kill('SIGKILL');
      }
    });
  }

  it.skipIf(why !== undefined)('cleanup removes every namespace (and with them every veth and the bridge)', () => {
    cleanup();
    expect(nsList().filter((n) => n.startsWith(`${id}-`))).toEqual([]);
  });
});
