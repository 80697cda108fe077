// piscina task: one receiver's stop-and-wait loop. Many tasks share a thread (concurrentTasksPerWorker),
// since a loop mostly waits. The file and the counters arrive as SharedArrayBuffers: visible to every
// thread, never copied per receiver.

import type { EofMode } from '../src/core/sender.js';
import type { RtoConfig } from '../src/core/rto.js';
import { runSenderLoop, type Mode, type ReceiverResult } from '../src/transport/sender-loop.js';
import { fileSource } from '../src/transport/shared-file.js';
import { SharedState } from '../src/transport/shared-state.js';

export interface SendTask {
  index: number;
  host: string;
  address: string;
  port: number;
  mss: number;
  eof: EofMode;
  rto: RtoConfig;
  giveUpMs: number;
  mode: Mode;
  file: SharedArrayBuffer;
  fileLength: number;
  windowBytes: number;
  state: SharedArrayBuffer;
  receivers: number;
  printEvents: boolean;
  labelEvents: boolean;
}

export default function sendTask(t: SendTask): Promise<ReceiverResult> {
  return runSenderLoop({
    ...t,
    file: fileSource({ buffer: t.file, length: t.fileLength, windowBytes: t.windowBytes }),
    state: new SharedState(t.state, t.receivers),
  });
}
