// One timer for a loop's next deadline, re-armed only when the deadline moves earlier: each ACK or segment
// pushes the deadline later, so an early wake-up just lets the loop re-arm (far fewer timer operations than
// one per segment). Node's timers count whole milliseconds from the event loop's cached clock, so they can
// fire up to a millisecond before a deadline on the precise clock: such a wake-up waits out the rest instead
// of reporting a deadline that has not passed.

export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = Number.POSITIVE_INFINITY;

  constructor(
    private readonly onFire: () => void,
    /** The clock deadlines are on (performance.now). */
    private readonly now: () => number,
  ) {}

  /** Make sure of a wake-up no earlier than, and soon after, `deadline`; undefined: nothing to time. */
  set(deadline: number | undefined): void {
    if (deadline === undefined) {
      this.cancel();
      return;
    }
    if (deadline >= this.at) return;
    this.at = deadline;
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.now() < this.at) {
        this.arm();
        return;
      }
      this.at = Number.POSITIVE_INFINITY;
      this.onFire();
    }, Math.max(1, Math.ceil(this.at - this.now())));
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Number.POSITIVE_INFINITY;
  }
}
