// The datagram seam: what the protocol loops need from a network, and nothing more. The UDP transports
// (udp.ts) and the simulator's (sim/transport.ts) implement it, and one conformance suite
// (test/transport.conformance.ts) runs against both, so the loops cannot tell them apart.
//
// Peers are opaque keys chosen by the transport's owner: a receiver's index on the sender's side, the
// sender's "address:port" on the receiver's side. A multicast sender transport also takes the peer
// GROUP_PEER (-1, src/core/group.ts): one datagram to the group, which reaches every receiver; its receivers'
// ACKs still arrive from each receiver's index, and an error sending to the group is reported for GROUP_PEER.
// A receiver sees group and unicast datagrams of its sender as from the same peer (the sender uses one socket).
// Time is in milliseconds on the transport's own clock.

export interface DatagramHandlers<Peer> {
  /** The transport can send now (called once, from open() or later; not at all if it failed first). */
  ready(): void;
  /** A datagram from `from`. The bytes are only valid during the call. */
  datagram(from: Peer, bytes: Uint8Array): void;
  /** `peer` cannot be reached (ICMP port unreachable: nothing listens there; UDP learns it on a later send). */
  unreachable(peer: Peer): void;
  /** The transport failed for `peer` (undefined: for everybody, e.g. the socket could not bind). */
  error(peer: Peer | undefined, message: string): void;
  /** A datagram that can never be answered (source port 0, only a raw socket can send it). */
  unanswerable(): void;
  /**
   * Optional: a datagram that reached `peer`'s local port from another address but `peer`'s port — most
   * likely `peer` itself answering from another of its host's addresses. Never an answer (only for reports).
   */
  stray?(peer: Peer, from: string, bytes: Uint8Array): void;
  /**
   * Optional: a datagram from `from` ("address:port"), which is none of the peers. Only a transport with one
   * unconnected socket for every peer sees these (multicast, udp-multicast.ts); a connected socket's kernel drops
   * them. Never an answer: counted and ignored.
   */
  stranger?(from: string, bytes: Uint8Array): void;
  /** The transport's one timer reached its deadline. */
  timer(): void;
  /**
   * Optional: every datagram that had arrived has been handed over (UDP: the event loop's poll phase is over;
   * the simulator: after each datagram, as it models no reading batches). A receiver acknowledges a batch here.
   */
  idle?(): void;
}

export interface DatagramTransport<Peer> {
  /** The clock: monotonic milliseconds. */
  now(): number;
  /** Begin delivering to `handlers`; handlers.ready() says when sending may start. */
  open(handlers: DatagramHandlers<Peer>): void;
  send(to: Peer, bytes: Uint8Array): void;
  /** The one timer: fire handlers.timer() at (or after) `deadline`; undefined cancels; a new call replaces the old. */
  setTimer(deadline: number | undefined): void;
  /** Stop delivering and release everything; no handler is called after it. */
  close(): void;
}
