// One timer per loop for a machine's pollTimeout() deadline, re-armed only when the deadline moves earlier:
// each ACK or segment pushes the deadline later, so an early wake-up just lets the machine re-arm (far fewer
// timer operations than one per segment). Delays are whole milliseconds, rounded up: Node's timers have 1 ms
// resolution, so a fractional delay fires before the deadline and costs a wasted wake-up.

export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = Number.POSITIVE_INFINITY;

  constructor(private readonly onFire: () => void) {}

  /** Make sure of a wake-up no later than `deadline` (same clock as `now`); undefined: nothing to time. */
  set(deadline: number | undefined, now: number): void {
    if (deadline === undefined) {
      this.cancel();
      return;
    }
    if (deadline >= this.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.at = deadline;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.at = Number.POSITIVE_INFINITY;
      this.onFire();
    }, Math.max(1, Math.ceil(deadline - now)));
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Number.POSITIVE_INFINITY;
  }
}
