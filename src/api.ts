// The library: send(), receive() and simulate(), the same engine, receiver and simulator the programs run,
// resolving with the same summary objects as their --json (docs/JSON.md). A failed receiver resolves with
// ok: false, never a rejection; only options that cannot start a transfer reject. The library installs no
// signal handlers and never exits the process: an AbortSignal stops a run.

import { randomInt } from 'node:crypto';
import seedrandom from 'seedrandom';
import { MSS_MAX, MSS_MIN_EXCLUSIVE, payloadBytes } from './core/codec.js';
import { DEFAULT_REPAIR_GROUP_FRACTION } from './core/multicast.js';
import { rateTooLow } from './core/pacer.js';
import { DEFAULT_IDLE_TIMEOUT_MS, EOF_MODES, MODES, type EofMode, type Mode, type SenderOptions } from './core/options.js';
import { RTO_DEFAULTS, type RtoConfig } from './core/rto.js';
import { CC_MODES, type CcMode, type WindowOptions } from './core/window.js';
import { resolveTargets, parseHostSpec } from './cli/hosts.js';
import { receiverReport, type ReceiverReport } from './cli/json.js';
import { checkLocalAddress } from './cli/local-address.js';
import { DEFAULT_TTL, multicastConflict, receiverMulticastConflict, multicastSummary, multicastWindow, parseGroup, validFraction, validTtl } from './cli/multicast-options.js';
import { summarize, type Summary } from './cli/summary.js';
import { defaultThreads, startEngine, type EngineOptions } from './transport/engine.js';
import { DEFAULT_RCVBUF_BYTES, DEFAULT_REORDER_SEGMENTS, startReceiver } from './transport/receiver-driver.js';
import type { MulticastSend } from './transport/udp-multicast.js';
import { bufferSegments, DEFAULT_BUFFER_BYTES, openSharedFile } from './transport/shared-file.js';
import { runScenario, type ScenarioResult } from '../sim/scenario.js';
import type { ScenarioInput } from '../sim/options.js';
import { quote } from './transport/user-text.js';

export type { Summary, ReceiverSummary } from './cli/summary.js';
export type { ReceiverReport, Reason, Status } from './cli/json.js';
export type { ScenarioInput, ScenarioOptions } from '../sim/options.js';
export type { ScenarioResult } from '../sim/scenario.js';
export type { EofMode, Mode } from './core/options.js';
export type { CcMode } from './core/window.js';

/**
 * `send`'s IP multicast data path (p2mpclient --multicast GROUP [--ttl N] [--interface ADDR] [--repair-group F];
 * README, "IP multicast"): each segment once to group:port, every receiver still tracked on its own. Implies
 * lockstep, one thread, SACK, no `cc`, and a window of 16 unless `window` is given; every host on `port`.
 */
export interface SendMulticastOptions {
  /** The IPv4 group (224.0.0.0/4 outside 224.0.0.0/24; a 239.x.y.z one stays within the site). */
  group: string;
  /** IP_MULTICAST_TTL, router hops 1..255 (default 1: the local link only). */
  ttl?: number;
  /** The IPv4 address of this host to send from, for the group and every receiver (default: the kernel's choice). */
  interface?: string;
  /** A lost segment goes once to the group when more than this fraction of the live receivers miss it, else by unicast to each (0..1, default 0.001). */
  repairGroup?: number;
}

/** `receive`'s side of multicast (p2mpserver --multicast GROUP [--interface ADDR]): also take DATA sent to group:port. */
export interface ReceiveMulticastOptions {
  /** The IPv4 group the sender sends to. */
  group: string;
  /** The address of this host to join on and answer from (default: `bind`'s; with neither, see README on 0.0.0.0). */
  interface?: string;
}

/** What the sender reports while it runs: a receiver's timeout, completion or failure. */
export type SendEvent = Parameters<NonNullable<EngineOptions['onEvent']>>[0];

export interface SendOptions {
  /** Receivers: names or IPv4 addresses, each optionally HOST:PORT for a receiver on its own port. */
  hosts: string[];
  /** The receivers' UDP port (1024 < port <= 65535). */
  port: number;
  /** The file to send (a regular file). */
  file: string;
  /** Whole segment size, 8-byte header included: 8 < mss <= 2048. */
  mss: number;
  mode?: Mode;
  eof?: EofMode;
  /** Fixed retransmission timeout; absent: the adaptive RFC 6298 estimator. */
  timeoutMs?: number;
  rtoMinMs?: number;
  rtoMaxMs?: number;
  /** A receiver silent this long is failed (default 10 s). */
  giveUpMs?: number;
  /** Receivers not listening yet (port unreachable before their first ACK) are retried this long (default 5 s). */
  waitMs?: number;
  threads?: number;
  /** Files larger than this stream through a shared buffer of this size (default 256 MiB). */
  bufferBytes?: number;
  /**
   * Sliding window: up to this many unacknowledged segments per receiver (default 1, the classic stop-and-wait;
   * works with any classic receiver). Clamped to what the buffer holds, as the summary's `window` says.
   */
  window?: number;
  /** Read selective acknowledgements (the receivers need `sack: true` too). */
  sack?: boolean;
  /** Congestion response per receiver: 'none' (default) or 'aimd'. */
  cc?: CcMode;
  /** Pace the sender's total transmissions to this many bits per second (IP and UDP headers counted); default unpaced. */
  rateBitsPerSec?: number;
  /** IP multicast instead of a copy per receiver (the receivers need `receive({ multicast })`). */
  multicast?: SendMulticastOptions;
  signal?: AbortSignal;
  onEvent?: (ev: SendEvent) => void;
}

export interface ReceiveOptions {
  port: number;
  /** Where to write; replaced atomically once the transfer is complete. */
  file: string;
  /** One IPv4 address of this host to listen on (default: all). */
  bind?: string;
  /** The classic loss service P: each arriving segment is dropped with this probability (default 0). */
  lossRate?: number;
  /** Seed of the loss service (default random; reported). */
  seed?: string;
  idleTimeoutMs?: number;
  lingerMs?: number;
  /** Out-of-order segments (from a windowed sender) held until the gap fills (default 1024; 0 discards them). */
  reorderSegments?: number;
  /** Answer with selective acknowledgements while holding segments (for a sender with `sack: true`). */
  sack?: boolean;
  /** The socket's receive buffer (default 4 MiB; the kernel caps it at net.core.rmem_max). */
  recvBufferBytes?: number;
  /** Also take the DATA a `send({ multicast })` sends to the group; answers with SACKs (needs reorderSegments above 0). */
  multicast?: ReceiveMulticastOptions;
  signal?: AbortSignal;
  /** Each segment the loss service dropped. */
  onLoss?: (seq: number) => void;
  /** The socket is bound: datagrams can arrive. */
  onListening?: (address: string, port: number) => void;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

function checkPort(port: number): void {
  check(Number.isInteger(port) && port > 1024 && port <= 65535, `port must be an integer in (1024, 65535], got ${port}`);
}

function checkFile(file: unknown): void {
  check(typeof file === 'string' && file !== '', `file must be a path (a non-empty string), got ${String(file)}`);
}

function checkFlag(name: string, v: unknown): void {
  check(v === undefined || typeof v === 'boolean', `${name} must be true or false, got ${String(v)}`);
}

/**
 * The caller's callbacks, run so that an exception in one stops the run instead of unwinding through the
 * protocol loop (where it would crash the process, or be taken for a disk error): the first error is kept, the
 * run is stopped on the next turn of the event loop (not from inside the loop that called back), later calls
 * are skipped, and the promise rejects with that error.
 */
class Callbacks {
  private failure: { error: unknown } | undefined;
  /** Set once the run exists (a callback may come before: onListening). */
  stop: () => void = () => {};

  wrap<A extends unknown[]>(cb: ((...args: A) => void) | undefined): ((...args: A) => void) | undefined {
    if (cb === undefined) return undefined;
    return (...args) => {
      if (this.failure !== undefined) return;
      try {
        cb(...args);
      } catch (error) {
        this.failure = { error };
        setImmediate(() => this.stop());
      }
    };
  }

  /** Throw the callback's error, if one threw. */
  rethrow(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}

function checkMs(name: string, v: number | undefined, positive = true): void {
  if (v === undefined) return;
  check(Number.isFinite(v) && (positive ? v > 0 : v >= 0) && v <= 2 ** 31 - 1, `${name} must be a ${positive ? 'positive' : 'non-negative'} number of ms up to 2^31 - 1, got ${v}`);
}

/** Send a file to every host; resolves with the same summary as `p2mpclient --json`. */
export async function send(o: SendOptions): Promise<Summary> {
  check(Array.isArray(o.hosts) && o.hosts.length > 0, 'hosts must name at least one receiver');
  check(o.hosts.every((h) => typeof h === 'string'), 'hosts must be strings (names or IPv4 addresses, optionally HOST:PORT)');
  checkPort(o.port);
  checkFile(o.file);
  checkFlag('sack', o.sack);
  check(o.bufferBytes === undefined || (Number.isInteger(o.bufferBytes) && o.bufferBytes > 0), `bufferBytes must be a positive integer, got ${o.bufferBytes}`);
  check(Number.isInteger(o.mss) && o.mss > MSS_MIN_EXCLUSIVE && o.mss <= MSS_MAX, `mss must be an integer in (${MSS_MIN_EXCLUSIVE}, ${MSS_MAX}], got ${o.mss}`);
  const mode = o.mode ?? (o.multicast === undefined ? 'independent' : 'lockstep');
  const eof = o.eof ?? 'empty';
  check(MODES.includes(mode), `mode must be one of ${MODES.join(', ')}`);
  check(EOF_MODES.includes(eof), `eof must be one of ${EOF_MODES.join(', ')}`);
  for (const [name, v] of [['timeoutMs', o.timeoutMs], ['rtoMinMs', o.rtoMinMs], ['rtoMaxMs', o.rtoMaxMs], ['giveUpMs', o.giveUpMs]] as const) checkMs(name, v);
  checkMs('waitMs', o.waitMs, false);
  const rto: RtoConfig = { ...RTO_DEFAULTS, minMs: o.rtoMinMs ?? RTO_DEFAULTS.minMs, maxMs: o.rtoMaxMs ?? RTO_DEFAULTS.maxMs };
  if (o.timeoutMs !== undefined) rto.fixedMs = o.timeoutMs;
  check(rto.maxMs >= rto.minMs, 'rtoMaxMs must not be below rtoMinMs');
  const conflict = o.multicast === undefined ? undefined : multicastConflict(o, (option) => option);
  if (conflict !== undefined) check(false, conflict);
  const threads = o.threads ?? defaultThreads(o.hosts.length, mode);
  check(Number.isInteger(threads) && threads > 0, 'threads must be a positive integer');
  const giveUpMs = o.giveUpMs ?? 10_000;
  const asked: WindowOptions = o.multicast === undefined ? { window: o.window ?? 1, sack: o.sack === true, cc: o.cc ?? 'none' } : multicastWindow(o.window);
  check(Number.isInteger(asked.window) && asked.window >= 1, `window must be a positive integer (segments), got ${o.window}`);
  check(CC_MODES.includes(asked.cc), `cc must be one of ${CC_MODES.join(', ')}`);
  const rate = o.rateBitsPerSec;
  check(rate === undefined || (Number.isFinite(rate) && rate > 0), `rateBitsPerSec must be a positive number, got ${rate}`);
  const slow = rate === undefined ? undefined : rateTooLow(rate, o.mss, o.multicast === undefined ? o.hosts.length : 1, DEFAULT_IDLE_TIMEOUT_MS);
  check(slow === undefined, `rateBitsPerSec ${rate} ${slow}`);
  const multicast = o.multicast === undefined ? undefined : await sendMulticast(o.multicast, o.port);

  const targets = await resolveTargets(o.hosts.map((h) => parseHostSpec(h)), o.port);
  const ownPort = targets.find((t) => t.port !== o.port);
  check(multicast === undefined || ownPort === undefined, `host ${quote(String(ownPort?.host))} has its own port, but with multicast every receiver listens on port ${o.port}`);
  const opened = openSharedFile(o.file, payloadBytes(o.mss), o.bufferBytes ?? DEFAULT_BUFFER_BYTES);
  const window = { ...asked, window: Math.min(asked.window, bufferSegments(opened.file)) };
  const sender: SenderOptions = { mss: o.mss, eof, mode, rto, giveUpMs, waitMs: o.waitMs ?? 5000, window, rateBitsPerSec: rate, multicast: multicast?.options };
  const callbacks = new Callbacks();
  const run = startEngine({ targets, port: o.port, file: opened.file, advanceBuffer: opened.advance, sender, threads, multicast: multicast?.send, onEvent: callbacks.wrap(o.onEvent) });
  const abort = (): void => run.abort();
  callbacks.stop = abort;
  if (o.signal?.aborted) abort();
  o.signal?.addEventListener('abort', abort, { once: true });
  try {
    const done = await run.done;
    callbacks.rethrow();
    const { results, elapsedMs, readError, datagramsSent, strangers } = done;
    const sha256 = readError === undefined ? opened.sha256() : undefined;
    const fileBytes = opened.size() ?? opened.file.length;
    return summarize({
      results,
      elapsedMs,
      file: o.file,
      fileBytes,
      sha256,
      mss: o.mss,
      mode,
      eof,
      port: o.port,
      giveUpMs,
      interrupted: o.signal?.aborted === true,
      readError,
      window,
      rateBitsPerSec: rate,
      datagramsSent,
      strangers,
      multicast: multicast === undefined ? undefined : multicastSummary(multicast.send, multicast.options, done),
    });
  } finally {
    o.signal?.removeEventListener('abort', abort);
    opened.close();
  }
}

/** `send`'s multicast options, checked as p2mpclient checks them: the group's socket options and the repair rule. */
async function sendMulticast(m: SendMulticastOptions, port: number): Promise<{ send: MulticastSend; options: { repairGroupFraction: number } }> {
  const ttl = m.ttl ?? DEFAULT_TTL;
  check(validTtl(ttl), `multicast.ttl must be a whole number from 1 to 255 (router hops), got ${m.ttl}`);
  // A group outside 239.0.0.0/8 with a TTL above 1 may be forwarded beyond the site: p2mpclient warns, the library prints nothing.
  const { group } = parseGroup(m.group, ttl);
  if (m.interface !== undefined) await checkLocalAddress('multicast.interface', m.interface);
  const repairGroupFraction = m.repairGroup ?? DEFAULT_REPAIR_GROUP_FRACTION;
  check(validFraction(repairGroupFraction), `multicast.repairGroup must be a fraction from 0 to 1, got ${m.repairGroup}`);
  return { send: { group, port, ttl, interface: m.interface }, options: { repairGroupFraction } };
}

/** Receive one file; resolves with the same report as `p2mpserver --json`. */
export async function receive(o: ReceiveOptions): Promise<ReceiverReport> {
  checkPort(o.port);
  checkFile(o.file);
  checkFlag('sack', o.sack);
  const lossRate = o.lossRate ?? 0;
  check(typeof lossRate === 'number' && lossRate >= 0 && lossRate <= 1, `lossRate must be a number in [0, 1], got ${String(lossRate)}`);
  check(o.seed === undefined || typeof o.seed === 'string', `seed must be a string, got ${String(o.seed)}`);
  checkMs('idleTimeoutMs', o.idleTimeoutMs);
  checkMs('lingerMs', o.lingerMs, false);
  const reorderSegments = o.reorderSegments ?? DEFAULT_REORDER_SEGMENTS;
  check(Number.isInteger(reorderSegments) && reorderSegments >= 0, `reorderSegments must be a whole number, got ${o.reorderSegments}`);
  const recvBufferBytes = o.recvBufferBytes ?? DEFAULT_RCVBUF_BYTES;
  check(Number.isInteger(recvBufferBytes) && recvBufferBytes > 0, `recvBufferBytes must be a positive integer, got ${o.recvBufferBytes}`);
  const m = o.multicast;
  const bind = m?.interface ?? o.bind;
  const group = m === undefined ? undefined : parseGroup(m.group, 1).group;
  if (m !== undefined) {
    const names = { multicast: 'multicast', interface: 'multicast.interface', bind: 'bind', reorder: 'reorderSegments' } as const;
    const conflict = receiverMulticastConflict({ interface: m.interface, bind: o.bind, reorderSegments }, (option) => names[option]);
    if (conflict !== undefined) check(false, conflict);
    if (m.interface !== undefined) await checkLocalAddress('multicast.interface', m.interface);
  }
  check(o.bind === undefined || typeof o.bind === 'string', `bind must be an IPv4 address or a host name, got ${String(o.bind)}`);
  if (o.bind !== undefined && m?.interface === undefined) await checkLocalAddress('bind', o.bind);
  const seed = o.seed ?? String(randomInt(2 ** 31));
  const callbacks = new Callbacks();
  const run = startReceiver({
    port: o.port,
    bind,
    multicastGroup: group,
    file: o.file,
    lossRate,
    random: seedrandom(seed),
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    lingerMs: o.lingerMs ?? 2000,
    reorderSegments,
    // Multicast answers with SACKs: its sender reads them (src/core/multicast.ts).
    sack: o.sack === true || m !== undefined,
    recvBufferBytes,
    onLoss: callbacks.wrap(o.onLoss) ?? (() => {}),
    onListening: callbacks.wrap(o.onListening) ?? (() => {}),
  });
  const abort = (): void => run.interrupt();
  callbacks.stop = abort;
  if (o.signal?.aborted) abort();
  o.signal?.addEventListener('abort', abort, { once: true });
  try {
    const result = await run.done;
    callbacks.rethrow();
    return receiverReport(result, { file: o.file, transfer: 1, seed, lossRate, wire: 'classic' });
  } finally {
    o.signal?.removeEventListener('abort', abort);
  }
}

/** One simulated transfer in virtual time (the options of `p2mpsim --replay`); deterministic for a seed. */
export function simulate(o: ScenarioInput = {}): ScenarioResult {
  return runScenario(o, false);
}
