// Live progress on stderr (only when it is a terminal), drawn from the shared counters: the main thread
// samples them a few times a second, so there is no message per segment. One overall bar (bytes, rate,
// ETA) and per-receiver bars; with many receivers, the slowest few plus a count of the rest.

import cliProgress from 'cli-progress';
import type { Target } from '../transport/engine.js';
import { SharedState, Slot, Status } from '../transport/shared-state.js';

const SHOWN_MAX = 5;
const REFRESH_MS = 200;

/** `payload`: data bytes per segment (payloadBytes of the MSS and the wire's trailer). */
export function startProgress(state: SharedState, targets: Target[], fileBytes: number, payload: number): { stop(): void } {
  const n = targets.length;
  const bytesOf = (r: number): number => Math.min(fileBytes, state.get(r, Slot.acked) * payload);
  const multibar = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: '{name} [{bar}] {percentage}% {value}/{total} {info}',
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
      autopadding: true,
      formatValue: (v, _opts, type) => (type === 'value' || type === 'total' ? mib(v) : String(v)),
    },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.max(1, fileBytes * n);
  const overall = multibar.create(total, 0, { name: 'all'.padEnd(15), info: '' });
  const bars = Array.from({ length: Math.min(n, SHOWN_MAX) }, () => multibar.create(Math.max(1, fileBytes), 0, { name: '', info: '' }));
  const started = Date.now();

  const tick = (): void => {
    let sum = 0;
    let failed = 0;
    for (let r = 0; r < n; r++) {
      sum += bytesOf(r);
      if (state.get(r, Slot.status) === Status.failed) failed++;
    }
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? sum / secs : 0;
    const eta = rate > 0 ? (total - sum) / rate : Number.NaN;
    overall.update(sum, {
      info: `${mib(rate)}/s ETA ${Number.isFinite(eta) ? eta.toFixed(1) + 's' : '-'}${failed ? `, ${failed} failed` : ''}${n > SHOWN_MAX ? `, slowest ${SHOWN_MAX} of ${n} below` : ''}`,
    });
    // Slowest first among receivers still sending, then the rest.
    const order = [...Array(n).keys()].sort((a, b) => rank(a) - rank(b) || bytesOf(a) - bytesOf(b));
    bars.forEach((bar, i) => {
      const r = order[i]!;
      const status = state.get(r, Slot.status);
      bar.update(bytesOf(r), {
        name: targets[r]!.host.slice(0, 15).padEnd(15),
        info: `retx ${state.get(r, Slot.retransmissions)}${status === Status.failed ? ' FAILED' : status === Status.done ? ' done' : ''}`,
      });
    });
  };
  const rank = (r: number): number => (state.get(r, Slot.status) === Status.sending ? 0 : 1);
  const interval = setInterval(tick, REFRESH_MS);
  tick();
  return {
    stop() {
      clearInterval(interval);
      tick();
      multibar.stop();
    },
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
