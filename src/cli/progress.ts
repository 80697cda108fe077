// Live progress on stderr (only when it is a terminal), drawn from the shared counters: the main thread
// samples them a few times a second, so there is no message per segment. One overall line (bytes, counts,
// the ETA of the slowest live receiver) and a bar per receiver with its own rate and ETA; with many
// receivers, the slowest few. Lines printed while the bars are drawn go above them through log().

import cliProgress from 'cli-progress';
import type { Target } from '../transport/engine.js';
import { SharedState, Slot, Status } from '../transport/shared-state.js';

const SHOWN_MAX = 5;
const REFRESH_MS = 200;
/** Rates are measured over this much recent history, so an ETA follows the receiver's current pace. */
const RATE_WINDOW_MS = 10_000;

export interface Progress {
  /** Print `text` (whole lines) above the bars. */
  log(text: string): void;
  stop(): void;
}

/**
 * Queue lines to be printed above the bars at the next redraw. cli-progress clears only the first line it
 * prints them over, so each line also erases the rest of the bar text it lands on (ESC [ K).
 */
export function logAbove(multibar: cliProgress.MultiBar, text: string): void {
  multibar.log(text.replace(/\n/g, '\x1b[K\n'));
}

/** Print the queued lines and remove the display (cli-progress's stop() alone would drop lines still queued). */
export function stopDisplay(multibar: cliProgress.MultiBar): void {
  multibar.update();
  multibar.stop();
}

/** Recent (time, bytes) samples, for a current rate. */
export class RateMeter {
  private readonly samples: Array<[number, number]> = [];

  add(t: number, bytes: number): void {
    this.samples.push([t, bytes]);
    while (this.samples.length > 2 && t - this.samples[0]![0] > RATE_WINDOW_MS) this.samples.shift();
  }

  /** Bytes per second over the window (0 before two samples). */
  get rate(): number {
    const [t0, b0] = this.samples[0] ?? [0, 0];
    const [t1, b1] = this.samples[this.samples.length - 1] ?? [0, 0];
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
  }
}

/**
 * `size()`: the file's size, Infinity while a streamed input's is unknown (no percentage or ETA then);
 * `payload`: data bytes per segment (payloadBytes of the MSS and the wire's trailer).
 */
export function startProgress(state: SharedState, targets: Target[], size: () => number, payload: number): Progress {
  const n = targets.length;
  let fileBytes = size();
  const bytesOf = (r: number): number => Math.min(fileBytes, state.get(r, Slot.acked) * payload);
  const statusOf = (r: number): number => state.get(r, Slot.status);
  const columns = process.stderr.columns ?? 80;
  const multibar = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: (options, params, payload: { name: string; info: string; noBar?: boolean }) => {
        if (payload.noBar) return payload.info;
        const filled = Math.round(params.progress * (options.barsize ?? 10));
        const bar = (options.barCompleteString ?? '').slice(0, filled) + (options.barIncompleteString ?? '').slice(0, (options.barsize ?? 10) - filled);
        const pct = Number.isFinite(params.total) ? String(Math.floor(params.progress * 100)) : '?'; // stdin: size unknown
        return `${payload.name} ${bar} ${pct.padStart(3)}% ${payload.info}`;
      },
      hideCursor: true,
      clearOnComplete: true,
      // Redraw every bar each frame: lines printed above them move the bars down, and cli-progress would
      // otherwise leave an unchanged bar undrawn at its new place.
      forceRedraw: true,
      // Name (15) + bar + percentage (5) + info (about 40) on one line of the terminal.
      barsize: Math.max(10, Math.min(30, columns - 62)),
      linewrap: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const overall = multibar.create(1, 0, { name: '', info: '', noBar: true });
  const barTotal = (): number => (Number.isFinite(fileBytes) ? Math.max(1, fileBytes) : Number.POSITIVE_INFINITY);
  const bars = Array.from({ length: Math.min(n, SHOWN_MAX) }, () => multibar.create(barTotal(), 0, { name: '', info: '' }));
  const meters = targets.map(() => new RateMeter());
  const started = Date.now();

  const tick = (): void => {
    const now = Date.now();
    if (!Number.isFinite(fileBytes) && Number.isFinite(size())) {
      fileBytes = size();
      for (const bar of bars) bar.setTotal(barTotal());
    }
    let sum = 0;
    const count = [0, 0, 0];
    const eta = new Array<number>(n);
    for (let r = 0; r < n; r++) {
      const b = bytesOf(r);
      sum += b;
      count[statusOf(r)]!++;
      meters[r]!.add(now, b);
      const rate = meters[r]!.rate;
      eta[r] = statusOf(r) !== Status.sending ? 0 : rate > 0 ? (fileBytes - b) / rate : Number.POSITIVE_INFINITY;
    }
    const live = [...Array(n).keys()].filter((r) => statusOf(r) === Status.sending);
    const slowestEta = live.reduce((m, r) => Math.max(m, eta[r]!), 0);
    const secs = (now - started) / 1000;
    overall.update(0, {
      info:
        `${bytesText(sum)} sent in ${secs.toFixed(0)} s; ${count[Status.sending]} sending, ${count[Status.done]} done, ${count[Status.failed]} failed` +
        (live.length > 0 ? `; ETA ${duration(slowestEta)}` : '') +
        (n > SHOWN_MAX ? `; slowest ${SHOWN_MAX} below` : ''),
    });
    // The slowest live receivers first (longest ETA), then the finished ones.
    const order = [...Array(n).keys()].sort((a, b) => eta[b]! - eta[a]! || bytesOf(a) - bytesOf(b));
    bars.forEach((bar, i) => {
      const r = order[i]!;
      const status = statusOf(r);
      const state_ = status === Status.failed ? 'FAILED' : status === Status.done ? 'done' : `${bytesText(meters[r]!.rate)}/s ETA ${duration(eta[r]!)}`;
      bar.update(bytesOf(r), {
        name: targets[r]!.host.slice(0, 15).padEnd(15),
        info: `${bytesText(bytesOf(r))} ${state_} retx ${state.get(r, Slot.retransmissions)}`,
      });
    });
  };
  const interval = setInterval(tick, REFRESH_MS);
  tick();
  return {
    log: (text) => logAbove(multibar, text),
    stop() {
      clearInterval(interval);
      tick();
      stopDisplay(multibar);
    },
  };
}

/** "512 KiB", "3.2 MiB", "1.4 GiB": three figures or so at any scale (a slow receiver's rate too). */
export function bytesText(bytes: number): string {
  if (bytes < 1048576) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1073741824) return `${(bytes / 1048576).toFixed(1)} MiB`;
  return `${(bytes / 1073741824).toFixed(2)} GiB`;
}

/** "42s", "3m05s", "-" for unknown. */
export function duration(secs: number): string {
  if (!Number.isFinite(secs)) return '-';
  const s = Math.ceil(secs);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
