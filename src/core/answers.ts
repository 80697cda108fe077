// How a sender flow (SenderFlow in flow.ts, WindowFlow in window.ts) takes the answers of the --verify/--key
// wire (README, "Wire extensions"): the flow's wire (sender-wire.ts) says whether a datagram is an authentic
// answer at all; these rules say what an authentic answer means. One place, so the stop-and-wait and the
// windowed flow cannot drift apart on what completes a transfer.

import { ACK_STATUS, type AckStatus } from './extension.js';
import type { FailReason } from './flow.js';
import type { FlowWire } from './sender-wire.js';

/**
 * What an authentic ACK's status means for the segment it names: 'progress' when it is the status that segment's
 * ACK must carry (ACK for data; COMMITTED, and only COMMITTED, for the END: that ACK promises the file is in
 * place), 'mismatch' for the END's MISMATCH (the receiver refused the file), 'stray' otherwise (a status that
 * does not fit the segment: never sent by an honest receiver, so it changes nothing).
 */
export function statusMeaning(status: AckStatus, isEnd: boolean): 'progress' | 'mismatch' | 'stray' {
  if (status === (isEnd ? ACK_STATUS.committed : ACK_STATUS.ack)) return 'progress';
  return isEnd && status === ACK_STATUS.mismatch ? 'mismatch' : 'stray';
}

/**
 * Why a receiver is given up on, with `acked` segments acknowledged and `unreachable` ICMP reports: one that only
 * ever said "port unreachable" never listened; with --verify/--key, one that never sent a valid answer of the
 * wire's mode is most likely running in another mode (or with another key). With --key ICMP names nothing (see
 * ignoresUnreachable): a reason it would ignore must not be the one its give-up reports, or it would never fail.
 */
export function giveUpReason(wire: FlowWire | undefined, answered: boolean, acked: number, unreachable: number): FailReason {
  if (acked === 0 && unreachable > 0 && wire?.mode !== 'key') return 'port-unreachable';
  return wire !== undefined && !answered ? 'no-valid-answer' : 'no-answer';
}

/**
 * With --key nothing unauthenticated may end a transfer, and ICMP is unauthenticated (anyone can forge a port
 * unreachable): a receiver that is really gone is found by the give-up time instead.
 */
export function ignoresUnreachable(wire: FlowWire | undefined, reason: FailReason): boolean {
  return reason === 'port-unreachable' && wire?.mode === 'key';
}
