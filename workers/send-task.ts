// piscina task: one receiver's stop-and-wait loop. Many tasks share a thread (concurrentTasksPerWorker),
// since a loop mostly waits. The file and the counters arrive as SharedArrayBuffers: visible to every
// thread, never copied per receiver.

import { runSenderLoop, type LoopOptions, type ReceiverResult } from '../src/transport/sender-loop.js';
import { fileSource } from '../src/transport/shared-file.js';
import { SharedState } from '../src/transport/shared-state.js';

/** The loop's options as they cross to the worker: the file and counters as SharedArrayBuffers. */
export interface SendTask extends Omit<LoopOptions, 'file' | 'state'> {
  file: SharedArrayBuffer;
  fileLength: number;
  windowBytes: number;
  state: SharedArrayBuffer;
  receivers: number;
}

export default function sendTask(t: SendTask): Promise<ReceiverResult> {
  return runSenderLoop({
    ...t,
    file: fileSource({ buffer: t.file, length: t.fileLength, windowBytes: t.windowBytes }),
    state: new SharedState(t.state, t.receivers),
  });
}
