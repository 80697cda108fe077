// The datagram seam over real UDP sockets (IPv4), a monotonic clock (performance.now) and one timer.
//
// Sender side: one socket per receiver, connect()ed to HOST:PORT, so the kernel delivers to it only
// datagrams from exactly that address and port (strangers never reach the protocol) and reports ICMP port
// unreachable as ECONNREFUSED. A receiver bound to 0.0.0.0 on a host with several addresses answers from
// the address the kernel routes by; if that is not the one we addressed, its ACKs are filtered and it is
// reported failed. Receivers sharing a machine therefore use `p2mpserver --bind ADDR`. To say so, each
// connected socket has an unconnected twin on the same local port (both SO_REUSEADDR): the kernel gives
// the connected socket everything from HOST:PORT and the twin the rest, of which datagrams from PORT on
// another address are reported as strays (never as answers).
//
// Receiver side: one socket bound to PORT (on --bind's address or all), answering each datagram's source.
//
// Multicast (--multicast) has its own pair over the same base: udp-multicast.ts.

import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIPv4 } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DatagramHandlers, DatagramTransport } from './datagram.js';
import { DeadlineTimer } from './deadline-timer.js';
import { PreciseTimer } from './precise-timer.js';

/**
 * dgram resolves every unconnected send's address with dns.lookup, which answers an IP literal on the next
 * tick: a deferred callback per datagram. The unconnected sockets here only ever send to IP literals (a
 * datagram's source, a resolved receiver, the group), so literals are answered at once and anything else
 * still goes to dns.lookup. For every socket that sends unconnected (udp-multicast.ts's too).
 */
export function literalLookup(host: string, options: dns.LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  if (isIPv4(host)) callback(null, host, 4);
  else dns.lookup(host, options, callback);
}

export interface UdpTarget {
  address: string;
  port: number;
}

/** What every UDP endpoint shares (these and udp-multicast.ts's): the clock, the one timer, the sockets and closing them once. */
export abstract class UdpEndpoint<P> implements DatagramTransport<P> {
  protected readonly sockets: dgram.Socket[] = [];
  protected closed = false;
  private timer: DeadlineTimer | PreciseTimer | undefined;
  private idleDue = false;
  /**
   * The sender's retransmission deadlines are sub-millisecond on loopback: it takes the PreciseTimer (measured,
   * BENCHMARKS.md "sub-millisecond timers"); the receiver's idle and linger deadlines are seconds.
   */
  protected abstract readonly precise: boolean;

  now(): number {
    return performance.now();
  }

  abstract open(h: DatagramHandlers<P>): void;
  abstract send(to: P, bytes: Uint8Array): void;

  /** Start the one timer (from open): `timer` is called at or after each deadline until close(). */
  protected startTimer(h: DatagramHandlers<P>): void {
    const fire = (): unknown => this.closed || h.timer();
    const now = (): number => performance.now();
    this.timer = this.precise ? new PreciseTimer(fire, now) : new DeadlineTimer(fire, now);
  }

  setTimer(deadline: number | undefined): void {
    if (!this.closed) this.timer?.set(deadline);
  }

  /**
   * Call after handing a datagram over: h.idle runs once the datagrams libuv reads in one go (up to 32 a socket
   * a poll) are all handed over, because setImmediate's check phase follows the poll phase.
   */
  protected handedOver(h: DatagramHandlers<P>): void {
    if (h.idle === undefined || this.idleDue) return;
    this.idleDue = true;
    setImmediate(() => {
      this.idleDue = false;
      if (!this.closed) h.idle!();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer instanceof PreciseTimer) this.timer.close();
    else this.timer?.cancel();
    for (const s of this.sockets) {
      try {
        s.close();
      } catch {
        /* a socket that failed to bind is not running */
      }
    }
  }
}

/**
 * A local port nobody holds: bound once without SO_REUSEADDR (so the kernel picks one no socket uses), then
 * released for the two SO_REUSEADDR sockets of one receiver. (An ephemeral bind with SO_REUSEADDR could be
 * given a port another SO_REUSEADDR socket already holds.)
 */
async function freeLocalPort(): Promise<number> {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, () => resolve()));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export class UdpSenderTransport extends UdpEndpoint<number> {
  protected readonly precise = true;
  /** Each receiver's connected socket, by receiver index. */
  private readonly connected: Array<dgram.Socket | undefined> = [];

  constructor(private readonly targets: readonly UdpTarget[]) {
    super();
  }

  open(h: DatagramHandlers<number>): void {
    this.startTimer(h);
    // One receiver after the other: a probed port is held before the next probe, so no two receivers share one.
    // A receiver that cannot be reached is reported after ready: reported before, it would start the group while
    // the receivers after it have no socket yet (their first segments lost to an RTO).
    const failures: Array<[number, string]> = [];
    const openOne = async (t: UdpTarget, i: number): Promise<void> => {
      let socket: dgram.Socket | undefined;
      let port = 0;
      // The free port may be taken between the probe and the bind (another process): try again.
      for (let attempt = 0; attempt < 3 && socket === undefined; attempt++) {
        port = await freeLocalPort();
        socket = await this.bindReusable(port);
      }
      if (this.closed) return;
      if (socket === undefined) {
        failures.push([i, 'no local UDP port could be bound']);
        return;
      }
      socket.on('message', (msg) => this.closed || h.datagram(i, msg));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (this.closed) return;
        if (err.code === 'ECONNREFUSED') h.unreachable(i);
        else h.error(i, `${err.code ?? 'error'}: ${err.message}`);
      });
      // dgram hands a failed connect (EACCES for a broadcast address such as 127.255.255.255) to the callback.
      const failed = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => socket.connect(t.port, t.address, ((err?: NodeJS.ErrnoException) => resolve(err)) as () => void));
      if (this.closed) return;
      if (failed !== undefined) {
        failures.push([i, `cannot send to ${t.address}:${t.port}: ${failed.code === 'EACCES' ? 'permission denied (a broadcast address?)' : (failed.code ?? failed.message)}`]);
        return;
      }
      this.connected[i] = socket;
      if (h.stray === undefined) return;
      const twin = await this.bindReusable(port);
      if (twin === undefined) return; // only ever a diagnosis: without a twin nothing changes but the report
      twin.on('error', () => {});
      twin.on('message', (msg, rinfo) => {
        if (!this.closed && rinfo.port === t.port && rinfo.address !== t.address) h.stray?.(i, `${rinfo.address}:${rinfo.port}`, msg);
      });
    };
    void (async () => {
      for (const [i, t] of this.targets.entries()) await openOne(t, i);
      if (this.closed) return;
      h.ready();
      for (const [i, message] of failures) if (!this.closed) h.error(i, message);
    })();
  }

  /** A socket bound to `port` with SO_REUSEADDR (kept for close()), or undefined if the bind failed or the transport closed meanwhile. */
  private bindReusable(port: number): Promise<dgram.Socket | undefined> {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    return new Promise((resolve) => {
      s.once('error', () => {
        s.close();
        resolve(undefined);
      });
      s.bind(port, () => {
        s.removeAllListeners('error');
        if (this.closed) {
          s.close();
          resolve(undefined);
          return;
        }
        this.sockets.push(s);
        resolve(s);
      });
    });
  }

  send(to: number, bytes: Uint8Array): void {
    this.connected[to]?.send(bytes);
  }
}

export class UdpReceiverTransport extends UdpEndpoint<string> {
  protected readonly precise = false;
  private readonly socket: dgram.Socket;

  constructor(
    private readonly port: number,
    private readonly bind: string | undefined,
    /** SO_RCVBUF in bytes (the kernel caps it at net.core.rmem_max); undefined: the system default. */
    recvBufferBytes?: number,
  ) {
    super();
    this.socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup, ...(recvBufferBytes !== undefined ? { recvBufferSize: recvBufferBytes } : {}) });
    this.sockets.push(this.socket);
  }

  /** Where the socket is bound (after ready). */
  address(): { address: string; port: number } {
    return this.socket.address();
  }

  open(h: DatagramHandlers<string>): void {
    this.startTimer(h);
    this.socket.on('message', (msg, rinfo) => {
      if (this.closed) return;
      // Source port 0 cannot be answered (dgram refuses to send there), so it can never be a sender.
      if (rinfo.port === 0) {
        h.unanswerable();
        return;
      }
      h.datagram(`${rinfo.address}:${rinfo.port}`, msg);
      this.handedOver(h);
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.closed) return;
      h.error(undefined, err.code === 'EADDRINUSE' ? `${this.bind ?? '0.0.0.0'}:${this.port} is already in use` : `socket error: ${err.message}`);
    });
    this.socket.bind({ port: this.port, address: this.bind, exclusive: true }, () => this.closed || h.ready());
  }

  /** `to` is a key this transport made ("address:port"); nothing is kept per peer, so a spray of strangers costs no memory. */
  send(to: string, bytes: Uint8Array): void {
    const colon = to.lastIndexOf(':');
    this.socket.send(bytes, Number(to.slice(colon + 1)), to.slice(0, colon));
  }
}
