// A DeadlineTimer with sub-millisecond precision (drop-in: new PreciseTimer(onFire, now), set(deadline), cancel()). Node's own timers
// count whole milliseconds, so an RTO of a few hundred microseconds on loopback cannot be honoured by them.
// Here one helper thread per calling thread sleeps in Atomics.wait until the earliest armed deadline (a futex
// with a microsecond timeout: the kernel wakes it, no core spins), claims the expired deadline and wakes the
// owner with Atomics.notify; the owner waits for that with Atomics.waitAsync, which resolves as an ordinary
// task on its event loop. Measured against the alternatives in bench/timer-precision.ts (BENCHMARKS.md).
//
// Shared layout (one SharedArrayBuffer per helper thread, SLOTS timers):
//   ctl:       Int32  [GEN, HIGH]        GEN is bumped to make the helper re-read the deadlines
//   sleeping:  BigInt64 [1]              the hrtime (ns) the helper sleeps until, 0 = until notified
//   deadlines: BigInt64 [SLOTS]          hrtime (ns) of each armed timer, 0 = disarmed or claimed
//   fired:     Int32 [SLOTS]             bumped by the helper when it claims a slot's deadline

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const SLOTS = 256;
const GEN = 0;
const HIGH = 1; // slots [0, HIGH) have ever been handed out: the helper scans only those

interface Layout {
  ctl: Int32Array;
  sleeping: BigInt64Array;
  deadlines: BigInt64Array;
  fired: Int32Array;
}

function layout(sab: SharedArrayBuffer): Layout {
  return {
    ctl: new Int32Array(sab, 0, 2),
    sleeping: new BigInt64Array(sab, 8, 1),
    deadlines: new BigInt64Array(sab, 16, SLOTS),
    fired: new Int32Array(sab, 16 + 8 * SLOTS, SLOTS),
  };
}

const BYTES = 16 + 8 * SLOTS + 4 * SLOTS;

/**
 * The helper thread's loop. It runs from its source text (an eval worker), so it may use only its arguments
 * and globals: no imports, no helpers from this module.
 */
function helperMain(sab: SharedArrayBuffer, slots: number, spinNs: bigint, hrtime: () => bigint): void {
  const ctl = new Int32Array(sab, 0, 2);
  const sleeping = new BigInt64Array(sab, 8, 1);
  const deadlines = new BigInt64Array(sab, 16, slots);
  const fired = new Int32Array(sab, 16 + 8 * slots, slots);
  for (;;) {
    const gen = Atomics.load(ctl, 0);
    const now = hrtime();
    let earliest = 0n;
    const high = Atomics.load(ctl, 1);
    for (let i = 0; i < high; i++) {
      const d = Atomics.load(deadlines, i);
      if (d === 0n) continue;
      if (d <= now) {
        // Claim it; the owner may have re-armed, postponed or cancelled in between: then the exchange fails and
        // this slot is looked at again, so a moved deadline still counts towards the next sleep.
        if (Atomics.compareExchange(deadlines, i, d, 0n) === d) {
          Atomics.add(fired, i, 1);
          Atomics.notify(fired, i);
        } else i--;
      } else if (earliest === 0n || d < earliest) earliest = d;
    }
    Atomics.store(sleeping, 0, earliest);
    if (earliest === 0n) Atomics.wait(ctl, 0, gen);
    else if (earliest - now > spinNs) Atomics.wait(ctl, 0, gen, Number(earliest - now - spinNs) / 1e6);
    // The last spinNs before a deadline are spun, not slept: a futex timeout wakes ~100 us late here.
    else while (hrtime() < earliest && Atomics.load(ctl, 0) === gen);
  }
}

/** One helper thread and its slots; unref'd while no slot is armed, so an idle timer never keeps a process alive. */
class Helper {
  readonly mem: Layout;
  readonly spinUs: number;
  private readonly worker: Worker;
  private readonly free: number[] = [];
  private high = 0;
  private armed = 0;

  constructor(spinUs: number) {
    const sab = new SharedArrayBuffer(BYTES);
    this.mem = layout(sab);
    this.spinUs = spinUs;
    // import() works whether the eval source is taken as CommonJS or (under --input-type=module) as ESM.
    const source = `import('node:worker_threads').then(({ workerData }) =>
  (${helperMain.toString()})(workerData, ${SLOTS}, ${Math.round(spinUs * 1000)}n, () => process.hrtime.bigint()));`;
    this.worker = new Worker(source, { eval: true, workerData: sab, execArgv: [] });
    this.worker.unref();
  }

  /** A free slot, or undefined when all SLOTS are taken. */
  take(): number | undefined {
    const slot = this.free.pop() ?? (this.high < SLOTS ? this.high++ : undefined);
    if (slot !== undefined) Atomics.store(this.mem.ctl, HIGH, this.high);
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  /** Arm `slot` for hrtime `at`. */
  arm(slot: number, at: bigint, wasArmed: boolean): void {
    Atomics.store(this.mem.deadlines, slot, at);
    if (!wasArmed && this.armed++ === 0) this.worker.ref();
    this.kick(at);
  }

  /**
   * Move `slot`'s deadline from `from` to the later `to` in place, unless the helper has already claimed `from`
   * (then its wake-up is on the way and the owner re-arms). A helper asleep until `from` is not woken: it rescans
   * then and sleeps on, so the owner is not woken for a deadline it no longer has (on a lossless path every
   * segment moves the retransmission deadline later).
   */
  postpone(slot: number, from: bigint, to: bigint): void {
    if (Atomics.compareExchange(this.mem.deadlines, slot, from, to) === from) this.kick(to);
  }

  /**
   * Always bump GEN: a helper between its scan and its wait then rescans instead of sleeping on stale data (and
   * one spinning towards an earlier deadline stops). Waking a sleeping helper is needed only when it sleeps past
   * `at`: e.g. one whose claim of the old deadline lost to a postpone went to sleep without counting the new one.
   */
  private kick(at: bigint): void {
    Atomics.add(this.mem.ctl, GEN, 1);
    const sleepsUntil = Atomics.load(this.mem.sleeping, 0);
    if (sleepsUntil === 0n || at < sleepsUntil) Atomics.notify(this.mem.ctl, GEN);
  }

  /** The slot no longer holds a live deadline (cancelled or fired). */
  disarm(slot: number, clear: boolean): void {
    if (clear) Atomics.store(this.mem.deadlines, slot, 0n);
    if (--this.armed === 0) this.worker.unref();
  }
}

// One helper per thread that uses precise timers (module state is per thread); more when SLOTS run out.
const helpers: Helper[] = [];

function allocate(spinUs: number): { helper: Helper; slot: number } {
  for (const helper of helpers) {
    const slot = helper.spinUs === spinUs ? helper.take() : undefined;
    if (slot !== undefined) return { helper, slot };
  }
  const helper = new Helper(spinUs);
  helpers.push(helper);
  return { helper, slot: helper.take()! };
}

/**
 * Nanoseconds of process.hrtime minus the caller's clock (which must run at real time: performance.now, or
 * an offset of it). The caller's clock is read first (and floored), so the offset errs large: a deadline can
 * come out late by the gap between the two reads, never early.
 */
function hrtimeOffsetNs(now: () => number): bigint {
  const pn = BigInt(Math.floor(now() * 1e6));
  return process.hrtime.bigint() - pn;
}

export interface PreciseTimerOptions {
  /** The helper thread spins (instead of sleeping) this long before a deadline: CPU traded for precision. */
  spinUs: number;
}

// 100 us: measured (bench/timer-precision.ts, BENCHMARKS.md): median lateness 140-240 -> 35-70 us at about the same
// CPU per fire (waking a sleeping thread on this VM costs about what the spin does); idle costs nothing either way.
export const PRECISE_TIMER_DEFAULTS: PreciseTimerOptions = { spinUs: 100 };

export class PreciseTimer {
  private readonly helper: Helper;
  private readonly slot: number;
  private at = Number.POSITIVE_INFINITY;
  private waiting = false;
  private seenFired: number;
  private readonly offsetNs: bigint;
  /** The armed deadline in the helper's hrtime nanoseconds. */
  private target = 0n;

  /** `onFire` runs on this thread's event loop, never before the deadline on the `now` clock. */
  constructor(
    private readonly onFire: () => void,
    private readonly now: () => number = () => performance.now(),
    options: PreciseTimerOptions = PRECISE_TIMER_DEFAULTS,
  ) {
    this.offsetNs = hrtimeOffsetNs(now);
    ({ helper: this.helper, slot: this.slot } = allocate(options.spinUs));
    this.seenFired = Atomics.load(this.helper.mem.fired, this.slot);
  }

  /**
   * Fire no earlier than, and soon after, `deadline` (ms on the `now` clock), replacing the deadline set
   * before, later or earlier; undefined: nothing to time. The deadline is absolute, so the time the caller spent
   * since it read its clock does not make the timer late.
   */
  set(deadline: number | undefined): void {
    if (deadline === undefined) {
      this.cancel();
      return;
    }
    if (deadline === this.at) return;
    const wasArmed = this.at !== Number.POSITIVE_INFINITY;
    const from = this.target;
    this.at = deadline;
    // Rounded up to the next nanosecond: the helper fires when hrtime >= target, so never before the deadline.
    this.target = BigInt(Math.ceil(deadline * 1e6)) + this.offsetNs;
    if (wasArmed && this.target > from) {
      this.helper.postpone(this.slot, from, this.target);
      return;
    }
    this.helper.arm(this.slot, this.target, wasArmed);
    this.wait();
  }

  cancel(): void {
    if (this.at === Number.POSITIVE_INFINITY) return;
    this.at = Number.POSITIVE_INFINITY;
    this.helper.disarm(this.slot, true);
  }

  /** Give the slot back; the timer must not be used afterwards. */
  close(): void {
    this.cancel();
    this.helper.release(this.slot);
  }

  /**
   * Wait for the helper's next claim. A claim that came already (the thread was descheduled past the deadline
   * between arming and waiting) is handled in a microtask, not here: onFire never runs inside set(), so a
   * caller is never re-entered from its own set() and a set() right after still replaces the deadline.
   */
  private wait(): void {
    if (this.waiting) return;
    this.waiting = true;
    const r = Atomics.waitAsync(this.helper.mem.fired, this.slot, this.seenFired);
    const wake = (): void => {
      this.waiting = false;
      this.onWake();
    };
    if (r.async) void r.value.then(wake);
    else queueMicrotask(wake);
  }

  private onWake(): void {
    this.seenFired = Atomics.load(this.helper.mem.fired, this.slot);
    if (this.at === Number.POSITIVE_INFINITY) return; // cancelled after the helper claimed it
    // A non-zero slot means the claim was for a deadline since replaced by an earlier one: keep waiting.
    if (Atomics.load(this.helper.mem.deadlines, this.slot) !== 0n) {
      this.wait();
      return;
    }
    // A reused slot can carry a claim of its previous timer, which cleared our deadline: fire only when due, else re-arm.
    if (this.now() < this.at) {
      this.helper.arm(this.slot, this.target, true);
      this.wait();
      return;
    }
    this.at = Number.POSITIVE_INFINITY;
    this.helper.disarm(this.slot, false);
    this.onFire();
  }
}
