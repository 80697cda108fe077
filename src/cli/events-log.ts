// Where the sender's per-receiver events go, on the main thread (the worker threads forward them): the
// classic "Timeout, sequence number = Y" line on stdout (above the progress display when both are the
// terminal), one line on stderr when a receiver completes or fails, the --events NDJSON status stream
// (one JSON object a line, ISO timestamps, as UFTP's -S) and the log.

import fs from 'node:fs';
import type { Target } from '../transport/engine.js';
import type { TaskEvent } from '../../workers/send-task.js';
import { jsonLine, statusOf } from './json.js';
import { openAppend, toStderr, type LineWriter, type Logger } from './log.js';
import { REASON_TEXT } from './summary.js';

export type ReceiverEvent = Exclude<TaskEvent, { type: 'end' }>;

export interface EventSinkOptions {
  targets: readonly Target[];
  port: number;
  /** Event lines and the per-receiver lines on the terminal (not with --quiet / --json). */
  print: boolean;
  /** --events FILE. */
  eventsFile: string | undefined;
  log: Logger;
}

export class EventSink {
  /** Where the classic lines go: stdout, or above the progress display when stdout is the terminal it is drawn on. */
  stdout: LineWriter = (line) => process.stdout.write(line);
  /** Where the per-receiver lines go: stderr, or above the progress display. */
  stderr: LineWriter = toStderr;

  private finished = 0;
  private readonly fd: number | undefined;
  private readonly names: string[];
  private readonly labels: string[];

  constructor(private readonly o: EventSinkOptions) {
    this.fd = o.eventsFile === undefined ? undefined : openAppend('--events', o.eventsFile);
    this.names = o.targets.map((t) => `${t.address}:${t.port ?? o.port}`);
    // The classic line names the receiver only when there are several (as before).
    this.labels = this.names.map((n) => (o.targets.length > 1 ? `, receiver = ${n}` : ''));
  }

  /** Whether anything consumes events (if not, the worker threads need not forward them). */
  get wanted(): boolean {
    return this.o.print || this.fd !== undefined || this.o.log.enabled;
  }

  /** A status-stream record: { time, event, ...fields }. */
  record(event: string, fields: object): void {
    if (this.fd !== undefined) fs.writeSync(this.fd, jsonLine({ time: new Date().toISOString(), event, ...fields }));
  }

  handle(ev: ReceiverEvent): void {
    const name = this.names[ev.receiver]!;
    const host = this.o.targets[ev.receiver]!.host;
    if (ev.type === 'timeout') {
      if (this.o.print) this.stdout(`Timeout, sequence number = ${ev.seq}${this.labels[ev.receiver]}\n`);
      this.record('timeout', { receiver: name, host, seq: ev.seq });
      this.o.log.log(`timeout, receiver ${name}, sequence number ${ev.seq}`);
      return;
    }
    const secs = (ev.elapsedMs / 1000).toFixed(3);
    const n = `[${++this.finished}/${this.names.length}]`;
    if (ev.type === 'done') {
      if (this.o.print) this.stderr(`p2mpclient: ${n} ${name} complete in ${secs} s\n`);
      this.record('complete', { receiver: name, host, status: 'complete', reason: null, elapsedMs: Math.round(ev.elapsedMs) });
      this.o.log.log(`receiver ${name} complete in ${secs} s`);
    } else {
      const reason = ev.reason === 'aborted' ? 'interrupted' : ev.reason;
      const status = statusOf(reason);
      const text = REASON_TEXT[reason];
      if (this.o.print) this.stderr(`p2mpclient: ${n} ${name} ${status.toUpperCase()} after ${secs} s: ${text}\n`);
      this.record(status, { receiver: name, host, status, reason, elapsedMs: Math.round(ev.elapsedMs) });
      this.o.log.log(`receiver ${name} ${status}: ${text}`);
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
  }
}
