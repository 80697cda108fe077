// Network namespaces as hosts, for the tests and the benchmarks (needs root and iproute2): one namespace
// holds a bridge, every host is a namespace joined to it by a veth pair, each with its own address and its
// own network stack, and the built programs run inside them (`ip netns exec`).
//
// Host addresses are inside 127.0.0.0/8 (127.1.0.0/24), so no traffic could ever leave this machine: each host
// sets net.ipv4.conf.{all,eth0}.route_localnet=1 and keeps its `lo` DOWN, so the 127.0.0.0/8 local route does
// not exist there and 127.1.0.x is routed over the veth like any other address. Even the bridge is in a
// namespace of its own (not in the root namespace, as a plain recipe would have it), and every veth end is
// created directly inside one: deleting the namespaces deletes it all, and nothing of a test ever touches the
// root namespace's interfaces. With `multicast`, each host also routes 224.0.0.0/4 over its eth0, so group
// datagrams (TTL 1, IP_MULTICAST_IF = the host's address) stay on this bridge (DEVELOPERS.md has the recipe).
//
// Names are PREFIX + this process's pid + a tag: a crashed run's namespaces are recognised by their dead pid
// and removed by the next run's cleanup (removeStale), so no two runs collide and nothing is left behind.

import { spawnSync } from 'node:child_process';
import { SERVER } from './paths.js';
import { receivedFile, start, type Proc, type StartOptions } from './procs.js';

export const PREFIX = 'p2mp-test-';

export interface NsHost {
  ns: string;
  addr: string;
}

export interface Topology {
  hosts: NsHost[];
  /** Delete every namespace of this topology (idempotent). */
  destroy(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export function nsList(): string[] {
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

/** Delete the namespaces left by runs whose process is gone (a crashed run cannot clean up after itself). */
export function removeStale(): void {
  for (const ns of nsList()) {
    if (!ns.startsWith(PREFIX)) continue;
    const pid = Number(ns.slice(PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidAlive(pid)) spawnSync('ip', ['netns', 'delete', ns]);
  }
}

/** This process's namespaces of topology `tag` (the name prefix they all share). */
export const nsPrefix = (tag: string): string => `${PREFIX}${process.pid}-${tag}-`;

function setSysctl(ns: string, key: string, value: string): void {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', `echo ${value} > /proc/sys/${key.replace(/\./g, '/')}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sysctl ${key} in ${ns}: ${r.stderr.trim()}`);
}

/**
 * Build the bridge and one namespace per address (named by `names`, e.g. 's', 'r1'...). On any failure what
 * was built is deleted before the error propagates.
 */
export function createTopology(tag: string, hosts: ReadonlyArray<{ name: string; addr: string }>, o: { multicast?: boolean } = {}): Topology {
  removeStale();
  const prefix = nsPrefix(tag);
  const destroy = (): void => {
    for (const ns of nsList()) if (ns.startsWith(prefix)) spawnSync('ip', ['netns', 'delete', ns]);
  };
  destroy();
  const bridge = `${prefix}br`;
  const out: NsHost[] = hosts.map((h) => ({ ns: `${prefix}${h.name}`, addr: h.addr }));
  try {
    ip('netns', 'add', bridge);
    ip('-n', bridge, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', bridge, 'link', 'set', 'br0', 'up');
    for (const [i, h] of out.entries()) {
      ip('netns', 'add', h.ns);
      const port = `v${i}`;
      ip('link', 'add', 'eth0', 'netns', h.ns, 'type', 'veth', 'peer', 'name', port, 'netns', bridge);
      ip('-n', bridge, 'link', 'set', port, 'master', 'br0', 'up');
      setSysctl(h.ns, 'net.ipv4.conf.all.route_localnet', '1');
      setSysctl(h.ns, 'net.ipv4.conf.eth0.route_localnet', '1');
      ip('-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', 'eth0');
      ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
      // `lo` stays DOWN on purpose (see the header comment).
      if (o.multicast === true) ip('-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { hosts: out, destroy };
}

/** Give a host a second address on its eth0 (after its own, so not the one it answers from); returns its removal. */
export function addAddress(ns: string, addr: string): () => void {
  ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
  return () => void spawnSync('ip', ['-n', ns, 'addr', 'del', `${addr}/24`, 'dev', 'eth0']);
}

/** Like procs.start, inside a namespace. `ip netns exec` execs the program, so the child is node itself. */
export function startIn(ns: string, script: string, args: string[], o: StartOptions = {}): Proc {
  return start(script, args, { ...o, launcher: ['ip', 'netns', 'exec', ns, ...(o.launcher ?? [])] });
}

export interface NsReceiversOptions {
  /** Loss-service seeds: receiver i gets `${seed}-${i}`. */
  seed: string;
  /** Join this group, on the host's own address (p2mpserver --multicast GROUP --interface ADDR). */
  multicast?: string;
  /** More p2mpserver options (e.g. --json, --sack). */
  args?: string[];
}

/** One p2mpserver per host, in its namespace, all on `port`, loss `p`, writing receivedFile(dir, host's address); resolves once every one is listening (or ended). */
export async function startReceiversIn(hosts: readonly NsHost[], port: number, dir: string, p: number, o: NsReceiversOptions): Promise<Proc[]> {
  const procs = hosts.map((h, i) =>
    startIn(h.ns, SERVER, [
      ...(o.multicast === undefined ? [] : ['--multicast', o.multicast, '--interface', h.addr]),
      '--seed',
      `${o.seed}-${i}`,
      ...(o.args ?? []),
      String(port),
      receivedFile(dir, h.addr),
      String(p),
    ]),
  );
  await Promise.all(procs.map((r) => r.ready));
  return procs;
}

/** Bytes a host's eth0 has transmitted (so a test can see its traffic really crossed the veth). */
export function txBytes(ns: string): number {
  const r = spawnSync('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'eth0'], { encoding: 'utf8' });
  return Number(JSON.parse(r.stdout)[0]?.stats64?.tx?.bytes ?? Number.NaN);
}

/** The UDP sockets bound in a namespace, as "address:port" (its /proc/net/udp): where a program there listens. */
export function udpSockets(ns: string): string[] {
  // "  909: 0100017F:ECA9 00000000:0000 07 ...": the local address is a little-endian hex IPv4, the port hex.
  return procNet(ns, 'udp')
    .split('\n')
    .slice(1)
    .map((l) => /^\s*\d+:\s+([0-9A-F]{8}):([0-9A-F]{4})\s/.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${procAddress(m[1]!)}:${parseInt(m[2]!, 16)}`);
}

/** /proc/net/NAME as seen inside `ns` (undefined: this process's own namespace). */
function procNet(ns: string | undefined, name: string): string {
  const file = `/proc/net/${name}`;
  const r = ns === undefined ? spawnSync('cat', [file], { encoding: 'utf8' }) : spawnSync('ip', ['netns', 'exec', ns, 'cat', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file} in ${ns ?? 'this namespace'}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A little-endian hex IPv4 address as /proc/net/{udp,igmp} print it ("0100017F"), dotted ("127.1.0.1"). */
const procAddress = (hex: string): string => [3, 2, 1, 0].map((i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)).join('.');

/** The multicast groups joined on any interface of a namespace (undefined: this process's own, i.e. the root namespace). */
export function joinedGroups(ns: string | undefined): string[] {
  // A group line is indented under its interface's line: "\t\t\t\t030201EF     1 0:00000000\t\t0".
  return [...new Set(procNet(ns, 'igmp').split('\n').flatMap((l) => /^\s+([0-9A-F]{8})\s/.exec(l)?.[1] ?? []).map(procAddress))];
}

// Sends datagrams given as hex arguments from address:port (0: any) to address:port, one socket, in order.
const SEND_UDP = `
const dgram = require('node:dgram');
const [from, fromPort, to, port, ...hex] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.bind(Number(fromPort), from, async () => {
  for (const h of hex) await new Promise((ok, fail) => s.send(Buffer.from(h, 'hex'), Number(port), to, (e) => (e ? fail(e) : ok())));
  s.close();
});
`;

/** Send each payload as one UDP datagram from a host's address (and `fromPort`, 0: any) inside `ns`, to to:port. */
export function sendUdpIn(ns: string, from: { address: string; port: number }, to: { address: string; port: number }, payloads: readonly Uint8Array[]): void {
  const hex = payloads.map((p) => Buffer.from(p).toString('hex'));
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', SEND_UDP, from.address, String(from.port), to.address, String(to.port), ...hex], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`sending UDP in ${ns}: ${r.stderr.trim() || `exit ${r.status}`}`);
}
