// The wait for a receiver that may still be starting (SenderOptions.waitMs), for every sender flow (SenderFlow,
// WindowFlow): ICMP port unreachable before the receiver's first ACK is retried, not failed, until waitMs after
// the first transmission, and such a receiver is not given up on before that time either. A flow whose
// transport cannot hear port unreachable (multicast: one unconnected socket) cannot tell a receiver still
// starting from a silent one, so every receiver without an ACK gets the whole wait window.

export class StartWait {
  /** When the first datagram went to the receiver: the wait window starts here. */
  private firstSentAt: number | undefined;

  /** `deaf`: the transport reports no port unreachable (see the header). */
  constructor(
    private readonly waitMs = 0,
    private readonly deaf = false,
  ) {}

  /** A datagram went out at `now` (only the first one starts the window). */
  sent(now: number): void {
    this.firstSentAt ??= now;
  }

  /** Port unreachable at `now`, with `acked` segments acknowledged (counted in `stats`): whether the receiver has failed. */
  unreachable(now: number, acked: number, stats: { unreachable: number }): boolean {
    stats.unreachable++;
    const starting = acked === 0 && (this.firstSentAt === undefined || now < this.firstSentAt + this.waitMs);
    return !starting;
  }

  /** The give-up time `giveUpAt`, pushed to the end of the wait window for a receiver that so far only said "unreachable" (or, deaf, nothing). */
  giveUpAt(giveUpAt: number, acked: number, unreachable: number): number {
    return acked === 0 && (unreachable > 0 || this.deaf) && this.firstSentAt !== undefined ? Math.max(giveUpAt, this.firstSentAt + this.waitMs) : giveUpAt;
  }
}
