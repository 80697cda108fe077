// p2mpserver --sender HOST: accept a transfer only from HOST (an IPv4 address or a name; any source port).
// The name is resolved once at start-up (DNS is I/O); what reaches the receiver machine is the decision.

import dns from 'node:dns/promises';
import { UsageError } from './args.js';
import { quote } from '../transport/user-text.js';

/** Every IPv4 address HOST names; a usage error when it names none. */
export async function resolveSenderHost(host: string): Promise<string[]> {
  if (host.trim() === '') throw new UsageError(`--sender needs a host name or IPv4 address, got ''`);
  try {
    const found = await dns.lookup(host, { family: 4, all: true });
    if (found.length > 0) return [...new Set(found.map((a) => a.address))];
  } catch {
    /* reported below, in one line */
  }
  throw new UsageError(`--sender ${quote(host)} does not resolve to an IPv4 address`);
}

/** The receiver's filter: `from` is the driver's "address:port" key of a datagram's source. */
export function acceptOnlyFrom(addresses: readonly string[]): (from: string) => boolean {
  const allowed = new Set(addresses);
  return (from) => allowed.has(from.slice(0, from.lastIndexOf(':')));
}
