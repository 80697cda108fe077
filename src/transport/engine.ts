// The sender's engine: the receivers split into one group per worker thread (piscina), every thread reading
// one SharedArrayBuffer copy of the file and publishing counters into one SharedState. The main thread only
// starts the groups, keeps the file buffer filled behind the slowest live receiver, reads counters for
// progress, relays Ctrl-C as an abort flag, and collects one result per receiver at the end.
// One group runs on the main thread instead: a worker thread buys nothing for a single group and costs ~50 ms of
// start-up and ~15 ms of teardown (BENCHMARKS.md "Loopback targets"), the whole transfer of a small file.

import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { Mode, SenderOptions } from '../core/options.js';
import type { FlowResult, SendTask, TaskEvent, TaskResult } from '../../workers/send-task.js';
import type { MulticastSend } from './udp-multicast.js';
import type { SharedFile } from './shared-file.js';
import { SharedState } from './shared-state.js';

export interface Target {
  host: string;
  address: string;
  /** This receiver's own port (HOST:PORT); default: EngineOptions.port. */
  port?: number;
}

export interface EngineOptions {
  targets: Target[];
  port: number;
  file: SharedFile;
  /** Loads further segments of a buffered file (see openSharedFile); false once nothing is left to load. */
  advanceBuffer: (state: SharedState) => boolean;
  sender: SenderOptions;
  /** Worker threads; receivers are spread evenly over them, one group each (--multicast: always one). */
  threads: number;
  /** --multicast: DATA goes once to the group (udp-multicast.ts); the sender options must say multicast too. */
  multicast?: MulticastSend;
  /** Each receiver's timeouts, completion and failure, on the main thread (receiver: index in `targets`). */
  onEvent?: (ev: Exclude<TaskEvent, { type: 'end' }>) => void;
}

export interface EngineRun {
  state: SharedState;
  /** Resolves with one result per receiver, in the order of `targets`. */
  done: Promise<{ results: FlowResult[]; elapsedMs: number; readError: string | undefined } & Omit<TaskResult, 'flows'>>;
  abort(): void;
}

/** How often the main thread tops up a buffered file (a few ms: a quarter buffer takes far longer to drain). */
const BUFFER_POLL_MS = 2;

const WORKER = new URL('../../workers/send-task.js', import.meta.url);

/**
 * Up to this many independent receivers one group on the main thread beats a thread per core (measured with 3,
 * BENCHMARKS.md "Loopback targets"): it saves the worker start-up, and a second loop gains little for so few.
 */
const ONE_THREAD_RECEIVERS = 3;

/**
 * Measured on loopback (BENCHMARKS.md, "threads"): beyond a few receivers independent ones gain from a thread
 * per core; in lockstep a cross-thread barrier costs more than a second thread gains, so one group holds everybody.
 */
export function defaultThreads(receivers: number, mode: Mode): number {
  if (mode === 'lockstep' || receivers <= ONE_THREAD_RECEIVERS) return 1;
  return Math.min(receivers, os.availableParallelism());
}

/** The pool the groups run on: one long-lived asynchronous task per thread (piscina loaded only when threads are used). */
export async function createLoopPool(worker: URL, groups: number): Promise<Piscina> {
  const { Piscina } = await import('piscina');
  return new Piscina({ filename: worker.href, minThreads: groups, maxThreads: groups, concurrentTasksPerWorker: 1, atomics: 'disabled', idleTimeout: 1000 });
}

/** Receiver indices of each group: round-robin, so groups differ in size by at most one. */
export function partition(receivers: number, threads: number): number[][] {
  const groups = Math.max(1, Math.min(threads, receivers));
  const out: number[][] = Array.from({ length: groups }, () => []);
  for (let r = 0; r < receivers; r++) out[r % groups]!.push(r);
  return out;
}

/**
 * Publish the loaded buffer before any group starts, then keep it moving behind the slowest live receiver.
 * A read error mid-transfer (file truncated or unreadable) stops every group and goes to `onError`, not up
 * the stack. Returns the function that stops the refills.
 */
export function driveBuffer(advanceBuffer: (state: SharedState) => boolean, state: SharedState, onError: (message: string) => void): () => void {
  const advance = (): boolean => {
    try {
      return advanceBuffer(state);
    } catch (err) {
      onError(err instanceof Error ? err.message : String(err));
      state.abort();
      return false;
    }
  };
  const timer = advance() ? setInterval(() => advance() || clearInterval(timer), BUFFER_POLL_MS) : undefined;
  return () => clearInterval(timer);
}

/** The shared state and one task per group (the receivers split over `o.threads`). */
export function planTasks(o: Omit<EngineOptions, 'advanceBuffer' | 'onEvent'>): { state: SharedState; tasks: SendTask[] } {
  const n = o.targets.length;
  // A group transmission is one send from one socket: every receiver of a multicast transfer is in one group.
  const groups = partition(n, o.multicast === undefined ? o.threads : 1);
  const state = SharedState.create(n, groups.length);
  const tasks = groups.map(
    (members, index): SendTask => ({
      group: index,
      receivers: members.map((r) => ({ index: r, host: o.targets[r]!.host, address: o.targets[r]!.address, port: o.targets[r]!.port ?? o.port })),
      // --rate is the sender's total: each group (thread) paces its share, in proportion to its receivers.
      sender: o.sender.rateBitsPerSec === undefined ? o.sender : { ...o.sender, rateBitsPerSec: (o.sender.rateBitsPerSec * members.length) / n },
      file: o.file,
      state: state.buffer,
      totalReceivers: n,
      groups: groups.length,
      multicast: o.multicast,
    }),
  );
  return { state, tasks };
}

/** Run a task with a port for its events; resolves once both its result and its last event have arrived. */
async function runForwarding(pool: Piscina, task: SendTask, onEvent: NonNullable<EngineOptions['onEvent']>): Promise<TaskResult> {
  const { port1, port2 } = new MessageChannel();
  const ended = new Promise<void>((resolve) =>
    port1.on('message', (ev: TaskEvent) => {
      if (ev.type !== 'end') return onEvent(ev);
      port1.close();
      resolve();
    }),
  );
  const [results] = await Promise.all([pool.run({ ...task, events: port2 }, { transferList: [port2] }) as Promise<TaskResult>, ended]);
  return results;
}

/** Run one group's task on this thread: its events go straight to `onEvent` (in order, 'end' last, as through a port). */
async function runHere(task: SendTask, onEvent: EngineOptions['onEvent']): Promise<TaskResult> {
  const { runSendTask } = await import('../../workers/send-task.js');
  return runSendTask(task, {}, onEvent === undefined ? undefined : (ev) => ev.type === 'end' || onEvent(ev));
}

/** Run every group on its own worker thread; `ended` is called once every group has ended, before the pool is torn down. */
async function runOnPool(tasks: SendTask[], onEvent: EngineOptions['onEvent'], ended: () => void): Promise<TaskResult[]> {
  const pool = await createLoopPool(WORKER, tasks.length);
  try {
    const perGroup = await Promise.all(tasks.map((task) => (onEvent === undefined ? (pool.run(task) as Promise<TaskResult>) : runForwarding(pool, task, onEvent))));
    ended();
    return perGroup;
  } finally {
    await pool.destroy();
  }
}

export function startEngine(o: EngineOptions): EngineRun {
  const { state, tasks } = planTasks(o);
  let readError: string | undefined;
  const stopBuffer = driveBuffer(o.advanceBuffer, state, (message) => (readError = message));
  const started = performance.now();
  let elapsedMs = 0;
  const ended = (): number => (elapsedMs = performance.now() - started);
  const groups = tasks.length === 1 ? runHere(tasks[0]!, o.onEvent).then((r) => (ended(), [r])) : runOnPool(tasks, o.onEvent, ended);
  const done = groups.then((perGroup) => {
    stopBuffer();
    const results = perGroup.flatMap((g) => g.flows).sort((a, b) => a.index - b.index);
    const sum = (k: 'datagramsSent' | 'strangers'): number => perGroup.reduce((s, g) => s + g[k], 0);
    const firstStranger = perGroup.find((g) => g.firstStranger !== undefined)?.firstStranger;
    // A multicast transfer is one group (planTasks), so its stats are that group's.
    const multicast = perGroup[0]?.multicast;
    return { results, elapsedMs, readError, datagramsSent: sum('datagramsSent'), strangers: sum('strangers'), firstStranger, multicast };
  });
  return { state, done, abort: () => state.abort() };
}
