// The receivers a sender is given: HOST or HOST:PORT on the command line and in a hosts file (one a line,
// '#' comments, '-' for stdin), resolved to IPv4 addresses before anything is sent. Every HOST, wherever it
// was given, passes the same checks: no IPv6, no broadcast, unspecified or multicast address.

import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import type { Target } from '../transport/engine.js';
import { describeError } from '../transport/fs-errors.js';
import { parsePort, UsageError } from './args.js';
import { quote, shownName } from '../transport/user-text.js';

export interface HostSpec {
  host: string;
  /** The receiver's own port; undefined: the command line's PORT. */
  port: number | undefined;
  /** Where a hosts-file entry was given, for error messages ("--hosts-file h.txt line 3"); undefined: the command line. */
  where: string | undefined;
}

/** "name", "1.2.3.4", "name:7735". */
export function parseHostSpec(raw: string, where?: string): HostSpec {
  const at = where === undefined ? '' : ` (${where})`;
  if (raw.trim() === '') throw new UsageError(`HOST must not be empty${at}`);
  if (net.isIPv6(raw.replace(/^\[(.*)\](:\d*)?$/, '$1'))) throw new UsageError(`HOST ${quote(raw)}${at} is an IPv6 address; only IPv4 is supported`);
  const m = /^([^:\s]+)(?::([^:\s]*))?$/.exec(raw);
  if (m === null) throw new UsageError(`${where ?? 'HOST'}: ${quote(raw)} is not HOST or HOST:PORT`);
  let port: number | undefined;
  if (m[2] !== undefined) {
    try {
      port = parsePort(m[2]);
    } catch (err) {
      throw new UsageError(`${where ?? 'HOST'}: ${quote(raw)}: ${(err as Error).message}`);
    }
  }
  return { host: m[1]!, port, where };
}

/** One host a line; blank lines and everything after '#' are ignored. `-` reads stdin. */
export function readHostsFile(file: string): HostSpec[] {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`--hosts-file ${quote(file)} cannot be read: ${describeError(err)}`);
  }
  const name = file === '-' ? 'stdin' : shownName(file);
  const specs: HostSpec[] = [];
  text.split('\n').forEach((line, i) => {
    const entry = line.replace(/#.*/, '').trim();
    if (entry !== '') specs.push(parseHostSpec(entry, `--hosts-file ${name} line ${i + 1}`));
  });
  return specs;
}

/** Why an IPv4 address cannot be a receiver, or undefined when it can. */
function notAReceiver(address: string): string | undefined {
  const first = Number(address.split('.')[0]);
  if (address === '255.255.255.255') return 'the broadcast address, not a receiver';
  if (first === 0) return 'an unspecified address ("this host"), not a receiver';
  if (first >= 224 && first <= 239) return 'a multicast group, not a receiver (ACKs come from unicast addresses; to send to a group: --multicast GROUP, then the receivers)';
  return undefined;
}

/** HOST's IPv4 addresses, each once, in the resolver's order. */
async function lookup(host: string, at: string): Promise<string[]> {
  try {
    return [...new Set((await dns.lookup(host, { family: 4, all: true })).map((a) => a.address))];
  } catch {
    const v6 = await dns.lookup(host, { family: 6 }).then(
      () => true,
      () => false,
    );
    throw new UsageError(`HOST ${quote(host)}${at} ${v6 ? 'has only IPv6 addresses; only IPv4 is supported' : 'does not resolve to an IPv4 address'}`);
  }
}

/**
 * Resolve every spec to one IPv4 address; a name with several says which one is used (on stderr). A
 * non-receiver address, or the same receiver (address and port) twice, is a usage error.
 */
export async function resolveTargets(specs: HostSpec[], defaultPort: number): Promise<Target[]> {
  const targets: Target[] = [];
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const at = spec.where === undefined ? '' : ` (${spec.where})`;
    const addresses = await lookup(spec.host, at);
    const address = addresses[0]!;
    const why = notAReceiver(address);
    if (why !== undefined) throw new UsageError(`HOST ${quote(spec.host)}${at}${spec.host === address ? '' : ` (${address})`} is ${why}`);
    if (addresses.length > 1) process.stderr.write(`p2mpclient: HOST ${quote(spec.host)} has ${addresses.length} IPv4 addresses (${addresses.join(', ')}); sending to ${address}\n`);
    const port = spec.port ?? defaultPort;
    const key = `${address}:${port}`;
    const twin = seen.get(key);
    if (twin !== undefined) throw new UsageError(`HOST ${quote(spec.host)}${at} is the same receiver as ${quote(twin)} (${key})`);
    seen.set(key, spec.host);
    targets.push({ host: spec.port === undefined ? spec.host : `${spec.host}:${port}`, address, port });
  }
  return targets;
}
