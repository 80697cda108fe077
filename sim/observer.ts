// Invariant checks, made from outside the machines: the observer sees every datagram the driver moves and every
// event the machines emit, and keeps its own model of what is legal. It never changes the run.

import { Buffer } from 'node:buffer';
import { peekSeq, peekType, TYPE_FIN } from '../src/core/codec.js';
import { TYPE_KHELLO, TYPE_KRESPONSE } from '../src/core/extension.js';
import { decodeSack, isSack } from '../src/core/sack.js';

export type ViolationKind =
  | 'duplicate-write' // a receiver wrote a segment it had already written
  | 'out-of-order-write' // a receiver wrote a segment before its predecessor
  | 'corrupted-write' // a datagram the network corrupted was written
  | 'wrong-bytes-write' // written bytes differ from the file at that offset
  | 'multiple-unacked' // a sender transmitted a segment with N segments already unacknowledged (N = 1: stop-and-wait)
  | 'lockstep-barrier' // segment j reached a receiver before every live receiver's ACK of j - N was accepted
  | 'group-ahead' // multicast: segment j went to the group before every live receiver's ACK of j - N was accepted
  | 'repair-to-holder' // multicast: a unicast copy of a segment the sender knew the receiver held (ACKed or SACKed)
  | 'ack-for-unsent' // an honest (uncorrupted) ACK named a segment never sent
  | 'ack-accepted-unwritten' // a sender accepted an ACK for a segment its receiver never wrote
  | 'acked-not-outstanding' // a sender reported an ACK for a segment not in flight, or out of order
  | 'timer-livelock'; // a machine woken at its pollTimeout() asked to be woken again at (or before) that instant

export interface Violation {
  kind: ViolationKind;
  receiver: number;
  timeMs: number;
  detail: string;
}

/** What the observer may ask the driver about the senders (for the lockstep check). */
export interface SenderView {
  acked(r: number): number;
  live(r: number): boolean;
}

const MAX_RECORDED = 50;

const isFin = (bytes: Uint8Array): boolean => peekType(bytes) === TYPE_FIN;

/** A --key handshake step: sent before segment 0, not a segment of the file. */
function isHandshake(bytes: Uint8Array): boolean {
  const type = peekType(bytes);
  return type === TYPE_KHELLO || type === TYPE_KRESPONSE;
}

export class Observer {
  readonly violations: Violation[] = [];
  /** Total violations, including those not recorded beyond MAX_RECORDED. */
  count = 0;
  /** Segments written so far, per receiver (= index of the next segment it may write). */
  readonly written: number[];
  /** Bytes written so far, per receiver. */
  readonly writtenBytes: number[];
  /** Writes that were out of order, duplicated, corrupted or wrong, per receiver. */
  private readonly faultyWrites: number[];
  /** Segments each sender has reported acknowledged (in order: one 'acked' event per segment). */
  private readonly acked: number[];
  /** One past the highest index each sender has transmitted. */
  private readonly highSent: number[];
  /** A lower bound of min(acked) over live senders; both only grow, so it stays a lower bound. */
  private barrierFloor = 0;
  private readonly payloadBytes: number;
  private readonly fileBuffer: Buffer;
  /** Multicast: per receiver, the segments an honest SACK that reached the sender reported held. */
  private readonly sacked: Uint8Array[] | undefined;

  constructor(
    receivers: number,
    private readonly file: Uint8Array,
    /** Data bytes per segment (payloadBytes of the MSS and the wire's trailer). */
    payload: number,
    private readonly total: number,
    private readonly initialSeq: number,
    private readonly lockstep: boolean,
    private readonly senders: SenderView,
    /** Where each receiver's written bytes go (the simulated disk); undefined = check but do not keep. */
    private readonly disks: Uint8Array[] | undefined,
    /** N: at most this many unacknowledged segments per receiver. */
    private readonly window = 1,
    /** The multicast data path: also check the group's window and that unicast repairs go only to receivers missing them. */
    multicast = false,
  ) {
    this.sacked = multicast ? Array.from({ length: receivers }, () => new Uint8Array(total)) : undefined;
    this.written = new Array<number>(receivers).fill(0);
    this.writtenBytes = new Array<number>(receivers).fill(0);
    this.acked = new Array<number>(receivers).fill(0);
    this.highSent = new Array<number>(receivers).fill(0);
    this.faultyWrites = new Array<number>(receivers).fill(0);
    this.payloadBytes = payload;
    this.fileBuffer = Buffer.from(file.buffer, file.byteOffset, file.length);
  }

  private report(kind: ViolationKind, receiver: number, timeMs: number, detail: string): void {
    this.count++;
    if (this.violations.length < MAX_RECORDED) this.violations.push({ kind, receiver, timeMs, detail });
  }

  /** Index of a segment as named by its header (FIN is always the last segment). */
  indexOf(bytes: Uint8Array): number {
    return isFin(bytes) ? this.total - 1 : (peekSeq(bytes) - this.initialSeq) >>> 0;
  }

  /** The sender for receiver r put a DATA/FIN datagram on the wire. */
  onTransmit(r: number, now: number, bytes: Uint8Array): void {
    if (isHandshake(bytes)) return;
    const index = this.indexOf(bytes);
    this.checkWindow(r, now, index);
    if (this.sacked !== undefined && (index < this.acked[r]! || this.sacked[r]![index] === 1)) {
      this.report('repair-to-holder', r, now, `unicast copy of ${index}, which the sender knew it held (acked ${this.acked[r]})`);
    }
  }

  private checkWindow(r: number, now: number, index: number): void {
    const acked = this.acked[r]!;
    if (index >= acked + this.window) this.report('multiple-unacked', r, now, `sent ${index} with segments ${acked}..${index - 1} unacked (N = ${this.window})`);
    this.highSent[r] = Math.max(this.highSent[r]!, index + 1);
  }

  /** Multicast: the sender sent a DATA/FIN datagram once to the group (for every live receiver). */
  onGroupTransmit(now: number, bytes: Uint8Array): void {
    const index = this.indexOf(bytes);
    let floor = Number.POSITIVE_INFINITY;
    for (let q = 0; q < this.acked.length; q++) {
      if (!this.senders.live(q)) continue;
      floor = Math.min(floor, this.senders.acked(q));
      this.checkWindow(q, now, index);
    }
    if (index > floor + this.window - 1) this.report('group-ahead', -1, now, `segment ${index} to the group, min live acked ${floor}, N = ${this.window}`);
  }

  /** An honest ACK from receiver r reached the sender (multicast: its SACK ranges are what the sender knows it holds). */
  onAckArrival(r: number, bytes: Uint8Array): void {
    if (this.sacked === undefined || !isSack(bytes)) return;
    const d = decodeSack(bytes);
    if (!d.ok) return;
    const held = this.sacked[r]!;
    for (const range of d.sack.ranges) {
      const from = (range.start - this.initialSeq) >>> 0;
      const to = Math.min((range.end - this.initialSeq) >>> 0, held.length);
      for (let i = from; i < to; i++) held[i] = 1;
    }
  }

  /** The sender for receiver r accepted the ACK of segment `index`. */
  onAcked(r: number, now: number, index: number): void {
    if (index !== this.acked[r] || index >= this.highSent[r]!) this.report('acked-not-outstanding', r, now, `acked ${index}, next unacked ${this.acked[r]}, sent up to ${this.highSent[r]! - 1}`);
    this.acked[r] = index + 1;
    if (this.written[r]! <= index) this.report('ack-accepted-unwritten', r, now, `acked ${index}, receiver wrote ${this.written[r]}`);
  }

  /** A DATA/FIN datagram reached receiver r (before the receiver handles it). */
  onArrival(r: number, now: number, bytes: Uint8Array, corrupted: boolean, receivers: number): void {
    if (!this.lockstep || corrupted || isHandshake(bytes)) return;
    const index = this.indexOf(bytes);
    const slack = this.window - 1;
    if (index <= this.barrierFloor + slack) return;
    let floor = Number.POSITIVE_INFINITY;
    for (let q = 0; q < receivers; q++) if (this.senders.live(q)) floor = Math.min(floor, this.senders.acked(q));
    this.barrierFloor = floor;
    if (index > floor + slack) this.report('lockstep-barrier', r, now, `segment ${index} arrived, min live acked ${floor}, N = ${this.window}`);
  }

  /** Receiver r delivered `payload` as the segment with sequence number `seq`; the driver writes it here. */
  onWrite(r: number, now: number, bytes: Uint8Array, corrupted: boolean, seq: number, payload: Uint8Array): void {
    const index = isFin(bytes) ? this.total - 1 : (seq - this.initialSeq) >>> 0;
    const expected = this.written[r]!;
    if (corrupted) this.report('corrupted-write', r, now, `segment ${index} written from a corrupted datagram`);
    if (index < expected) this.report('duplicate-write', r, now, `segment ${index} written again`);
    else if (index > expected) this.report('out-of-order-write', r, now, `segment ${index} written, expected ${expected}`);
    if (corrupted || index !== expected) this.faultyWrites[r]!++;
    this.written[r] = Math.max(expected, index + 1);
    if (payload.length === 0) return;
    const offset = index * this.payloadBytes;
    const end = offset + payload.length;
    // Buffer#compare takes the payload as a plain Uint8Array: a native memcmp with no per-segment allocation.
    if (end > this.file.length || this.fileBuffer.compare(payload, 0, payload.length, offset, end) !== 0) {
      this.faultyWrites[r]!++;
      this.report('wrong-bytes-write', r, now, `segment ${index} bytes differ from the file`);
      return;
    }
    this.disks?.[r]!.set(payload, offset);
    this.writtenBytes[r] = Math.max(this.writtenBytes[r]!, offset + payload.length);
  }

  /** Whether receiver r wrote exactly the file: every segment in order, every byte checked against the file. */
  wroteWholeFile(r: number): boolean {
    return this.faultyWrites[r] === 0 && this.writtenBytes[r] === this.file.length;
  }

  /** Machine `which` of receiver r handled its timeout at `now` and still wants a wake-up no later than now. */
  onTimerLivelock(which: 'sender' | 'receiver', r: number, now: number): void {
    this.report('timer-livelock', r, now, `${which} handled its timeout at ${now} ms and asked to be woken at ${now} ms again`);
  }

  /** An uncorrupted ACK made sender r count an ACK for a segment never sent. */
  onAckForUnsent(r: number, now: number): void {
    this.report('ack-for-unsent', r, now, 'an honest ACK named a segment never sent');
  }
}
