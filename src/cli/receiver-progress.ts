// p2mpserver's live line on stderr (only when it is a terminal): bytes so far, the current rate, drops.
// Lines printed while it is drawn (the loss lines when stdout is the same terminal) go above it.

import cliProgress from 'cli-progress';
import type { ReceiverStats } from '../core/receiver.js';
import { bytesText, logAbove, RateMeter, stopDisplay } from './progress.js';

const REFRESH_MS = 200;

export interface LiveLine {
  log(text: string): void;
  stop(): void;
}

export function startLiveLine(read: () => { stats: Readonly<ReceiverStats>; peer: string | undefined }, listening: string): LiveLine {
  const multibar = new cliProgress.MultiBar({
    stream: process.stderr,
    format: (_options, _params, payload: { info: string }) => payload.info,
    hideCursor: true,
    clearOnComplete: true,
    forceRedraw: true, // see startProgress
    linewrap: false,
  });
  const line = multibar.create(1, 0, { info: `waiting for a sender on ${listening}` });
  const meter = new RateMeter();
  const tick = (): void => {
    const { stats: s, peer } = read();
    if (peer === undefined) return;
    meter.add(Date.now(), s.bytes);
    line.update(0, { info: `from ${peer}: ${bytesText(s.bytes)}, ${bytesText(meter.rate)}/s, ${s.segments} segments, drops ${s.drops}, dups ${s.duplicates}` });
  };
  const interval = setInterval(tick, REFRESH_MS);
  return {
    log: (text) => logAbove(multibar, text),
    stop() {
      clearInterval(interval);
      stopDisplay(multibar);
    },
  };
}

