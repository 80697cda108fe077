#!/usr/bin/env node
// The machine's floor for a loopback target: the same work (file, receivers, MSS, window, lockstep or not)
// done with the least Node can do per datagram, so that a target set on one machine can be read on another.
// Receivers are processes (this script with --receiver) that write each in-order payload with fs.writeSync,
// fsync and rename at the end, and answer with a cumulative 8-byte ACK: at once when the sender waits for
// every segment (window 1), once per batch of datagrams read in one go otherwise (as p2mpserver does). The
// sender keeps up to WINDOW segments unacknowledged per receiver (lockstep: segment j goes to everybody once
// every receiver has acknowledged j - WINDOW). There is no checksum, no loss service and no retransmission:
// nothing is lost on loopback with large socket buffers, and a lost datagram ends the run as invalid (exit 2)
// instead of being repaired. Not this project's protocol; only a yardstick (bench/window-targets.ts --bare).
//
//   node dist/bench/bare-pipeline.js --receiver ADDR PORT OUT        (prints "listening on ADDR:PORT")
//   node dist/bench/bare-pipeline.js [--window N] [--lockstep] HOST... PORT FILE MSS
//
// Only ever talks to 127.0.0.0/8 addresses it is given.

import dgram from 'node:dgram';
import fs from 'node:fs';
import { Command } from 'commander';

const HEADER = 8;
const ACK = 8;
const END_TYPE = 0; // an 8-byte datagram with type 0 and seq = the segment count ends the file
const DATA_TYPE = 0x5555;
const SOCKET_BUFFER = 4 << 20;
const STALL_MS = 2000;

function receiver(address: string, port: number, out: string): void {
  const tmp = `${out}.bare-tmp`;
  const fd = fs.openSync(tmp, 'w');
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER });
  const ack = Buffer.alloc(ACK);
  let expected = 0;
  let pipelined = false;
  let due: { port: number; address: string } | undefined;
  const answer = (to: { port: number; address: string }, then?: () => void): void => {
    ack.writeUInt32BE(expected - 1, 0);
    socket.send(ack, to.port, to.address, then);
  };
  let lastAt = 0;
  setInterval(() => {
    if (lastAt === 0 || performance.now() - lastAt < STALL_MS) return;
    console.error(`bare-pipeline: receiver ${address}: nothing for ${STALL_MS} ms (the sender gave up): run invalid`);
    process.exit(2);
  }, STALL_MS / 4).unref();
  socket.on('message', (msg, from) => {
    lastAt = performance.now();
    const seq = msg.readUInt32BE(0);
    if (msg.length === HEADER && msg.readUInt16BE(6) === END_TYPE && seq === expected) {
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tmp, out);
      expected++;
      answer(from, () => socket.close());
      return;
    }
    if (seq !== expected) return;
    fs.writeSync(fd, msg, HEADER, msg.length - HEADER);
    expected++;
    // A sender that has shown that it pipelines gets one ACK per batch (setImmediate follows the poll phase).
    if (!pipelined) {
      pipelined = msg.readUInt16BE(4) !== 0;
      if (!pipelined) return answer(from);
    }
    if (due === undefined)
      setImmediate(() => {
        if (due !== undefined) answer(due);
        due = undefined;
      });
    due = from;
  });
  socket.bind(port, address, () => console.log(`listening on ${address}:${port}`));
}

function sender(hosts: string[], port: number, file: string, mss: number, window: number, lockstep: boolean): void {
  const data = fs.readFileSync(file);
  const payload = mss - HEADER;
  const total = Math.ceil(data.length / payload);
  // Each segment is built once and shared by every receiver; byte 4 tells a receiver the sender pipelines.
  const segment = (j: number): Buffer => {
    const body = data.subarray(j * payload, Math.min(data.length, (j + 1) * payload));
    const s = Buffer.allocUnsafe(HEADER + body.length);
    s.writeUInt32BE(j, 0);
    s.writeUInt16BE(window > 1 ? 1 : 0, 4);
    s.writeUInt16BE(DATA_TYPE, 6);
    body.copy(s, HEADER);
    return s;
  };
  const end = Buffer.alloc(HEADER);
  end.writeUInt32BE(total, 0);
  end.writeUInt16BE(END_TYPE, 6);
  const acked = hosts.map(() => 0); // segments [0, acked) acknowledged, the end counting as segment `total`
  const next = hosts.map(() => 0);
  const sockets = hosts.map(() => dgram.createSocket({ type: 'udp4', sendBufferSize: SOCKET_BUFFER }));
  const built: Buffer[] = [];
  const get = (j: number): Buffer => (built[j] ??= j === total ? end : segment(j));
  let lastProgress = performance.now();
  let done = 0;
  const pump = (r: number): void => {
    const slowest = lockstep ? Math.min(...acked) : acked[r]!;
    // The end goes out only once every data segment is acknowledged, as in the real sender.
    const limit = acked[r]! < total ? Math.min(total, slowest + window) : total + 1;
    while (next[r]! < limit) sockets[r]!.send(get(next[r]!++));
  };
  hosts.forEach((host, r) => {
    const s = sockets[r]!;
    s.on('message', (msg) => {
      const n = msg.readUInt32BE(0) + 1;
      if (n <= acked[r]!) return;
      acked[r] = n;
      lastProgress = performance.now();
      if (n === total + 1) {
        s.close();
        if (++done === hosts.length) process.exit(0);
        if (lockstep) hosts.forEach((_, q) => q !== r && acked[q]! <= total && pump(q));
        return;
      }
      if (lockstep) hosts.forEach((_, q) => acked[q]! <= total && pump(q));
      else pump(r);
    });
    s.connect(port, host, () => pump(r));
  });
  setInterval(() => {
    if (performance.now() - lastProgress < STALL_MS) return;
    console.error(`bare-pipeline: no progress for ${STALL_MS} ms (a datagram was lost; nothing is retransmitted): run invalid`);
    process.exit(2);
  }, STALL_MS / 4).unref();
}

const program = new Command('bare-pipeline')
  .argument('<args...>', 'HOST... PORT FILE MSS, or with --receiver: ADDR PORT OUT')
  .option('--receiver', 'be a receiver')
  .option('--window <n>', 'segments unacknowledged per receiver', '1')
  .option('--lockstep', 'segment j waits until every receiver acknowledged j - window')
  .action((args: string[], o: { receiver?: boolean; window: string; lockstep?: boolean }) => {
    if (o.receiver) {
      const [address, port, out] = args as [string, string, string];
      receiver(address, Number(port), out);
      return;
    }
    const mss = Number(args.at(-1));
    const file = args.at(-2)!;
    const port = Number(args.at(-3));
    sender(args.slice(0, -3), port, file, mss, Number(o.window), o.lockstep === true);
  });
program.parse(process.argv);
