#!/usr/bin/env node
// A delaying UDP relay on loopback, for throughput-versus-RTT measurements with real sockets: each datagram is
// forwarded after a fixed delay in each direction. The sender addresses the relay (LISTEN); the relay forwards
// to the receiver (TARGET) from a socket of its own per sender, and forwards the answers back from LISTEN, so a
// sender's connect()ed socket accepts them. Only ever binds and sends to 127.0.0.0/8.
//
//   node dist/bench/relay.js --map 127.0.5.1:7735=127.0.4.1:7735 [--map ...] --delay 10 [--up-delay 10]
//
// Prints "relay ready" once every LISTEN socket is bound, and its counters as JSON on SIGINT/SIGTERM.
// Timers are Node's (whole milliseconds): a 10 ms delay is 10-11 ms, the same for every datagram, so order
// is kept.

import dgram from 'node:dgram';
import { Command } from 'commander';
import { isEntryPoint } from '../sim/args.js';

export interface Endpoint {
  address: string;
  port: number;
}

export interface RelayOptions {
  listen: Endpoint;
  target: Endpoint;
  /** Delay towards the target (DATA), ms. */
  downDelayMs: number;
  /** Delay back towards the sender (ACKs), ms. */
  upDelayMs: number;
}

export interface RelayStats {
  down: number;
  up: number;
}

export interface Relay {
  /** The address actually bound (port 0 picks one). */
  listen: Endpoint;
  stats: RelayStats;
  close(): Promise<void>;
}

const isLoopback = (address: string): boolean => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);

export async function startRelay(o: RelayOptions): Promise<Relay> {
  if (!isLoopback(o.listen.address) || !isLoopback(o.target.address)) throw new RangeError('the relay binds and sends to 127.0.0.0/8 only');
  const front = dgram.createSocket('udp4');
  const stats: RelayStats = { down: 0, up: 0 };
  // One upstream socket per sender address:port, so answers find their way back to the right sender.
  const upstream = new Map<string, dgram.Socket>();
  const pending = new Set<NodeJS.Timeout>();
  let closed = false;
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      pending.delete(t);
      if (!closed) fn();
    }, ms);
    pending.add(t);
  };

  front.on('message', (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let up = upstream.get(key);
    if (up === undefined) {
      const sock = dgram.createSocket('udp4');
      sock.on('message', (answer) => {
        stats.up++;
        later(o.upDelayMs, () => front.send(answer, from.port, from.address));
      });
      sock.on('error', () => {}); // ICMP unreachable from a receiver not (yet) there: the datagram is lost, as on a network
      sock.connect(o.target.port, o.target.address);
      upstream.set(key, sock);
      up = sock;
    }
    stats.down++;
    const sock = up;
    later(o.downDelayMs, () => sock.send(msg));
  });
  front.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.bind({ address: o.listen.address, port: o.listen.port, exclusive: true }, () => resolve());
  });
  const a = front.address();
  return {
    listen: { address: a.address, port: a.port },
    stats,
    async close() {
      closed = true;
      for (const t of pending) clearTimeout(t);
      pending.clear();
      for (const s of upstream.values()) s.close();
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}

function parseEndpoint(text: string): Endpoint {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  if (!m) throw new RangeError(`not ADDRESS:PORT: ${text}`);
  return { address: m[1]!, port: Number(m[2]) };
}

async function cli(): Promise<void> {
  const o = new Command()
    .name('relay')
    .requiredOption('--map <listen=target>', 'LISTEN ADDRESS:PORT=TARGET ADDRESS:PORT; repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--delay <ms>', 'delay each direction', '10')
    .option('--up-delay <ms>', 'delay of the answers (default: --delay)')
    .parse()
    .opts<{ map: string[]; delay: string; upDelay?: string }>();
  const down = Number(o.delay);
  const up = o.upDelay === undefined ? down : Number(o.upDelay);
  const relays: Relay[] = [];
  try {
    for (const m of o.map) {
      const [l, t] = m.split('=');
      relays.push(await startRelay({ listen: parseEndpoint(l ?? ''), target: parseEndpoint(t ?? ''), downDelayMs: down, upDelayMs: up }));
    }
  } catch (err) {
    process.stderr.write(`relay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  console.log(`relay ready: ${o.map.join(' ')} delay ${down}/${up} ms`);
  const stop = async (): Promise<void> => {
    console.log(JSON.stringify(relays.map((r) => ({ listen: r.listen, ...r.stats }))));
    await Promise.all(relays.map((r) => r.close()));
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (isEntryPoint(import.meta.url)) void cli();
