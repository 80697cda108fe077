// piscina task: one group of receivers, driven by the GroupLoop over UDP. The file and the counters arrive
// as SharedArrayBuffers: visible to every thread, never copied per receiver.

import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { FailReason, SenderStats } from '../src/core/flow.js';
import { GroupSender, type GroupEvent, type MulticastStats } from '../src/core/group.js';
import type { SenderOptions } from '../src/core/options.js';
import { fileSource, type SharedFile } from '../src/transport/shared-file.js';
import { SharedCoordinator, SharedState } from '../src/transport/shared-state.js';
import { GroupLoop } from '../src/transport/sender-loop.js';
import { UdpSenderTransport } from '../src/transport/udp.js';
import { UdpMulticastSenderTransport, type MulticastSend } from '../src/transport/udp-multicast.js';

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
  /** Where the user-visible events go (the main thread prints them): see TaskEvent. Absent: none are sent. */
  events?: MessagePort;
  /** Emit the group's instrumentation events (benchmarks). */
  instrument?: boolean;
  /** --multicast: the group's address and socket options (the engine then runs one group, in one task). */
  multicast?: MulticastSend;
}

/**
 * The events the main thread shows (event lines, progress, --events), with the receiver's index among all
 * receivers; 'end' comes last, after every other event of the task.
 */
export type TaskEvent =
  | { type: 'timeout'; receiver: number; seq: number }
  | { type: 'done'; receiver: number; elapsedMs: number }
  | { type: 'failed'; receiver: number; reason: FailReason; elapsedMs: number }
  | { type: 'end' };

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

/** One task's outcome: each receiver's, and what belongs to the group's socket(s). */
export interface TaskResult {
  flows: FlowResult[];
  /** DATA datagrams this group put on the wire (a group transmission counts once). */
  datagramsSent: number;
  /** Datagrams from addresses that are none of the receivers' (multicast's unconnected socket only). */
  strangers: number;
  firstStranger: string | undefined;
  /** --multicast: group sends and repairs by kind; undefined for a unicast transfer. */
  multicast: MulticastStats | undefined;
}

export default function sendTask(t: SendTask): Promise<TaskResult> {
  return runSendTask(t, {});
}

/** `post`: where the TaskEvents go (default: the task's port, t.events); the engine passes its own when it runs the task on its thread. */
export function runSendTask(t: SendTask, watch: TaskWatch, post: (ev: TaskEvent) => void = (ev) => t.events?.postMessage(ev)): Promise<TaskResult> {
  const state = new SharedState(t.state, t.totalReceivers, t.groups);
  const group = new GroupSender({ ...t.sender, receivers: t.receivers.length, file: fileSource(t.file), instrument: t.instrument });
  const transport = t.multicast === undefined ? new UdpSenderTransport(t.receivers) : new UdpMulticastSenderTransport(t.receivers, t.multicast);
  const started = performance.now();
  const finishedAt = new Array<number>(t.receivers.length).fill(0);
  return new Promise<TaskResult>((resolve) => {
    const loop = new GroupLoop(group, transport, {
      coordinator: new SharedCoordinator(state, t.group, t.receivers.map((r) => r.index)),
      onEvent(ev) {
        watch.onEvent?.(ev);
        const receiver = t.receivers[ev.receiver]?.index ?? -1;
        if (ev.type === 'timeout') post({ type: 'timeout', receiver, seq: ev.seq });
        else if (ev.type === 'done' || ev.type === 'failed') {
          finishedAt[ev.receiver] = performance.now();
          // The same elapsed time as the summary's (from the task's start), so the line and the table agree.
          const elapsedMs = finishedAt[ev.receiver]! - started;
          post(ev.type === 'done' ? { type: 'done', receiver, elapsedMs } : { type: 'failed', receiver, reason: ev.reason, elapsedMs });
        }
      },
      onFinished(errors, strays, strangers) {
        watch.onFinished?.(group);
        post({ type: 'end' });
        resolve({
          datagramsSent: group.datagramsSent,
          strangers: strangers.count,
          firstStranger: strangers.first,
          multicast: group.multicastStats === undefined ? undefined : { ...group.multicastStats },
          flows: t.receivers.map((rcv, i) => {
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
        });
      },
    });
    void state.waitForAbort().then(() => loop.abort());
    loop.start();
  });
}
