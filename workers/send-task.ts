// piscina task: one group of receivers, driven by the GroupLoop over UDP. The file and the counters arrive
// as SharedArrayBuffers: visible to every thread, never copied per receiver.

import { performance } from 'node:perf_hooks';
import type { FailReason, SenderStats } from '../src/core/flow.js';
import { GroupSender, type GroupEvent } from '../src/core/group.js';
import type { SenderOptions } from '../src/core/options.js';
import { fileSource, type SharedFile } from '../src/transport/shared-file.js';
import { SharedCoordinator, SharedState } from '../src/transport/shared-state.js';
import { GroupLoop } from '../src/transport/sender-loop.js';
import { UdpSenderTransport } from '../src/transport/udp.js';

export interface TaskReceiver {
  /** Index among all receivers (the order of the command line). */
  index: number;
  host: string;
  address: string;
  port: number;
}

export interface SendTask {
  group: number;
  receivers: TaskReceiver[];
  sender: SenderOptions;
  file: SharedFile;
  state: SharedArrayBuffer;
  totalReceivers: number;
  groups: number;
  /** Print "Timeout, sequence number = Y" lines. */
  printEvents: boolean;
  /** Append the receiver's address to event lines (several receivers). */
  labelEvents: boolean;
  /** Emit the group's instrumentation events (benchmarks). */
  instrument?: boolean;
}

/** What a caller other than p2mpclient may watch (the benchmark probe): every event, and the group at the end. */
export interface TaskWatch {
  onEvent?(ev: GroupEvent): void;
  onFinished?(group: GroupSender): void;
}

/** What the sender learned about one receiver. */
export interface FlowResult extends TaskReceiver {
  /** 'unconfirmed': every data segment acknowledged, the end of file not (failReason 'eof-unconfirmed'). */
  status: 'done' | 'failed' | 'unconfirmed';
  failReason: FailReason | undefined;
  error: string | undefined;
  /** Where datagrams for this receiver came from instead of its address (failReason 'wrong-address'). */
  strayFrom: string | undefined;
  stats: SenderStats;
  segmentsTotal: number;
  srttMs: number | undefined;
  rtoMs: number;
  elapsedMs: number;
}

export default function sendTask(t: SendTask): Promise<FlowResult[]> {
  return runSendTask(t, {});
}

export function runSendTask(t: SendTask, watch: TaskWatch): Promise<FlowResult[]> {
  const state = new SharedState(t.state, t.totalReceivers, t.groups);
  const group = new GroupSender({ ...t.sender, receivers: t.receivers.length, file: fileSource(t.file), instrument: t.instrument });
  const transport = new UdpSenderTransport(t.receivers);
  const started = performance.now();
  const finishedAt = new Array<number>(t.receivers.length).fill(0);
  const labels = t.receivers.map((r) => (t.labelEvents ? `, receiver = ${r.address}:${r.port}` : ''));
  return new Promise<FlowResult[]>((resolve) => {
    const loop = new GroupLoop(group, transport, {
      coordinator: new SharedCoordinator(state, t.group, t.receivers.map((r) => r.index)),
      onEvent(ev) {
        watch.onEvent?.(ev);
        if (ev.type === 'timeout' && t.printEvents) process.stdout.write(`Timeout, sequence number = ${ev.seq}${labels[ev.receiver]}\n`);
        else if (ev.type === 'done' || ev.type === 'failed') finishedAt[ev.receiver] = performance.now();
      },
      onFinished(errors, strays) {
        watch.onFinished?.(group);
        resolve(
          t.receivers.map((rcv, i) => {
            const flow = group.flows[i]!;
            return {
              ...rcv,
              status: flow.status === 'done' ? 'done' : flow.failReason === 'eof-unconfirmed' ? 'unconfirmed' : 'failed',
              failReason: flow.failReason,
              error: errors[i],
              strayFrom: strays[i],
              stats: { ...flow.stats },
              segmentsTotal: flow.total,
              srttMs: flow.srttMs,
              rtoMs: flow.rtoMs,
              elapsedMs: finishedAt[i]! - started,
            };
          }),
        );
      },
    });
    void state.waitForAbort().then(() => loop.abort());
    loop.start();
  });
}
