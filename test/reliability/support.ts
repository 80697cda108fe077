// Helpers for the reliability suite (issue 6): seeds that are printed on failure, root/tool checks, a
// seeded generator of hostile datagrams and a UDP relay that can inject traffic from either end's address.
// Processes, ports, files and waiting are the shared harness/. Only ever talks to 127.0.0.0/8.

import { execFileSync, spawnSync } from 'node:child_process';
import type dgram from 'node:dgram';
import fs from 'node:fs';
import { expect, onTestFailed } from 'vitest';
import { closeSocket, udpSocket } from '../../harness/net.js';
import { start, type Finished, type StartOptions } from '../../harness/procs.js';
import { seededBytes, type Random } from '../../sim/prng.js';
import { checksum, encodeAck, encodeData, encodeFin, MAX_DATAGRAM_BYTES, TYPE_ACK, TYPE_DATA, TYPE_FIN, TYPE_LAST } from '../../src/core/codec.js';
import { seeded } from '../support.js';

/**
 * The seed for one test: P2MP_SEED overrides the default, and it is printed if the test fails, so a failure
 * replays with `P2MP_SEED=<seed> npx vitest run <file> -t <name>`.
 */
export function testSeed(name: string): string {
  const seed = process.env.P2MP_SEED ?? `${name}-1`;
  onTestFailed(() => {
    console.error(`[reliability] test '${name}' failed with seed '${seed}' (replay: P2MP_SEED='${seed}')`);
  });
  return seed;
}

export const randInt = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

export function randBytes(r: Random, n: number): Buffer {
  const b = seededBytes(r, n);
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}

export const isRoot = process.getuid?.() === 0;

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why a root-only test cannot run here, or undefined when it can. */
export function rootSkipReason(...commands: string[]): string | undefined {
  if (!isRoot) return 'needs root (run as root, e.g. in CI)';
  const missing = commands.filter((c) => !hasCommand(c));
  return missing.length > 0 ? `needs ${missing.join(', ')} (not installed)` : undefined;
}

/** Names in a directory, sorted (to compare "before" and "after": nothing written means the same list). */
export function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** Temporary files the receiver driver leaves while a transfer is in progress (`.FILE.PID.part`). */
export function partFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.part'));
}

// ---------------------------------------------------------------------------------------------------------
// Hostile datagrams

/** What a datagram is, for the tallies a test reports. */
export type GarbageKind =
  | 'random'
  | 'short'
  | 'oversized'
  | 'type-sweep'
  | 'bad-checksum'
  | 'huge-seq'
  | 'ack'
  | 'bad-ack'
  | 'spoof-data'
  | 'spoof-eof';

export interface Garbage {
  kind: GarbageKind;
  bytes: Buffer;
}

function header(seq: number, field: number, type: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(seq >>> 0, 0);
  b.writeUInt16BE(field & 0xffff, 4);
  b.writeUInt16BE(type & 0xffff, 6);
  return b;
}

const HUGE_SEQS = [0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x10000000, 0xdeadbeef];

/**
 * Generates hostile datagrams from a seed. `expectedSeq()` is the sequence number the receiver currently
 * waits for (as far as the caller can tell), so corrupt segments can aim right at it.
 *
 * `target` decides what may be generated without breaking the protocol's (documented) trust model:
 *  - 'receiver-from-stranger': anything, including perfectly valid DATA/LAST/FIN for the expected seq —
 *    the receiver must ignore every datagram from an address:port other than its sender's.
 *  - 'receiver-from-peer': injected from the sender's own address:port (an on-path attacker). The classic
 *    header has no authentication, so a valid DATA at the expected seq or a FIN (which carries no seq)
 *    would be accepted by any implementation; those two are never generated. Everything else — wrong
 *    checksums aimed at the expected seq, valid checksums at far seqs, ACKs, junk — must not reach the file.
 *  - 'sender-from-receiver': injected from the receiver's address:port towards the sender. Never an ACK
 *    for a segment that may be in flight (that, too, is unauthenticated by design); everything generated
 *    must be counted by the sender as ignored (not an ACK, malformed, or an ACK for a segment never sent).
 */
export function garbageSource(seed: string, target: 'receiver-from-stranger' | 'receiver-from-peer' | 'sender-from-receiver', expectedSeq: () => number) {
  const r = seeded(seed);
  let sweep = randInt(r, 0, 0xffff);
  const farSeq = (): number => HUGE_SEQS[randInt(r, 0, HUGE_SEQS.length - 1)]! ^ (target === 'sender-from-receiver' ? 0 : randInt(r, 0, 1));
  const nearSeq = (): number => (expectedSeq() + randInt(r, -2, 2)) >>> 0;

  return (): Garbage => {
    const roll = r();
    const payload = (): Buffer => randBytes(r, randInt(r, 0, 600));
    if (roll < 0.12) return { kind: 'random', bytes: randBytes(r, randInt(r, 0, 1500)) };
    if (roll < 0.2) return { kind: 'short', bytes: randBytes(r, randInt(r, 0, 7)) };
    if (roll < 0.21) return { kind: 'oversized', bytes: randBytes(r, r() < 0.5 ? MAX_DATAGRAM_BYTES : randInt(r, 9000, 20000)) };
    if (roll < 0.4) {
      // Every type value in turn, with a header that is otherwise plausible.
      let type = sweep++ & 0xffff;
      const seq = nearSeq();
      if (target === 'sender-from-receiver' && type === TYPE_ACK) type = TYPE_ACK ^ 1;
      const body = type === TYPE_ACK || type === TYPE_FIN ? Buffer.alloc(randInt(r, 1, 8)) : payload();
      if (target === 'receiver-from-peer' && (type === TYPE_DATA || type === TYPE_LAST)) {
        // A well-formed DATA/LAST from the peer at a near seq must have a wrong checksum.
        return { kind: 'type-sweep', bytes: Buffer.concat([header(seq, checksum(body) ^ 0x0101, type), body]) };
      }
      return { kind: 'type-sweep', bytes: Buffer.concat([header(seq, randInt(r, 0, 0xffff), type), body]) };
    }
    if (roll < 0.55) {
      // Wrong checksum, aimed at the expected seq (or right beside it).
      const body = randBytes(r, randInt(r, 1, 600));
      const type = r() < 0.8 ? TYPE_DATA : TYPE_LAST;
      return { kind: 'bad-checksum', bytes: Buffer.concat([header(nearSeq(), checksum(body) ^ (1 + randInt(r, 0, 0xfffe)), type), body]) };
    }
    if (roll < 0.67) {
      // Huge and wrapped sequence numbers with valid checksums.
      const body = payload();
      return { kind: 'huge-seq', bytes: Buffer.from(encodeData(farSeq(), body, r() < 0.3)) };
    }
    if (roll < 0.77) {
      // Valid-looking ACKs (to a receiver: not data; to the sender: for a segment never sent).
      const seq = target === 'sender-from-receiver' ? farSeq() : nearSeq();
      return { kind: 'ack', bytes: Buffer.from(encodeAck(seq)) };
    }
    if (roll < 0.85) {
      // Malformed ACKs and FINs: a payload, a non-zero middle field, a FIN with a seq.
      const which = randInt(r, 0, 2);
      const bytes =
        which === 0
          ? Buffer.concat([header(nearSeq(), 0, TYPE_ACK), randBytes(r, randInt(r, 1, 40))])
          : which === 1
            ? header(nearSeq(), randInt(r, 1, 0xffff), TYPE_ACK)
            : header(randInt(r, 1, 0xffff), 0, TYPE_FIN);
      return { kind: 'bad-ack', bytes };
    }
    if (target === 'receiver-from-stranger') {
      // Perfectly valid segments for the very seq the receiver waits for, or an end of file: a splice attempt.
      const k = r();
      if (k < 0.7) return { kind: 'spoof-data', bytes: Buffer.from(encodeData(nearSeq(), payload())) };
      if (k < 0.85) return { kind: 'spoof-eof', bytes: Buffer.from(encodeData(expectedSeq(), Buffer.alloc(0))) };
      return { kind: 'spoof-eof', bytes: Buffer.from(r() < 0.5 ? encodeFin() : encodeData(expectedSeq(), payload(), true)) };
    }
    if (target === 'sender-from-receiver') {
      // DATA sent to the sender (valid segments of any kind are still not ACKs), and a FIN (not an ACK in --eof empty).
      return { kind: 'spoof-data', bytes: Buffer.from(r() < 0.9 ? encodeData(randInt(r, 0, 0xffffffff), payload()) : encodeFin()) };
    }
    return { kind: 'random', bytes: randBytes(r, randInt(r, 8, 64)) };
  };
}

export function tally(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

// ---------------------------------------------------------------------------------------------------------
// A UDP relay: the sender talks to `front` (the receiver's address as the sender knows it); the relay
// forwards to the real receiver from `back` (which the receiver takes for its sender). It tracks the
// receiver's last ACK, so it knows when the transfer has started and which seq is expected next, and it
// can inject datagrams from either socket — i.e. from exactly the address:port each end trusts.

/** A classic, --verify or --key ACK of a data segment (not a --key OPEN, whose seq means nothing). */
function isAckOfData(msg: Buffer): boolean {
  if (msg.length < 8) return false;
  const type = msg.readUInt16BE(6);
  if (msg.length === 8) return type === TYPE_ACK;
  return (msg.length === 12 && type === 0xa501) || (msg.length === 32 && type === 0xa512 && msg.readUInt16BE(4) !== 3);
}

export class Relay {
  /** The sender's address:port, once it has written to the relay. */
  client: { address: string; port: number } | undefined;
  /** Seq of the receiver's latest ACK (undefined before the first one): the transfer has started. */
  lastAck: number | undefined;
  forwarded = { toReceiver: 0, toSender: 0 };
  /** Every datagram the sender wrote, in order, when `record` is set (to replay a transfer later). */
  recorded: Buffer[] = [];
  record = false;
  /** Rewrites a datagram in flight (undefined keeps it as it is): an on-path attacker or a bad link. */
  tamperToReceiver: ((msg: Buffer) => Buffer | undefined) | undefined;
  tamperToSender: ((msg: Buffer) => Buffer | undefined) | undefined;
  /** Datagrams from the receiver that this returns true for are dropped (a lossy return path). */
  dropToSender: ((msg: Buffer) => boolean) | undefined;
  dropped = 0;

  private constructor(
    readonly front: dgram.Socket,
    readonly back: dgram.Socket,
    private readonly receiver: { address: string; port: number },
  ) {
    front.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.forwarded.toReceiver++;
      if (this.record) this.recorded.push(Buffer.from(msg));
      back.send(this.tamperToReceiver?.(msg) ?? msg, receiver.port, receiver.address);
    });
    back.on('message', (msg, rinfo) => {
      if (rinfo.address !== receiver.address || rinfo.port !== receiver.port || !this.client) return;
      if (this.dropToSender?.(msg)) {
        this.dropped++;
        return;
      }
      if (isAckOfData(msg)) this.lastAck = msg.readUInt32BE(0);
      this.forwarded.toSender++;
      front.send(this.tamperToSender?.(msg) ?? msg, this.client.port, this.client.address);
    });
  }

  static async open(frontAddress: string, port: number, backAddress: string, receiverAddress: string): Promise<Relay> {
    const front = await udpSocket(frontAddress, port);
    const back = await udpSocket(backAddress, 0);
    return new Relay(front, back, { address: receiverAddress, port });
  }

  /** The seq the receiver expects next (0 before the transfer started). */
  expectedSeq(): number {
    return this.lastAck === undefined ? 0 : (this.lastAck + 1) >>> 0;
  }

  injectToSender(bytes: Buffer): boolean {
    if (!this.client) return false;
    this.front.send(bytes, this.client.port, this.client.address);
    return true;
  }

  injectToReceiver(bytes: Buffer): void {
    this.back.send(bytes, this.receiver.port, this.receiver.address);
  }

  async close(): Promise<void> {
    await Promise.all([closeSocket(this.front), closeSocket(this.back)]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Raw UDP (root only): datagrams with any source address and port, including port 0, which no ordinary
// socket can send. Perl is part of every Debian/Ubuntu base system (perl-base), so no extra package is needed.

const RAW_UDP_PERL = `
use strict; use Socket;
my ($src, $sport, $dst, $dport, @hex) = @ARGV;
socket(my $s, PF_INET, SOCK_RAW, 17) or die "socket: $!";
bind($s, sockaddr_in(0, inet_aton($src))) or die "bind: $!";
for my $h (@hex) {
  my $p = pack('H*', $h);
  send($s, pack('nnnn', $sport, $dport, 8 + length($p), 0) . $p, 0, sockaddr_in(0, inet_aton($dst))) or die "send: $!";
}
`;

/** Send each payload as a UDP datagram from src:srcPort (spoofed: nothing is bound there) to dst:port (needs root and perl). */
export function sendRawUdp(src: string, srcPort: number, dst: string, port: number, payloads: Buffer[]): void {
  execFileSync('perl', ['-e', RAW_UDP_PERL, src, String(srcPort), dst, String(port), ...payloads.map((p) => p.toString('hex'))], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Send each payload as a UDP datagram with source port 0 from `src` to dst:port (needs root and perl). */
export function sendFromPortZero(src: string, dst: string, port: number, payloads: Buffer[]): void {
  sendRawUdp(src, 0, dst, port, payloads);
}

/** Like run(), but SIGKILLed after `limitMs` (a program that should refuse at once may instead wait forever). */
export async function runWithin(script: string, args: string[], limitMs: number, o: StartOptions = {}): Promise<Finished> {
  const p = start(script, args, o);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), limitMs);
  const r = await p.done;
  clearTimeout(timer);
  return r;
}

/** Exactly one line on stderr matching `names`, the exit code, no stack trace. */
export function expectOneLine(r: Finished, code: number, names: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(names);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
}

/** Nothing crashed: no internal error, no stack trace, no Node error code, on either stream, and no signal. */
export function expectNoCrash(f: Finished, who: string): void {
  expect(f.stderr + f.stdout, `${who} crashed`).not.toMatch(/internal error|\n\s+at |Uncaught|ERR_/);
  expect(f.signal, `${who} died by signal`).toBeNull();
}
