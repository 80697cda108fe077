#!/usr/bin/env node
// Per-segment micro-costs, in one thread, no waiting: what the sender and the receiver do for each segment,
// piece by piece (codec, machines, file write, UDP send). CPU-bound, so far less sensitive to other load
// on the machine than the loopback transfers. Medians over several rounds, nanoseconds per operation.
//
//   node dist/bench/micro.js [--mss 1000] [--rounds 7] [--json]

import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileBytes, tempDir } from '../harness/files.js';
import { mdTable, median } from '../harness/format.js';
import { describeMachine, machine } from '../harness/machine.js';
import { udpSocket } from '../harness/net.js';
import { checksum, checksumMatches, decode, encodeAck, encodeData, payloadBytes } from '../src/core/codec.js';
import { ReceiverMachine } from '../src/core/receiver.js';
import { standaloneFlow, type SenderFlow } from '../src/core/flow.js';
import { RTO_DEFAULTS } from '../src/core/rto.js';
import { TRAILER_BYTES } from '../src/core/extension.js';
import { ackKey, dataKey, openAck, openSealed, sealAck, sealData } from '../src/core/seal.js';

interface Result {
  name: string;
  nsPerOp: number;
  all: number[];
}

/**
 * Nanoseconds per call of `fn`, median over rounds. With `settle` (UDP sends) each round also waits until the
 * sends have left, inside the timed part.
 */
async function bench(name: string, rounds: number, opsPerRound: number, fn: (i: number) => void, settle?: () => Promise<void>): Promise<Result> {
  const warmup = settle ? 2000 : Math.min(opsPerRound, 20000); // warm up the JIT
  for (let i = 0; i < warmup; i++) fn(i);
  await settle?.();
  const all: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < opsPerRound; i++) fn(i);
    if (settle) await settle();
    all.push(((performance.now() - t0) * 1e6) / opsPerRound);
  }
  return { name, nsPerOp: median(all), all };
}

let sink = 0;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (k: string, d: string): string => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1]! : d;
  };
  const mss = Number(arg('--mss', '1000'));
  const rounds = Number(arg('--rounds', '7'));
  const json = args.includes('--json');
  const dataBytes = payloadBytes(mss);
  const file = fileBytes(dataBytes * 4096, 'micro');
  const payload = file.subarray(0, dataBytes);
  const seg = encodeData(7, payload);
  const ack = encodeAck(7);
  const results: Result[] = [];
  const N = 200_000;

  results.push(await bench(`checksum (${dataBytes} bytes)`, rounds, N, () => (sink ^= checksum(payload))));
  results.push(await bench(`checksumMatches (${dataBytes} bytes)`, rounds, N, () => (sink ^= checksumMatches(payload, 0x1234) ? 1 : 0)));
  results.push(await bench(`encodeData (${mss}-byte segment: alloc + checksum + copy)`, rounds, N, (i) => (sink ^= encodeData(i, payload).length)));
  results.push(await bench('new Uint8Array(MSS) alone', rounds, N, () => (sink ^= new Uint8Array(mss).length)));
  results.push(await bench('encodeAck', rounds, N, (i) => (sink ^= encodeAck(i).length)));
  results.push(await bench('decode (DATA)', rounds, N, () => (sink ^= decode(seg).ok ? 1 : 0)));
  results.push(await bench('decode (ACK)', rounds, N, () => (sink ^= decode(ack).ok ? 1 : 0)));

  // The receiver machine per in-sequence segment (decode, checksum, verdict, ACK).
  const segs = Array.from({ length: 4096 }, (_, i) => encodeData(i, file.subarray(i * dataBytes, (i + 1) * dataBytes)));
  {
    let m = new ReceiverMachine({ lossRate: 0, random: Math.random, idleTimeoutMs: 30000, lingerMs: 0 });
    results.push(
      await bench('ReceiverMachine: handleDatagram (in-sequence DATA) + pollEvent + pollTransmit', rounds, N, (i) => {
        const k = i & 4095;
        if (k === 0) m = new ReceiverMachine({ lossRate: 0, random: Math.random, idleTimeoutMs: 30000, lingerMs: 0 });
        m.handleDatagram(i, segs[k]!, '127.0.0.1:1');
        sink ^= m.pollEvent()!.kind.length ^ m.pollTransmit()!.bytes.length;
      }),
    );
  }
  // The sender machine per segment: ACK in, next segment out, events drained.
  {
    const mk = (): SenderFlow => standaloneFlow({ mss, file, eof: 'empty', rto: RTO_DEFAULTS, giveUpMs: 10000 });
    let m = mk();
    let acks: Uint8Array[] = Array.from({ length: m.total }, (_, i) => encodeAck(i));
    let k = 0;
    m.pollTransmit(0);
    results.push(
      await bench('SenderFlow: handleDatagram(ACK) + pollTransmit + drain events + pollTimeout', rounds, N, (i) => {
        if (m.status !== 'sending') {
          m = mk();
          acks = acks.length === m.total ? acks : Array.from({ length: m.total }, (_, j) => encodeAck(j));
          k = 0;
          m.pollTransmit(i);
        }
        m.handleDatagram(i, acks[k++]!);
        const out = m.pollTransmit(i);
        sink ^= out ? out.length : 0;
        for (let ev = m.pollEvent(); ev; ev = m.pollEvent()) sink ^= ev.type.length;
        sink ^= m.pollTimeout() ?? 0;
      }),
    );
  }

  // --key: the four AES-256-GCM operations of a segment (seal and open the KDATA, seal and open a KACK).
  {
    const psk = new Uint8Array(32).fill(0x3c);
    const ns = new Uint8Array(16).fill(1);
    const kd = dataKey(psk, ns);
    const ka = ackKey(psk, ns, new Uint8Array(16).fill(2));
    const keyPayload = file.subarray(0, payloadBytes(mss, TRAILER_BYTES.key));
    const sealed = sealData(kd, 7, keyPayload);
    const kack = sealAck(ka, 7, 0, 7);
    const KN = 20_000;
    results.push(await bench(`--key sealData (${keyPayload.length} bytes)`, rounds, KN, (i) => (sink ^= sealData(kd, i, keyPayload).length)));
    results.push(await bench(`--key openSealed (${keyPayload.length} bytes)`, rounds, KN, () => (sink ^= openSealed(kd, sealed).ok ? 1 : 0)));
    results.push(await bench('--key sealAck', rounds, KN, (i) => (sink ^= sealAck(ka, i, 0, i).length)));
    results.push(await bench('--key openAck', rounds, KN, () => (sink ^= openAck(ka, kack).ok ? 1 : 0)));
  }

  // Receiver driver pieces: the peer key string and the file write.
  results.push(await bench('`${address}:${port}` peer key', rounds, N, (i) => (sink ^= `127.0.4.${i & 255}:${40000 + (i & 1023)}`.length)));
  const dir = tempDir('micro');
  try {
    const fd = fs.openSync(path.join(dir, 'out'), 'w');
    results.push(await bench(`fs.writeSync (${dataBytes} bytes, appending)`, rounds, 20_000, () => (sink ^= fs.writeSync(fd, payload))));
    const big = new Uint8Array(64 * 1024);
    results.push(await bench('fs.writeSync (64 KiB, appending), per 992-byte share', rounds, 2_000, () => (sink ^= fs.writeSync(fd, big))));
    results[results.length - 1]!.nsPerOp *= dataBytes / big.length;
    fs.closeSync(fd);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // UDP sends to a bound socket on loopback that never reads (datagrams beyond its buffer are dropped):
  // the sending side's cost only.
  const sinkSock = await udpSocket('127.0.3.250');
  const { port } = sinkSock.address();
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  const unconnected = await udpSocket('127.0.0.1');
  const connected = dgram.createSocket('udp4');
  await new Promise<void>((r) => connected.connect(port, '127.0.3.250', () => r()));
  const ackBuf = Buffer.from(ack);
  const segBuf = Buffer.from(seg);
  results.push(await bench('socket.send(8 bytes, port, address) unconnected (the receiver\'s ACK)', rounds, 20_000, () => unconnected.send(ackBuf, port, '127.0.3.250'), tick));
  results.push(await bench('socket.send(8 bytes) connected', rounds, 20_000, () => connected.send(ackBuf), tick));
  results.push(await bench(`socket.send(${mss} bytes) connected (the sender's DATA)`, rounds, 20_000, () => connected.send(segBuf), tick));
  results.push(await bench(`socket.send(fresh ${mss}-byte Uint8Array) connected`, rounds, 20_000, (i) => connected.send(encodeData(i, payload)), tick));
  unconnected.close();
  connected.close();
  sinkSock.close();

  if (json) {
    process.stdout.write(`${JSON.stringify({ machine: machine(), mss, rounds, results })}\n`);
    return;
  }
  console.log(`# Per-segment micro-costs, MSS ${mss}\n\n${describeMachine(machine())}\ncommand: node dist/bench/micro.js --mss ${mss} --rounds ${rounds}\n`);
  console.log(mdTable([['operation', 'ns per op (median)', 'rounds'], ...results.map((r) => [r.name, r.nsPerOp.toFixed(0), r.all.map((x) => x.toFixed(0)).join(' ')])]));
  if (sink === 0.5) console.log(sink);
}

await main();
