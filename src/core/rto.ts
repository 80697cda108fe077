// Retransmission timeout per RFC 6298: SRTT/RTTVAR from RTT samples (the caller applies Karn's rule by
// only sampling segments that were sent once), exponential backoff on timeout, clamped to [min, max].
// A fixed RTO (no estimation, no backoff) is offered so runs can be compared with the analytical model.

export interface RtoConfig {
  /** Fixed RTO in ms; when set, samples and backoff are ignored. */
  fixedMs?: number;
  minMs: number;
  maxMs: number;
  /** RTO before the first sample (RFC 6298 says 1 s; loopback tools want less). */
  initialMs: number;
  /** Clock granularity G in ms (RFC 6298 section 2). */
  granularityMs: number;
}

// minMs 1: measured on loopback (BENCHMARKS.md, "RTO floor" and "Loopback targets"). 2 ms (against 5 ms) cut a
// P=0.05 transfer by 17-49 %; 1 ms gained little more while Node's whole-millisecond timers drove the RTO. Since
// the sender's timer is sub-millisecond (precise-timer.ts), 1 ms cuts the classic P=0.05 run by a further ~20 %
// for ~0.3 % more spurious retransmissions, even under heavy load (the estimator's SRTT + 4 RTTVAR covers the
// RTT tail). minMs 0.5 with G 0.1 ms (sixth session, quiet machine): lockstep -19 %, classic -5 %, for ~1 % of
// segments sent twice; with G at 1 ms any floor under ~1.1 ms meant nothing (RTO >= SRTT + G). G is the
// sender's timer granularity: the precise timer fires 35-70 us late. The simulator's links (milliseconds each
// way) keep the RTO far above either floor.
export const RTO_DEFAULTS: RtoConfig = { minMs: 0.5, maxMs: 2000, initialMs: 200, granularityMs: 0.1 };

export class RtoEstimator {
  private srtt: number | undefined;
  private rttvar = 0;
  private backoff = 1;
  private base: number;

  constructor(private readonly cfg: RtoConfig) {
    this.base = cfg.fixedMs ?? cfg.initialMs;
  }

  /** A valid RTT sample (segment transmitted exactly once). Karn: the backed-off RTO holds until one arrives. */
  sample(rttMs: number): void {
    this.observe(rttMs);
    if (this.cfg.fixedMs !== undefined) return;
    this.base = (this.srtt ?? rttMs) + Math.max(this.cfg.granularityMs, 4 * this.rttvar);
    this.backoff = 1;
  }

  private observe(rttMs: number): void {
    if (this.srtt === undefined) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
  }

  /**
   * ACK progress without a valid sample (a windowed flow in recovery takes none): undo the backoff, or one
   * lost segment would leave every later one on a doubled RTO until the next sample.
   */
  resetBackoff(): void {
    this.backoff = 1;
  }

  /** A retransmission timer expired: double the RTO (RFC 6298 5.5), unless it is fixed. */
  onTimeout(): void {
    if (this.cfg.fixedMs === undefined) this.backoff = Math.min(this.backoff * 2, 1 << 16);
  }

  get rtoMs(): number {
    if (this.cfg.fixedMs !== undefined) return this.cfg.fixedMs;
    return Math.min(this.cfg.maxMs, Math.max(this.cfg.minMs, this.base) * this.backoff);
  }

  get srttMs(): number | undefined {
    return this.srtt;
  }
}
