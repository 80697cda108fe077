// Congestion response (`--cc aimd`): additive increase, multiplicative decrease of a per-receiver congestion
// window, in segments, never above the configured window N. The flow calls onLoss() once per loss event (one
// recovery episode, however many segments it lost) and onAcked() for newly acknowledged segments.
//
// Growth is one segment per round trip (cwnd += acked / cwnd) once a loss has been seen; before the first loss
// the window doubles per round trip (slow start, cwnd += acked), or a long path would spend hundreds of round
// trips reaching its bandwidth-delay product. It cannot tell congestion from the receivers' artificial loss
// service P: under P it halves on those drops too (steady state about sqrt(1.5 / P) segments, TCP's law), which
// is right on a shared network and wasteful on a private lossy one (use --rate there).

export interface AimdOptions {
  /** The configured window N: the ceiling. */
  max: number;
  /** Window before any ACK (RFC 6928's 10, capped at max). */
  initial?: number;
}

export class Aimd {
  private cwnd: number;
  private ssthresh = Number.POSITIVE_INFINITY;
  private readonly max: number;
  /** Loss events seen (for reports). */
  losses = 0;

  constructor(o: AimdOptions) {
    if (!(Number.isInteger(o.max) && o.max >= 1)) throw new RangeError('cc window ceiling must be a positive integer');
    this.max = o.max;
    this.cwnd = Math.min(o.max, Math.max(1, o.initial ?? 10));
  }

  /** Segments the flow may have unacknowledged now: 1..max. */
  get window(): number {
    return Math.max(1, Math.min(this.max, Math.floor(this.cwnd)));
  }

  onAcked(segments: number): void {
    if (segments <= 0) return;
    if (this.cwnd < this.ssthresh) this.cwnd += segments;
    else this.cwnd += segments / this.cwnd;
    if (this.cwnd > this.max) this.cwnd = this.max;
  }

  /** A loss event: halve (never below one segment). */
  onLoss(): void {
    this.losses++;
    this.cwnd = Math.max(1, this.cwnd / 2);
    this.ssthresh = this.cwnd;
  }
}
