#!/usr/bin/env node
// Raw Node UDP ping-pong on loopback: the stop-and-wait bound. A client sends a datagram of SIZE bytes
// (a whole segment, header included) and waits for an 8-byte answer (an ACK) before sending the next;
// an echo process answers each datagram. Round trips per second times (SIZE - 8) data bytes is the most
// a stop-and-wait loop in Node can carry to one receiver on this machine. With --flows N the client runs
// N such loops at once (N sockets, one echo address each) in one thread, the raw analogue of N receivers.
//
//   node dist/bench/pingpong.js --size 1000 [--flows 1] [--seconds 2] [--port P] [--block 3]
//
// Prints one JSON line. The echo side runs as a separate process (this script with --echo), like a
// p2mpserver. Only ever talks to 127.0.0.0/8.
//
// Ladder options, to attribute the cost of what p2mpclient/p2mpserver do per segment beyond the raw bound:
//   --client-worker  run the client loops in a worker thread (as the sender's piscina tasks do)
//   --client-alloc   allocate and fill a fresh SIZE-byte Uint8Array per send (as encodeData does)
//   --echo-write     the echo writes each datagram's payload to a file with fs.writeSync before answering
//                    (as the receiver does), to a temporary file that is removed at the end
//   --echo-ack       the echo answers with a real ACK (the segment's sequence number), so that p2mpclient
//                    can send to it: a receiver that costs nothing beyond the raw echo (the ladder uses it)
//   --client-segments  the client sends real DATA segments (encodeData, consecutive sequence numbers)
//   --peer server    answer with real p2mpserver processes instead of the echo (needs --client-segments)

import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { tempDir } from '../harness/files.js';
import { quantile } from '../harness/format.js';
import { freePort, udpSocket } from '../harness/net.js';
import { start, startReceivers } from '../harness/procs.js';
import { encodeData } from '../src/core/codec.js';
import { addresses, PINGPONG } from './common.js';

export interface PingPongResult {
  size: number;
  flows: number;
  seconds: number;
  roundTrips: number;
  /** Round trips per second, summed over flows. */
  roundTripsPerSec: number;
  /** Round trips per second of one flow (mean over flows). */
  perFlowRoundTripsPerSec: number;
  rttP50Us: number;
  rttP99Us: number;
  rttMaxUs: number;
  /** Stop-and-wait bound: data bytes per second over all flows ((size - 8) per round trip). */
  boundBytesPerSec: number;
  /** The same per flow (one receiver). */
  perFlowBoundBytesPerSec: number;
  cpuMs: number;
}

interface Options {
  size: string;
  flows: string;
  seconds: string;
  warmup: string;
  port?: string;
  block: string;
  echo?: boolean;
  clientWorker?: boolean;
  clientAlloc?: boolean;
  echoWrite?: boolean;
  echoAck?: boolean;
  clientSegments?: boolean;
  peer: string;
}

export interface Ladder {
  clientWorker?: boolean;
  clientAlloc?: boolean;
  echoWrite?: boolean;
  /** Answer with ACKs that name the segment's sequence number (so p2mpclient can send to the echo). */
  echoAck?: boolean;
  /** Send real DATA segments with consecutive sequence numbers. */
  clientSegments?: boolean;
  /** Who answers: the echo process (default) or p2mpserver processes (needs clientSegments). */
  peer?: 'echo' | 'server';
}

const ACK_BYTES = 8;

/** Echo side: one socket per address, each answers every datagram with 8 bytes to its sender. */
export async function echo(addrs: string[], port: number, write: boolean, realAck = false): Promise<void> {
  const reply = Buffer.alloc(ACK_BYTES);
  reply.writeUInt16BE(0xaaaa, 6);
  const tmp = write ? tempDir('pingpong') : undefined;
  const fds = addrs.map((a) => (tmp === undefined ? -1 : fs.openSync(path.join(tmp, a), 'w')));
  const cleanup = (): void => {
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  };
  await Promise.all(
    addrs.map(async (a, i) => {
      const s = await udpSocket(a, port);
      const fd = fds[i]!;
      s.on('message', (msg, rinfo) => {
        if (fd >= 0) fs.writeSync(fd, msg, ACK_BYTES, msg.length - ACK_BYTES);
        if (realAck && msg.length >= ACK_BYTES) {
          const ack = Buffer.allocUnsafe(ACK_BYTES);
          msg.copy(ack, 0, 0, 4);
          ack.writeUInt32BE(0x0000aaaa, 4);
          s.send(ack, rinfo.port, rinfo.address);
        } else s.send(reply, rinfo.port, rinfo.address);
      });
    }),
  );
  process.stdout.write('pingpong: echo ready\n');
  // Runs until the client ends it (SIGTERM) or stdin closes.
  // When started by pingpong() (stdin a pipe), end with the parent; otherwise SIGTERM ends it.
  if (fs.fstatSync(0).isFIFO()) {
    process.stdin.resume();
    process.stdin.on('end', () => {
      cleanup();
      process.exit(0);
    });
  }
  process.on('SIGTERM', () => {
    cleanup();
    process.exit(0);
  });
}

interface ClientRun {
  addrs: string[];
  port: number;
  size: number;
  seconds: number;
  warmup: number;
  alloc: boolean;
  segments: boolean;
}

interface ClientOut {
  count: number;
  rtts: number[];
  seconds: number;
  cpuMs: number;
}

/** The ping-pong loops themselves (in this thread). */
async function clientLoops(c: ClientRun): Promise<ClientOut> {
  const payload = Buffer.alloc(c.size, 0x5a);
  const rtts: number[] = [];
  let measuring = false;
  let stopping = false;
  let count = 0;
  const sockets: dgram.Socket[] = [];
  await Promise.all(
    c.addrs.map(
      (a) =>
        new Promise<void>((resolve) => {
          const s = dgram.createSocket('udp4');
          sockets.push(s);
          let sentAt = 0;
          let seq = 0;
          const data = payload.subarray(ACK_BYTES);
          const ping = (): void => {
            sentAt = performance.now();
            if (c.segments) s.send(encodeData(seq++, data));
            else if (c.alloc) {
              const out = new Uint8Array(c.size);
              out.set(payload);
              s.send(out);
            } else s.send(payload);
          };
          s.on('message', () => {
            const now = performance.now();
            if (measuring) {
              count++;
              if ((count & 7) === 0) rtts.push(now - sentAt); // a sample of the RTTs, enough for percentiles
            }
            if (!stopping) ping();
          });
          s.connect(c.port, a, () => {
            resolve();
            ping();
          });
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, c.warmup * 1000));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, c.seconds * 1000));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  stopping = true;
  for (const s of sockets) s.close();
  return { count, rtts, seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export async function pingpong(o: { size: number; flows: number; seconds: number; warmup: number; port?: number; block: number } & Ladder): Promise<PingPongResult> {
  const addrs = addresses(o.flows, o.block);
  const port = o.port ?? (await freePort(addrs));
  const echoArgs = ['--echo', '--port', String(port), '--flows', String(o.flows), '--block', String(o.block), '--size', String(o.size), ...(o.echoWrite ? ['--echo-write'] : []), ...(o.echoAck ? ['--echo-ack'] : [])];
  let stop: () => void;
  if (o.peer === 'server') {
    // Real receivers; they write to a temporary directory and are interrupted at the end (no end of file).
    const tmp = tempDir('pingpong');
    const servers = await startReceivers(addrs, port, tmp, 0, { args: ['--json'] });
    stop = () => {
      for (const p of servers) p.child.kill('SIGTERM');
      void Promise.all(servers.map((p) => p.done)).then(() => fs.rmSync(tmp, { recursive: true, force: true }));
    };
  } else {
    const echoProc = start(PINGPONG, echoArgs, { ready: /echo ready/, stdinPipe: true });
    await echoProc.ready;
    if (echoProc.child.exitCode !== null) throw new Error(`echo process exited (${echoProc.child.exitCode}): ${echoProc.output()}`);
    stop = () => {
      echoProc.child.stdin!.end();
      echoProc.child.kill('SIGTERM');
    };
  }
  const run: ClientRun = { addrs, port, size: o.size, seconds: o.seconds, warmup: o.warmup, alloc: o.clientAlloc === true, segments: o.clientSegments === true };
  let out: ClientOut;
  if (o.clientWorker) {
    const w = new Worker(new URL(import.meta.url), { workerData: { pingpongClient: run } });
    out = await new Promise<ClientOut>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
  } else out = await clientLoops(run);
  stop();
  const rtps = out.count / out.seconds;
  return {
    size: o.size,
    flows: o.flows,
    seconds: out.seconds,
    roundTrips: out.count,
    roundTripsPerSec: rtps,
    perFlowRoundTripsPerSec: rtps / o.flows,
    rttP50Us: quantile(out.rtts, 0.5) * 1000,
    rttP99Us: quantile(out.rtts, 0.99) * 1000,
    rttMaxUs: Math.max(...out.rtts) * 1000,
    boundBytesPerSec: rtps * (o.size - ACK_BYTES),
    perFlowBoundBytesPerSec: (rtps / o.flows) * (o.size - ACK_BYTES),
    cpuMs: out.cpuMs,
  };
}

async function main(o: Options): Promise<void> {
  const flows = Number(o.flows);
  const block = Number(o.block);
  if (o.echo) {
    await echo(addresses(flows, block), Number(o.port), o.echoWrite === true, o.echoAck === true);
    return;
  }
  const r = await pingpong({
    size: Number(o.size),
    flows,
    seconds: Number(o.seconds),
    warmup: Number(o.warmup),
    port: o.port === undefined ? undefined : Number(o.port),
    block,
    clientWorker: o.clientWorker,
    clientAlloc: o.clientAlloc,
    echoWrite: o.echoWrite,
    echoAck: o.echoAck,
    clientSegments: o.clientSegments,
    peer: o.peer === 'server' ? 'server' : 'echo',
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

if (!isMainThread && (workerData as { pingpongClient?: ClientRun } | undefined)?.pingpongClient) {
  parentPort!.postMessage(await clientLoops((workerData as { pingpongClient: ClientRun }).pingpongClient));
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const program = new Command('pingpong')
    .description('Raw Node UDP ping-pong on loopback (the stop-and-wait bound): SIZE-byte datagrams, 8-byte answers.')
    .option('--size <bytes>', 'datagram size (a whole segment: MSS)', '1000')
    .option('--flows <n>', 'concurrent ping-pong loops (one socket and echo address each)', '1')
    .option('--seconds <s>', 'measuring time', '2')
    .option('--warmup <s>', 'warm-up time before measuring', '0.3')
    .option('--port <port>', 'UDP port (default: a free one)')
    .option('--block <b>', 'echo addresses 127.0.<b>.1..', '3')
    .option('--echo', 'run the echo side (used internally)')
    .option('--client-worker', 'run the client loops in a worker thread (as the sender does)')
    .option('--client-alloc', 'allocate a fresh datagram per send (as encodeData does)')
    .option('--echo-write', 'the echo writes each payload to a file before answering (as the receiver does)')
    .option('--echo-ack', 'the echo answers with a real ACK naming the segment\'s sequence number')
    .option('--client-segments', 'send real DATA segments with consecutive sequence numbers')
    .option('--peer <who>', 'echo (default) or server: real p2mpserver processes answer (with --client-segments)', 'echo')
    .action(main);
  await program.parseAsync(process.argv);
}
