// The sender's engine: one piscina task per receiver, all reading one SharedArrayBuffer copy of the file
// and publishing counters into one SharedState. The main thread only starts tasks, reads counters for
// progress, relays Ctrl-C as an abort flag, and collects one result per receiver at the end.

import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import type { EofMode } from '../core/sender.js';
import type { RtoConfig } from '../core/rto.js';
import type { Mode, ReceiverResult } from './sender-loop.js';
import type { SharedFile } from './shared-file.js';
import { SharedState } from './shared-state.js';
import type { SendTask } from '../../workers/send-task.js';

export interface Target {
  host: string;
  address: string;
}

export interface EngineOptions {
  targets: Target[];
  port: number;
  file: SharedFile;
  /** Loads further segments of a windowed file (see openSharedFile); false once nothing is left to load. */
  advanceWindow: (state: SharedState) => boolean;
  mss: number;
  eof: EofMode;
  mode: Mode;
  rto: RtoConfig;
  giveUpMs: number;
  /** Worker threads; loops are spread evenly over them. */
  threads: number;
  printEvents: boolean;
}

export interface EngineRun {
  state: SharedState;
  /** Resolves with one result per receiver, in the order of `targets`. */
  done: Promise<{ results: ReceiverResult[]; elapsedMs: number; readError: string | undefined }>;
  abort(): void;
}

/** How often the main thread tops up a windowed file (a few ms: a quarter window takes far longer to drain). */
const WINDOW_POLL_MS = 2;

const WORKER = new URL('../../workers/send-task.js', import.meta.url);

/**
 * Measured on loopback (BENCHMARKS.md, "threads"): independent loops gain from a thread per core; in lockstep
 * the barrier's cross-thread wake-ups cost more than a second thread gains, so all loops share one.
 */
export function defaultThreads(receivers: number, mode: Mode): number {
  if (mode === 'lockstep') return 1;
  return Math.max(1, Math.min(receivers, os.availableParallelism()));
}

/**
 * The pool the per-receiver loops run on. Every loop must be running at once (lockstep waits for all of
 * them), so capacity covers all receivers; atomics are off because tasks are asynchronous and long-lived.
 */
export function createLoopPool(worker: URL, receivers: number, threads: number): Piscina {
  const t = Math.max(1, Math.min(threads, receivers));
  return new Piscina({
    filename: worker.href,
    minThreads: t,
    maxThreads: t,
    concurrentTasksPerWorker: Math.ceil(receivers / t),
    atomics: 'disabled',
    idleTimeout: 1000,
  });
}

/**
 * Publish the loaded window before any loop starts, then keep it moving behind the slowest live receiver.
 * A read error mid-transfer (file truncated or unreadable) stops every loop and goes to `onError`, not up
 * the stack. Returns the function that stops the refills.
 */
export function driveWindow(advanceWindow: (state: SharedState) => boolean, state: SharedState, onError: (message: string) => void): () => void {
  const advance = (): boolean => {
    try {
      return advanceWindow(state);
    } catch (err) {
      onError(err instanceof Error ? err.message : String(err));
      state.abort();
      return false;
    }
  };
  const timer = advance() ? setInterval(() => advance() || clearInterval(timer), WINDOW_POLL_MS) : undefined;
  return () => clearInterval(timer);
}

export function startEngine(o: EngineOptions): EngineRun {
  const n = o.targets.length;
  const state = SharedState.create(n);
  const pool = createLoopPool(WORKER, n, o.threads);
  let readError: string | undefined;
  const stopWindow = driveWindow(o.advanceWindow, state, (message) => (readError = message));
  const started = performance.now();
  const tasks = o.targets.map((t, index) => {
    const task: SendTask = {
      index,
      host: t.host,
      address: t.address,
      port: o.port,
      mss: o.mss,
      eof: o.eof,
      rto: o.rto,
      giveUpMs: o.giveUpMs,
      mode: o.mode,
      file: o.file.buffer,
      fileLength: o.file.length,
      windowBytes: o.file.windowBytes,
      state: state.buffer,
      receivers: n,
      printEvents: o.printEvents,
      labelEvents: n > 1,
    };
    return pool.run(task) as Promise<ReceiverResult>;
  });
  const done = Promise.all(tasks).then(async (results) => {
    const elapsedMs = performance.now() - started;
    stopWindow();
    await pool.destroy();
    return { results, elapsedMs, readError };
  });
  return { state, done, abort: () => state.abort() };
}
