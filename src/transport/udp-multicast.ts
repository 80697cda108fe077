// The datagram seam over IPv4 multicast (p2mpclient/p2mpserver --multicast): DATA goes once to GROUP:PORT,
// ACKs and repairs are unicast. Same base as udp.ts (clock, one timer, closing); only the sockets differ.
//
// Sender side: ONE unconnected socket, bound to --interface's address (or all) on an ephemeral port, with
// IP_MULTICAST_TTL (default 1: never past the first router) and IP_MULTICAST_IF. send(GROUP_PEER) goes to
// GROUP:PORT, send(r) to receiver r's address:port, both from this socket: a receiver sees one sender
// address:port for group data and unicast repairs alike. Unconnected, the kernel filters nothing: each
// datagram is matched by its source address:port to a receiver, anything else is a stranger (counted and
// ignored, DatagramHandlers.stranger). Nor does an unconnected socket hear of ICMP port unreachable: a
// receiver that is not listening is found by its silence (--give-up), not reported as unreachable.
//
// Receiver side: Linux delivers a group datagram only to sockets bound to the group address or to the
// wildcard, never to one bound to a unicast address. So with an address (--interface or --bind ADDR) there are
// two sockets: one bound to GROUP:PORT that joins the group on ADDR (IP_ADD_MEMBERSHIP), and one bound to
// ADDR:PORT that sends every ACK (so they leave from ADDR, whatever the routes say) and takes unicast repairs.
// Both deliver into the same loop with the sender's address:port as the peer. Without an address there is one
// socket on 0.0.0.0:PORT, joined on the interface the kernel picks; it answers from the address the kernel
// routes by — the 0.0.0.0 pitfall: on a host with several addresses that may not be the address the sender
// was told, and its ACKs then arrive as a stranger's (the receiver is reported as never answering). Receivers
// on hosts with more than one address want --interface ADDR (README, "Multicast").

import dgram from 'node:dgram';
import { GROUP_PEER } from '../core/group.js';
import type { DatagramHandlers } from './datagram.js';
import { literalLookup, UdpEndpoint, type UdpTarget } from './udp.js';

export interface MulticastSend {
  /** The group's IPv4 address (224.0.0.0/4); DATA for the group goes to group:port. */
  group: string;
  port: number;
  /** IP_MULTICAST_TTL, 1..255. */
  ttl: number;
  /** The local address to send from (IP_MULTICAST_IF and the bind); undefined: the kernel's choice. */
  interface: string | undefined;
}

const describeErr = (err: NodeJS.ErrnoException): string => `${err.code ?? 'error'}: ${err.message}`;

export class UdpMulticastSenderTransport extends UdpEndpoint<number> {
  protected readonly precise = true;
  private readonly socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
  /** "address:port" -> receiver index: how an ACK finds its receiver. */
  private readonly byAddress = new Map<string, number>();
  /** One send callback per receiver (and one for the group), made once: a failed send names its peer. */
  private sentTo: Array<(err: Error | null) => void> = [];
  private sentToGroup: (err: Error | null) => void = () => {};

  constructor(
    private readonly targets: readonly UdpTarget[],
    private readonly m: MulticastSend,
  ) {
    super();
    this.sockets.push(this.socket);
    // Two receivers on one address:port would be one receiver: the first keeps it (the CLI refuses duplicates).
    for (const [i, t] of targets.entries()) if (!this.byAddress.has(`${t.address}:${t.port}`)) this.byAddress.set(`${t.address}:${t.port}`, i);
  }

  open(h: DatagramHandlers<number>): void {
    this.startTimer(h);
    const failed = (peer: number | undefined, what: string) => (err: Error | null) => {
      if (err !== null && !this.closed) h.error(peer, `${what}: ${describeErr(err)}`);
    };
    this.sentTo = this.targets.map((t, i) => failed(i, `cannot send to ${t.address}:${t.port}`));
    this.sentToGroup = failed(GROUP_PEER, `cannot send to the group ${this.m.group}:${this.m.port}`);
    this.socket.on('message', (msg, rinfo) => {
      if (this.closed) return;
      const from = `${rinfo.address}:${rinfo.port}`;
      const r = this.byAddress.get(from);
      if (r !== undefined) h.datagram(r, msg);
      else if (rinfo.port === 0) h.unanswerable();
      else h.stranger?.(from, msg);
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.closed || h.error(undefined, describeErr(err)));
    this.socket.bind({ port: 0, address: this.m.interface, exclusive: true }, () => {
      if (this.closed) return;
      try {
        this.socket.setMulticastTTL(this.m.ttl);
        if (this.m.interface !== undefined) this.socket.setMulticastInterface(this.m.interface);
      } catch (err) {
        h.error(undefined, `cannot set up multicast on ${this.m.interface ?? 'the default interface'}: ${describeErr(err as NodeJS.ErrnoException)}`);
        return;
      }
      h.ready();
    });
  }

  /** Where the socket is bound (after ready): the source address:port every receiver sees. */
  address(): { address: string; port: number } {
    return this.socket.address();
  }

  send(to: number, bytes: Uint8Array): void {
    if (this.closed) return;
    if (to === GROUP_PEER) this.socket.send(bytes, this.m.port, this.m.group, this.sentToGroup);
    else {
      const t = this.targets[to];
      if (t !== undefined) this.socket.send(bytes, t.port, t.address, this.sentTo[to]);
    }
  }
}

export interface MulticastJoin {
  group: string;
  port: number;
  /** The receiver's own address (--interface, or --bind): joins there and answers from there; undefined: 0.0.0.0. */
  address: string | undefined;
  /** SO_RCVBUF of each socket; undefined: the system default. */
  recvBufferBytes?: number;
}

export class UdpMulticastReceiverTransport extends UdpEndpoint<string> {
  protected readonly precise = false;
  /** Sends every ACK; bound to ADDR:PORT (or 0.0.0.0:PORT, then also the group's socket). */
  private readonly unicast: dgram.Socket;
  /** Bound to GROUP:PORT (only with an address; SO_REUSEADDR: receivers on one host may all join). */
  private readonly groupSocket: dgram.Socket | undefined;

  constructor(private readonly j: MulticastJoin) {
    super();
    const rcvbuf = j.recvBufferBytes !== undefined ? { recvBufferSize: j.recvBufferBytes } : {};
    this.unicast = dgram.createSocket({ type: 'udp4', lookup: literalLookup, ...rcvbuf });
    this.sockets.push(this.unicast);
    if (j.address !== undefined) {
      this.groupSocket = dgram.createSocket({ type: 'udp4', reuseAddr: true, ...rcvbuf });
      this.sockets.push(this.groupSocket);
    }
  }

  /** Where ACKs leave from (after ready). */
  address(): { address: string; port: number } {
    return this.unicast.address();
  }

  open(h: DatagramHandlers<string>): void {
    this.startTimer(h);
    const deliver = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
      if (this.closed) return;
      if (rinfo.port === 0) h.unanswerable();
      else {
        h.datagram(`${rinfo.address}:${rinfo.port}`, msg);
        this.handedOver(h);
      }
    };
    const where = `${this.j.address ?? '0.0.0.0'}:${this.j.port}`;
    for (const s of this.sockets) {
      s.on('message', deliver);
      s.on('error', (err: NodeJS.ErrnoException) => {
        if (this.closed) return;
        h.error(undefined, err.code === 'EADDRINUSE' ? `${s === this.unicast ? where : `${this.j.group}:${this.j.port}`} is already in use` : `socket error: ${err.message}`);
      });
    }
    const join = (s: dgram.Socket): boolean => {
      try {
        s.addMembership(this.j.group, this.j.address);
        return true;
      } catch (err) {
        // ENODEV: no interface for the group (no route for 224.0.0.0/4 and no --interface); EADDRNOTAVAIL: not our address.
        h.error(undefined, `cannot join ${this.j.group} on ${this.j.address ?? 'the default interface'}: ${describeErr(err as NodeJS.ErrnoException)}`);
        return false;
      }
    };
    // The unicast socket first and exclusive: a port another receiver holds is reported as today.
    this.unicast.bind({ port: this.j.port, address: this.j.address, exclusive: true }, () => {
      if (this.closed) return;
      const g = this.groupSocket;
      if (g === undefined) {
        if (join(this.unicast)) h.ready();
        return;
      }
      g.bind({ port: this.j.port, address: this.j.group }, () => !this.closed && join(g) && h.ready());
    });
  }

  /** `to` is a key this transport made ("address:port"): every answer leaves from the unicast socket. */
  send(to: string, bytes: Uint8Array): void {
    const colon = to.lastIndexOf(':');
    this.unicast.send(bytes, Number(to.slice(colon + 1)), to.slice(0, colon));
  }
}
