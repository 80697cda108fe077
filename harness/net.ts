// UDP on loopback for tests and benchmarks: a free port and plain sockets. Only ever 127.0.0.0/8.

import dgram from 'node:dgram';

export async function udpSocket(address: string, port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error): void => {
      s.close();
      reject(e);
    };
    s.once('error', fail);
    s.bind(port, address, () => {
      s.off('error', fail);
      resolve();
    });
  });
  // A burst can hit a closed port (ICMP -> ECONNREFUSED on later sends) or a full buffer; neither matters here.
  s.on('error', () => {});
  return s;
}

export const closeSocket = (s: dgram.Socket): Promise<void> => new Promise((r) => s.close(() => r()));

/**
 * A UDP port that binds on every one of `addresses` right now (checked, then released): the kernel picks one on
 * the first address, the others must take it too. Each test or run takes its own, so they can run in parallel.
 */
export async function freePort(addresses: readonly string[] = ['127.0.0.1']): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await udpSocket(addresses[0]!);
    const port = first.address().port;
    const others: dgram.Socket[] = [];
    try {
      for (const a of addresses.slice(1)) others.push(await udpSocket(a, port));
      return port;
    } catch {
      // taken on another address: try another port
    } finally {
      await Promise.all([first, ...others].map(closeSocket));
    }
  }
  throw new Error(`no UDP port free on all of ${addresses.join(', ')}`);
}
