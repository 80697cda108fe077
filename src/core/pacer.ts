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
 * Why `bitsPerSecond` is too low to pace segments of `mss` bytes for a sender with this give-up time, or
 * undefined. One segment taking longer than the give-up time at the rate would leave a receiver without a
 * datagram for longer than the sender itself allows a receiver to stay silent (and longer than receivers'
 * idle timeouts, in time): a transfer that cannot work, however long it is left to run.
 */
export function rateTooLow(bitsPerSecond: number, mss: number, giveUpMs: number): string | undefined {
  const bits = (mss + PACER_OVERHEAD_BYTES) * 8;
  const ms = (bits * 1000) / bitsPerSecond;
  if (ms <= giveUpMs) return undefined;
  const seconds = (x: number): string => (x >= 1e5 ? x.toExponential(2) : String(Number(x.toPrecision(3))));
  return `is too low: one ${mss}-byte segment takes ${seconds(ms / 1000)} s at that rate, longer than the give-up time (${seconds(giveUpMs / 1000)} s); it must be at least ${Math.ceil((bits * 1000) / giveUpMs)} bit/s`;
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
