// The multicast data path's own rules (the group, group.ts, applies them): its defaults, and the repair
// batcher. Every receiver keeps its own WindowFlow (its ACKs, RTT, timer, failure); a flow that finds a segment
// lost does not resend it itself but asks the group, which holds the request briefly so the same loss seen by
// other receivers joins it, then resends by unicast to those who need it, or once to the group when more than
// the fraction of the live receivers do (as NORM aggregates NACKs before repairing).

import { MinHeap } from './heap.js';

/** --window when --multicast is given without one: enough in flight for a LAN's round trip, a short lockstep barrier. */
export const MULTICAST_DEFAULT_WINDOW = 16;

/**
 * --repair-group: a repair goes once to the group when more than this fraction of the live receivers need it.
 * Swept in the simulator at 8 and 1,000 receivers, P = 0.01 and 0.05 (BENCHMARKS.md, "Multicast (simulator)"):
 * a fraction at or above the loss rate sends most repairs by unicast (6 to 53 x the segments at 1,000); 0.001
 * stays within 4 % of the fewest DATA datagrams at both loss rates (a single requester of 1,000 by unicast,
 * two or more by one group copy) with a fifth fewer duplicates per receiver than 0 (every repair to the group);
 * at 8 receivers it, like any fraction below 1/8, sends every repair to the group: as many datagrams as
 * unicast, and the measured fastest.
 */
export const DEFAULT_REPAIR_GROUP_FRACTION = 0.001;

/**
 * A repair request waits this fraction of the requesting receiver's smoothed RTT for others to join it. The
 * same loss reaches the sender from each receiver within the spread of their ACK times; a quarter of a round
 * trip gathers those of similar paths and adds little to the recovery (which takes a round trip anyway).
 */
export const REPAIR_HOLD_SRTT_FRACTION = 0.25;

/** Whether a repair needed by `need` of `live` receivers goes once to the group rather than by unicast. */
export function repairGoesToGroup(need: number, live: number, fraction: number): boolean {
  return need > fraction * live;
}

interface Batch {
  /** When the batch is due. */
  key: number;
  index: number;
  receivers: number[];
}

/** Repair requests by segment, each batch due a hold time after its first request. */
export class RepairBatcher {
  private readonly open = new Map<number, Batch>();
  private readonly due = new MinHeap<Batch>();

  /** Receiver r needs segment `index` again; a new batch is due at `now + holdMs`. */
  request(now: number, index: number, r: number, holdMs: number): void {
    const b = this.open.get(index);
    if (b !== undefined) {
      if (!b.receivers.includes(r)) b.receivers.push(r);
      return;
    }
    const batch: Batch = { key: now + holdMs, index, receivers: [r] };
    this.open.set(index, batch);
    this.due.push(batch.key, batch);
  }

  /** When the earliest batch is due (undefined: none waiting). */
  nextDue(): number | undefined {
    return this.due.peek()?.key;
  }

  /** A batch due by `now` (segment and requesting receivers), removed; undefined when none is due. */
  takeDue(now: number): { index: number; receivers: readonly number[] } | undefined {
    const top = this.due.peek();
    if (top === undefined || top.key > now) return undefined;
    this.due.pop();
    this.open.delete(top.index);
    return top;
  }
}
