// --bind and --interface name an IPv4 address of this host: checked at start-up, so a typo or a foreign
// address is a usage error (exit 2) rather than a socket error once the transfer runs.

import dgram from 'node:dgram';
import { UsageError } from './args.js';
import { quote } from '../transport/user-text.js';

/** Probe `addr` with a throw-away socket on an ephemeral port; a usage error naming `option` if it cannot be bound. */
export async function checkLocalAddress(option: string, addr: string): Promise<void> {
  if (addr.trim() === '') throw new UsageError(`${option} needs an IPv4 address, got ''`);
  const probe = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind({ port: 0, address: addr, exclusive: true }, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRNOTAVAIL') throw new UsageError(`${option} ${quote(addr)} is not an IPv4 address of this host`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EINVAL') throw new UsageError(`${option} ${quote(addr)} is not an IPv4 address (nor a name of one)`);
    throw new UsageError(`${option} ${quote(addr)}: ${code ?? String(err)}`);
  } finally {
    probe.close();
  }
}
