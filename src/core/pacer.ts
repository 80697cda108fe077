// Pacing (`--rate R`): the sender's total transmission rate, as udpcast's --max-bitrate and UFTP's -R. A token
// bucket in its virtual-time form (GCRA): each datagram moves a theoretical send time on by its wire time at the
// rate; a datagram may go once the clock is within `burst` bytes' worth of that time. Time is passed in, and
// the answer is the earliest time the next datagram may be sent, so the driver arms its one timer for it.

/** IPv4 + UDP headers: counted, so that `--rate` is what a link of that rate carries. */
export const PACER_OVERHEAD_BYTES = 28;

const RATE_UNITS: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** "100M", "1.5G", "800k", "2000000" -> bits per second; undefined for anything else (the CLI reports it). */
export function parseRate(text: string): number | undefined {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([kKMG]?)(?:bit\/s|bps)?\s*$/.exec(text);
  if (!m) return undefined;
  const bits = Number(m[1]) * RATE_UNITS[m[2]!]!;
  return Number.isFinite(bits) && bits > 0 ? bits : undefined;
}

/**
 * Why `bitsPerSecond` is too low to pace segments of `mss` bytes to `receivers` (1 for a multicast group: one
 * transmission serves them all), or undefined. While the pacer holds a segment the sender waits for nobody (its
 * give-up time does not run), but every receiver gives up after its idle timeout without a segment: each gets
 * one every `receivers` segment times on average, so that gap must stay well inside the receivers' default idle
 * timeout (half of it, leaving room for retransmissions and uneven turns), or the transfer cannot complete.
 */
export function rateTooLow(bitsPerSecond: number, mss: number, receivers: number, receiverIdleMs: number): string | undefined {
  const bits = (mss + PACER_OVERHEAD_BYTES) * 8 * receivers;
  const gapMs = (bits * 1000) / bitsPerSecond;
  if (gapMs <= receiverIdleMs / 2) return undefined;
  const seconds = (ms: number): string => (ms >= 1e8 ? (ms / 1000).toExponential(2) : String(Number((ms / 1000).toPrecision(3))));
  const each = receivers === 1 ? 'the receiver' : `each of ${receivers} receivers`;
  return `is too low: ${each} would get a ${mss}-byte segment only every ${seconds(gapMs)} s, and receivers give up after ${seconds(receiverIdleMs)} s without one (p2mpserver --idle-timeout); it must be at least ${Math.ceil((bits * 1000 * 2) / receiverIdleMs)} bit/s`;
}

export class Pacer {
  /** When the bucket would be empty again if nothing else were sent (ms, the caller's clock). */
  private tat = Number.NEGATIVE_INFINITY;
  private readonly msPerByte: number;
  private readonly toleranceMs: number;

  /**
   * `bitsPerSecond`: the rate. `burstBytes`: how far ahead of the rate a sender may get after an idle spell (at
   * least one datagram; a few datagrams lets a driver send in small batches without a timer between each).
   */
  constructor(
    readonly bitsPerSecond: number,
    burstBytes: number,
  ) {
    if (!(bitsPerSecond > 0)) throw new RangeError('rate must be positive');
    this.msPerByte = 8000 / bitsPerSecond;
    this.toleranceMs = Math.max(0, burstBytes) * this.msPerByte;
  }

  /** Earliest time >= now at which a datagram may be sent. */
  nextSendTime(now: number): number {
    return Math.max(now, this.tat - this.toleranceMs);
  }

  /** Whether a datagram may be sent at `now`. */
  mayAt(now: number): boolean {
    return now >= this.tat - this.toleranceMs;
  }

  /** A datagram of `bytes` (UDP payload) was sent at `now`. */
  sent(now: number, bytes: number): void {
    this.tat = Math.max(this.tat, now) + (bytes + PACER_OVERHEAD_BYTES) * this.msPerByte;
  }
}
