// A minimal classic P2MP-FTP receiver, written from the wire format alone (no code from src/): it writes only
// the next in-sequence segment, DISCARDS anything out of order (re-ACKing the last in-sequence segment), and
// ends at the empty DATA segment. It stands for the third-party receivers a windowed sender must still serve.
// Its loss service drops arrivals with a seeded probability, so out-of-order arrivals really happen.

import dgram from 'node:dgram';
import seedrandom from 'seedrandom';

export interface ClassicReceiver {
  port: number;
  /** Resolves with the file once the end of file arrived. */
  done: Promise<Buffer>;
  /** Out-of-order segments it discarded. */
  discarded(): number;
  close(): void;
}

export async function startClassicReceiver(address: string, lossRate: number, seed: string): Promise<ClassicReceiver> {
  const socket = dgram.createSocket('udp4');
  const random = seedrandom(seed);
  const chunks: Buffer[] = [];
  let expected = 0;
  let discarded = 0;
  let finish: (b: Buffer) => void = () => {};
  const done = new Promise<Buffer>((r) => (finish = r));
  const ack = (seq: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(seq >>> 0, 0);
    b.writeUInt16BE(0xaaaa, 6);
    return b;
  };
  socket.on('message', (msg, from) => {
    if (msg.length < 8 || msg.readUInt16BE(6) !== 0x5555) return;
    if (random() < lossRate) return;
    const seq = msg.readUInt32BE(0);
    if (seq !== expected) {
      discarded++;
      if (expected > 0) socket.send(ack(expected - 1), from.port, from.address);
      return;
    }
    const payload = msg.subarray(8);
    expected++;
    socket.send(ack(seq), from.port, from.address);
    if (payload.length === 0) finish(Buffer.concat(chunks));
    else chunks.push(Buffer.from(payload));
  });
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  return { port: socket.address().port, done, discarded: () => discarded, close: () => socket.close() };
}
