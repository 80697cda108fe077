// Benchmark-only piscina task: the real send task (workers/send-task.ts, hence the real GroupLoop and
// GroupSender) with the group's instrumentation events on: every RTT sample the flows take (Karn: first
// transmissions only), how late each timeout was handled, and the timer wake-ups that found nothing due.
// p2mpclient never loads this file.

import { runSendTask, type FlowResult, type SendTask } from '../workers/send-task.js';

export interface ProbeTask extends SendTask {
  recordRtt: boolean;
}

export interface ProbeResult {
  results: FlowResult[];
  /** RTT samples (ms) of this task's group. */
  rtts: number[];
  /** For each timeout: how long after its deadline the timer actually fired (ms). */
  timeoutLateness: number[];
  /** Timer wake-ups that found no deadline due yet. */
  idleWakeups: number;
}

export default async function probeTask(t: ProbeTask): Promise<ProbeResult> {
  const rtts: number[] = [];
  const timeoutLateness: number[] = [];
  let idleWakeups = 0;
  const { flows: results } = await runSendTask(
    { ...t, instrument: t.recordRtt },
    {
      onEvent(ev) {
        if (!t.recordRtt) return;
        if (ev.type === 'rtt') rtts.push(ev.rttMs);
        else if (ev.type === 'timeout') timeoutLateness.push(ev.lateMs);
      },
      onFinished: (group) => (idleWakeups = group.idleWakeups),
    },
  );
  return { results, rtts, timeoutLateness, idleWakeups };
}
