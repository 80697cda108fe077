// Benchmark-only piscina task: the real send task (workers/send-task.ts, hence the real runSenderLoop and
// SenderMachine), plus, with `recordRtt`, every RTT sample the machine takes (Karn: first transmissions
// only) and the time of each timeout. It patches SenderMachine.prototype in its own thread, so the
// product code is untouched; p2mpclient never loads this file.

import { SenderMachine, type SenderEvent } from '../src/core/sender.js';
import sendTask, { type SendTask } from '../workers/send-task.js';
import type { ReceiverResult } from '../src/transport/sender-loop.js';

export interface ProbeTask extends SendTask {
  recordRtt: boolean;
}

export interface ProbeResult {
  result: ReceiverResult;
  /** RTT samples (ms) recorded in this thread since the previous task of this thread ended. */
  rtts: number[];
  /** For each timeout: how long after its deadline the timer actually fired (ms). */
  timeoutLateness: number[];
  /** Timer wake-ups (handleTimeout calls) that found no timeout due yet. */
  idleWakeups: number;
}

let samples: number[] = [];
let lateness: number[] = [];
let idleWakeups = 0;
let patched = false;

/** The machine's private fields this probe reads (TypeScript privacy is compile-time only). */
interface MachineInternals {
  deadline: number | undefined;
  stats: { timeouts: number };
}

function patch(): void {
  if (patched) return;
  patched = true;
  const original = SenderMachine.prototype.pollEvent;
  SenderMachine.prototype.pollEvent = function (this: SenderMachine): SenderEvent | undefined {
    const ev = original.call(this);
    if (ev?.type === 'acked' && ev.rttMs !== undefined) samples.push(ev.rttMs);
    return ev;
  };
  const originalTimeout = SenderMachine.prototype.handleTimeout;
  SenderMachine.prototype.handleTimeout = function (this: SenderMachine, now: number): void {
    const m = this as unknown as MachineInternals;
    const deadline = m.deadline;
    const before = m.stats.timeouts;
    originalTimeout.call(this, now);
    if (m.stats.timeouts > before && deadline !== undefined) lateness.push(now - deadline);
    else if (m.stats.timeouts === before) idleWakeups++;
  };
}

export default async function probeTask(t: ProbeTask): Promise<ProbeResult> {
  if (t.recordRtt) patch();
  const result = await sendTask(t);
  const out = { result, rtts: samples, timeoutLateness: lateness, idleWakeups };
  samples = [];
  lateness = [];
  idleWakeups = 0;
  return out;
}
