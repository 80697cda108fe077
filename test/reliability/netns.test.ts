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
import { CLIENT, SERVER } from '../../harness/paths.js';
import { receivedFile, start, type Proc } from '../../harness/procs.js';
import { rootSkipReason, testSeed } from './support.js';

const why = rootSkipReason('ip');
const PREFIX = 'p2mp-test-';
const id = `${PREFIX}${process.pid}`;
const BRIDGE_NS = `${id}-br`;
const SENDER = { ns: `${id}-s`, addr: '127.1.0.1' };
const RECEIVERS = [1, 2, 3, 4, 5].map((k) => ({ ns: `${id}-r${k}`, addr: `127.1.0.${10 + k}` }));
/** An address on the segment that no host has: ARP gets no answer — a host that is down. */
const PHANTOM = '127.1.0.99';

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

function nsList(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.length > 0) : [];
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Delete our namespaces, and those left by test runs whose process is gone (a crashed run cannot clean up). */
function cleanup(): void {
  for (const ns of nsList()) {
    if (!ns.startsWith(PREFIX)) continue;
    const pid = Number(ns.slice(PREFIX.length).split('-')[0]);
    if (ns.startsWith(`${id}-`) || (Number.isInteger(pid) && pid > 0 && !pidAlive(pid))) spawnSync('ip', ['netns', 'delete', ns]);
  }
}

/** Bytes the sender host's eth0 has transmitted (so a test can see its traffic really crossed the veth). */
function txBytes(ns: string): number {
  const r = spawnSync('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'eth0'], { encoding: 'utf8' });
  return Number(JSON.parse(r.stdout)[0]?.stats64?.tx?.bytes ?? Number.NaN);
}

function setSysctl(ns: string, key: string, value: string): void {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', `echo ${value} > /proc/sys/${key.replace(/\./g, '/')}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sysctl ${key} in ${ns}: ${r.stderr.trim()}`);
}

function buildTopology(): void {
  cleanup();
  ip('netns', 'add', BRIDGE_NS);
  ip('-n', BRIDGE_NS, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', BRIDGE_NS, 'link', 'set', 'br0', 'up');
  for (const [i, h] of [SENDER, ...RECEIVERS].entries()) {
    ip('netns', 'add', h.ns);
    const port = `v${i}`;
    ip('link', 'add', 'eth0', 'netns', h.ns, 'type', 'veth', 'peer', 'name', port, 'netns', BRIDGE_NS);
    ip('-n', BRIDGE_NS, 'link', 'set', port, 'master', 'br0', 'up');
    setSysctl(h.ns, 'net.ipv4.conf.all.route_localnet', '1');
    setSysctl(h.ns, 'net.ipv4.conf.eth0.route_localnet', '1');
    ip('-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', 'eth0');
    ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
    // `lo` stays DOWN on purpose (see the header comment).
  }
}

/** Like procs.start, inside a namespace. `ip netns exec` execs the program, so the child is node itself. */
function startIn(ns: string, script: string, args: string[]): Proc {
  return start(script, args, { launcher: ['ip', 'netns', 'exec', ns] });
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
        for (const [i, h] of RECEIVERS.entries()) {
          const p = startIn(h.ns, SERVER, ['--json', '--seed', `${seed}-${i}`, String(port), receivedFile(d, h.addr), '0.05']);
          procs.push(p);
          running.push(p);
        }
        await Promise.all(procs.map((p) => p.ready));
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
          expect(summary.receivers[i].status).toBe('done');
        }
        // Five copies of 1 MiB left the sender host through its veth (headers and retransmissions on top).
        const tx = txBytes(SENDER.ns) - txBefore;
        expect(tx).toBeGreaterThan(5 * 2 ** 20);
        if (t.phantom) {
          const ph = summary.receivers[RECEIVERS.length];
          expect(ph.status).toBe('failed');
          // No ARP answer: either silence until the give-up time or the kernel's "host unreachable".
          expect(ph.reason).toMatch(/never answered|EHOSTUNREACH/);
        }
        console.log(
          `[reliability] netns ${t.mode} MSS ${t.mss}: ${summary.total.completed}/${summary.total.receivers} ok in ${(summary.total.timeMs / 1000).toFixed(2)} s,` +
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
