// The datagram seam over real UDP sockets (IPv4), a monotonic clock (performance.now) and one timer.
//
// Sender side: one socket per receiver, connect()ed to HOST:PORT, so the kernel delivers to it only
// datagrams from exactly that address and port (strangers never reach the protocol) and reports ICMP port
// unreachable as ECONNREFUSED. A receiver bound to 0.0.0.0 on a host with several addresses answers from
// the address the kernel routes by; if that is not the one we addressed, its ACKs are filtered and it is
// reported failed. Receivers sharing a machine therefore use `p2mpserver --bind ADDR`.
//
// Receiver side: one socket bound to PORT (on --bind's address or all), answering each datagram's source.

import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { DatagramHandlers, DatagramTransport } from './datagram.js';
import { DeadlineTimer } from './deadline-timer.js';
import { PreciseTimer } from './precise-timer.js';

export interface UdpTarget {
  address: string;
  port: number;
}

/** What both UDP endpoints share: the clock, the one timer, the sockets and closing them once. */
abstract class UdpEndpoint<P> implements DatagramTransport<P> {
  protected readonly sockets: dgram.Socket[] = [];
  protected closed = false;
  private timer: DeadlineTimer | PreciseTimer | undefined;
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

export class UdpSenderTransport extends UdpEndpoint<number> {
  protected readonly precise = true;

  constructor(private readonly targets: readonly UdpTarget[]) {
    super();
  }

  open(h: DatagramHandlers<number>): void {
    this.startTimer(h);
    const connected = this.targets.map((t, i) => {
      const socket = dgram.createSocket('udp4');
      this.sockets.push(socket);
      socket.on('message', (msg) => this.closed || h.datagram(i, msg));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (this.closed) return;
        if (err.code === 'ECONNREFUSED') h.unreachable(i);
        else h.error(i, `${err.code ?? 'error'}: ${err.message}`);
      });
      return new Promise<void>((resolve) => socket.connect(t.port, t.address, () => resolve()));
    });
    void Promise.all(connected).then(() => this.closed || h.ready());
  }

  send(to: number, bytes: Uint8Array): void {
    this.sockets[to]?.send(bytes);
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
    this.socket = dgram.createSocket({ type: 'udp4', ...(recvBufferBytes !== undefined ? { recvBufferSize: recvBufferBytes } : {}) });
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
    });
    this.socket.on('error', (err) => this.closed || h.error(undefined, `socket error: ${err.message}`));
    this.socket.bind({ port: this.port, address: this.bind, exclusive: true }, () => this.closed || h.ready());
  }

  /** `to` is a key this transport made ("address:port"); nothing is kept per peer, so a spray of strangers costs no memory. */
  send(to: string, bytes: Uint8Array): void {
    const colon = to.lastIndexOf(':');
    this.socket.send(bytes, Number(to.slice(colon + 1)), to.slice(0, colon));
  }
}
